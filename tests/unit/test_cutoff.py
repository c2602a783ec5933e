"""Cut-off rules and their preview: how many advance, how many do not, where the boundary is."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from recruit.db import utcnow
from recruit.domain import decisions, scoring
from recruit.models import Answer, Review, Role, Submission
from tests.decision_data import applicant, flat, hand_in, reviewers, two_stage_campaign
from tests.factories import make_user


@pytest.mark.parametrize(("kind", "value", "expected"), [
    ("top_n", "200", Decimal(200)),
    ("top_n", "200.00", Decimal(200)),
    ("min_score", "3,5", Decimal("3.5")),
], ids=["whole", "decimal-zero", "comma"])
def test_a_valid_rule_is_parsed(kind, value, expected):
    assert decisions.make_rule(kind=kind, value=value).value == expected


@pytest.mark.parametrize(("kind", "value", "code"), [
    ("top_n", "0", "rule_top_n"),
    ("top_n", "2.5", "rule_top_n"),
    ("min_score", "5.5", "rule_min_score"),
    ("min_score", "abc", "rule_value"),
    ("min_score", "nan", "rule_value"),
    ("median", "3", "rule_kind"),
], ids=["zero", "fraction", "above-five", "text", "nan", "unknown-kind"])
def test_an_invalid_rule_is_refused_with_a_reason(kind, value, code):
    with pytest.raises(decisions.DecisionError) as error:
        decisions.make_rule(kind=kind, value=value)
    assert error.value.code == code


@pytest.fixture
def stage_with_scores(db):
    """Five ready candidacies scoring 5, 4, 4, 3, 1 at stage 1."""
    campaign = two_stage_campaign(db)
    stage = campaign.stages[0]
    pair = reviewers(db)
    people = []
    for n, value in enumerate((5, 4, 4, 3, 1)):
        candidacy = applicant(db, campaign=campaign, first=f"C{n}", last="X")
        hand_in(db, candidacy=candidacy, stage=stage, by=pair, scores=flat(value))
        people.append(candidacy)
    return stage, people


def _preview(db, stage, kind, value):
    return decisions.preview_cutoff(db, stage=stage, now=utcnow(),
                                    rule=decisions.make_rule(kind=kind, value=value))


def test_top_n_advances_the_best_and_reports_the_boundary(db, stage_with_scores):
    stage, _ = stage_with_scores
    preview = _preview(db, stage, "top_n", "1")
    assert (preview.advance, preview.reject) == (1, 4)
    assert preview.lowest_advancing == pytest.approx(5.0)
    assert preview.highest_rejected == pytest.approx(4.0)


def test_top_n_takes_everyone_tied_at_the_boundary(db, stage_with_scores):
    stage, _ = stage_with_scores
    preview = _preview(db, stage, "top_n", "2")
    assert (preview.advance, preview.reject, preview.ties_added) == (3, 2, 1)


def test_min_score_counts_a_score_shown_as_the_minimum(db, stage_with_scores):
    stage, _ = stage_with_scores
    preview = _preview(db, stage, "min_score", "3.996")
    assert (preview.advance, preview.reject) == (3, 2)
    assert preview.highest_rejected == pytest.approx(3.0)


def test_top_n_counts_those_already_advanced_and_leaves_held_ones(db, stage_with_scores):
    stage, people = stage_with_scores
    coordinator = make_user(db, role=Role.COORDINATOR)
    decisions.decide(db, candidacy=people[3], stage=stage, outcome="advance",
                     reason="override", by=coordinator, now=utcnow())
    decisions.decide(db, candidacy=people[4], stage=stage, outcome="hold", reason="later",
                     by=coordinator, now=utcnow())
    preview = _preview(db, stage, "top_n", "2")
    assert (preview.advance, preview.reject, preview.already_advanced, preview.on_hold) == (
        1, 2, 1, 1)
    result = decisions.apply_cutoff(db, stage=stage, rule=preview.rule, by=coordinator,
                                    now=utcnow(), expect=(1, 2))
    assert (result.advanced, result.rejected) == (1, 2)
    assert [p.state for p in people] == ["advanced", "not_passed", "not_passed", "advanced",
                                         "on_hold"]


def test_a_cutoff_when_every_place_is_taken_advances_nobody(db, stage_with_scores):
    stage, people = stage_with_scores
    decisions.decide(db, candidacy=people[0], stage=stage, outcome="advance", reason="clear",
                     by=None, now=utcnow())
    preview = _preview(db, stage, "top_n", "1")
    assert (preview.advance, preview.reject, preview.lowest_advancing) == (0, 4, None)


def test_the_ranking_agrees_with_the_scoring_module(db, stage_with_scores):
    stage, people = stage_with_scores
    # Normalising half its reviews down to 1.5 drops the second candidacy (raw 4) to 2.75,
    # below the fourth (3): the ranking follows normalised scores, not raw ones.
    for review in db.scalars(sa.select(Review).join(Answer).join(Submission).where(
            Submission.candidacy_id == people[1].id)).all()[::2]:
        review.score_normalised = 1.5
    db.flush()
    page = decisions.ranking_page(db, stage=stage, now=utcnow())
    assert [r.code for r in page.rows][1:4] == [people[2].code, people[3].code, people[1].code]
    reviews, normalised, answers = decisions._raw_reviews(
        db, stage=stage, candidacy_ids=[p.id for p in people])
    expected = scoring.candidate_scores(reviews, normalised, answer_to_candidacy=answers)
    by_code = {p.code: expected[p.id] for p in people}
    assert [row.score for row in page.rows] == pytest.approx(
        sorted((s.score for s in by_code.values()), reverse=True))
    for row in page.rows:
        assert row.score == pytest.approx(by_code[row.code].score)
        assert row.raw == pytest.approx(by_code[row.code].raw)
        assert row.reviews == by_code[row.code].reviews == 6


def test_a_single_decision_needs_a_reason(db, stage_with_scores):
    stage, people = stage_with_scores
    with pytest.raises(decisions.DecisionError) as error:
        decisions.decide(db, candidacy=people[0], stage=stage, outcome="advance", reason="  ",
                         by=None, now=utcnow())
    assert error.value.code == "reason_required"
    assert people[0].state == "submitted"


def test_a_bulk_renormalisation_marks_only_the_submissions_it_touched(db, stage_with_scores):
    stage, people = stage_with_scores
    assert decisions.ranking_page(db, stage=stage, now=utcnow()).rows[0].code == people[0].code
    table = Review.__table__
    ids = db.scalars(sa.select(Review.id).join(Answer).join(Submission)
                     .where(Submission.candidacy_id == people[0].id)).all()
    # As review_stats.renormalise_stage does it: one Core executemany through the session.
    db.execute(table.update().where(table.c.id == sa.bindparam("review_id"))
               .values(score_normalised=sa.bindparam("value")),
               [{"review_id": i, "value": 1.0} for i in ids])
    stale = db.scalars(sa.select(Submission.candidacy_id)
                       .where(Submission.scores_at.is_(None))).all()
    assert stale == [people[0].id]
    rows = decisions.ranking_page(db, stage=stage, now=utcnow()).rows
    assert rows[-1].code == people[0].code and rows[-1].score == pytest.approx(1.0)


def test_a_changed_answer_marks_only_its_submission_for_recomputing(db, stage_with_scores):
    stage, people = stage_with_scores
    decisions.ranking_page(db, stage=stage, now=utcnow())
    answer = db.scalars(sa.select(Answer).join(Submission)
                        .where(Submission.candidacy_id == people[4].id)).first()
    answer.check_status = "pending"
    db.flush()
    stale = db.scalars(sa.select(Submission.candidacy_id)
                       .where(Submission.scores_at.is_(None))).all()
    assert stale == [people[4].id]
    row = decisions.ranking_page(db, stage=stage, now=utcnow()).rows[-1]
    assert (row.code, row.check_pending) == (people[4].code, True)


@pytest.mark.parametrize("stage_wide", [0, 10_000], ids=["whole stage marked", "per review"])
def test_renormalising_a_stage_leaves_the_ranking_in_step_either_way(db, stage_with_scores,
                                                                     monkeypatch, stage_wide):
    from recruit.domain import review_stats

    stage, people = stage_with_scores
    # Scores normalised some time ago, now out of date: every review stands at 2.
    for review in db.scalars(sa.select(Review)):
        review.score_normalised = 2.0
    db.flush()
    assert {r.score for r in decisions.ranking_page(db, stage=stage, now=utcnow()).rows} == {2.0}
    monkeypatch.setattr(review_stats, "_STAGE_WIDE", stage_wide)
    changed = review_stats.renormalise_stage(db, stage=stage)
    assert changed == db.scalar(sa.select(sa.func.count()).select_from(Review))
    page = decisions.ranking_page(db, stage=stage, now=utcnow())
    reviews, normalised, answers = decisions._raw_reviews(
        db, stage=stage, candidacy_ids=[p.id for p in people])
    # Every reviewer scored everyone alike here, so normalising gives the raw scores back.
    assert normalised == {r.review_id: pytest.approx(r.score) for r in reviews}
    expected = scoring.candidate_scores(reviews, normalised, answer_to_candidacy=answers)
    for row in page.rows:
        candidacy = next(p for p in people if p.code == row.code)
        assert row.score == pytest.approx(expected[candidacy.id].score)
    assert page.rows[0].code == people[0].code
