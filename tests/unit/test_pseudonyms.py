import re
from itertools import pairwise

import pytest

from recruit.domain.pseudonyms import (
    CODE_ALPHABET,
    is_candidacy_code,
    new_answer_token,
    new_candidacy_code,
)

DRAWS = 10_000


def test_alphabet_has_no_ambiguous_characters():
    assert not set("0O1IL") & set(CODE_ALPHABET)
    assert len(set(CODE_ALPHABET)) == len(CODE_ALPHABET)


def test_candidacy_code_format():
    for _ in range(1000):
        code = new_candidacy_code()
        assert re.fullmatch(r"[2-9A-Z]{2}-[2-9A-Z]{4}", code)
        assert not set("0O1IL") & set(code)
        assert is_candidacy_code(code)


@pytest.mark.parametrize(
    "value",
    ["", "K7QX3M", "K7-QX3", "K7-QX3MM", "k7-qx3m", "K7-QX0M", "KI-QX3M", "K7-QX3M\n", " K7-QX3M"],
)
def test_is_candidacy_code_rejects_near_misses(value):
    assert not is_candidacy_code(value)


def test_candidacy_codes_are_practically_unique():
    codes = [new_candidacy_code() for _ in range(DRAWS)]
    # 31⁶ ≈ 8.9·10⁸ codes: a clash among 10,000 draws has about a 5 % chance (birthday
    # bound), so one is tolerated — the database's unique constraint handles it — but
    # three would mean far less randomness than claimed (chance ≈ 3·10⁻⁵).
    assert len(set(codes)) >= DRAWS - 1


def test_candidacy_codes_are_not_sequential():
    codes = [new_candidacy_code() for _ in range(DRAWS)]
    rises = sum(a < b for a, b in pairwise(codes))
    # Random draws rise about half the time (σ ≈ 0.5 %); a counter rises every time.
    assert 0.45 < rises / (DRAWS - 1) < 0.55
    # Neighbouring draws should share no more characters than chance allows (1/31 each).
    shared = sum(x == y for a, b in pairwise(codes) for x, y in zip(a, b, strict=True))
    assert shared / (DRAWS - 1) < 1 + 6 * 2 / len(CODE_ALPHABET)  # the dash, plus slack


def test_answer_tokens_are_url_safe_128_bit_and_unique():
    tokens = [new_answer_token() for _ in range(DRAWS)]
    assert len(set(tokens)) == DRAWS
    for token in tokens[:100]:
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", token)
