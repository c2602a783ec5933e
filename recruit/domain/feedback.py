"""Feedback for candidates: after the final decision on a stage, where their scores stand and
what the reviewers wrote for them, without unblinding anyone.

The rules, as implemented here:

*When.* A candidate has feedback on a stage once the stage gives feedback (a campaign setting
per stage, on unless a coordinator turns it off) and the decision on it is final: advanced or
did not pass. A hold is not final, nor is a cut-off that was only previewed. An applicant who
erased their account has none: the candidacy belongs to nobody any more.

*Normalised per criterion.* Each criterion score of a review is moved by the amount
normalisation moved that review's score (a strict reviewer's 3 counts for a little more), so
a candidate's criterion averages agree with the stage score they were decided on. An average
stays within 1–5.

*The pass line* is the stage score that separated those who passed from those who did not:
the value of a "score at least" cut-off once one was applied; otherwise midway between the
lowest score that advanced and the highest that did not (counting the applied cut-offs'
decisions when there were any, else every final decision); the lowest advancing score when
nobody was turned down; none while nobody has passed.

*Small pools.* While fewer candidates of the stage have a score than the campaign's
``feedback_min_pool``, the page compares the candidate with nobody, shows whole-point ranges
instead of averages and the pass line only to the quarter point: with a handful of candidates
and two reviewers an answer, exact averages let a candidate work out single reviewers' scores,
and a distribution shows other candidates' results.

*Comments* are the reviews' comments for the candidate that no coordinator hid, by task, in an
order that is random per candidate and the same on every visit (a keyed hash of each review),
never with a name. Calibration answers belong to no submission, so neither their scores nor
their comments reach any candidate's feedback or any stage's statistics.

*Statistics* of a stage (the pass line, and how candidates' averages spread, as counts in
bins of 0.05 points) are kept in ``StageFeedback`` for one ``Stage.results_version``: the
version moves whenever the stage's stored results are recomputed or a decision is taken at
the stage, and the next reader then computes them again, once.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from recruit.db import serialise
from recruit.domain import decisions, matching
from recruit.models import (
    Answer,
    Campaign,
    Candidacy,
    Criterion,
    CriterionScore,
    Decision,
    JobRole,
    Review,
    Stage,
    StageFeedback,
    Submission,
    Task,
)

FINAL_OUTCOMES = ("advance", "reject")
#: The campaign's minimum pool may be set within these bounds (candidates per stage).
MIN_POOL = (5, 1000)
# Stored statistics: counts per bin of 0.05 points from 1 to 5; pages draw quarter points.
BIN_WIDTH = 0.05
BINS = 80
SHOWN_BINS = 16
# "Close to the pass line" within this many points either side.
NEAR = 0.2
# In a small pool the pass line is drawn to the quarter point only.
COARSE = 0.25
_LOW, _HIGH = 1.0, 5.0


class FeedbackError(Exception):
    """A feedback setting refused; ``code`` lets the web layer translate it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# -- when there is feedback ----------------------------------------------------------------------

def final_decision(db: Session, *, candidacy_id: int, stage_id: int) -> Decision | None:
    """The decision that settled a candidacy at a stage (advanced or not), None until then."""
    return db.scalar(sa.select(Decision)
                     .where(Decision.candidacy_id == candidacy_id, Decision.stage_id == stage_id,
                            Decision.outcome.in_(FINAL_OUTCOMES))
                     .order_by(Decision.id.desc()).limit(1))


def availability(db: Session, *, candidacy: Candidacy, stage: Stage) -> str:
    """"available", or why the candidacy has no feedback on the stage: "erased" (the account
    is gone), "disabled" (the stage gives none) or "not_final" (no final decision yet)."""
    if candidacy.user_id is None:
        return "erased"
    if not stage.feedback_enabled:
        return "disabled"
    if final_decision(db, candidacy_id=candidacy.id, stage_id=stage.id) is None:
        return "not_final"
    return "available"


def stages_with_feedback(db: Session, *, candidacy: Candidacy) -> set[int]:
    """The stages of a candidacy whose feedback it may read now (one query)."""
    if candidacy.user_id is None:
        return set()
    return set(db.scalars(
        sa.select(Decision.stage_id).join(Stage, Stage.id == Decision.stage_id)
        .where(Decision.candidacy_id == candidacy.id, Decision.outcome.in_(FINAL_OUTCOMES),
               Stage.feedback_enabled)))


