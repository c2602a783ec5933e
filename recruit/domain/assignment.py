"""Blind review work: reviewer pools, random hand-out as leases, drafts, recusal, submission.

A review *slot* is one of the ``Answer.reviews_wanted`` reviews an answer needs. An answer is
in the pool while ``reviews_wanted > reviews_done + reviews_leased``; ``reviews_leased`` is
kept equal to the number of its assignments in status 'leased' by every transition below
(each one a conditional UPDATE, so concurrent requests cannot count a slot twice).

Hand-out order is the order of the random answer tokens, entered at a fresh random point on
every draw: it says nothing about submission order, differs between draws and reviewers, and
an index on (task, token) over the pool answers it without sorting or loading the pool.

Nothing here returns an object that reaches an identity: reviewer-facing reads build plain
view objects without candidacy, submission or user.
"""

from __future__ import annotations

import random
import secrets
import string
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import and_, exists, func, literal, literal_column, select, union_all, update
from sqlalchemy.orm import Session, aliased

from recruit.domain import review_stats, scoring
from recruit.models import (
    Answer,
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
REASON_MAX = 1000
# Statuses that keep an answer away from this reviewer for good (an expired lease does not:
# the same reviewer may be handed the answer again and finds their draft still there).
_CLOSED_TO_REVIEWER = ("leased", "submitted", "recused")
_TOKEN_ALPHABET = string.ascii_letters + string.digits + "-_"


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


# -- leases -----------------------------------------------------------------------------------

def _end_leases(db: Session, where: Sequence[sa.ColumnElement[bool]], *, status: str,
                **values) -> list[int]:
    """Move matching 'leased' assignments to ``status`` and free their slots; return answer ids.

    The status test sits in the UPDATE itself, so when two requests end the same lease only
    the first one frees its slot.
    """
    stmt = (update(ReviewAssignment)
            .where(ReviewAssignment.status == "leased", *where)
            .values(status=status, **values)
            .returning(ReviewAssignment.answer_id)
            .execution_options(synchronize_session=False))
    answer_ids = list(db.execute(stmt).scalars())
    if answer_ids:
        table = Answer.__table__
        db.execute(
            update(table).where(table.c.id == sa.bindparam("answer_id"))
            .values(reviews_leased=table.c.reviews_leased - sa.bindparam("freed")),
            [{"answer_id": a, "freed": n} for a, n in Counter(answer_ids).items()],
        )
    return answer_ids


def expire_leases(db: Session, *, now: datetime) -> int:
    """Send every lease past its time back to the pool; return how many expired."""
    return len(_end_leases(db, [ReviewAssignment.lease_expires_at <= now], status="expired"))


@dataclass(frozen=True)
class Handout:
    """The answer a reviewer was handed: where to send them, nothing more."""

    assignment_id: int
    token: str


# Built once: an alias copies every column of its table, and a fresh alias per call would also
# miss SQLAlchemy's compiled-statement cache.
_MINE = aliased(ReviewAssignment, name="mine")
_SIBLING = aliased(Answer, name="sibling")


def next_answer(db: Session, *, reviewer: User, task: Task, lease_minutes: int, now: datetime,
                rng: random.Random | None = None) -> Handout | None:
    """Lease the reviewer a random answer of ``task`` that still needs a review, or None.

    A reviewer who already holds a live lease on the task gets it back rather than a second
    one, so slots are not hoarded by repeated clicks. Answers of candidacies the reviewer
    already reviewed in this stage come last. A fixed number of queries whatever the pool
    size; ``rng`` exists so tests can fix the random entry point.
    """
    check_may_review(reviewer)
    held = db.execute(
        select(ReviewAssignment.id, Answer.token)
        .join(Answer, Answer.id == ReviewAssignment.answer_id)
        .where(ReviewAssignment.reviewer_id == reviewer.id,
               ReviewAssignment.status == "leased",
               ReviewAssignment.lease_expires_at > now,
               Answer.task_id == task.id)
        .limit(1)
    ).first()
    if held is not None:
        return Handout(assignment_id=held.id, token=held.token)
    expire_leases(db, now=now)

    mine, sibling = _MINE, _SIBLING
    not_mine = ~exists().where(mine.answer_id == Answer.id, mine.reviewer_id == reviewer.id,
                               mine.status.in_(_CLOSED_TO_REVIEWER))
    # The same submission is the same candidacy in the same stage; this covers the answer
    # itself too.
    new_candidacy = ~exists().where(sibling.submission_id == Answer.submission_id,
                                    mine.answer_id == sibling.id,
                                    mine.reviewer_id == reviewer.id,
                                    mine.status.in_(_CLOSED_TO_REVIEWER))
    own_expired = (select(mine.id)
                   .where(mine.answer_id == Answer.id, mine.reviewer_id == reviewer.id,
                          mine.status == "expired")
                   .scalar_subquery())
    rng = rng or secrets.SystemRandom()
    start = "".join(rng.choice(_TOKEN_ALPHABET) for _ in range(22))
    pool = (select(Answer.id, Answer.token, own_expired.label("own_expired"))
            .where(Answer.task_id == task.id, in_review_pool(), not_mine)
            .order_by(Answer.token)
            .limit(1)
            # PostgreSQL: concurrent hand-outs step over each other's candidate instead of
            # queueing on it; SQLite serialises writing requests anyway (BEGIN IMMEDIATE).
            .with_for_update(of=Answer, skip_locked=True))
    for extra in ((new_candidacy, Answer.token >= start), (new_candidacy, Answer.token < start),
                  (Answer.token >= start,), (Answer.token < start,)):
        row = db.execute(pool.where(*extra)).first()
        if row is not None:
            break
    else:
        return None

    claimed = db.execute(
        update(Answer).where(Answer.id == row.id, in_review_pool())
        .values(reviews_leased=Answer.reviews_leased + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:  # pragma: no cover - the row lock above makes this unreachable
        return None
    expires = now + timedelta(minutes=lease_minutes)
    if row.own_expired is not None:
        # Reuse the row: (answer, reviewer) is unique, and the old draft comes back with it.
        db.execute(update(ReviewAssignment)
                   .where(ReviewAssignment.id == row.own_expired)
                   .values(status="leased", leased_at=now, lease_expires_at=expires)
                   .execution_options(synchronize_session=False))
        assignment_id = row.own_expired
    else:
        assignment = ReviewAssignment(answer_id=row.id, reviewer_id=reviewer.id, status="leased",
                                      leased_at=now, lease_expires_at=expires, draft={})
        db.add(assignment)
        db.flush()
        assignment_id = assignment.id
    return Handout(assignment_id=assignment_id, token=row.token)


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
    if assignment.status not in ("leased", "expired"):
        raise AssignmentError("closed", f"This review is already {assignment.status}.")


def save_draft(db: Session, *, assignment: ReviewAssignment, scores: Mapping, comment: str,
               lease_minutes: int, now: datetime) -> None:
    """Keep a half-done review; activity also keeps a live lease from running out."""
    _check_open(assignment)
    if not isinstance(comment, str) or len(comment) > COMMENT_MAX:
        raise AssignmentError("comment_too_long",
                              f"The comment may have at most {COMMENT_MAX} characters.")
    assignment.draft = {"scores": _clean_scores(scores), "comment": comment}
    if assignment.status == "leased":
        assignment.lease_expires_at = max(assignment.lease_expires_at,
                                          now + timedelta(minutes=lease_minutes))
    db.flush()


def recuse(db: Session, *, assignment: ReviewAssignment, reason: str, now: datetime) -> None:
    """Step away from an answer whose author the reviewer recognises; the slot goes back."""
    _check_open(assignment)
    reason = (reason or "").strip()[:REASON_MAX] or "recognised the author"
    values = {"recuse_reason": reason, "completed_at": now}
    if not _end_leases(db, [ReviewAssignment.id == assignment.id], status="recused", **values):
        db.execute(update(ReviewAssignment)
                   .where(ReviewAssignment.id == assignment.id,
                          ReviewAssignment.status == "expired")
                   .values(status="recused", **values)
                   .execution_options(synchronize_session=False))
    db.expire(assignment)


def submit_review(db: Session, *, assignment: ReviewAssignment, stage: Stage,
                  scores: Mapping[int, int], comment: str, now: datetime) -> Review:
    """Store a finished review, ask for one more review if reviewers disagree.

    The stage's normalised scores are marked due; the next reader recomputes them.

    A reviewer whose lease ran out may still submit while the answer has a free slot; once
    others have taken every slot the review is refused (their draft stays).
    """
    _check_open(assignment)
    campaign = stage.campaign
    criteria = db.execute(
        select(Criterion.id, Criterion.key, Criterion.weight)
        .join(Answer, Answer.task_id == Criterion.task_id)
        .where(Answer.id == assignment.answer_id)
    ).all()
    keys = {c.id: c.key for c in criteria}
    unknown = sorted(set(scores) - set(keys))
    if unknown:
        raise AssignmentError("invalid", f"Criteria {unknown} are not in this task's rubric.")
    if len(comment) > COMMENT_MAX:
        raise AssignmentError("comment_too_long",
                              f"The comment may have at most {COMMENT_MAX} characters.")
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
                                               in_review_pool())
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
                    submitted_at=now,
                    scores=[CriterionScore(criterion_id=i, value=v) for i, v in scores.items()])
    db.add(review)
    db.flush()

    raws = list(db.scalars(select(Review.score_raw).where(Review.answer_id == review.answer_id)))
    wanted = scoring.reviews_wanted(scores=raws, required=campaign.reviews_per_answer,
                                    maximum=campaign.max_reviews,
                                    threshold=float(campaign.disagreement_threshold))
    # Only ever raise the target: a concurrent submission may already have asked for more.
    db.execute(update(answers)
               .where(answers.c.id == review.answer_id, answers.c.reviews_wanted < wanted)
               .values(reviews_wanted=wanted))
    review_stats.mark_due(db, stage_id=stage.id)
    return review


# -- what reviewers see -------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueTask:
    """One task on the reviewer's home page."""

    task_id: int
    campaign_title: dict[str, str]
    stage_title: dict[str, str]
    prompt: dict[str, str]
    position: int
    waiting: int
    for_me: int
    in_progress: int
    held_token: str | None


def reviewer_queue(db: Session, *, reviewer: User, now: datetime) -> list[QueueTask]:
    """The tasks of the reviewer's campaigns with how much still needs reviewing (5 queries)."""
    tasks = db.execute(
        select(Task.id, Task.position, Task.prompt_en, Task.prompt_ru,
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
    not_for_me = dict(db.execute(
        select(Answer.task_id, func.count())
        .join(ReviewAssignment, ReviewAssignment.answer_id == Answer.id)
        .where(ReviewAssignment.reviewer_id == reviewer.id,
               ReviewAssignment.status.in_(_CLOSED_TO_REVIEWER),
               Answer.task_id.in_(task_ids), in_review_pool())
        .group_by(Answer.task_id)).all())
    # Live leases are few and indexed by status; answers with one are not.
    in_progress = dict(db.execute(
        select(Answer.task_id, func.count())
        .join(ReviewAssignment, ReviewAssignment.answer_id == Answer.id)
        .where(ReviewAssignment.status == "leased", Answer.task_id.in_(task_ids))
        .group_by(Answer.task_id)).all())
    held = dict(db.execute(
        select(Answer.task_id, Answer.token)
        .join(ReviewAssignment, ReviewAssignment.answer_id == Answer.id)
        .where(ReviewAssignment.reviewer_id == reviewer.id, ReviewAssignment.status == "leased",
               ReviewAssignment.lease_expires_at > now)).all())
    result = []
    for t in tasks:
        result.append(QueueTask(
            task_id=t.id, position=t.position,
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
    recuse_reason: str | None


def review_page(db: Session, *, reviewer: User, token: str) -> ReviewPage | None:
    """The reviewer's own assignment on the answer with ``token``, as a view object (2 queries).

    Someone else's assignment does not exist for this reviewer: None, like an unknown token.
    """
    row = db.execute(
        select(ReviewAssignment.id, ReviewAssignment.status, ReviewAssignment.lease_expires_at,
               ReviewAssignment.draft, ReviewAssignment.recuse_reason, Answer.token,
               Answer.redacted_text, Task.id.label("task_id"), Task.prompt_en, Task.prompt_ru,
               Task.guidance_en, Task.guidance_ru, Review.id.label("review_id"),
               Review.comment)
        .join(Answer, Answer.id == ReviewAssignment.answer_id)
        .join(Task, Task.id == Answer.task_id)
        .outerjoin(Review, Review.assignment_id == ReviewAssignment.id)
        .where(Answer.token == token, ReviewAssignment.reviewer_id == reviewer.id)
    ).first()
    if row is None:
        return None
    # The reviewer's own submitted scores ride along once there are some. Before submission
    # there is nothing to join: an outer join on "review_id IS NULL" would walk every score.
    columns = [Criterion.id, Criterion.title_en, Criterion.title_ru, Criterion.weight,
               Criterion.descriptors]
    if row.review_id is None:
        query = select(*columns, sa.null().label("value"))
    else:
        query = select(*columns, CriterionScore.value).outerjoin(
            CriterionScore, and_(CriterionScore.criterion_id == Criterion.id,
                                 CriterionScore.review_id == row.review_id))
    criteria = db.execute(
        query.where(Criterion.task_id == row.task_id).order_by(Criterion.position)
    ).all()
    if row.review_id is not None:
        scores = {str(c.id): c.value for c in criteria if c.value is not None}
        comment = row.comment
    else:
        draft = row.draft or {}
        scores = {k: v for k, v in (draft.get("scores") or {}).items()}
        comment = draft.get("comment") or ""
    return ReviewPage(
        assignment_id=row.id, token=row.token, status=row.status,
        lease_expires_at=row.lease_expires_at, task_id=row.task_id,
        prompt={"en": row.prompt_en, "ru": row.prompt_ru},
        guidance={"en": row.guidance_en, "ru": row.guidance_ru},
        redacted_text=row.redacted_text or "",
        criteria=[CriterionView(id=c.id, title={"en": c.title_en, "ru": c.title_ru},
                                weight=c.weight, descriptors=c.descriptors or {})
                  for c in criteria],
        scores=scores, comment=comment, recuse_reason=row.recuse_reason)


@dataclass(frozen=True)
class PastReview:
    """A line of the reviewer's own history."""

    token: str
    status: str
    prompt: dict[str, str]
    score: float | None
    comment: str
    completed_at: datetime | None


def my_reviews(db: Session, *, reviewer: User, limit: int = 200) -> list[PastReview]:
    """The reviewer's own finished work, newest first: their scores only (1 query)."""
    rows = db.execute(
        select(Answer.token, ReviewAssignment.status, ReviewAssignment.completed_at,
               Task.prompt_en, Task.prompt_ru, Review.score_raw, Review.comment)
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
                       comment=r.comment or "", completed_at=r.completed_at) for r in rows]


@dataclass(frozen=True)
class WorkContext:
    """What a POST on an assignment needs: the ORM assignment, its stage and lease length."""

    assignment: ReviewAssignment
    stage: Stage
    lease_minutes: int


def load_work(db: Session, *, token: str, reviewer_id: int) -> WorkContext | None:
    """Load the reviewer's assignment on an answer with its stage and campaign (1 query)."""
    row = db.execute(
        select(ReviewAssignment, Stage, Campaign)
        .join(Answer, Answer.id == ReviewAssignment.answer_id)
        .join(Task, Task.id == Answer.task_id)
        .join(Stage, Stage.id == Task.stage_id)
        .join(Campaign, Campaign.id == Stage.campaign_id)
        .where(Answer.token == token, ReviewAssignment.reviewer_id == reviewer_id)
    ).first()
    if row is None:
        return None
    return WorkContext(assignment=row[0], stage=row[1], lease_minutes=row[2].lease_minutes)
