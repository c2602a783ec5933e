"""Blind review work: reviewer pools, hand-out as leases, drafts, put back, recusal, submission.

The rules, as this module implements them:

*Slots.* A review slot is one of the ``Answer.reviews_wanted`` reviews an answer needs. An
answer is in the pool while ``reviews_wanted > reviews_done + reviews_leased``;
``reviews_leased`` is kept equal to the number of its assignments in status 'leased' by every
transition below (each one a conditional UPDATE, so concurrent requests cannot count a slot
twice). How many reviews an answer wants is :func:`recruit.domain.scoring.reviews_wanted`.

*Draws are uniform.* Every answer carries a draw key on its task's draw clock. A draw takes,
among the answers the reviewer may take, the one with the smallest key; the drawn answer
records that key as the clock (``draw_base``; the task's clock is the largest of them) and its
key moves on by a fresh exponential step. An answer that enters the pool — released after
redaction, back from a lease that lapsed, was put back or recused, or asking for one more
review — gets the clock plus a fresh step. Exponential steps are memoryless, so every waiting
answer's distance to the clock has the same distribution whatever happened before: the
smallest key is equally likely to be any eligible answer's. Each draw is therefore uniform
among the answers the reviewer may take, independent of earlier draws, of other reviewers'
orders and of submission order. One exception, by design: an answer whose key came up while
only reviewers who could not take it were drawing keeps its place and goes to the next
reviewer who can. The partial index on (task, draw_key) over the pool answers a draw without
sorting or loading the pool.

*Seen means seen.* A reviewer has seen a candidacy in a stage once they hold or held any
assignment on any of its answers of that stage — leased, submitted, recused, lapsed or put
back. A draw prefers, in this order: (1) answers of candidacies the reviewer has not seen, in
the task asked for; (2) after "Submit review" (``move_on``), the same in the stage's other
tasks, by position; (3) any answer of the task the reviewer has not finished or recused, even of
a seen candidacy: their own lapsed answer comes back with its draft, a put-back one without.
Nobody is ever handed an answer they leased, submitted or recused, nor both a calibration
answer and the candidate's answer it was copied from.

*Calibration.* While the reviewer has a real answer to draw, a draw gives instead, with
probability ``calibration_rate`` per cent, a calibration answer of the same task they have
not had (:mod:`recruit.domain.calibration`). It is an ordinary answer row without a submission
(token, page, draft, submission all the same), so nothing about it tells it apart, and no
candidacy, ranking, normalisation, feedback or report ever reaches it.

*Leases* last the campaign's ``lease_minutes`` (saving a draft extends a live one). A reviewer
holding a live lease on the task gets it back instead of a second one. Lapsed leases are
expired lazily: a hand-out that finds any lease past its time (one indexed probe) expires them
all first, and ``recruit review expire-leases`` does the same from a scheduled job. "Put back"
ends a lease at once and drops the draft.

Nothing here returns an object that reaches an identity: reviewer-facing reads build plain
view objects without candidacy, submission or user.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import (
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased

from recruit.domain import review_stats, scoring
from recruit.models import (
    Answer,
    CalibrationAnswer,
    Campaign,
    CampaignReviewer,
    Criterion,
    CriterionScore,
    Review,
    ReviewAssignment,
    Role,
    Stage,
    Task,
    User,
)

COMMENT_MAX = 5000
QUEUE_COUNT_CAP = 1000
# The review page says "more than 100 left for you" past this: a reviewer needs no more.
PAGE_COUNT_CAP = 100
REASON_MAX = 1000
# Statuses that keep an answer away from this reviewer for good (a lapsed or put-back lease
# does not: the same reviewer may be handed the answer again when nothing else is left).
_CLOSED_TO_REVIEWER = ("leased", "submitted", "recused")
# Statuses of an assignment row the same reviewer may be leased again.
_REUSABLE = ("expired", "returned")
_SYSTEM_RANDOM = secrets.SystemRandom()


class AssignmentError(Exception):
    """A review action the rules refuse, with a reason code the web layer translates."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def in_review_pool() -> sa.ColumnElement[bool]:
    """Answers with a free review slot, written exactly as the partial index ix_answer_review_pool.

    SQLite only uses a partial index when the query repeats its WHERE terms with the same
    constants (so the status is a literal, not a bound parameter) and in a shape it does not
    rewrite (column on the left: it never matches ``a + b < c``).
    """
    return and_(
        Answer.check_status == literal_column("'released'"),
        Answer.reviews_wanted > Answer.reviews_done + Answer.reviews_leased,
    )


def is_calibration() -> sa.ColumnElement[bool]:
    """Calibration answers: answer rows that belong to no submission, hence to no candidacy."""
    return Answer.submission_id.is_(None)


def check_may_review(user: User) -> None:
    """Refuse accounts that may never review: the custodian above all."""
    if user.is_custodian:
        raise AssignmentError("custodian", "The custodian knows who the candidates are and can "
                                           "never review or join a reviewer pool.")
    if user.role != Role.REVIEWER:
        raise AssignmentError("not_reviewer", f"Account {user.id} is not a reviewer account.")
    if not user.active:
        raise AssignmentError("inactive", f"Account {user.id} is deactivated.")