# -- statistics of a stage -------------------------------------------------------------------------

def _criterion_averages(stage_id: int) -> sa.Select:
    """Each candidacy's normalised average per criterion key at a stage (see the module)."""
    shift = sa.func.coalesce(Review.score_normalised, Review.score_raw) - Review.score_raw
    return (sa.select(Submission.candidacy_id, Criterion.key,
                      sa.func.avg(CriterionScore.value + shift).label("average"))
            .select_from(CriterionScore)
            .join(Review, Review.id == CriterionScore.review_id)
            .join(Answer, Answer.id == Review.answer_id)
            # Through the submission: calibration answers have none, so they never count.
            .join(Submission, Submission.id == Answer.submission_id)
            .join(Criterion, Criterion.id == CriterionScore.criterion_id)
            .where(Submission.stage_id == stage_id, Submission.submitted_at.is_not(None))
            .group_by(Submission.candidacy_id, Criterion.key))


def _clamp(value: float) -> float:
    return min(_HIGH, max(_LOW, float(value)))


def _bin(value: float) -> int:
    # The epsilon keeps a value on a bin's edge (1.05 as 1.0499999…) in the bin it starts.
    return min(BINS - 1, max(0, int((value - _LOW) / BIN_WIDTH + 1e-9)))


def _counts(values: Iterable[float]) -> list[int]:
    counts = [0] * BINS
    for value in values:
        counts[_bin(value)] += 1
    return counts


def _pass_line(db: Session, *, stage: Stage) -> float | None:
    """The stage score that separated those who passed from those who did not (see the
    module's rules)."""
    applied = db.scalar(sa.select(Decision.reason)
                        .where(Decision.stage_id == stage.id, Decision.via_cutoff)
                        .order_by(Decision.id.desc()).limit(1))
    kind, _space, value = (applied or "").partition(" ")
    if kind == "min_score":
        try:
            return float(value)
        except ValueError:
            pass
    scope = [Decision.via_cutoff] if applied else []
    decided = (sa.select(Decision.outcome, Submission.score)
               .join(Submission, sa.and_(Submission.candidacy_id == Decision.candidacy_id,
                                         Submission.stage_id == Decision.stage_id))
               .where(Decision.stage_id == stage.id, Submission.score.is_not(None), *scope)
               .subquery())
    lowest, highest = db.execute(sa.select(
        sa.func.min(sa.case((decided.c.outcome == "advance", decided.c.score))),
        sa.func.max(sa.case((decided.c.outcome == "reject", decided.c.score))))).one()
    if lowest is None:
        return None
    return float(lowest) if highest is None else (float(lowest) + float(highest)) / 2


def _compute(db: Session, *, stage: Stage) -> dict:
    by_key: dict[str, list[float]] = defaultdict(list)
    for _candidacy, key, average in db.execute(_criterion_averages(stage.id)):
        by_key[key].append(_clamp(average))
    scores = [_clamp(s) for s in db.scalars(
        sa.select(Submission.score).where(Submission.stage_id == stage.id,
                                          Submission.submitted_at.is_not(None),
                                          Submission.score.is_not(None)))]
    line = _pass_line(db, stage=stage)
    return {"pool": len(scores), "pass_line": None if line is None else round(line, 4),
            "score": _counts(scores),
            "criteria": {key: _counts(values) for key, values in sorted(by_key.items())}}


@dataclass(frozen=True)
class StageStatistics:
    """What a stage's feedback compares with: no candidacy, only counts."""

    pool: int
    pass_line: float | None
    score: tuple[int, ...]
    criteria: Mapping[str, tuple[int, ...]]


