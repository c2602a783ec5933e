"""Near-duplicate detection (issue 18, item 1): normalising, shingles, the LSH index kept in
the database, pairs with estimated and exact similarity, scope and the sweep."""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from datasketch import MinHash, MinHashLSH

from bench.integrity_corpus import HEAVY, LIGHT, Edits, edited_copy, independent_answer
from recruit.db import utcnow
from recruit.domain import integrity
from recruit.models import Answer, AnswerSignature, Candidacy, SimilarPair, Submission
from tests.decision_data import two_stage_campaign


def _hand_in(db, *, campaign, text: str, task_position: int = 1, now=None) -> Answer:
    """A candidacy of its own with one submitted, released answer to the task."""
    now = now or utcnow()
    stage = campaign.stages[0]
    candidacy = Candidacy(user_id=None, campaign_id=campaign.id, state="submitted",
                          current_stage_id=stage.id)
    db.add(candidacy)
    db.flush()
    submission = Submission(candidacy_id=candidacy.id, stage_id=stage.id, started_at=now,
                            deadline_at=now + timedelta(hours=1), submitted_at=now)
    db.add(submission)
    db.flush()
    answer = Answer(submission_id=submission.id, task_id=stage.tasks[task_position - 1].id,
                    text=text, version=1, redacted_text=text, check_status="released",
                    released_at=now)
    db.add(answer)
    db.flush()
    return answer


def _pairs(db) -> dict[frozenset, SimilarPair]:
    return {frozenset((p.answer_id, p.other_answer_id)): p
            for p in db.scalars(sa.select(SimilarPair))}


# -- normalising and shingles (no database) ----------------------------------------------------

def test_word_forms_case_punctuation_and_yo_do_not_matter():
    a = integrity.shingles("Я писала ответы клиентам, ЁЛКИ-палки, вежливо!")
    b = integrity.shingles("я пишу ответ клиенту — елки-палки: вежливо")
    assert len(a) >= 3
    assert np.array_equal(a, b)


def test_sentence_order_and_swapped_neighbours_keep_the_shingles():
    text = "Я люблю помогать людям. Клиенты часто пишут в панике. Я отвечаю спокойно."
    reordered = "Клиенты пишут часто в панике. Я отвечаю спокойно. Я помогать люблю людям."
    assert integrity.jaccard(integrity.shingles(text), integrity.shingles(reordered)) == 1.0


def test_redaction_markers_are_words_of_their_own():
    words = [t.lemma for t in integrity.tokens("Меня зовут ⟦name⟧, пишите на ⟦email⟧.")]
    assert "⟦name⟧" in words and "⟦email⟧" in words


def test_the_minhash_estimates_the_exact_jaccard():
    rng = random.Random(5)
    text = independent_answer(rng)
    copy = edited_copy(text, rng, LIGHT)
    a, b = integrity.shingles(text), integrity.shingles(copy)
    exact = integrity.jaccard(a, b)
    assert 0.3 < exact < 1
    assert abs(integrity.estimate(integrity.minhash(a), integrity.minhash(b)) - exact) < 0.15


def test_the_stored_bands_find_exactly_what_datasketchs_lsh_finds():
    """The band keys kept in the database are datasketch's MinHashLSH bands (same layout,
    same (bands, rows)): the same pairs collide."""
    rng = random.Random(11)
    texts = [independent_answer(rng) for _ in range(60)]
    texts += [edited_copy(t, rng) for t in texts[:20]]
    signatures = [integrity.minhash(integrity.shingles(t)) for t in texts]
    lsh = MinHashLSH(num_perm=integrity.NUM_PERM, params=(integrity.BANDS, integrity.ROWS))
    sketches = []
    for n, values in enumerate(signatures):
        sketch = MinHash(num_perm=integrity.NUM_PERM, hashvalues=values, scheme="affine32")
        lsh.insert(n, sketch)
        sketches.append(sketch)
    theirs = {frozenset((n, m)) for n, s in enumerate(sketches) for m in lsh.query(s) if m != n}
    keys = [set(integrity.band_keys(v)) for v in signatures]
    ours = {frozenset((n, m)) for n in range(len(keys)) for m in range(n + 1, len(keys))
            if keys[n] & keys[m]}
    assert ours == theirs
    assert len(ours) >= 20


