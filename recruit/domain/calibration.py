"""Calibration answers: answers with reference scores, mixed into reviewers' queues unseen.

The rules, as this module and recruit.domain.assignment implement them:

- A calibration answer is an ``Answer`` row without a submission — so it belongs to no
  candidacy — released, wanting no ordinary review slot, plus a ``CalibrationAnswer`` row
  with the reference score (1–5) of every criterion of its task.
- A coordinator who is not the custodian (the custodian never scores) either writes one — its
  text goes through the same automatic redaction as applicants' answers, so it reads like
  them — or copies a candidate's answer whose reviews are all in. A copy takes the redacted
  text only; a reviewer who had the original is never handed the copy, nor the original
  after the copy.
- The hand-out gives a reviewer a calibration answer of the task instead of the answer it
  drew, with the campaign's ``calibration_rate`` per cent chance, while they have one they
  have not had; never when their queue is empty. Reviewers cannot tell it apart: the same
  page, the same kind of token, the same draft, submission and history.
- Its reviews count for no candidacy: they are not normalised, ranked, reported or
  exported as any candidate's, and ask for no extra review.
- Drift: a calibration review's deviation on a criterion is the reviewer's score minus the
  reference; on the whole answer, the weighted score minus the weighted reference. A
  reviewer's drift is the mean deviation over their calibration reviews in the campaign;
  their recent drift, the mean over their last ``DRIFT_WINDOW``. A reviewer with at least
  ``DRIFT_MIN_REVIEWS`` calibration reviews is flagged when the recent drift of the whole
  answer or of any criterion lies beyond the campaign's ``calibration_bound`` (either way):
  one odd score is not yet a drift.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recruit.domain import redaction, scoring
from recruit.models import (
    Answer,
    CalibrationAnswer,
    Campaign,
    Candidacy,
    Criterion,
    CriterionScore,
    Review,
    Stage,
    Submission,
    Task,
    User,
)

TEXT_MAX = 20_000
NOTE_MAX = 2_000
DRIFT_WINDOW = 5
DRIFT_MIN_REVIEWS = 3


class CalibrationError(Exception):
    """A calibration action the rules refuse, with a reason code the web layer translates."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _clean_reference(criteria: list[Criterion], reference: Mapping) -> dict[str, int]:
    """The reference as stored: every criterion of the task, each a whole number 1–5."""
    clean: dict[str, int] = {}
    for criterion in criteria:
        value = reference.get(criterion.id, reference.get(str(criterion.id)))
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise CalibrationError("reference", f"criterion {criterion.key} needs a reference "
                                                f"score from 1 to 5, got {value!r}")
        clean[str(criterion.id)] = value
    return clean


def _criteria(db: Session, task_id: int) -> list[Criterion]:
    return list(db.scalars(select(Criterion).where(Criterion.task_id == task_id)
                           .order_by(Criterion.position)))


def _check_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise CalibrationError("note_too_long", f"the note may have at most {NOTE_MAX} "
                                                "characters")
    return note


def _add(db: Session, *, task: Task, redacted_text: str, spans: list, reference: Mapping,
         note: str, source_answer_id: int | None, by: User, now: datetime) -> Answer:
    clean = _clean_reference(_criteria(db, task.id), reference)
    answer = Answer(submission_id=None, task_id=task.id, text="", version=1, saved_at=now,
                    redacted_text=redacted_text, redaction_spans=spans,
                    check_status="released", released_at=now, reviews_wanted=0)
    db.add(answer)
    db.flush()
    db.add(CalibrationAnswer(answer_id=answer.id, task_id=task.id,
                             source_answer_id=source_answer_id,
                             reference=clean, note=_check_note(note), created_by_id=by.id,
                             created_at=now))
    db.flush()
    return answer


def write_answer(db: Session, *, task: Task, text: str, reference: Mapping, note: str,
                 by: User, now: datetime) -> Answer:
    """A calibration answer a coordinator wrote, redacted like an applicant's answer."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise CalibrationError("empty", "a calibration answer needs a text")
    if len(text) > TEXT_MAX:
        raise CalibrationError("too_long", f"at most {TEXT_MAX} characters")
    result = redaction.redact(text, identity=None)
    return _add(db, task=task, redacted_text=result.text, spans=result.to_json(),
                reference=reference, note=note, source_answer_id=None, by=by, now=now)


def copy_answer(db: Session, *, source: Answer, reference: Mapping, note: str, by: User,
                now: datetime) -> Answer:
    """A calibration answer made from a candidate's answer whose reviews are all in."""
    if source.submission_id is None:
        raise CalibrationError("not_candidate", "this is a calibration answer already")
    if (source.check_status != "released" or source.reviews_done < source.reviews_wanted
            or source.reviews_leased):
        # Until then reviewers may still be handed the original after the copy.
        raise CalibrationError("in_review", "the answer is still being reviewed")
    taken = db.scalar(select(CalibrationAnswer.answer_id)
                      .where(CalibrationAnswer.source_answer_id == source.id,
                             CalibrationAnswer.retired_at.is_(None)))
    if taken is not None:
        raise CalibrationError("already_copied", "this answer is a calibration answer already")
    return _add(db, task=db.get(Task, source.task_id), redacted_text=source.redacted_text or "",
                spans=list(source.redaction_spans or []), reference=reference, note=note,
                source_answer_id=source.id, by=by, now=now)


