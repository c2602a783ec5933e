"""Hand-out of answers to reviewers: leases, independence, extra reviews, normalisation."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from recruit.db import utcnow
from recruit.domain import assignment, review_stats
from recruit.models import (
    Answer,
    CampaignReviewer,
    Criterion,
    CriterionScore,
    Review,
    ReviewAssignment,
    Role,
)
from tests.factories import make_user
from tests.reviewing import add_answers, add_reviewer, count_queries
from tests.world import build_world


@pytest.fixture
def world(db):
    return build_world(db)


@pytest.fixture
def campaign(world):
    return world.campaign


@pytest.fixture
def task(db, campaign):
    """A task of stage 1 whose pool holds only the answers a test adds."""
    for answer in db.scalars(select(Answer)):
        answer.reviews_wanted = 0  # the world's own answers leave the pool
    db.flush()
    return campaign.stages[0].tasks[1]


def hand_out(db, reviewer, task, *, now=None, rng=None, move_on=False):
    return assignment.next_answer(db, reviewer=reviewer, task=task, lease_minutes=30,
                                  now=now or utcnow(), rng=rng, move_on=move_on)


def submit(db, reviewer, handout, value, *, now=None):
    """Submit a review giving every criterion ``value`` (an int or a per-criterion list)."""
    work = assignment.load_work(db, token=handout.token, reviewer_id=reviewer.id)
    criterion_ids = db.scalars(select(Criterion.id).join(Answer, Answer.task_id ==
                                                         Criterion.task_id)
                               .where(Answer.token == handout.token)
                               .order_by(Criterion.position)).all()
    values = value if isinstance(value, list) else [value] * len(criterion_ids)
    return assignment.submit_review(db, assignment=work.assignment, stage=work.stage,
                                    scores=dict(zip(criterion_ids, values, strict=True)),
                                    comment="", now=now or utcnow())


def answer_of(db, handout) -> Answer:
    answer = db.scalar(select(Answer).where(Answer.token == handout.token))
    db.refresh(answer)
    return answer


def leased_rows(db, answer_id) -> int:
    return db.scalar(select(func.count()).where(ReviewAssignment.answer_id == answer_id,
                                                ReviewAssignment.status == "leased"))


# -- who may review -----------------------------------------------------------------------------

def test_the_custodian_cannot_join_a_reviewer_pool(db, world):
    with pytest.raises(assignment.AssignmentError, match="custodian") as caught:
        assignment.join_pool(db, campaign=world.campaign, user=world.users["custodian"], by=None)
    assert caught.value.code == "custodian"
    assert db.get(CampaignReviewer, (world.campaign.id, world.users["custodian"].id)) is None


def test_the_custodian_is_never_handed_an_answer(db, world, task):
    with pytest.raises(assignment.AssignmentError) as caught:
        hand_out(db, world.users["custodian"], task)
    assert caught.value.code == "custodian"
    assert db.scalar(select(func.count()).where(
        ReviewAssignment.reviewer_id == world.users["custodian"].id)) == 0


@pytest.mark.parametrize("role", [Role.APPLICANT, Role.COORDINATOR], ids=["applicant",
                                                                          "coordinator"])
def test_only_reviewer_accounts_join_a_pool(db, campaign, role):
    with pytest.raises(assignment.AssignmentError) as caught:
        assignment.join_pool(db, campaign=campaign, user=make_user(db, role=role), by=None)
    assert caught.value.code == "not_reviewer"


# -- hand-out ---------------------------------------------------------------------------------

def test_no_reviewer_reviews_the_same_answer_twice(db, campaign, task):
    add_answers(db, campaign=campaign, count=12)
    reviewer = add_reviewer(db, campaign=campaign)
    seen = []
    while (handout := hand_out(db, reviewer, task)) is not None:
        seen.append(handout.token)
        submit(db, reviewer, handout, 3)
    assert len(seen) == 12
    assert len(set(seen)) == len(seen)
    # The database refuses a second row for the same answer and reviewer outright.
    answer_id = db.scalar(select(Answer.id).where(Answer.token == seen[0]))
    with pytest.raises(IntegrityError), db.begin_nested():
        db.add(ReviewAssignment(answer_id=answer_id, reviewer_id=reviewer.id,
                                lease_expires_at=utcnow()))
        db.flush()


def test_a_reviewer_holding_a_lease_on_the_task_gets_it_back(db, campaign, task):
    add_answers(db, campaign=campaign, count=5)
    reviewer = add_reviewer(db, campaign=campaign)
    first = hand_out(db, reviewer, task)
    assert hand_out(db, reviewer, task) == first


def test_two_reviewers_never_hold_the_same_review_slot(db, campaign, task):
    add_answers(db, campaign=campaign, count=1, reviews_wanted=1, tasks=[task])
    a, b = add_reviewer(db, campaign=campaign), add_reviewer(db, campaign=campaign)
    assert hand_out(db, a, task) is not None
    assert hand_out(db, b, task) is None


def test_an_expired_lease_goes_back_to_the_pool(db, campaign, task):
    add_answers(db, campaign=campaign, count=1, reviews_wanted=1, tasks=[task])
    a, b = add_reviewer(db, campaign=campaign), add_reviewer(db, campaign=campaign)
    now = utcnow()
    held = hand_out(db, a, task, now=now)
    assert hand_out(db, b, task, now=now + timedelta(minutes=29)) is None
    later = hand_out(db, b, task, now=now + timedelta(minutes=31))
    assert later is not None and later.token == held.token
    statuses = dict(db.execute(select(ReviewAssignment.reviewer_id, ReviewAssignment.status)
                               .where(ReviewAssignment.answer_id == answer_of(db, held).id)).all())
    assert statuses == {a.id: "expired", b.id: "leased"}
    assert answer_of(db, held).reviews_leased == 1 == leased_rows(db, answer_of(db, held).id)


def test_an_expired_lease_comes_back_to_the_same_reviewer_with_its_draft(db, campaign, task):
    add_answers(db, campaign=campaign, count=1, reviews_wanted=1, tasks=[task])
    reviewer = add_reviewer(db, campaign=campaign)
    now = utcnow()
    first = hand_out(db, reviewer, task, now=now)
    work = assignment.load_work(db, token=first.token, reviewer_id=reviewer.id)
    assignment.save_draft(db, assignment=work.assignment, scores={"1": 4}, comment="half",
                          lease_minutes=30, now=now)
    again = hand_out(db, reviewer, task, now=now + timedelta(hours=2))
    assert again == first  # the same row, reused
    page = assignment.review_page(db, reviewer=reviewer, token=again.token)
    assert page.status == "leased" and page.comment == "half" and page.scores == {"1": 4}


def test_a_late_review_is_accepted_while_the_answer_still_has_a_free_slot(db, campaign, task):
    add_answers(db, campaign=campaign, count=1, reviews_wanted=1, tasks=[task])
    reviewer = add_reviewer(db, campaign=campaign)
    now = utcnow()
    handout = hand_out(db, reviewer, task, now=now)
    assignment.expire_leases(db, now=now + timedelta(hours=1))
    submit(db, reviewer, handout, 4, now=now + timedelta(hours=1))
    answer = answer_of(db, handout)
    assert (answer.reviews_done, answer.reviews_leased) == (1, 0)


def test_a_late_review_is_refused_once_someone_else_took_the_slot(db, campaign, task):
    add_answers(db, campaign=campaign, count=1, reviews_wanted=1, tasks=[task])
    late, other = add_reviewer(db, campaign=campaign), add_reviewer(db, campaign=campaign)
    now = utcnow()
    handout = hand_out(db, late, task, now=now)
    assert hand_out(db, other, task, now=now + timedelta(hours=1)).token == handout.token
    with pytest.raises(assignment.AssignmentError) as caught:
        submit(db, late, handout, 4, now=now + timedelta(hours=1))
    assert caught.value.code == "slot_taken"


def test_a_recused_answer_goes_to_someone_else_and_keeps_the_reason(db, campaign, task):
    add_answers(db, campaign=campaign, count=1, reviews_wanted=1, tasks=[task])
    a, b = add_reviewer(db, campaign=campaign), add_reviewer(db, campaign=campaign)
    held = hand_out(db, a, task)
    work = assignment.load_work(db, token=held.token, reviewer_id=a.id)
    assignment.recuse(db, assignment=work.assignment, reason="my former colleague",
                      now=utcnow())
    row = db.scalar(select(ReviewAssignment).where(ReviewAssignment.reviewer_id == a.id))
    assert (row.status, row.recuse_reason) == ("recused", "my former colleague")
    assert hand_out(db, a, task) is None  # never again for the one who recused
    assert hand_out(db, b, task).token == held.token


def test_answers_of_candidacies_already_reviewed_in_the_stage_come_last(db, campaign, task):
    first_task, second_task = campaign.stages[0].tasks[1:3]
    answers = add_answers(db, campaign=campaign, count=2, tasks=[first_task, second_task])
    reviewer = add_reviewer(db, campaign=campaign)
    handout = hand_out(db, reviewer, first_task)
    submit(db, reviewer, handout, 3)
    reviewed = next(i for i, a in enumerate(answers)
                    if a[first_task.id] == answer_of(db, handout).id)
    other = 1 - reviewed
    for _ in range(5):  # whatever the random entry point
        nxt = hand_out(db, reviewer, second_task, rng=random.Random(_))
        assert answer_of(db, nxt).id == answers[other][second_task.id]
    submit(db, reviewer, nxt, 3)
    # When the pool has nothing else, the sibling answer is handed out after all.
    last = hand_out(db, reviewer, second_task)
    assert answer_of(db, last).id == answers[reviewed][second_task.id]


def test_hand_out_order_is_not_submission_order(db, campaign, task):
    n = 150
    answers = add_answers(db, campaign=campaign, count=n, tasks=[task])
    rank = {a[task.id]: i for i, a in enumerate(answers)}
    orders = []
    for _ in range(2):
        reviewer = add_reviewer(db, campaign=campaign)
        order = []
        while (handout := hand_out(db, reviewer, task)) is not None:
            answer_id = answer_of(db, handout).id
            if answer_id in rank:
                order.append(rank[answer_id])
            work = assignment.load_work(db, token=handout.token, reviewer_id=reviewer.id)
            assignment.recuse(db, assignment=work.assignment, reason="test", now=utcnow())
        orders.append(order)
    for order in orders:
        assert sorted(order) == list(range(n))
        # Spearman's rho of hand-out position against submission position. For a random
        # order its standard deviation is 1/√(n−1) ≈ 0.082; 0.45 is 5.5 of them (p ≈ 4e-8),
        # while submission order (or its reverse) gives ±1.
        rho = np.corrcoef(np.arange(n), np.array(order))[0, 1]
        assert abs(rho) < 0.45, rho
    assert orders[0] != orders[1]


def _kendall_tau(first: list, second: list) -> float:
    """Kendall's tau between two orders of the same items."""
    rank = {item: i for i, item in enumerate(second)}
    other = [rank[item] for item in first]
    n = len(other)
    concordant = sum((other[j] > other[i]) - (other[j] < other[i])
                     for i in range(n) for j in range(i + 1, n))
    return concordant / (n * (n - 1) / 2)