# -- reviewer pools ---------------------------------------------------------------------------

def join_pool(db: Session, *, campaign: Campaign, user: User, by: User | None) -> CampaignReviewer:
    """Add a reviewer to a campaign's pool; the custodian and non-reviewers are refused."""
    check_may_review(user)
    if db.get(CampaignReviewer, (campaign.id, user.id)) is not None:
        raise AssignmentError("already_in_pool", f"Account {user.id} is already in the pool.")
    membership = CampaignReviewer(campaign_id=campaign.id, user_id=user.id,
                                  added_by_id=by.id if by else None)
    db.add(membership)
    db.flush()
    return membership


def leave_pool(db: Session, *, campaign: Campaign, user_id: int) -> int:
    """Remove a reviewer from a pool; their open leases there go back at once. Returns those."""
    membership = db.get(CampaignReviewer, (campaign.id, user_id))
    if membership is None:
        raise AssignmentError("not_in_pool", f"Account {user_id} is not in this pool.")
    db.delete(membership)
    campaign_answers = (select(Answer.id).join(Task, Task.id == Answer.task_id)
                        .join(Stage, Stage.id == Task.stage_id)
                        .where(Stage.campaign_id == campaign.id))
    ended = _end_leases(db, [ReviewAssignment.reviewer_id == user_id,
                             ReviewAssignment.answer_id.in_(campaign_answers)],
                        status="expired")
    db.flush()
    return len(ended)


# -- the draw clock ---------------------------------------------------------------------------

_CLOCK = Answer.__table__.alias("clock")


def _clock_of(task_id: sa.ColumnElement | int) -> sa.ColumnElement[float]:
    """The task's draw clock: the largest key a draw has taken (0 before the first draw)."""
    return func.coalesce(select(func.max(_CLOCK.c.draw_base))
                         .where(_CLOCK.c.task_id == task_id).scalar_subquery(), 0.0)


def exponential_step(rng: random.Random | None = None) -> float:
    """A fresh memoryless step for a draw key (mean 1)."""
    return (rng or _SYSTEM_RANDOM).expovariate(1.0)


def pool_entry_key(*, task_id: int, rng: random.Random | None = None) -> sa.ColumnElement[float]:
    """The draw key of an answer entering the pool now: the task's clock plus a fresh step.

    An SQL expression, to assign to ``Answer.draw_key`` wherever an answer is released.
    """
    return _clock_of(task_id) + literal(exponential_step(rng), sa.Float)


# -- leases -----------------------------------------------------------------------------------

def _end_leases(db: Session, where: Sequence[sa.ColumnElement[bool]], *, status: str,
                **values) -> list[int]:
    """Move matching 'leased' assignments to ``status`` and free their slots; return answer ids.

    The status test sits in the UPDATE itself, so when two requests end the same lease only
    the first one frees its slot. A slot given back unreviewed (any status but 'submitted')
    brings the answer into the pool again, with a fresh draw key.
    """
    stmt = (update(ReviewAssignment)
            .where(ReviewAssignment.status == "leased", *where)
            .values(status=status, **values)
            .returning(ReviewAssignment.answer_id)
            .execution_options(synchronize_session=False))
    answer_ids = list(db.execute(stmt).scalars())
    if answer_ids:
        table = Answer.__table__
        changes = {"reviews_leased": table.c.reviews_leased - bindparam("freed")}
        if status != "submitted":
            changes["draw_key"] = _clock_of(table.c.task_id) + bindparam("step", type_=sa.Float)
        db.execute(update(table).where(table.c.id == bindparam("answer_id")).values(**changes),
                   [{"answer_id": a, "freed": n, "step": exponential_step()}
                    for a, n in Counter(answer_ids).items()])
    return answer_ids


def expire_leases(db: Session, *, now: datetime) -> int:
    """Send every lease past its time back to the pool; return how many expired."""
    return len(_end_leases(db, [ReviewAssignment.lease_expires_at <= now], status="expired"))


@dataclass(frozen=True)
class Handout:
    """The answer a reviewer was handed: where to send them, nothing more."""

    assignment_id: int
    token: str
    task_id: int


# Built once: an alias copies every column of its table, and a fresh alias (or statement) per
# call costs time on the hottest write of a wave and may miss the compiled-statement cache.
_MINE = aliased(ReviewAssignment, name="mine")
_SIBLING = aliased(Answer, name="sibling")
_REVIEWER = bindparam("reviewer_id", type_=sa.Integer)
_TASK = bindparam("task_id", type_=sa.Integer)
_NOW = bindparam("now", type_=ReviewAssignment.lease_expires_at.type)


def _mine_on(answer_id: sa.ColumnElement, *statuses: str) -> sa.Exists:
    mine = _MINE
    terms = [mine.answer_id == answer_id, mine.reviewer_id == _REVIEWER]
    if statuses:
        terms.append(mine.status.in_(statuses))
    return exists().where(*terms)


