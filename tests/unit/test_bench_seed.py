"""The benchmark data generator's pure parts: the plan, the texts, the pseudonyms."""

from __future__ import annotations

import random

import pytest

from bench import seed
from recruit.domain.pseudonyms import is_candidacy_code


@pytest.mark.parametrize("applicants", [1, 7, 50, 10_000], ids=lambda n: f"{n}-applicants")
def test_plan_groups_are_disjoint_and_fit_the_wave(applicants):
    plan = seed.make_plan(applicants, unreviewed=0.1, rng=random.Random(1))
    groups = [plan.drafting, plan.unreviewed, plan.offered]
    assert sum(len(g) for g in groups) == len(set().union(*groups)) <= applicants
    assert set().union(*groups) <= set(range(1, applicants + 1))
    assert plan.drafting, "autosave needs someone still writing"


def test_plan_leaves_most_of_a_large_wave_reviewed():
    plan = seed.make_plan(10_000, unreviewed=0.1, rng=random.Random(1))
    assert len(plan.unreviewed) == 1_000
    assert len(plan.drafting) == 100
    assert len(plan.offered) == 5


@pytest.mark.parametrize("words", [150, 275, 400], ids=lambda n: f"{n}-words")
def test_texts_have_the_asked_length_in_cyrillic(words):
    text = seed.TextMaker(random.Random(3)).text(words)
    assert len(text.split()) == words
    assert sum("а" <= ch.lower() <= "я" or ch in "ёЁ" for ch in text) > words * 3


def test_the_same_seed_gives_the_same_text():
    assert seed.TextMaker(random.Random(5)).text(200) == seed.TextMaker(random.Random(5)).text(200)


def test_candidacy_codes_are_unique_and_well_formed():
    codes = seed._codes(5_000, random.Random(2))
    assert len(set(codes)) == 5_000
    assert all(is_candidacy_code(code) for code in codes)


def test_answer_tokens_are_unique_and_url_safe():
    rng = random.Random(4)
    tokens = {seed._token(rng) for _ in range(5_000)}
    assert len(tokens) == 5_000
    assert all(len(t) == 22 and t.replace("-", "").replace("_", "").isalnum() for t in tokens)