def test_each_draw_is_uniform_among_the_answers_a_reviewer_may_take(db, campaign, task):
    # Eight answers that each want many reviews, so every draw faces the same pool; each of
    # 480 fresh reviewers draws once and steps away (which frees the slot). A uniform draw
    # gives every answer 60 first draws: chi-square (7 degrees of freedom) stays below 35
    # except with probability 1e-5. Walking the token order from a random point (the old
    # draw) favours the answers after wide gaps: chi-square 109 with this seed.
    add_answers(db, campaign=campaign, count=8, reviews_wanted=1000, tasks=[task])
    rng = random.Random(16)
    counts: Counter[str] = Counter()
    for _ in range(480):
        reviewer = add_reviewer(db, campaign=campaign)
        handout = hand_out(db, reviewer, task, rng=rng)
        counts[handout.token] += 1
        work = assignment.load_work(db, token=handout.token, reviewer_id=reviewer.id)
        assignment.recuse(db, assignment=work.assignment, reason="test", now=utcnow())
    assert len(counts) == 8
    chi2 = sum((c - 60) ** 2 / 60 for c in counts.values())
    assert chi2 < 35, counts


def test_two_reviewers_draw_independent_orders_of_the_same_task(db, campaign, task):
    # Two reviewers take turns through 40 answers that want a review from each. Kendall's tau
    # between their orders has standard deviation 0.11 for independent orders (n = 40), so
    # its mean over 8 rounds stays within ±0.16 except with probability 4e-5; the old draw
    # (both walking the same token order) gave +0.20 here.
    rng = random.Random(2)
    taus = []
    for _ in range(8):
        add_answers(db, campaign=campaign, count=40, reviews_wanted=2, tasks=[task])
        a, b = add_reviewer(db, campaign=campaign), add_reviewer(db, campaign=campaign)
        orders: dict[int, list[str]] = {a.id: [], b.id: []}
        while True:
            progressed = False
            for reviewer in (a, b):
                handout = hand_out(db, reviewer, task, rng=rng)
                if handout is not None:
                    orders[reviewer.id].append(handout.token)
                    submit(db, reviewer, handout, 3)
                    progressed = True
            if not progressed:
                break
        assert sorted(orders[a.id]) == sorted(orders[b.id]) and len(orders[a.id]) == 40
        taus.append(_kendall_tau(orders[a.id], orders[b.id]))
    assert abs(sum(taus) / len(taus)) < 0.16, taus