def _build_state_query() -> sa.Select:
    """The held lease on the task, whether any lease lapsed, whether calibration is on offer."""
    held = (select(ReviewAssignment.id, Answer.token)
            .join(Answer, Answer.id == ReviewAssignment.answer_id)
            .where(ReviewAssignment.reviewer_id == _REVIEWER,
                   ReviewAssignment.task_id == _TASK,
                   ReviewAssignment.status == "leased",
                   ReviewAssignment.lease_expires_at > _NOW)
            .limit(1))
    # Answered by the (status, lease_expires_at) index: no lapsed lease, no UPDATE.
    lapsed = exists().where(ReviewAssignment.status == "leased",
                            ReviewAssignment.lease_expires_at <= _NOW)
    return select(held.with_only_columns(ReviewAssignment.id).scalar_subquery().label("held_id"),
                  held.with_only_columns(Answer.token).scalar_subquery().label("held_token"),
                  lapsed.label("lapsed"), _calibration_offered().label("calibration"))


def _calibration_candidates(task: sa.ColumnElement = _TASK) -> sa.Select:
    # Calibration answers of the task this reviewer has not had, nor had the source of.
    # From calibration_answer by its task index: never a walk over the task's answers.
    return (select(Answer.id, Answer.token, Answer.task_id)
            .select_from(CalibrationAnswer)
            .join(Answer, Answer.id == CalibrationAnswer.answer_id)
            .where(CalibrationAnswer.task_id == task, CalibrationAnswer.retired_at.is_(None),
                   ~_mine_on(Answer.id),
                   or_(CalibrationAnswer.source_answer_id.is_(None),
                       ~_mine_on(CalibrationAnswer.source_answer_id))))


def _calibration_offered() -> sa.Exists:
    return exists(_calibration_candidates().with_only_columns(literal(1)))


def _build_draw(*, unseen: bool) -> sa.Select:
    """The eligible answer of a task with the smallest draw key (one index walk)."""
    mine, sibling = _MINE, _SIBLING
    # A reviewer who saw the calibration copy of an answer must not meet the original.
    not_a_seen_source = ~exists().where(
        CalibrationAnswer.source_answer_id == Answer.id,
        _mine_on(CalibrationAnswer.answer_id))
    if unseen:
        # The same submission is the same candidacy in the same stage, in any status: this
        # covers the answer itself too.
        eligible = ~exists().where(sibling.submission_id == Answer.submission_id,
                                   mine.answer_id == sibling.id, mine.reviewer_id == _REVIEWER)
        reusable = sa.null()
    else:
        eligible = ~_mine_on(Answer.id, *_CLOSED_TO_REVIEWER)
        reusable = (select(mine.id).where(mine.answer_id == Answer.id,
                                          mine.reviewer_id == _REVIEWER,
                                          mine.status.in_(_REUSABLE))
                    .scalar_subquery())
    return (select(Answer.id, Answer.token, Answer.task_id, Answer.draw_key,
                   reusable.label("reusable"))
            .where(Answer.task_id == _TASK, in_review_pool(), eligible, not_a_seen_source)
            .order_by(Answer.draw_key)
            .limit(1)
            # PostgreSQL: concurrent hand-outs step over each other's candidate instead of
            # queueing on it; SQLite serialises writing requests anyway (BEGIN IMMEDIATE).
            .with_for_update(of=Answer, skip_locked=True))


_STATE = _build_state_query()
_DRAW_UNSEEN = _build_draw(unseen=True)
_DRAW_ANY = _build_draw(unseen=False)
_DRAW_CALIBRATION = (_calibration_candidates()
                     .add_columns(sa.null().label("draw_key"),
                                  sa.null().label("reusable"))
                     .order_by(Answer.draw_key).limit(1))


class _SqlExponentialStep(sa.sql.functions.FunctionElement):
    """A fresh exponential step per row, drawn by the database."""

    type = sa.Float()
    name = "exponential_step"
    inherit_cache = True


@compiles(_SqlExponentialStep)
def _step_in_postgresql(element, compiler, **kw) -> str:
    return "(-ln(1.0 - random()))"


@compiles(_SqlExponentialStep, "sqlite")
def _step_in_sqlite(element, compiler, **kw) -> str:
    # random() is a signed 64-bit integer here; 53 of its bits make a uniform double in [0, 1).
    # ln() needs SQLite's math functions (3.35+, built in by Debian and by CPython's builds).
    return "(-ln(1.0 - (random() & 9007199254740991) / 9007199254740992.0))"


def _build_advance() -> sa.Update:
    """Claim the drawn answer and move the clock to its key, in one statement.

    Every pool answer of the task whose key is at most the drawn one's (``through``) was
    passed over because this reviewer may not take it: it gets the clock plus a fresh step,
    as if it had just entered the pool. That keeps every waiting key an independent
    exponential step past the clock, which is what makes the next draw — anyone's — uniform.
    The drawn answer (``claimed``; none when a calibration answer stands in for it) takes
    the slot and moves its own key on. Rows another hand-out holds are skipped, not waited for.
    """
    passed = (select(Answer.id)
              .where(Answer.task_id == bindparam("advance_task", type_=sa.Integer),
                     in_review_pool(),
                     Answer.draw_key <= bindparam("through", type_=sa.Float))
              .with_for_update(skip_locked=True))
    claimed = Answer.id == bindparam("claimed", type_=sa.Integer)
    return (update(Answer)
            .where(Answer.id.in_(passed.scalar_subquery()))
            .values(reviews_leased=Answer.reviews_leased + sa.case((claimed, 1), else_=0),
                    draw_base=sa.case((claimed, Answer.draw_key), else_=Answer.draw_base),
                    draw_key=sa.case(
                        (claimed, Answer.draw_key + bindparam("step", type_=sa.Float)),
                        else_=bindparam("through", type_=sa.Float) + _SqlExponentialStep()))
            .returning(Answer.id)
            .execution_options(synchronize_session=False))


