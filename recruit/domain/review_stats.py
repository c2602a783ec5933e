"""Scores and review statistics over the database: normalisation, progress, severity, agreement.

The arithmetic lives in :mod:`recruit.domain.scoring`; this module loads a stage's reviews
in one query each, hands them to it, and writes back. Coordinator views get plain rows keyed
by candidacy code and reviewer e-mail, never a name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import sqlalchemy as sa
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from recruit.domain import scoring
from recruit.domain import stage_scores as stored_results
from recruit.models import (
    Answer,
    Campaign,
    CampaignReviewer,
    Candidacy,
    Criterion,
    CriterionScore,
    Review,
    ReviewAssignment,
    Stage,
    Submission,
    Task,
    User,
)

# After each submitted review only values that moved by more than this are written back:
# one new review shifts the stage mean by a hair and would otherwise rewrite every row.
# Scores are shown with two decimals; `recruit scores normalise` writes exact values.
SUBMIT_TOLERANCE = 0.005


def _stage_review_rows(db: Session, *, stage_ids: list[int]):
    return db.execute(
        select(Review.id, Review.reviewer_id, Review.answer_id, Review.score_raw,
               Review.score_normalised, Task.stage_id)
        .join(Answer, Answer.id == Review.answer_id)
        .join(Task, Task.id == Answer.task_id)
        .where(Task.stage_id.in_(stage_ids), Answer.submission_id.is_not(None))
    ).all()


# Normalised scores are clamped to 1–5, so this marks "not normalised yet" in a float column.
_NOT_NORMALISED = -1.0
# Past this many changed scores, marking the whole stage's results stale in one statement is
# cheaper than finding the submission of every changed review (stage_scores' bulk hook).
_STAGE_WIDE = 2_000


def renormalise_stage(db: Session, *, stage: Stage, tolerance: float = 0.0) -> int:
    """Recompute the normalised score of every review of a stage; return how many changed.

    One query loads the stage's reviews as columns, numpy computes, one executemany writes
    the values that moved by more than ``tolerance``.
    """
    rows = db.execute(
        select(Review.id, Review.reviewer_id, Review.score_raw,
               func.coalesce(Review.score_normalised, _NOT_NORMALISED))
        .join(Answer, Answer.id == Review.answer_id)
        .join(Task, Task.id == Answer.task_id)
        # Calibration answers belong to no submission: their reviews never move a score.
        .where(Task.stage_id == stage.id, Answer.submission_id.is_not(None))
    ).all()
    if not rows:
        return 0
    ids, reviewers, raw, old = zip(*rows, strict=True)
    ids = np.array(ids, dtype=np.int64)
    old = np.array(old, dtype=np.float64)
    new = scoring.normalise_columns(np.array(reviewers, dtype=np.int64),
                                    np.array(raw, dtype=np.float64),
                                    min_reviews=stage.campaign.normalise_min_reviews)
    changed = (old == _NOT_NORMALISED) | (np.abs(new - old) > tolerance)
    count = int(changed.sum())
    if not count:
        return 0
    table = Review.__table__
    statement = (update(table).where(table.c.id == sa.bindparam("review_id"))
                 .values(score_normalised=sa.bindparam("value")))
    values = [{"review_id": i, "value": v}
              for i, v in zip(ids[changed].tolist(), new[changed].tolist(), strict=True)]
    if count > _STAGE_WIDE:
        # On the session's connection, past the ORM: the bulk hook would look up the
        # submission of each changed review; one statement marks the whole stage instead.
        db.connection().execute(statement, values)
        stored_results.mark_stage_stale(db, stage_id=stage.id)
    else:
        db.execute(statement, values)
    return count


def renormalise_campaign(db: Session, *, campaign: Campaign,
                         on_progress: Callable[[int, int], None] | None = None) -> int:
    """Renormalise every stage of a campaign exactly; return how many scores changed.

    ``on_progress(done, total)`` is called after each stage (the CLI's progress bar)."""
    changed = 0
    stages = list(campaign.stages)
    for done, stage in enumerate(stages, start=1):
        _clear_due(db, stage_id=stage.id)
        changed += renormalise_stage(db, stage=stage)
        if on_progress is not None:
            on_progress(done, len(stages))
    return changed


def mark_due(db: Session, *, stage_id: int) -> None:
    """Note that a stage's normalised scores are out of date (a review came in).

    Writes only when the flag is not yet set, so reviewers submitting side by side do not
    queue on the stage row.
    """
    db.execute(update(Stage).where(Stage.id == stage_id, Stage.normalisation_due.is_(False))
               .values(normalisation_due=True).execution_options(synchronize_session=False))


def _clear_due(db: Session, *, stage_id: int) -> bool:
    # Cleared before the reviews are read: a review submitted meanwhile sets it again (on
    # PostgreSQL its UPDATE waits for this row lock, then sees the flag cleared).
    return db.execute(update(Stage).where(Stage.id == stage_id, Stage.normalisation_due)
                      .values(normalisation_due=False)
                      .execution_options(synchronize_session=False)).rowcount == 1


def normalise_due(db: Session, *, campaign_id: int | None = None,
                  stage_id: int | None = None) -> int:
    """Renormalise the stages (of a campaign, or one stage) that got reviews since last time.

    Every reader of normalised scores calls this first: the ranking, the reviewer progress
    page, reports and exports. One query when nothing is due. Values that moved by less than
    ``SUBMIT_TOLERANCE`` are left as they are (`recruit scores normalise` is exact).
    """
    query = select(Stage).where(Stage.normalisation_due)
    if campaign_id is not None:
        query = query.where(Stage.campaign_id == campaign_id)
    if stage_id is not None:
        query = query.where(Stage.id == stage_id)
    changed = 0
    for stage in db.scalars(query).all():
        try:
            # A savepoint: on SQLite a page view that loses a race to write shows the scores
            # as they were rather than failing; the flag stays set for the next reader.
            with db.begin_nested():
                if _clear_due(db, stage_id=stage.id):
                    changed += renormalise_stage(db, stage=stage, tolerance=SUBMIT_TOLERANCE)
        except sa.exc.OperationalError:
            continue
    return changed


# -- review progress ----------------------------------------------------------------------------

@dataclass(frozen=True)
class TaskProgress:
    """How far the reviews of one task are."""

    task_id: int
    position: int
    prompt: dict[str, str]
    pending_check: int
    in_review: int
    done: int
    leased: int
    reviews: int
    extra_asked: int


@dataclass
class StageProgress:
    """One stage's tasks, its agreement and how many reviews it has."""

    stage_id: int
    position: int
    title: dict[str, str]
    tasks: list[TaskProgress] = field(default_factory=list)
    reviews: int = 0
    alpha: float | None = None
    unnormalised: int = 0


@dataclass(frozen=True)
class ReviewerLoad:
    """One reviewer's work in a campaign, identified by the staff account e-mail."""

    user_id: int
    email: str
    in_pool: bool
    leased: int
    submitted: int
    recused: int
    returned: int
    mean_raw: float | None
    severity: float | None


@dataclass(frozen=True)
class CampaignProgress:
    """The coordinator's view of a campaign's reviewing."""

    stages: list[StageProgress]
    reviewers: list[ReviewerLoad]


def campaign_progress(db: Session, *, campaign: Campaign) -> CampaignProgress:
    """Answers waiting, in review and done per stage and task; reviewer load, severity, alpha."""
    normalise_due(db, campaign_id=campaign.id)
    task_rows = db.execute(
        select(Task.id, Task.position, Task.prompt_en, Task.prompt_ru, Stage.id.label("stage_id"),
               Stage.position.label("stage_position"), Stage.title_en, Stage.title_ru)
        .join(Stage, Stage.id == Task.stage_id)
        .where(Stage.campaign_id == campaign.id)
        .order_by(Stage.position, Task.position)
    ).all()
    released = Answer.check_status == "released"
    counts = {r.task_id: r for r in db.execute(
        select(Answer.task_id,
               func.count().filter(Answer.check_status == "pending").label("pending"),
               func.count().filter(released, Answer.reviews_done < Answer.reviews_wanted)
               .label("in_review"),
               func.count().filter(released, Answer.reviews_done >= Answer.reviews_wanted)
               .label("done"),
               func.coalesce(func.sum(Answer.reviews_leased), 0).label("leased"),
               func.coalesce(func.sum(Answer.reviews_done), 0).label("reviews"),
               func.count().filter(Answer.reviews_wanted > campaign.reviews_per_answer)
               .label("extra"))
        .where(Answer.task_id.in_([t.id for t in task_rows]), Answer.submission_id.is_not(None))
        .group_by(Answer.task_id))}
    stages: dict[int, StageProgress] = {}
    for t in task_rows:
        stage = stages.setdefault(t.stage_id, StageProgress(
            stage_id=t.stage_id, position=t.stage_position,
            title={"en": t.title_en, "ru": t.title_ru}))
        c = counts.get(t.id)
        stage.tasks.append(TaskProgress(
            task_id=t.id, position=t.position, prompt={"en": t.prompt_en, "ru": t.prompt_ru},
            pending_check=c.pending if c else 0, in_review=c.in_review if c else 0,
            done=c.done if c else 0, leased=int(c.leased) if c else 0,
            reviews=int(c.reviews) if c else 0, extra_asked=c.extra if c else 0))

    rows = _stage_review_rows(db, stage_ids=list(stages)) if stages else []
    by_stage: dict[int, list[scoring.RawReview]] = defaultdict(list)
    everything = []
    for r in rows:
        raw = scoring.RawReview(review_id=r.id, reviewer_id=r.reviewer_id, answer_id=r.answer_id,
                                score=r.score_raw, criteria={})
        by_stage[r.stage_id].append(raw)
        everything.append(raw)
        if r.score_normalised is None:
            stages[r.stage_id].unnormalised += 1
    for stage_id, reviews in by_stage.items():
        stages[stage_id].reviews = len(reviews)
        stages[stage_id].alpha = scoring.agreement_alpha(reviews)
    # Answers are distinct across stages, so one pass gives each reviewer's campaign-wide offset.
    severity = scoring.severity(everything)
    raw_sums: dict[int, list[float]] = defaultdict(list)
    for r in everything:
        raw_sums[r.reviewer_id].append(r.score)

    campaign_answers = (select(Answer.id).join(Task, Task.id == Answer.task_id)
                        .join(Stage, Stage.id == Task.stage_id)
                        .where(Stage.campaign_id == campaign.id,
                               Answer.submission_id.is_not(None)))
    status_counts: dict[int, dict[str, int]] = defaultdict(dict)
    for reviewer_id, status, n in db.execute(
            select(ReviewAssignment.reviewer_id, ReviewAssignment.status, func.count())
            .where(ReviewAssignment.answer_id.in_(campaign_answers))
            .group_by(ReviewAssignment.reviewer_id, ReviewAssignment.status)):
        status_counts[reviewer_id][status] = n
    pool = set(db.scalars(select(CampaignReviewer.user_id)
                          .where(CampaignReviewer.campaign_id == campaign.id)))
    people = db.execute(select(User.id, User.email)
                        .where(User.id.in_(pool | set(status_counts)))
                        .order_by(User.email)).all()
    reviewers = []
    for person in people:
        scores = raw_sums.get(person.id)
        counts_of = status_counts.get(person.id, {})
        reviewers.append(ReviewerLoad(
            user_id=person.id, email=person.email, in_pool=person.id in pool,
            leased=counts_of.get("leased", 0), submitted=counts_of.get("submitted", 0),
            recused=counts_of.get("recused", 0), returned=counts_of.get("returned", 0),
            mean_raw=sum(scores) / len(scores) if scores else None,
            severity=severity.get(person.id)))
    return CampaignProgress(stages=list(stages.values()), reviewers=reviewers)


# -- scores by candidacy code ---------------------------------------------------------------------

@dataclass(frozen=True)
class ReviewLine:
    """One review as the coordinator sees it."""

    task_position: int
    reviewer_email: str
    raw: float
    normalised: float | None
    comment: str


@dataclass(frozen=True)
class CandidacyScoreRow:
    """A candidacy's stage result, by code: normalised and raw, criteria, every review."""

    code: str
    score: float | None
    raw: float | None
    criteria: dict[str, float]
    reviews: int
    spread: float
    lines: list[ReviewLine]
    # (task position, answer id, whether all its reviews are in): calibration copies need that.
    answers: list[tuple[int, int, bool]] = field(default_factory=list)


def stage_scores(db: Session, *, stage: Stage, offset: int = 0,
                 limit: int = 100) -> tuple[int, list[CandidacyScoreRow]]:
    """Candidacies of a stage ranked by normalised score; returns (total, one page of rows).

    Ranking needs every review of the stage (one query each for reviews, criterion scores
    and answers); the per-review lines are loaded for the page only.
    """
    normalise_due(db, stage_id=stage.id)
    rows = _stage_review_rows(db, stage_ids=[stage.id])
    criteria: dict[int, dict[str, int]] = defaultdict(dict)
    for review_id, key, value in db.execute(
            select(CriterionScore.review_id, Criterion.key, CriterionScore.value)
            .join(Criterion, Criterion.id == CriterionScore.criterion_id)
            .join(Task, Task.id == Criterion.task_id)
            .where(Task.stage_id == stage.id)):
        criteria[review_id][key] = value
    reviews = [scoring.RawReview(review_id=r.id, reviewer_id=r.reviewer_id, answer_id=r.answer_id,
                                 score=r.score_raw, criteria=criteria.get(r.id, {}))
               for r in rows]
    # A review submitted since the last exact pass may still lack its value: show raw then.
    normalised = {r.id: r.score_raw if r.score_normalised is None else r.score_normalised
                  for r in rows}
    answers = db.execute(
        select(Answer.id, Submission.candidacy_id, Candidacy.code, Task.position,
               (Answer.reviews_done >= Answer.reviews_wanted) & (Answer.reviews_leased == 0)
               & (Answer.check_status == "released"))
        .join(Submission, Submission.id == Answer.submission_id)
        .join(Candidacy, Candidacy.id == Submission.candidacy_id)
        .join(Task, Task.id == Answer.task_id)
        .where(Submission.stage_id == stage.id, Answer.check_status != "draft")
    ).all()
    answer_to_candidacy = {a.id: a.candidacy_id for a in answers}
    code_of = {a.candidacy_id: a.code for a in answers}
    results = scoring.candidate_scores(reviews, normalised,
                                       answer_to_candidacy=answer_to_candidacy)
    ranked = sorted(results.items(), key=lambda item: (item[1].score is None,
                                                       -(item[1].score or 0.0),
                                                       code_of[item[0]]))
    page = ranked[offset:offset + limit]
    page_answers = [a.id for a in answers if a.candidacy_id in {c for c, _ in page}]
    lines: dict[int, list[ReviewLine]] = defaultdict(list)
    if page_answers:
        for line in db.execute(
                select(Submission.candidacy_id, Task.position, User.email, Review.score_raw,
                       Review.score_normalised, Review.comment)
                .join(Answer, Answer.id == Review.answer_id)
                .join(Submission, Submission.id == Answer.submission_id)
                .join(Task, Task.id == Answer.task_id)
                .join(User, User.id == Review.reviewer_id)
                .where(Review.answer_id.in_(page_answers))
                .order_by(Task.position, Review.submitted_at)):
            lines[line.candidacy_id].append(ReviewLine(
                task_position=line.position, reviewer_email=line.email, raw=line.score_raw,
                normalised=line.score_normalised, comment=line.comment))
    on_page = {cid for cid, _ in page}
    answers_of: dict[int, list[tuple[int, int, bool]]] = defaultdict(list)
    for a in answers:
        if a.candidacy_id in on_page:
            answers_of[a.candidacy_id].append((a.position, a.id, bool(a[4])))
    return len(ranked), [
        CandidacyScoreRow(code=code_of[cid], score=s.score, raw=s.raw, criteria=s.criteria,
                          reviews=s.reviews, spread=s.spread, lines=lines.get(cid, []),
                          answers=sorted(answers_of.get(cid, [])))
        for cid, s in page]