def test_a_lapsed_lease_counts_as_having_seen_the_candidate(db, campaign, task):
    first_task, second_task = campaign.stages[0].tasks[1:3]
    answers = add_answers(db, campaign=campaign, count=2, tasks=[first_task, second_task])
    for seed in range(10):
        reviewer = add_reviewer(db, campaign=campaign)
        now = utcnow()
        lapsed = hand_out(db, reviewer, first_task, now=now, rng=random.Random(seed))
        seen = next(i for i, a in enumerate(answers)
                    if a[first_task.id] == answer_of(db, lapsed).id)
        later = now + timedelta(hours=1)
        nxt = hand_out(db, reviewer, second_task, now=later, rng=random.Random(seed))
        assert answer_of(db, nxt).id == answers[1 - seen][second_task.id]
        # Step away from both so the next round starts from the same pool.
        for handout in (nxt,):
            work = assignment.load_work(db, token=handout.token, reviewer_id=reviewer.id)
            assignment.put_back(db, assignment=work.assignment, now=later)


def test_after_a_review_the_draw_moves_on_to_a_task_with_unseen_candidates(db, campaign, task):
    first_task, second_task = campaign.stages[0].tasks[1:3]
    # One candidate answered the first task only, two answered the second.
    add_answers(db, campaign=campaign, count=2, tasks=[first_task, second_task])
    reviewer = add_reviewer(db, campaign=campaign)
    one = hand_out(db, reviewer, first_task)
    submit(db, reviewer, one, 3)
    two = hand_out(db, reviewer, first_task)
    submit(db, reviewer, two, 3)
    # Both candidates are seen now. Without move_on the task's own answers come back
    # (none left here), with it the draw goes on … only where someone unseen is left:
    assert hand_out(db, reviewer, first_task) is None
    added = add_answers(db, campaign=campaign, count=1, tasks=[second_task])
    stay = hand_out(db, reviewer, first_task, move_on=True)
    assert stay is not None and stay.task_id == second_task.id
    assert answer_of(db, stay).id == added[0][second_task.id]