_ADVANCE = _build_advance()
# A calibration answer is outside the pool: it takes a lease whenever it is handed out.
_CLAIM_CALIBRATION = (update(Answer)
                      .where(Answer.id == bindparam("claimed"), is_calibration())
                      .values(reviews_leased=Answer.reviews_leased + 1,
                              draw_key=Answer.draw_key + bindparam("step", type_=sa.Float))
                      .execution_options(synchronize_session=False))
_LEASE = (insert(ReviewAssignment)
          .values(answer_id=bindparam("new_answer"), task_id=bindparam("lease_task"),
                  reviewer_id=bindparam("holder"), status="leased",
                  leased_at=bindparam("leased"), lease_expires_at=bindparam("expires"),
                  draft={})
          .returning(ReviewAssignment.id))
_RELEASE = (update(ReviewAssignment)
            .where(ReviewAssignment.id == bindparam("reused_id"),
                   ReviewAssignment.status.in_(_REUSABLE))
            .values(status="leased", leased_at=bindparam("leased"),
                    lease_expires_at=bindparam("expires"))
            .execution_options(synchronize_session=False))


def next_answer(db: Session, *, reviewer: User, task: Task, lease_minutes: int, now: datetime,
                calibration_rate: int = 0, move_on: bool = False,
                rng: random.Random | None = None) -> Handout | None:
    """Lease the reviewer an answer of ``task`` drawn as the module's rules say, or None.

    ``move_on`` lets the draw leave the task for another task of the stage when only that one
    still has candidates the reviewer has not seen (after "Submit review"). A fixed number of
    queries whatever the pool size; ``rng`` exists so tests can fix the draws.
    """
    check_may_review(reviewer)
    rng = rng or _SYSTEM_RANDOM
    params = {"reviewer_id": reviewer.id, "task_id": task.id, "now": now}
    # Core statements on the session's connection: these columns feed no stored result, so
    # the ORM layer (half the time of a statement here) has nothing to do for them.
    conn = db.connection()
    state = conn.execute(_STATE, params).one()
    if state.held_id is not None:
        return Handout(assignment_id=state.held_id, token=state.held_token, task_id=task.id)
    if state.lapsed:
        expire_leases(db, now=now)

    row = conn.execute(_DRAW_UNSEEN, params).first()
    if row is None and move_on:
        others = conn.scalars(select(Task.id).where(Task.stage_id == task.stage_id,
                                                    Task.id != task.id)
                              .order_by(Task.position)).all()
        # One live lease per task, there too (say, the same reviewer in a second tab).
        held = conn.execute(select(ReviewAssignment.id, Answer.token, Answer.task_id)
                            .join(Answer, Answer.id == ReviewAssignment.answer_id)
                            .where(ReviewAssignment.reviewer_id == reviewer.id,
                                   ReviewAssignment.task_id.in_(others),
                                   ReviewAssignment.status == "leased",
                                   ReviewAssignment.lease_expires_at > now)
                            .limit(1)).first() if others else None
        if held is not None:
            return Handout(assignment_id=held.id, token=held.token, task_id=held.task_id)
        for other in others:
            row = conn.execute(_DRAW_UNSEEN, {**params, "task_id": other}).first()
            if row is not None:
                break
    if row is None:
        row = conn.execute(_DRAW_ANY, params).first()
    if row is None:
        return None
    step = exponential_step(rng)
    # Calibration only stands in for a real answer: an empty queue stays empty.
    if (calibration_rate > 0 and state.calibration and row.task_id == task.id
            and rng.random() * 100 < calibration_rate):
        stand_in = conn.execute(_DRAW_CALIBRATION, params).first()
        if stand_in is not None:
            # The real answer is passed over like the others below its key.
            conn.execute(_ADVANCE, {"advance_task": row.task_id, "through": row.draw_key,
                                    "claimed": None, "step": step})
            conn.execute(_CLAIM_CALIBRATION, {"claimed": stand_in.id, "step": step})
            row = stand_in
    if row.draw_key is not None:  # a real answer: claim it
        claimed = conn.execute(_ADVANCE, {"advance_task": row.task_id,
                                          "through": row.draw_key, "claimed": row.id,
                                          "step": step}).scalars().all()
        if row.id not in claimed:  # pragma: no cover - the row lock makes this unreachable
            return None
    expires = now + timedelta(minutes=lease_minutes)
    if row.reusable is not None:
        # Reuse the row: (answer, reviewer) is unique, and a lapsed draft comes back with it.
        conn.execute(_RELEASE, {"reused_id": row.reusable, "leased": now, "expires": expires})
        assignment_id = row.reusable
    else:
        assignment_id = conn.execute(_LEASE, {"new_answer": row.id, "lease_task": row.task_id,
                                              "holder": reviewer.id, "leased": now,
                                              "expires": expires}).scalar_one()
    return Handout(assignment_id=assignment_id, token=row.token, task_id=row.task_id)


