"""Recall and precision of redaction, measured on the generated corpus (tests/redaction_corpus.py).

The goals are the ones the README reports against; a miss found in real answers becomes a
case in the corpus, and this test keeps it fixed.
"""

import pytest

from tests.redaction_corpus import build_corpus, measure, table

# Kinds that must never get through, and those allowed the odd miss.
EVERY_CASE = ("name", "familiar", "email", "phone", "handle", "birth date")
NEARLY_EVERY = ("email spelled out", "age", "school or employer", "street address",
                "other birth date")


@pytest.fixture(scope="module")
def measured():
    corpus = build_corpus()
    return corpus, measure(corpus)


def test_the_corpus_is_large_and_covers_every_kind(measured):
    corpus, m = measured
    assert len(corpus) >= 300
    assert set(m.totals) == set(EVERY_CASE) | set(NEARLY_EVERY)
    assert m.controls >= 60


@pytest.mark.parametrize("kind", EVERY_CASE)
def test_the_applicants_own_data_is_always_hidden(measured, kind):
    _, m = measured
    assert m.recall(kind) == 1.0, f"{kind} missed:\n" + "\n".join(m.misses[kind][:10])


@pytest.mark.parametrize("kind", NEARLY_EVERY)
def test_spelled_out_addresses_and_quasi_identifiers_are_nearly_always_caught(measured, kind):
    _, m = measured
    assert m.recall(kind) >= 0.95, table(m)


def test_ordinary_text_survives_and_what_is_hidden_is_mostly_identity(measured):
    _, m = measured
    assert m.kept >= 0.95, table(m)
    assert m.precision >= 0.9, table(m)