def test_moving_on_gives_back_a_lease_already_held_in_the_other_task(db, campaign, task):
    first_task, second_task = campaign.stages[0].tasks[1:3]
    add_answers(db, campaign=campaign, count=1, tasks=[first_task])
    add_answers(db, campaign=campaign, count=2, tasks=[second_task])
    reviewer = add_reviewer(db, campaign=campaign)
    held = hand_out(db, reviewer, second_task)  # say, in another browser tab
    submit(db, reviewer, hand_out(db, reviewer, first_task), 3)
    assert hand_out(db, reviewer, first_task, move_on=True) == held


def test_without_an_unseen_candidate_anywhere_the_task_offers_a_seen_one(db, campaign, task):
    first_task, second_task = campaign.stages[0].tasks[1:3]
    answers = add_answers(db, campaign=campaign, count=1, tasks=[first_task, second_task])
    reviewer = add_reviewer(db, campaign=campaign)
    submit(db, reviewer, hand_out(db, reviewer, first_task), 3)
    last = hand_out(db, reviewer, second_task, move_on=True)
    assert last.task_id == second_task.id
    assert answer_of(db, last).id == answers[0][second_task.id]


def test_putting_back_frees_the_slot_at_once_and_drops_the_draft(db, campaign, task):
    add_answers(db, campaign=campaign, count=2, reviews_wanted=1, tasks=[task])
    a, b = add_reviewer(db, campaign=campaign), add_reviewer(db, campaign=campaign)
    now = utcnow()
    held = hand_out(db, a, task, now=now)
    work = assignment.load_work(db, token=held.token, reviewer_id=a.id)
    assignment.save_draft(db, assignment=work.assignment, scores={"1": 4}, comment="half",
                          lease_minutes=30, now=now)
    assignment.put_back(db, assignment=work.assignment, now=now)
    answer = answer_of(db, held)
    assert (answer.reviews_leased, leased_rows(db, answer.id)) == (0, 0)
    row = db.get(ReviewAssignment, held.assignment_id)
    assert (row.status, row.draft) == ("returned", {})
    # A minute later, not after the lease's 30 minutes: another reviewer may take it.
    others = {hand_out(db, b, task, now=now + timedelta(minutes=1)).token}
    work_b = assignment.load_work(db, token=next(iter(others)), reviewer_id=b.id)
    assignment.put_back(db, assignment=work_b.assignment, now=now)
    others.add(hand_out(db, b, task, now=now + timedelta(minutes=2)).token)
    assert held.token in others
    # The one who put it back gets the other answer first, and theirs only when nothing else
    # is left, without the old draft.
    again = hand_out(db, a, task, now=now + timedelta(minutes=3))
    assert again is not None
    with pytest.raises(assignment.AssignmentError) as refused:
        assignment.save_draft(db, assignment=row, scores={}, comment="", lease_minutes=30,
                              now=now) if again.token != held.token else None
        raise assignment.AssignmentError("returned", "")
    assert refused.value.code == "returned"