# -- working on one assignment -----------------------------------------------------------------

def _clean_scores(scores: Mapping) -> dict[str, int]:
    clean: dict[str, int] = {}
    for key, value in scores.items():
        if not str(key).isdigit():
            raise AssignmentError("invalid", f"Unknown criterion {key!r}.")
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise AssignmentError("invalid", f"A score must be a whole number from 1 to 5, "
                                             f"got {value!r}.")
        clean[str(key)] = value
    return clean


def _check_open(assignment: ReviewAssignment) -> None:
    if assignment.status == "returned":
        raise AssignmentError("returned", "You put this answer back.")
    if assignment.status not in ("leased", "expired"):
        raise AssignmentError("closed", f"This review is already {assignment.status}.")


def _check_comments(comment: object, candidate_comment: object) -> None:
    if not isinstance(comment, str) or len(comment) > COMMENT_MAX:
        raise AssignmentError("comment_too_long",
                              f"The note may have at most {COMMENT_MAX} characters.")
    if not isinstance(candidate_comment, str) or len(candidate_comment) > COMMENT_MAX:
        raise AssignmentError("candidate_comment_too_long",
                              f"The comment for the candidate may have at most {COMMENT_MAX} "
                              "characters.")


def save_draft(db: Session, *, assignment: ReviewAssignment, scores: Mapping, comment: str,
               lease_minutes: int, now: datetime, candidate_comment: str = "") -> None:
    """Keep a half-done review (scores, the note for coordinators, the comment for the
    candidate); activity also keeps a live lease from running out."""
    _check_open(assignment)
    _check_comments(comment, candidate_comment)
    assignment.draft = {"scores": _clean_scores(scores), "comment": comment,
                        "candidate_comment": candidate_comment}
    if assignment.status == "leased":
        assignment.lease_expires_at = max(assignment.lease_expires_at,
                                          now + timedelta(minutes=lease_minutes))
    db.flush()


def _close(db: Session, *, assignment: ReviewAssignment, status: str, **values) -> None:
    """End an open assignment as ``status``: a lease frees its slot, a lapsed one has none."""
    if not _end_leases(db, [ReviewAssignment.id == assignment.id], status=status, **values):
        db.execute(update(ReviewAssignment)
                   .where(ReviewAssignment.id == assignment.id,
                          ReviewAssignment.status == "expired")
                   .values(status=status, **values)
                   .execution_options(synchronize_session=False))
    db.expire(assignment)


def recuse(db: Session, *, assignment: ReviewAssignment, reason: str, now: datetime) -> None:
    """Step away from an answer whose author the reviewer recognises; the slot goes back."""
    _check_open(assignment)
    reason = (reason or "").strip()[:REASON_MAX] or "recognised the author"
    _close(db, assignment=assignment, status="recused", recuse_reason=reason, completed_at=now)


def put_back(db: Session, *, assignment: ReviewAssignment, now: datetime) -> None:
    """Give an answer back unreviewed: the slot returns to the pool at once, the draft goes.

    The reviewer has still seen the candidate, so the draw offers them this candidacy's
    answers only when nothing else is left.
    """
    _check_open(assignment)
    _close(db, assignment=assignment, status="returned", draft={}, completed_at=now)