@pytest.mark.parametrize("edits", [LIGHT, Edits()], ids=["light", "default"])
def test_edited_copies_stay_far_above_independent_answers_on_the_same_topic(edits):
    rng = random.Random(21)
    originals = [independent_answer(rng) for _ in range(40)]
    copies = [integrity.jaccard(integrity.shingles(t), integrity.shingles(
        edited_copy(t, rng, edits))) for t in originals]
    independent = [integrity.shingles(independent_answer(rng)) for _ in range(60)]
    baseline = [integrity.jaccard(a, b) for i, a in enumerate(independent)
                for b in independent[i + 1:]]
    assert min(copies) > 0.3 > max(baseline)


# -- the index in the database ------------------------------------------------------------------

@pytest.fixture
def campaign(db):
    return two_stage_campaign(db)


def test_edited_copies_are_found_and_independent_answers_are_not(db, campaign):
    rng = random.Random(3)
    originals = [independent_answer(rng) for _ in range(6)]
    answers = [_hand_in(db, campaign=campaign, text=t) for t in originals]
    for _ in range(20):
        answers.append(_hand_in(db, campaign=campaign, text=independent_answer(rng)))
    integrity.index_answers(db, answers=answers, now=utcnow())
    assert not [p for p in _pairs(db).values() if p.similarity >= 0.35]
    copies = {}
    for original, edits in zip(answers[:6], [LIGHT, LIGHT, Edits(), Edits(), HEAVY, HEAVY],
                               strict=True):
        copy = _hand_in(db, campaign=campaign, text=edited_copy(original.redacted_text, rng,
                                                                 edits))
        integrity.index_answers(db, answers=[copy], now=utcnow())
        copies[frozenset((original.id, copy.id))] = edits
    pairs = _pairs(db)
    found = {k for k, p in pairs.items() if p.similarity >= 0.35}
    # Light and default edits are all found; heavy rewrites may escape.
    assert {k for k, e in copies.items() if e is not HEAVY} <= found
    assert found <= set(copies)
    for key in found:
        pair = pairs[key]
        assert pair.answer_id < pair.other_answer_id
        assert abs(pair.estimated - pair.similarity) < 0.15
        submission_ids = db.scalars(sa.select(Answer.submission_id)
                                    .where(Answer.id.in_(list(key)))).all()
        for submission in db.scalars(sa.select(Submission)
                                     .where(Submission.id.in_(submission_ids))):
            assert submission.similarity_max >= pair.similarity - 1e-9


def test_an_exact_copy_is_one_hundred_per_cent_and_stored_once(db, campaign):
    text = independent_answer(random.Random(8))
    first = _hand_in(db, campaign=campaign, text=text)
    integrity.index_answers(db, answers=[first], now=utcnow())
    second = _hand_in(db, campaign=campaign, text=text)
    found = integrity.index_answers(db, answers=[second], now=utcnow())
    assert [(f.answer_id, f.other_answer_id, f.similarity) for f in found] == [
        (first.id, second.id, 1.0)]
    # SQLite compared them while writing; on PostgreSQL the sweep compares both again and
    # finds the same pair, which is stored once.
    swept = 0 if integrity.serialises_writers(db) else 2
    assert integrity.sweep(db, now=utcnow()) == swept
    assert integrity.sweep(db, now=utcnow()) == 0
    assert len(_pairs(db)) == 1


def test_answers_of_other_tasks_and_other_campaigns_are_not_compared_by_default(db, campaign):
    text = independent_answer(random.Random(9))
    later = two_stage_campaign(db)
    later.opens_at = campaign.opens_at + timedelta(days=1)
    answers = [_hand_in(db, campaign=campaign, text=text),
               _hand_in(db, campaign=campaign, text=text, task_position=2),
               _hand_in(db, campaign=later, text=text)]
    for answer in answers:
        integrity.index_answers(db, answers=[answer], now=utcnow())
    assert _pairs(db) == {}