def stage_statistics(db: Session, *, stage: Stage, now: datetime) -> StageStatistics:
    """The stage's pass line and distributions, computed again only when its results or
    decisions changed since they were kept (a unit of work that may write)."""
    decisions.fresh_results(db, stage=stage, now=now)
    version = db.scalar(sa.select(Stage.results_version).where(Stage.id == stage.id))
    kept = db.get(StageFeedback, stage.id)
    if kept is None or kept.version != version:
        # One reader computes, the others wait and then read what it kept.
        serialise(db, "stage_feedback", stage.id)
        kept = db.get(StageFeedback, stage.id, populate_existing=True)
        if kept is None or kept.version != version:
            data = _compute(db, stage=stage)
            if kept is None:
                kept = StageFeedback(stage_id=stage.id, version=version, data=data,
                                     computed_at=now)
                db.add(kept)
            else:
                kept.version, kept.data, kept.computed_at = version, data, now
            db.flush()
    data = kept.data
    return StageStatistics(pool=int(data["pool"]), pass_line=data["pass_line"],
                           score=tuple(data["score"]),
                           criteria={k: tuple(v) for k, v in data["criteria"].items()})


# -- one candidate's feedback --------------------------------------------------------------------

@dataclass(frozen=True)
class Standing:
    """Where one of the candidate's values stands on the 1–5 scale."""

    # The exact average, to one decimal on the page; None in a small pool.
    value: float | None
    # The whole points it lies between (4–5 for a 5); shown instead in a small pool.
    band: tuple[int, int]
    # "above", "near" or "below" the pass line; None without a pass line.
    line: str | None
    # Among the stage's candidates: "top" (above most), "upper", "lower" or "bottom" (below
    # most); None in a small pool.
    rank: str | None
    # Candidates per quarter point from 1 to 5, for the chart; None in a small pool.
    bins: tuple[int, ...] | None
    # How many candidates the comparison counts (0 in a small pool).
    pool: int


@dataclass(frozen=True)
class CriterionFeedback:
    """One criterion of the stage, with what its scores mean in each task that scores it."""

    key: str
    title: dict[str, str]
    # (task position, {"1": {"en": …, "ru": …}, "3": …, "5": …}) for each task scoring it.
    descriptors: list[tuple[int, dict[str, dict[str, str]]]]
    standing: Standing | None


@dataclass(frozen=True)
class TaskComments:
    """The comments written for the candidate on one task's answer."""

    position: int
    prompt: dict[str, str]
    comments: list[str]


@dataclass(frozen=True)
class RoleStrengths:
    """Another role the candidate's answers matched, and the criteria that matched it."""

    title: dict[str, str]
    strengths: list[dict[str, str]]


@dataclass(frozen=True)
class CandidateFeedback:
    """Everything the feedback page shows one candidate: their own values, counts of others,
    comments without names. Nothing in it reaches another candidacy or a reviewer."""

    stage_position: int
    stage_title: dict[str, str]
    outcome: str
    decided_at: datetime
    # Scored candidates in the stage, and whether that is enough to compare with them.
    pool: int
    compared: bool
    min_pool: int
    pass_line: float | None
    overall: Standing | None
    criteria: list[CriterionFeedback]
    comments: list[TaskComments]
    alternates: list[RoleStrengths]


def _shown_bins(counts: Sequence[int]) -> tuple[int, ...]:
    step = BINS // SHOWN_BINS
    return tuple(sum(counts[i:i + step]) for i in range(0, BINS, step))


def _band(value: float) -> tuple[int, int]:
    low = min(math.floor(value), int(_HIGH) - 1)
    return low, low + 1


def _line_relation(value: float, line: float | None) -> str | None:
    if line is None:
        return None
    if value >= line + NEAR:
        return "above"
    if value <= line - NEAR:
        return "below"
    return "near"


def _rank(value: float, counts: Sequence[int]) -> str | None:
    total = sum(counts)
    if not total:
        return None
    own = _bin(value)
    # The candidate is one of the counted; half of their own bin lies below them.
    below = (sum(counts[:own]) + counts[own] / 2) / total
    if below >= 0.75:
        return "top"
    if below >= 0.5:
        return "upper"
    if below >= 0.25:
        return "lower"
    return "bottom"


def _standing(value: float | None, *, counts: Sequence[int] | None, line: float | None,
              min_pool: int) -> Standing | None:
    if value is None:
        return None
    value = _clamp(value)
    pool = sum(counts) if counts else 0
    shown = pool >= min_pool
    return Standing(value=value if shown else None, band=_band(value),
                    line=_line_relation(value, line),
                    rank=_rank(value, counts) if shown else None,
                    bins=_shown_bins(counts) if shown else None, pool=pool if shown else 0)