def submit_review(db: Session, *, assignment: ReviewAssignment, stage: Stage,
                  scores: Mapping[int, int], comment: str, now: datetime,
                  candidate_comment: str = "") -> Review:
    """Store a finished review; ask for one more review when scoring.reviews_wanted says so.

    ``comment`` is the note for coordinators; ``candidate_comment`` is written for the
    candidate, who reads it with the stage's feedback (recruit.domain.feedback).

    The stage's normalised scores are marked due; the next reader recomputes them.

    A reviewer whose lease ran out may still submit while the answer has a free slot; once
    others have taken every slot the review is refused (their draft stays). A calibration
    answer always takes a late review, wants no further reviews and touches no stage result.
    """
    _check_open(assignment)
    _check_comments(comment, candidate_comment)
    campaign = stage.campaign
    criteria = db.execute(
        select(Criterion.id, Criterion.key, Criterion.weight, Answer.submission_id)
        .join(Answer, Answer.task_id == Criterion.task_id)
        .where(Answer.id == assignment.answer_id)
    ).all()
    calibration = bool(criteria) and criteria[0].submission_id is None
    keys = {c.id: c.key for c in criteria}
    unknown = sorted(set(scores) - set(keys))
    if unknown:
        raise AssignmentError("invalid", f"Criteria {unknown} are not in this task's rubric.")
    try:
        raw = scoring.weighted_score(scores={keys[i]: v for i, v in scores.items()},
                                     weights={c.key: c.weight for c in criteria})
    except ValueError as exc:
        raise AssignmentError("invalid", str(exc)) from exc

    done = {"status": "submitted", "completed_at": now, "draft": {}}
    answers = Answer.__table__
    if _end_leases(db, [ReviewAssignment.id == assignment.id], **done):
        db.execute(update(answers).where(answers.c.id == assignment.answer_id)
                   .values(reviews_done=answers.c.reviews_done + 1))
    else:
        # The lease ran out: take a free slot if there still is one.
        took = db.execute(update(Answer).where(Answer.id == assignment.answer_id,
                                               or_(in_review_pool(), is_calibration()))
                          .values(reviews_done=Answer.reviews_done + 1)
                          .execution_options(synchronize_session=False)).rowcount
        if took != 1:
            raise AssignmentError("slot_taken", "Your time on this answer ran out and other "
                                                "reviewers have taken its review slots.")
        db.execute(update(ReviewAssignment)
                   .where(ReviewAssignment.id == assignment.id,
                          ReviewAssignment.status == "expired")
                   .values(**done).execution_options(synchronize_session=False))
    db.expire(assignment)

    review = Review(assignment_id=assignment.id, answer_id=assignment.answer_id,
                    reviewer_id=assignment.reviewer_id, score_raw=raw, comment=comment,
                    candidate_comment=candidate_comment, submitted_at=now,
                    scores=[CriterionScore(criterion_id=i, value=v) for i, v in scores.items()])
    db.add(review)
    db.flush()
    if calibration:
        return review

    # In submission order: the rule looks at the first reviews first.
    raws = list(db.scalars(select(Review.score_raw).where(Review.answer_id == review.answer_id)
                           .order_by(Review.id)))
    wanted = scoring.reviews_wanted(scores=raws, required=campaign.reviews_per_answer,
                                    maximum=campaign.max_reviews,
                                    threshold=float(campaign.disagreement_threshold))
    # Only ever raise the target (a concurrent submission may already have asked for more);
    # the answer enters the pool again with a fresh draw key.
    db.execute(update(answers)
               .where(answers.c.id == review.answer_id, answers.c.reviews_wanted < wanted)
               .values(reviews_wanted=wanted,
                       draw_key=_clock_of(answers.c.task_id) + exponential_step()))
    review_stats.mark_due(db, stage_id=stage.id)
    return review


# -- what reviewers see -------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueTask:
    """One task on the reviewer's home page."""

    task_id: int
    campaign_id: int
    stage_id: int
    campaign_title: dict[str, str]
    stage_title: dict[str, str]
    prompt: dict[str, str]
    position: int
    waiting: int
    for_me: int
    in_progress: int
    held_token: str | None

    @property
    def has_work(self) -> bool:
        """Whether this reviewer can do something here now (continue or take an answer)."""
        return bool(self.held_token or self.for_me)


def reviewer_queue(db: Session, *, reviewer: User, now: datetime) -> list[QueueTask]:
    """The tasks of the reviewer's campaigns with how much still needs reviewing (5 queries)."""
    tasks = db.execute(
        select(Task.id, Task.position, Task.prompt_en, Task.prompt_ru, Task.stage_id,
               Stage.campaign_id,
               Stage.title_en.label("stage_en"), Stage.title_ru.label("stage_ru"),
               Campaign.title_en.label("campaign_en"), Campaign.title_ru.label("campaign_ru"))
        .join(Stage, Stage.id == Task.stage_id)
        .join(Campaign, Campaign.id == Stage.campaign_id)
        .join(CampaignReviewer, CampaignReviewer.campaign_id == Campaign.id)
        .where(CampaignReviewer.user_id == reviewer.id)
        .order_by(Campaign.opens_at.desc(), Campaign.id, Stage.position, Task.position)
    ).all()
    if not tasks:
        return []
    task_ids = [t.id for t in tasks]
    # Counted over the pool index alone; what this reviewer cannot take is subtracted from
    # their own (short) list, not tested answer by answer.
    # Counting stops at QUEUE_COUNT_CAP per task, so the home page costs the same with a
    # million answers waiting as with a thousand (the page then says "1000+").
    capped = [select(literal(task_id).label("task_id"), func.count().label("n"))
              .select_from(select(Answer.id)
                           .where(Answer.task_id == task_id, in_review_pool())
                           .limit(QUEUE_COUNT_CAP).subquery())
              for task_id in task_ids]
    waiting = dict(db.execute(union_all(*capped)).all())
    # Only matters below the cap, so it is counted over the same capped sample of the pool:
    # never a walk over the reviewer's whole history, nor over a large pool.
    not_for_me = dict(db.execute(union_all(*[
        select(literal(task_id).label("task_id"),
               _closed_in_pool(literal(task_id), QUEUE_COUNT_CAP)
               .scalar_subquery().label("n"))
        for task_id in task_ids]), {"reviewer_id": reviewer.id}).all())
    # Live leases are few and indexed by status: counted there, without touching answers (a
    # join let SQLite walk every answer of the tasks). Counting answer_id, which no index
    # holds, keeps SQLite from preferring a scan of the whole (reviewer, task, status) index.
    in_progress = dict(db.execute(
        select(ReviewAssignment.task_id, func.count(ReviewAssignment.answer_id))
        .where(ReviewAssignment.status == "leased", ReviewAssignment.task_id.in_(task_ids))
        .group_by(ReviewAssignment.task_id)).all())
    held = dict(db.execute(
        select(ReviewAssignment.task_id, Answer.token)
        .join(Answer, Answer.id == ReviewAssignment.answer_id)
        .where(ReviewAssignment.reviewer_id == reviewer.id, ReviewAssignment.status == "leased",
               ReviewAssignment.lease_expires_at > now)).all())
    result = []
    for t in tasks:
        result.append(QueueTask(
            task_id=t.id, campaign_id=t.campaign_id, stage_id=t.stage_id, position=t.position,
            campaign_title={"en": t.campaign_en, "ru": t.campaign_ru},
            stage_title={"en": t.stage_en, "ru": t.stage_ru},
            prompt={"en": t.prompt_en, "ru": t.prompt_ru},
            waiting=waiting.get(t.id, 0),
            # Past the cap the pool is large enough that this reviewer surely has some left.
            for_me=(waiting.get(t.id, 0) - not_for_me.get(t.id, 0)
                    if waiting.get(t.id, 0) < QUEUE_COUNT_CAP else QUEUE_COUNT_CAP),
            in_progress=int(in_progress.get(t.id) or 0), held_token=held.get(t.id)))
    return result