def retire(db: Session, *, calibration: CalibrationAnswer, now: datetime) -> None:
    """Hand a calibration answer out no more; its reviews keep counting for drift."""
    if calibration.retired_at is None:
        calibration.retired_at = now
        db.flush()


# -- what coordinators see ------------------------------------------------------------------------

@dataclass(frozen=True)
class ReferenceLine:
    """One criterion of a calibration answer: its reference and the reviewers' mean."""

    title: dict[str, str]
    reference: int
    mean: float | None


@dataclass(frozen=True)
class CalibrationItem:
    """A calibration answer on the coordinator's list (no token: reviewers' names for it)."""

    answer_id: int
    stage_title: dict[str, str]
    task_position: int
    text: str
    note: str
    source_code: str | None
    lines: list[ReferenceLine]
    reviews: int
    mean_deviation: float | None
    retired: bool
    created_at: datetime


def campaign_items(db: Session, *, campaign: Campaign) -> list[CalibrationItem]:
    """Every calibration answer of a campaign with its reference and how reviewers scored it."""
    rows = db.execute(
        select(CalibrationAnswer, Answer.redacted_text, Answer.task_id, Task.position,
               Stage.title_en, Stage.title_ru)
        .join(Answer, Answer.id == CalibrationAnswer.answer_id)
        .join(Task, Task.id == Answer.task_id)
        .join(Stage, Stage.id == Task.stage_id)
        .where(Stage.campaign_id == campaign.id)
        .order_by(CalibrationAnswer.retired_at.is_not(None), Stage.position, Task.position,
                  CalibrationAnswer.created_at)
    ).all()
    if not rows:
        return []
    answer_ids = [r.CalibrationAnswer.answer_id for r in rows]
    criteria = {c.id: c for c in db.scalars(
        select(Criterion).where(Criterion.task_id.in_({r.task_id for r in rows})))}
    scored: dict[tuple[int, int], list[int]] = defaultdict(list)
    for answer_id, criterion_id, value in db.execute(
            select(Review.answer_id, CriterionScore.criterion_id, CriterionScore.value)
            .join(CriterionScore, CriterionScore.review_id == Review.id)
            .where(Review.answer_id.in_(answer_ids))):
        scored[(answer_id, criterion_id)].append(value)
    reviews = dict(db.execute(select(Review.answer_id, func.count())
                              .where(Review.answer_id.in_(answer_ids))
                              .group_by(Review.answer_id)).all())
    sources = dict(db.execute(
        select(Answer.id, Candidacy.code)
        .join(Submission, Submission.id == Answer.submission_id)
        .join(Candidacy, Candidacy.id == Submission.candidacy_id)
        .where(Answer.id.in_([r.CalibrationAnswer.source_answer_id for r in rows
                              if r.CalibrationAnswer.source_answer_id]))).all())
    deviations = _deviations(db, answer_ids=answer_ids)
    items = []
    for row in rows:
        calibration = row.CalibrationAnswer
        lines = []
        for criterion_id, reference in calibration.reference.items():
            criterion = criteria.get(int(criterion_id))
            if criterion is None:
                continue
            values = scored.get((calibration.answer_id, criterion.id))
            lines.append(ReferenceLine(title={"en": criterion.title_en, "ru": criterion.title_ru},
                                       reference=reference,
                                       mean=sum(values) / len(values) if values else None))
        overall = [d.overall for d in deviations if d.answer_id == calibration.answer_id]
        items.append(CalibrationItem(
            answer_id=calibration.answer_id,
            stage_title={"en": row.title_en, "ru": row.title_ru}, task_position=row.position,
            text=row.redacted_text or "", note=calibration.note,
            source_code=sources.get(calibration.source_answer_id), lines=lines,
            reviews=reviews.get(calibration.answer_id, 0),
            mean_deviation=sum(overall) / len(overall) if overall else None,
            retired=calibration.retired_at is not None, created_at=calibration.created_at))
    return items


@dataclass(frozen=True)
class _Deviation:
    reviewer_id: int
    answer_id: int
    submitted_at: datetime
    overall: float
    by_criterion: dict[str, float]