def test_earlier_campaigns_of_the_track_are_searched_when_the_campaign_asks(db, campaign):
    text = independent_answer(random.Random(10))
    earlier = _hand_in(db, campaign=campaign, text=text)
    integrity.index_answers(db, answers=[earlier], now=utcnow())
    later = two_stage_campaign(db)
    later.opens_at = campaign.opens_at + timedelta(days=1)
    later.compare_earlier = True
    copy = _hand_in(db, campaign=later, text=text)
    integrity.index_answers(db, answers=[copy], now=utcnow())
    assert set(_pairs(db)) == {frozenset((earlier.id, copy.id))}


def test_one_applicants_own_answers_are_never_a_pair(db, campaign):
    text = independent_answer(random.Random(12))
    answer = _hand_in(db, campaign=campaign, text=text)
    twin = Answer(submission_id=answer.submission_id, task_id=answer.task_id + 0,
                  text=text, version=1, redacted_text=text, check_status="released")
    # The same candidacy at another stage (a resubmission is impossible, so another stage).
    other_stage = Submission(candidacy_id=answer.submission.candidacy_id,
                             stage_id=campaign.stages[1].id, started_at=utcnow(),
                             deadline_at=utcnow(), submitted_at=utcnow())
    db.add(other_stage)
    db.flush()
    twin.submission_id = other_stage.id
    db.add(twin)
    db.flush()
    integrity.index_answers(db, answers=[answer, twin], now=utcnow())
    assert _pairs(db) == {}


def test_an_answer_without_a_submission_is_never_signed(db, campaign):
    """Calibration answers (issue 16) belong to no candidacy: never compared, never flagged."""
    text = independent_answer(random.Random(13))
    original = _hand_in(db, campaign=campaign, text=text)
    integrity.index_answers(db, answers=[original], now=utcnow())
    loose = Answer(submission_id=None, task_id=original.task_id, text=text, version=1,
                   redacted_text=text, check_status="released")
    assert integrity.index_answers(db, answers=[loose], now=utcnow()) == []
    assert db.scalar(sa.select(sa.func.count()).select_from(AnswerSignature)) == 1


def test_a_very_short_answer_is_signed_but_never_matched(db, campaign):
    short = [_hand_in(db, campaign=campaign, text="Да, хочу.") for _ in range(2)]
    integrity.index_answers(db, answers=short, now=utcnow())
    assert _pairs(db) == {}
    assert db.scalar(sa.select(sa.func.count()).select_from(AnswerSignature)) == 2


def test_the_sweep_finds_a_pair_two_simultaneous_submissions_missed(db, campaign):
    """On PostgreSQL two stages handed in at once do not see each other's rows; stored
    uncompared, the later sweep of either one finds the pair."""
    text = independent_answer(random.Random(14))
    a, b = (_hand_in(db, campaign=campaign, text=text) for _ in range(2))
    now = utcnow()
    # What each transaction did: stored its signature, compared against nothing it could see.
    signatures = [integrity.Signature.of(answer_id=x.id, task_id=x.task_id,
                                         text=x.redacted_text) for x in (a, b)]
    integrity._store(db, signatures=signatures, compared=False, now=now)
    assert _pairs(db) == {}
    assert integrity.sweep(db, now=now) == 2
    assert set(_pairs(db)) == {frozenset((a.id, b.id))}
    assert integrity.sweep(db, now=now) == 0


def test_indexing_a_whole_campaign_finds_what_one_by_one_finds(db, campaign):
    rng = random.Random(15)
    texts = [independent_answer(rng) for _ in range(12)]
    texts += [edited_copy(t, rng, LIGHT) for t in texts[:5]]
    answers = [_hand_in(db, campaign=campaign, text=t) for t in texts]
    report = integrity.index_campaign(db, campaign=campaign, now=utcnow())
    assert report.signed == len(answers)
    bulk = {k: round(p.similarity, 9) for k, p in _pairs(db).items()}
    assert len(bulk) >= 5
    assert integrity.index_campaign(db, campaign=campaign, now=utcnow()).signed == 0
    db.execute(sa.delete(SimilarPair))
    db.execute(sa.delete(integrity.AnswerBand))
    db.execute(sa.delete(AnswerSignature))
    for answer in answers:
        integrity.index_answers(db, answers=[answer], now=utcnow())
    assert {k: round(p.similarity, 9) for k, p in _pairs(db).items()} == bulk