@dataclass(frozen=True)
class CriterionView:
    """A rubric line as the review page shows it."""

    id: int
    title: dict[str, str]
    weight: float
    descriptors: dict[str, dict[str, str]]


@dataclass(frozen=True)
class ReviewPage:
    """Everything the review page shows: no candidacy, no times, no other reviewer."""

    assignment_id: int
    token: str
    status: str
    lease_expires_at: datetime
    task_id: int
    prompt: dict[str, str]
    guidance: dict[str, str]
    redacted_text: str
    criteria: list[CriterionView]
    scores: dict[str, int]
    comment: str
    candidate_comment: str
    recuse_reason: str | None
    # "12 of 40 left for you" in this task (the open answer counts as left); ``more_left``
    # when more than PAGE_COUNT_CAP are left (``left`` is then a lower bound); ``total`` is
    # None when the reviewer has finished more than PAGE_COUNT_CAP there.
    left: int
    total: int | None
    more_left: bool


def _pool_sample(task: sa.ColumnElement, cap: int) -> sa.Subquery:
    """At most ``cap`` answers of the task's pool, straight from the pool index."""
    return (select(Answer.id).where(Answer.task_id == task, in_review_pool())
            .limit(cap).subquery("pool_sample"))


def _closed_in_pool(task: sa.ColumnElement, cap: int) -> sa.Select:
    """How many of those answers the reviewer holds, finished or recused (O(cap), not their
    whole history): only needed while the pool is that small."""
    sample = _pool_sample(task, cap)
    # A correlated EXISTS, not a join: a join lets SQLite start from the reviewer's history.
    return (select(func.count()).select_from(sample)
            .where(exists().where(_MINE.answer_id == sample.c.id,
                                  _MINE.reviewer_id == _REVIEWER,
                                  _MINE.status.in_(_CLOSED_TO_REVIEWER))))


def _build_progress_columns(task: sa.ColumnElement) -> list[sa.Label]:
    """How many answers of a task are left for a reviewer and how many they finished.

    Every count stops at PAGE_COUNT_CAP + 1, so the page costs the same for a reviewer with
    ten reviews as for one with forty thousand.
    """
    cap = PAGE_COUNT_CAP + 1
    waiting = (select(func.count()).select_from(_pool_sample(task, cap)).scalar_subquery())
    finished = (select(func.count()).select_from(
        select(_MINE.id).where(_MINE.reviewer_id == _REVIEWER, _MINE.task_id == task,
                               _MINE.status.in_(("submitted", "recused")))
        .limit(cap).subquery()).scalar_subquery())
    calibration = (select(func.count())
                   .select_from(_calibration_candidates(task).subquery()).scalar_subquery())
    return [waiting.label("waiting"),
            _closed_in_pool(task, cap).scalar_subquery().label("closed"),
            finished.label("finished"), calibration.label("calibration")]


# The whole page in one query: the assignment, its answer and task, one row per criterion
# with the reviewer's own submitted score when there is one, and the task's progress counts.
# The criterion score is looked up by its primary key (review, criterion), so before a review
# exists the outer join costs nothing. The counts depend on bound values only (the task comes
# from the token), so the database computes them once, not per criterion row.
_PAGE = (
    select(ReviewAssignment.id, ReviewAssignment.status, ReviewAssignment.lease_expires_at,
           ReviewAssignment.draft, ReviewAssignment.recuse_reason, Answer.token,
           Answer.redacted_text, Task.id.label("task_id"), Task.prompt_en, Task.prompt_ru,
           Task.guidance_en, Task.guidance_ru, Review.id.label("review_id"), Review.comment,
           Review.candidate_comment, Criterion.id.label("criterion_id"), Criterion.title_en,
           Criterion.title_ru, Criterion.weight, Criterion.descriptors, CriterionScore.value,
           *_build_progress_columns(
               select(_CLOCK.c.task_id).where(_CLOCK.c.token == bindparam("token"))
               .scalar_subquery()))
    .join(Answer, Answer.id == ReviewAssignment.answer_id)
    .join(Task, Task.id == Answer.task_id)
    .outerjoin(Review, Review.assignment_id == ReviewAssignment.id)
    .outerjoin(Criterion, Criterion.task_id == Task.id)
    .outerjoin(CriterionScore, and_(CriterionScore.review_id == Review.id,
                                    CriterionScore.criterion_id == Criterion.id))
    .where(Answer.token == bindparam("token"), ReviewAssignment.reviewer_id == _REVIEWER)
    .order_by(Criterion.position)
)