def test_a_put_back_answer_refuses_drafts_and_reviews(db, campaign, task):
    add_answers(db, campaign=campaign, count=2, reviews_wanted=1, tasks=[task])
    reviewer = add_reviewer(db, campaign=campaign)
    held = hand_out(db, reviewer, task)
    work = assignment.load_work(db, token=held.token, reviewer_id=reviewer.id)
    assignment.put_back(db, assignment=work.assignment, now=utcnow())
    for action in (lambda: assignment.save_draft(db, assignment=work.assignment, scores={},
                                                 comment="", lease_minutes=30, now=utcnow()),
                   lambda: submit(db, reviewer, held, 3),
                   lambda: assignment.put_back(db, assignment=work.assignment, now=utcnow())):
        with pytest.raises(assignment.AssignmentError) as refused:
            action()
        assert refused.value.code == "returned"


def test_an_answer_entering_the_pool_is_keyed_from_the_clock_not_from_zero(db, world, task):
    from recruit.domain import custody

    add_answers(db, campaign=world.campaign, count=5, reviews_wanted=1000, tasks=[task])
    rng = random.Random(4)
    for _ in range(60):  # move the task's clock well past the first keys
        reviewer = add_reviewer(db, campaign=world.campaign)
        handout = hand_out(db, reviewer, task, rng=rng)
        work = assignment.load_work(db, token=handout.token, reviewer_id=reviewer.id)
        assignment.put_back(db, assignment=work.assignment, now=utcnow())
    clock = db.scalar(select(func.max(Answer.draw_base)).where(Answer.task_id == task.id))
    assert clock > 5
    pending = add_answers(db, campaign=world.campaign, count=1, tasks=[task])[0][task.id]
    answer = db.get(Answer, pending)
    answer.check_status = "pending"
    db.flush()
    custody.release_answer(db, answer=answer, by=world.users["custodian"], now=utcnow())
    db.flush()
    db.refresh(answer)
    # A key near zero would put a late answer ahead of everything that waited.
    assert answer.draw_key > clock


# -- how many reviews -----------------------------------------------------------------------------

@pytest.mark.parametrize(("first", "second", "wanted"), [
    (2, 5, 3),  # spread 3 > 1.5: exactly one more review
    (3, 4, 2),  # spread 1: two are enough
], ids=["disagree", "agree"])
def test_disagreement_adds_exactly_one_review(db, campaign, task, first, second, wanted):
    add_answers(db, campaign=campaign, count=1, tasks=[task])
    a, b, c = (add_reviewer(db, campaign=campaign) for _ in range(3))
    one = hand_out(db, a, task)
    submit(db, a, one, first)
    assert answer_of(db, one).reviews_wanted == 2
    two = hand_out(db, b, task)
    assert two.token == one.token
    submit(db, b, two, second)
    assert answer_of(db, one).reviews_wanted == wanted
    third = hand_out(db, c, task)
    assert (third is not None) == (wanted == 3)