def _rubric(db: Session, *, stage: Stage) -> tuple[dict[str, dict[str, str]],
                                                    dict[str, list[tuple[int, dict]]]]:
    """Criterion titles by key in rubric order, and each key's descriptors per task."""
    titles: dict[str, dict[str, str]] = {}
    descriptors: dict[str, list[tuple[int, dict]]] = defaultdict(list)
    for position, key, title_en, title_ru, levels in db.execute(
        sa.select(Task.position, Criterion.key, Criterion.title_en, Criterion.title_ru,
                  Criterion.descriptors)
        .join(Task, Task.id == Criterion.task_id)
        .where(Task.stage_id == stage.id)
        .order_by(Task.position, Criterion.position)
    ):
        titles.setdefault(key, {"en": title_en, "ru": title_ru})
        if levels:
            descriptors[key].append((position, dict(levels)))
    return titles, descriptors


def _comments(db: Session, *, candidacy: Candidacy, stage: Stage,
              shuffle_key: bytes) -> list[TaskComments]:
    rows = db.execute(
        sa.select(Review.id, Review.candidate_comment, Task.position, Task.prompt_en,
                  Task.prompt_ru)
        .join(Answer, Answer.id == Review.answer_id)
        .join(Submission, Submission.id == Answer.submission_id)
        .join(Task, Task.id == Answer.task_id)
        .where(Submission.candidacy_id == candidacy.id, Submission.stage_id == stage.id,
               Review.candidate_comment_hidden_at.is_(None), Review.candidate_comment != "")
    ).all()
    by_task: dict[int, TaskComments] = {}
    keyed: dict[int, list[tuple[bytes, str]]] = defaultdict(list)
    for review_id, text, position, prompt_en, prompt_ru in rows:
        if not (text or "").strip():
            continue
        by_task.setdefault(position, TaskComments(position=position,
                                                  prompt={"en": prompt_en, "ru": prompt_ru},
                                                  comments=[]))
        order = hmac.new(shuffle_key, str(review_id).encode(), hashlib.sha256).digest()
        keyed[position].append((order, text.strip()))
    for position, task in by_task.items():
        task.comments.extend(text for _order, text in sorted(keyed[position]))
    return [by_task[p] for p in sorted(by_task)]


def _alternates(db: Session, *, candidacy: Candidacy, decision: Decision,
                titles: Mapping[str, Mapping[str, str]]) -> list[RoleStrengths]:
    keys = list(decision.alternate_roles or []) if decision.outcome == "reject" else []
    if not keys:
        return []
    roles = {r.key: r for r in db.scalars(sa.select(JobRole).where(JobRole.key.in_(keys)))}
    profile = decisions.criterion_profiles(db, candidacy_ids=[candidacy.id]).get(
        candidacy.id, {})
    result = []
    for spec in matching.role_specs(roles[k] for k in keys if k in roles):
        met = [check.key for check in matching.evaluate(profile, spec).checks if check.met]
        if met:
            result.append(RoleStrengths(
                title={"en": spec.title_en, "ru": spec.title_ru},
                strengths=[dict(titles.get(key, {"en": key, "ru": key})) for key in met]))
    return result