def _deviations(db: Session, *, answer_ids: list[int] | None = None,
                campaign_id: int | None = None) -> list[_Deviation]:
    """Each calibration review's deviation from the reference, oldest first (2 queries)."""
    query = (select(Review.id, Review.reviewer_id, Review.answer_id, Review.submitted_at,
                    Review.score_raw, CalibrationAnswer.reference)
             .join(CalibrationAnswer, CalibrationAnswer.answer_id == Review.answer_id)
             .order_by(Review.submitted_at, Review.id))
    if answer_ids is not None:
        query = query.where(Review.answer_id.in_(answer_ids))
    if campaign_id is not None:
        query = (query.join(Answer, Answer.id == Review.answer_id)
                 .join(Task, Task.id == Answer.task_id)
                 .join(Stage, Stage.id == Task.stage_id)
                 .where(Stage.campaign_id == campaign_id))
    reviews = db.execute(query).all()
    if not reviews:
        return []
    scores: dict[int, dict[int, int]] = defaultdict(dict)
    criteria: dict[int, tuple[str, float]] = {}
    for review_id, criterion_id, value, key, weight in db.execute(
            select(CriterionScore.review_id, CriterionScore.criterion_id, CriterionScore.value,
                   Criterion.key, Criterion.weight)
            .join(Criterion, Criterion.id == CriterionScore.criterion_id)
            .where(CriterionScore.review_id.in_([r.id for r in reviews]))):
        scores[review_id][criterion_id] = value
        criteria[criterion_id] = (key, weight)
    result = []
    for review in reviews:
        reference = {int(k): v for k, v in review.reference.items()}
        given = scores.get(review.id, {})
        shared = [c for c in reference if c in given and c in criteria]
        if not shared:
            continue
        weights = {criteria[c][0]: criteria[c][1] for c in shared}
        expected = scoring.weighted_score(scores={criteria[c][0]: reference[c] for c in shared},
                                          weights=weights)
        actual = scoring.weighted_score(scores={criteria[c][0]: given[c] for c in shared},
                                        weights=weights)
        result.append(_Deviation(
            reviewer_id=review.reviewer_id, answer_id=review.answer_id,
            submitted_at=review.submitted_at, overall=actual - expected,
            by_criterion={criteria[c][0]: float(given[c] - reference[c]) for c in shared}))
    return result


@dataclass
class ReviewerDrift:
    """One reviewer's calibration record in a campaign."""

    reviewer_id: int
    email: str
    reviews: int
    overall: float
    recent: float
    by_criterion: dict[str, float]
    recent_by_criterion: dict[str, float]
    flagged: bool
    # The whole-answer deviation of each calibration review, oldest first.
    series: list[float] = field(default_factory=list)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def reviewer_drift(db: Session, *, campaign: Campaign) -> list[ReviewerDrift]:
    """Each reviewer's drift from the reference scores, flagged beyond the campaign's bound."""
    deviations = _deviations(db, campaign_id=campaign.id)
    if not deviations:
        return []
    bound = float(campaign.calibration_bound or Decimal("1"))
    by_reviewer: dict[int, list[_Deviation]] = defaultdict(list)
    for deviation in deviations:
        by_reviewer[deviation.reviewer_id].append(deviation)
    emails = dict(db.execute(select(User.id, User.email)
                             .where(User.id.in_(list(by_reviewer)))).all())
    result = []
    for reviewer_id, own in by_reviewer.items():
        recent = own[-DRIFT_WINDOW:]
        keys = sorted({k for d in own for k in d.by_criterion})
        by_criterion = {k: _mean([d.by_criterion[k] for d in own if k in d.by_criterion])
                        for k in keys}
        recent_keys = sorted({k for d in recent for k in d.by_criterion})
        recent_by_criterion = {k: _mean([d.by_criterion[k] for d in recent
                                         if k in d.by_criterion]) for k in recent_keys}
        recent_overall = _mean([d.overall for d in recent])
        flagged = len(own) >= DRIFT_MIN_REVIEWS and (abs(recent_overall) > bound or any(
            abs(v) > bound for v in recent_by_criterion.values()))
        result.append(ReviewerDrift(
            reviewer_id=reviewer_id, email=emails.get(reviewer_id, ""), reviews=len(own),
            overall=_mean([d.overall for d in own]), recent=recent_overall,
            by_criterion=by_criterion, recent_by_criterion=recent_by_criterion,
            flagged=flagged, series=[d.overall for d in own]))
    result.sort(key=lambda r: (not r.flagged, r.email))
    return result


def criterion_titles(db: Session, *, campaign: Campaign) -> dict[str, dict[str, str]]:
    """Criterion key → title per language, for the drift columns (first title of a key wins)."""
    titles: dict[str, dict[str, str]] = {}
    for key, en, ru in db.execute(
            select(Criterion.key, Criterion.title_en, Criterion.title_ru)
            .join(Task, Task.id == Criterion.task_id)
            .join(Stage, Stage.id == Task.stage_id)
            .where(Stage.campaign_id == campaign.id)
            .order_by(Stage.position, Task.position, Criterion.position)):
        titles.setdefault(key, {"en": en, "ru": ru})
    return titles