@pytest.mark.parametrize(("third", "wanted"), [(2, 3), (4, 3), (3, 4)],
                         ids=["sides-low", "sides-high", "sides-with-nobody"])
def test_the_extra_review_settles_the_answer_unless_it_sides_with_nobody(db, campaign, task,
                                                                         third, wanted):
    # Uniform criterion scores make the raw score that value: 1 and 5 disagree (spread 4).
    # A third review of 2 or 4 agrees with one of them; 3 is 2 points from both.
    add_answers(db, campaign=campaign, count=1, tasks=[task])
    reviewers = [add_reviewer(db, campaign=campaign) for _ in range(4)]
    for reviewer, value in zip(reviewers, (1, 5, third), strict=False):
        submit(db, reviewer, hand_out(db, reviewer, task), value)
    answer = db.scalar(select(Answer).where(Answer.task_id == task.id, Answer.reviews_done > 0))
    db.refresh(answer)
    assert (answer.reviews_done, answer.reviews_wanted) == (3, wanted)
    assert (hand_out(db, reviewers[3], task) is not None) == (wanted == 4)


def test_extra_reviews_stop_at_the_maximum(db, campaign, task):
    campaign.max_reviews = 3
    add_answers(db, campaign=campaign, count=1, tasks=[task])
    reviewers = [add_reviewer(db, campaign=campaign) for _ in range(4)]
    for reviewer, value in zip(reviewers[:3], (1, 5, 3), strict=True):
        handout = hand_out(db, reviewer, task)
        submit(db, reviewer, handout, value)
    assert answer_of(db, handout).reviews_wanted == 3
    assert answer_of(db, handout).reviews_done == 3
    assert hand_out(db, reviewers[3], task) is None


# -- scores ---------------------------------------------------------------------------------------

def test_a_submitted_review_stores_the_weighted_mean_and_every_criterion(db, campaign, task):
    add_answers(db, campaign=campaign, count=1, tasks=[task])
    reviewer = add_reviewer(db, campaign=campaign)
    handout = hand_out(db, reviewer, task)
    criteria = db.execute(select(Criterion.id, Criterion.weight)
                          .where(Criterion.task_id == task.id)
                          .order_by(Criterion.position)).all()
    values = [(i % 5) + 1 for i in range(len(criteria))]
    review = submit(db, reviewer, handout, values)
    expected = (sum(v * c.weight for v, c in zip(values, criteria, strict=True))
                / sum(c.weight for c in criteria))
    assert review.score_raw == pytest.approx(expected)
    stored = dict(db.execute(select(CriterionScore.criterion_id, CriterionScore.value)
                             .where(CriterionScore.review_id == review.id)).all())
    assert stored == {c.id: v for c, v in zip(criteria, values, strict=True)}


def test_normalisation_through_the_database_matches_the_hand_computed_example(db, campaign,
                                                                              task):
    # The example of tests/unit/test_scoring.py: a harsh and a lenient reviewer, eight
    # answers each, one criterion score for every criterion so the raw score is that value.
    stage = campaign.stages[0]
    campaign.reviews_per_answer = 1
    campaign.max_reviews = 1
    add_answers(db, campaign=campaign, count=16, reviews_wanted=1, tasks=[task])
    harsh, lenient = add_reviewer(db, campaign=campaign), add_reviewer(db, campaign=campaign)
    low, mid, high = 3 - math.sqrt(3), 3.0, 3 + math.sqrt(3)
    expected = {}
    for reviewer, values, mapped in (
            (harsh, [1, 1, 2, 2, 2, 2, 3, 3], [low, low, mid, mid, mid, mid, high, high]),
            (lenient, [3, 3, 4, 4, 4, 4, 5, 5], [low, low, mid, mid, mid, mid, high, high])):
        for value, target in zip(values, mapped, strict=True):
            review = submit(db, reviewer, hand_out(db, reviewer, task), value)
            expected[review.id] = target
    # Submitting only marks the stage; whoever reads its scores next brings them up to date,
    # within the tolerance of the exact result …
    db.refresh(stage)
    assert stage.normalisation_due
    review_stats.normalise_due(db, campaign_id=campaign.id)
    db.refresh(stage)
    assert not stage.normalisation_due
    stored = dict(db.execute(select(Review.id, Review.score_normalised)).all())
    for review_id, target in expected.items():
        assert stored[review_id] == pytest.approx(target, abs=review_stats.SUBMIT_TOLERANCE)
    # … and an exact pass gives the hand-computed numbers.
    review_stats.renormalise_stage(db, stage=stage)
    stored = dict(db.execute(select(Review.id, Review.score_normalised)).all())
    assert [stored[i] for i in expected] == pytest.approx(list(expected.values()), abs=1e-9)