def candidate_feedback(db: Session, *, candidacy: Candidacy, stage: Stage, now: datetime,
                       shuffle_key: bytes) -> CandidateFeedback:
    """One candidate's feedback on a stage, for a candidacy whose :func:`availability` is
    "available". ``shuffle_key`` fixes the random order of the comments for this candidate."""
    decision = final_decision(db, candidacy_id=candidacy.id, stage_id=stage.id)
    if decision is None or candidacy.user_id is None:
        raise FeedbackError("unavailable", "this candidacy has no feedback on this stage")
    statistics = stage_statistics(db, stage=stage, now=now)
    campaign = db.get(Campaign, stage.campaign_id)
    compared = statistics.pool >= campaign.feedback_min_pool
    line = statistics.pass_line
    if line is not None and not compared:
        line = round(line / COARSE) * COARSE
    own_score = db.scalar(sa.select(Submission.score).where(
        Submission.candidacy_id == candidacy.id, Submission.stage_id == stage.id))
    own = {key: average for _id, key, average in db.execute(
        _criterion_averages(stage.id).where(Submission.candidacy_id == candidacy.id))}
    titles, descriptors = _rubric(db, stage=stage)
    criteria = [
        CriterionFeedback(key=key, title=title, descriptors=descriptors.get(key, []),
                          standing=_standing(own.get(key),
                                             counts=statistics.criteria.get(key), line=line,
                                             min_pool=campaign.feedback_min_pool))
        for key, title in titles.items()
    ]
    return CandidateFeedback(
        stage_position=stage.position, stage_title={"en": stage.title_en, "ru": stage.title_ru},
        outcome=decision.outcome, decided_at=decision.decided_at, pool=statistics.pool,
        compared=compared, min_pool=campaign.feedback_min_pool, pass_line=line,
        overall=_standing(own_score, counts=statistics.score, line=line,
                          min_pool=campaign.feedback_min_pool),
        criteria=criteria,
        comments=_comments(db, candidacy=candidacy, stage=stage, shuffle_key=shuffle_key),
        alternates=_alternates(db, candidacy=candidacy, decision=decision,
                               titles=decisions.criterion_titles(
                                   db, campaign_id=candidacy.campaign_id)),
    )


def record_opening(db: Session, *, candidacy_id: int, stage_id: int, now: datetime) -> bool:
    """Note the first time a candidate opens their feedback on a stage; True that time."""
    return db.execute(
        sa.update(Submission)
        .where(Submission.candidacy_id == candidacy_id, Submission.stage_id == stage_id,
               Submission.feedback_opened_at.is_(None))
        .values(feedback_opened_at=now).execution_options(synchronize_session=False)
    ).rowcount == 1


# -- coordinators ---------------------------------------------------------------------------------

def set_comment_hidden(db: Session, *, review: Review, hidden: bool, by, now: datetime) -> None:
    """Hide a reviewer's comment from the candidate (or show it again); who hid it is kept."""
    review.candidate_comment_hidden_at = now if hidden else None
    review.candidate_comment_hidden_by_id = (by.id if by is not None else None) if hidden \
        else None
    db.flush()


def change_settings(db: Session, *, campaign: Campaign, enabled_stage_ids: Iterable[int],
                    min_pool: int) -> None:
    """Turn feedback on for exactly the given stages of the campaign, and set its minimum
    pool for comparisons."""
    if not MIN_POOL[0] <= min_pool <= MIN_POOL[1]:
        raise FeedbackError("min_pool", f"the minimum pool is {MIN_POOL[0]} to {MIN_POOL[1]} "
                                        "candidates")
    enabled = set(enabled_stage_ids)
    unknown = enabled - {stage.id for stage in campaign.stages}
    if unknown:
        raise FeedbackError("stage", f"stages {sorted(unknown)} are not this campaign's")
    for stage in campaign.stages:
        stage.feedback_enabled = stage.id in enabled
    campaign.feedback_min_pool = min_pool
    db.flush()


@dataclass(frozen=True)
class FeedbackNumbers:
    """A stage's feedback for the campaign report: candidates decided, and how many of them
    opened their feedback."""

    enabled: bool
    decided: int
    opened: int


def campaign_numbers(db: Session, *, campaign: Campaign) -> dict[int, FeedbackNumbers]:
    """Per stage of the campaign: whether it gives feedback, candidates with a final
    decision, and how many of them opened their feedback (one query)."""
    stage_ids = [stage.id for stage in campaign.stages]
    final = (sa.select(Decision.candidacy_id, Decision.stage_id)
             .where(Decision.stage_id.in_(stage_ids), Decision.outcome.in_(FINAL_OUTCOMES))
             .distinct().subquery())
    counts = {stage_id: (int(decided), int(opened)) for stage_id, decided, opened in db.execute(
        sa.select(Submission.stage_id, sa.func.count(),
                  sa.func.count(Submission.feedback_opened_at))
        .join(final, sa.and_(final.c.candidacy_id == Submission.candidacy_id,
                             final.c.stage_id == Submission.stage_id))
        .group_by(Submission.stage_id))} if stage_ids else {}
    return {stage.id: FeedbackNumbers(enabled=stage.feedback_enabled,
                                      decided=counts.get(stage.id, (0, 0))[0],
                                      opened=counts.get(stage.id, (0, 0))[1])
            for stage in campaign.stages}