def review_page(db: Session, *, reviewer: User, token: str) -> ReviewPage | None:
    """The reviewer's own assignment on the answer with ``token``, as a view object (1 query).

    Someone else's assignment does not exist for this reviewer: None, like an unknown token.
    """
    rows = db.connection().execute(_PAGE, {"token": token, "reviewer_id": reviewer.id}).all()
    if not rows:
        return None
    row = rows[0]
    criteria = [r for r in rows if r.criterion_id is not None]
    if row.review_id is not None:
        scores = {str(c.criterion_id): c.value for c in criteria if c.value is not None}
        comment, candidate_comment = row.comment, row.candidate_comment or ""
    else:
        draft = row.draft or {}
        scores = {k: v for k, v in (draft.get("scores") or {}).items()}
        comment = draft.get("comment") or ""
        candidate_comment = draft.get("candidate_comment") or ""
    counts = row
    more_left = counts.waiting > PAGE_COUNT_CAP
    # The open answer is not in "closed"'s complement when leased: it counts as left here.
    left = min(counts.waiting, PAGE_COUNT_CAP) - counts.closed + (row.status == "leased")
    if left > (row.status == "leased"):
        # Calibration answers stand in for real ones, so they count as left while real ones
        # are: every review then moves the numbers the same way.
        left += counts.calibration
    return ReviewPage(
        assignment_id=row.id, token=row.token, status=row.status,
        lease_expires_at=row.lease_expires_at, task_id=row.task_id,
        prompt={"en": row.prompt_en, "ru": row.prompt_ru},
        guidance={"en": row.guidance_en, "ru": row.guidance_ru},
        redacted_text=row.redacted_text or "",
        criteria=[CriterionView(id=c.criterion_id, title={"en": c.title_en, "ru": c.title_ru},
                                weight=c.weight, descriptors=c.descriptors or {})
                  for c in criteria],
        scores=scores, comment=comment, candidate_comment=candidate_comment,
        recuse_reason=row.recuse_reason,
        left=max(left, 0), more_left=more_left,
        total=None if counts.finished > PAGE_COUNT_CAP else max(left, 0) + counts.finished)


@dataclass(frozen=True)
class PastReview:
    """A line of the reviewer's own history."""

    token: str
    status: str
    prompt: dict[str, str]
    score: float | None
    comment: str
    candidate_comment: str
    completed_at: datetime | None


def my_reviews(db: Session, *, reviewer: User, limit: int = 200) -> list[PastReview]:
    """The reviewer's own finished work, newest first: their scores only (1 query)."""
    rows = db.execute(
        select(Answer.token, ReviewAssignment.status, ReviewAssignment.completed_at,
               Task.prompt_en, Task.prompt_ru, Review.score_raw, Review.comment,
               Review.candidate_comment)
        .join(Answer, Answer.id == ReviewAssignment.answer_id)
        .join(Task, Task.id == Answer.task_id)
        .outerjoin(Review, Review.assignment_id == ReviewAssignment.id)
        .where(ReviewAssignment.reviewer_id == reviewer.id,
               ReviewAssignment.status.in_(("submitted", "recused")))
        .order_by(ReviewAssignment.completed_at.desc(), ReviewAssignment.id.desc())
        .limit(limit)
    ).all()
    return [PastReview(token=r.token, status=r.status,
                       prompt={"en": r.prompt_en, "ru": r.prompt_ru}, score=r.score_raw,
                       comment=r.comment or "", candidate_comment=r.candidate_comment or "",
                       completed_at=r.completed_at) for r in rows]


@dataclass(frozen=True)
class WorkContext:
    """What a POST on an assignment needs: the ORM assignment, its stage and campaign."""

    assignment: ReviewAssignment
    stage: Stage
    task_id: int
    lease_minutes: int


def load_work(db: Session, *, token: str, reviewer_id: int) -> WorkContext | None:
    """Load the reviewer's assignment on an answer with its stage and campaign (1 query)."""
    row = db.execute(
        select(ReviewAssignment, Stage, Campaign.lease_minutes, Task.id)
        .join(Answer, Answer.id == ReviewAssignment.answer_id)
        .join(Task, Task.id == Answer.task_id)
        .join(Stage, Stage.id == Task.stage_id)
        .join(Campaign, Campaign.id == Stage.campaign_id)
        .where(Answer.token == token, ReviewAssignment.reviewer_id == reviewer_id)
    ).first()
    if row is None:
        return None
    return WorkContext(assignment=row[0], stage=row[1], task_id=row[3], lease_minutes=row[2])