def test_a_reviewer_below_the_minimum_keeps_raw_scores(db, campaign, task):
    add_answers(db, campaign=campaign, count=3, tasks=[task])
    reviewer = add_reviewer(db, campaign=campaign)
    for value in (1, 3, 5):
        submit(db, reviewer, hand_out(db, reviewer, task), value)
    review_stats.normalise_due(db, campaign_id=campaign.id)
    stored = db.execute(select(Review.score_raw, Review.score_normalised)).all()
    assert all(raw == norm for raw, norm in stored)


def test_a_submission_does_not_renormalise_the_stage_but_the_next_reader_does(db, campaign,
                                                                              task):
    from recruit.domain import decisions

    stage = campaign.stages[0]
    add_answers(db, campaign=campaign, count=2, tasks=[task])
    reviewer = add_reviewer(db, campaign=campaign)
    submit(db, reviewer, hand_out(db, reviewer, task), 4)
    assert db.scalar(select(func.count()).select_from(Review)
                     .where(Review.score_normalised.is_not(None))) == 0
    db.refresh(stage)
    assert stage.normalisation_due
    # The coordinator's ranking is a reader: it brings the stage up to date first.
    decisions.ranking_page(db, stage=stage, now=utcnow())
    db.refresh(stage)
    assert not stage.normalisation_due
    assert db.scalar(select(Review.score_normalised)) == pytest.approx(4.0)
    # Nothing due: reading again writes nothing.
    assert review_stats.normalise_due(db, campaign_id=campaign.id) == 0


# -- cost -----------------------------------------------------------------------------------------

def _hand_out_queries(db, app, campaign, task, count) -> list[str]:
    add_answers(db, campaign=campaign, count=count, tasks=[task])
    reviewer = add_reviewer(db, campaign=campaign)
    db.expire_all()
    reviewer.id, task.stage_id  # noqa: B018 - loaded as a request would have them
    with count_queries(app.extensions["recruit.engine"]) as statements:
        handout = hand_out(db, reviewer, task, rng=random.Random(count))
    assert handout is not None
    return statements


def test_hand_out_runs_the_same_number_of_queries_for_10_and_1000_answers(db, app, campaign,
                                                                           task):
    small = _hand_out_queries(db, app, campaign, task, 10)
    large = _hand_out_queries(db, app, campaign, task, 990)
    assert len(small) == len(large) <= 4, [s[:90] for s in large]


def test_a_hand_out_without_lapsed_leases_expires_nothing(db, app, campaign, task):
    statements = _hand_out_queries(db, app, campaign, task, 10)
    # Lazy expiry: no UPDATE of review_assignment unless some lease is past its time.
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE REVIEW_ASSIGNMENT")]


def test_hand_out_queries_stay_bounded_when_only_seen_candidates_are_left(db, app, campaign,
                                                                        task):
    first_task, second_task = campaign.stages[0].tasks[1:3]
    add_answers(db, campaign=campaign, count=3, tasks=[first_task, second_task])
    reviewer = add_reviewer(db, campaign=campaign)
    for _ in range(3):
        submit(db, reviewer, hand_out(db, reviewer, first_task), 3)
    # Every candidate is seen now: the draw tries unseen ones in each task, then falls back.
    with count_queries(app.extensions["recruit.engine"]) as statements:
        handout = hand_out(db, reviewer, second_task, move_on=True)
    assert handout is not None and handout.task_id == second_task.id
    # state, the unseen draw in each task, the other tasks and any lease held there, the
    # fallback, claim, lease
    assert len(statements) <= 6 + len(campaign.stages[0].tasks), statements

