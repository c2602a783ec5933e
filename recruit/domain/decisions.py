"""Stage decisions: ranking a stage, previewing and applying cut-offs, single decisions,
and inviting a candidate who did not pass into another campaign's track.

Everything here works on candidacy ids and codes; identities are never loaded. Ranking reads
each submission's stored result (``stage_scores``) in index order, so a page of a stage of
100,000 applicants costs the same few queries, and about the same time, as one of ten.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.orm import Session

from recruit import mail
from recruit.domain import (
    audit,
    integrity,
    matching,
    notify,
    review_stats,
    scoring,
    stage_scores,
    tracks,
)
from recruit.domain.pipeline import Event, State, TransitionError, transition
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
    Submission,
    Task,
    User,
)

OUTCOMES = ("advance", "reject", "hold")
RULE_KINDS = ("top_n", "min_score")
PER_PAGE = 50
# A score passes "at least X" when it reaches X as shown to two decimals.
_SHOWN = 0.005
# Float sums of the same scores in another order may differ in the last bits; ties are ties.
_TIE = 1e-9
_CHUNK = 900


class DecisionError(Exception):
    """A decision that cannot be made as asked; ``code`` lets the web layer translate it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# -- cut-off rules -----------------------------------------------------------------------------

@dataclass(frozen=True)
class CutoffRule:
    """Advance the best ``value`` candidacies (top_n) or those scoring at least ``value``."""

    kind: str
    value: Decimal

    @property
    def as_reason(self) -> str:
        """The rule as stored in a cut-off decision's reason, e.g. ``top_n 200``."""
        shown = int(self.value) if self.kind == "top_n" else f"{self.value:.2f}"
        return f"{self.kind} {shown}"


def make_rule(*, kind: str, value: object) -> CutoffRule:
    """Validate a cut-off rule: a whole number of at least 1 for top_n, 1–5 for min_score."""
    if kind not in RULE_KINDS:
        raise DecisionError("rule_kind", f"unknown cut-off kind {kind!r}")
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise DecisionError("rule_value", f"{value!r} is not a number") from None
    if not number.is_finite():
        raise DecisionError("rule_value", f"{value!r} is not a number")
    if kind == "top_n":
        if number != number.to_integral_value() or number < 1:
            raise DecisionError("rule_top_n", "top N needs a whole number of at least 1")
        number = number.to_integral_value()
    elif not Decimal(scoring.MIN_CRITERION_SCORE) <= number <= Decimal(
            scoring.MAX_CRITERION_SCORE):
        raise DecisionError("rule_min_score", "the minimum score must be between 1 and 5")
    return CutoffRule(kind=kind, value=number)


def default_rule(stage: Stage) -> CutoffRule:
    """The stage's own pass rule from its track."""
    return make_rule(kind=stage.pass_rule_kind, value=stage.pass_rule_value)


# -- the stage's results ------------------------------------------------------------------------

def fresh_results(db: Session, *, stage: Stage, now: datetime) -> None:
    """Bring the stage's stored results up to date (see ``stage_scores``) before reading them.

    Run in a savepoint: on SQLite a page view that loses a race to write keeps its read
    transaction and shows the results as they were, rather than failing.
    """
    if not stage.normalisation_due and not stage_scores.is_stale(db, stage_id=stage.id):
        return
    try:
        with db.begin_nested():
            review_stats.normalise_due(db, stage_id=stage.id)
            stage_scores.refresh(db, stage_id=stage.id, now=now)
    except sa.exc.OperationalError:
        pass


def _submitted(stage: Stage):
    return sa.and_(Submission.stage_id == stage.id, Submission.submitted_at.is_not(None))


def _awaiting(stage: Stage):
    """Candidacies of the stage that still wait for a decision on it (held ones included)."""
    return sa.and_(Candidacy.current_stage_id == stage.id,
                   Candidacy.state.in_((State.SUBMITTED.value, State.ON_HOLD.value)))


def _ready():
    """Scored, with every wanted review in and no custodian check pending."""
    return sa.and_(Submission.score.is_not(None), sa.not_(Submission.reviews_missing),
                   sa.not_(Submission.check_pending))


# -- the ranking page --------------------------------------------------------------------------

@dataclass(frozen=True)
class RankedRow:
    """One line of the decision page: a code, its scores and flags. Never an identity."""

    rank: int
    code: str
    state: str
    awaiting: bool
    score: float | None
    raw: float | None
    spread: float
    reviews: int
    reviews_missing: bool
    check_pending: bool
    outcome: str | None = None
    via_cutoff: bool = False
    reason: str = ""
    decided_at: datetime | None = None
    decided_by: str | None = None
    # Integrity: the highest similarity to another applicant's answer (0–1) and the highest
    # pasted share of an answer, when they reach the campaign's thresholds; else None.
    similar: float | None = None
    pasted: float | None = None


@dataclass(frozen=True)
class RankingPage:
    """A page of the ranking; whether more pages follow."""

    rows: list[RankedRow]
    page: int
    has_next: bool


def ranking_page(db: Session, *, stage: Stage, now: datetime, page: int = 1,
                 per_page: int = PER_PAGE) -> RankingPage:
    """Return one page of the stage's candidacies, best score first, in a fixed few queries.

    Rows come in index order from the stored results, so a page costs the same at 100 or
    100,000 candidacies; no total is counted for the same reason (the page says whether
    another follows).
    """
    fresh_results(db, stage=stage, now=now)
    page = max(1, page)
    # Page through the index alone, then join the page's rows (not the skipped ones).
    window = (sa.select(Submission.id, Submission.rank_key, Submission.candidacy_id)
              .where(_submitted(stage))
              .order_by(Submission.rank_key.desc(), Submission.candidacy_id.desc())
              .limit(per_page + 1).offset((page - 1) * per_page).subquery("window"))
    rows = db.execute(
        sa.select(Candidacy.id, Candidacy.code, Candidacy.state, Candidacy.current_stage_id,
                  Submission.score, Submission.score_raw, Submission.score_spread,
                  Submission.reviews_count, Submission.reviews_missing,
                  Submission.check_pending, Submission.similarity_max, Submission.pasted_share)
        .select_from(window)
        .join(Submission, Submission.id == window.c.id)
        .join(Candidacy, Candidacy.id == Submission.candidacy_id)
        .order_by(window.c.rank_key.desc(), window.c.candidacy_id.desc())
    ).all()
    has_next = len(rows) > per_page
    rows = rows[:per_page]
    decisions = _latest_decisions(db, stage=stage, candidacy_ids=[r.id for r in rows])
    campaign = stage.campaign
    result = []
    for offset, r in enumerate(rows):
        decision = decisions.get(r.id)
        result.append(RankedRow(
            rank=(page - 1) * per_page + offset + 1,
            code=r.code,
            state=r.state,
            awaiting=r.current_stage_id == stage.id and r.state in (State.SUBMITTED,
                                                                      State.ON_HOLD),
            score=r.score,
            raw=r.score_raw,
            spread=r.score_spread,
            reviews=r.reviews_count,
            reviews_missing=r.reviews_missing,
            check_pending=r.check_pending,
            outcome=decision[0].outcome if decision else None,
            via_cutoff=decision[0].via_cutoff if decision else False,
            reason=decision[0].reason if decision else "",
            decided_at=decision[0].decided_at if decision else None,
            decided_by=decision[1] if decision else None,
            similar=r.similarity_max if integrity.is_flagged(
                similarity=r.similarity_max, pasted=None, campaign=campaign) else None,
            pasted=r.pasted_share if integrity.is_flagged(
                similarity=None, pasted=r.pasted_share, campaign=campaign) else None,
        ))
    return RankingPage(rows=result, page=page, has_next=has_next)


def _raw_reviews(db: Session, *, stage: Stage, candidacy_ids: Sequence[int]):
    """The stage's reviews of the given candidacies, with criterion keys, in one query."""
    if not candidacy_ids:
        return [], {}, {}
    rows = db.execute(
        sa.select(Review.id, Review.reviewer_id, Review.answer_id, Review.score_raw,
                  Review.score_normalised, Submission.candidacy_id, Criterion.key,
                  CriterionScore.value)
        .join(Answer, Answer.id == Review.answer_id)
        .join(Submission, Submission.id == Answer.submission_id)
        .outerjoin(CriterionScore, CriterionScore.review_id == Review.id)
        .outerjoin(Criterion, Criterion.id == CriterionScore.criterion_id)
        .where(Submission.stage_id == stage.id, Submission.candidacy_id.in_(candidacy_ids))
        .order_by(Review.id)
    ).all()
    # A task's rubric keys are unique, so a review scores each key at most once.
    criteria: dict[int, dict[str, int]] = defaultdict(dict)
    base: dict[int, tuple] = {}
    answer_to_candidacy: dict[int, int] = {}
    for row in rows:
        base[row.id] = row
        answer_to_candidacy[row.answer_id] = row.candidacy_id
        if row.key is not None:
            criteria[row.id][row.key] = row.value
    reviews = [
        scoring.RawReview(review_id=rid, reviewer_id=row.reviewer_id, answer_id=row.answer_id,
                          score=row.score_raw, criteria=criteria[rid])
        for rid, row in base.items()
    ]
    normalised = {rid: (row.score_normalised if row.score_normalised is not None
                        else row.score_raw) for rid, row in base.items()}
    return reviews, normalised, answer_to_candidacy


def _page_scores(db: Session, *, stage: Stage,
                 candidacy_ids: Sequence[int]) -> dict[int, scoring.CandidateScore]:
    reviews, normalised, answer_to_candidacy = _raw_reviews(db, stage=stage,
                                                            candidacy_ids=candidacy_ids)
    return scoring.candidate_scores(reviews, normalised, answer_to_candidacy=answer_to_candidacy)


def _latest_decisions(db: Session, *, stage: Stage,
                      candidacy_ids: Sequence[int]) -> dict[int, tuple[Decision, str | None]]:
    if not candidacy_ids:
        return {}
    latest: dict[int, tuple[Decision, str | None]] = {}
    for decision, email in db.execute(
        sa.select(Decision, User.email)
        .outerjoin(User, User.id == Decision.decided_by_id)
        .where(Decision.stage_id == stage.id, Decision.candidacy_id.in_(candidacy_ids))
        .order_by(Decision.decided_at, Decision.id)
    ):
        latest[decision.candidacy_id] = (decision, email)
    return latest


# -- one candidacy at a stage ------------------------------------------------------------------

@dataclass(frozen=True)
class CriterionValue:
    """One rubric line of one review: the criterion's key, titles and the score given."""

    key: str
    title: dict[str, str]
    value: int


@dataclass(frozen=True)
class ReviewOfAnswer:
    """A review as coordinators read it beside the answer; the reviewer by label only.

    ``comment`` is the note for coordinators; ``for_candidate`` the comment written for the
    candidate, ``hidden`` when a coordinator kept it from them."""

    label: str
    raw: float
    normalised: float | None
    comment: str
    criteria: list[CriterionValue]
    review_id: int
    for_candidate: str
    hidden: bool


@dataclass(frozen=True)
class AnswerAtStage:
    """One task of the stage: its prompt, the reviewers' (redacted) copy and the reviews.

    ``text`` is None while the custodian has not released the answer: until then the copy
    may still hold something identifying that the automatic redaction missed.
    """

    position: int
    prompt: dict[str, str]
    text: str | None
    reviews: list[ReviewOfAnswer]


@dataclass(frozen=True)
class CandidacyAtStage:
    """What a coordinator sees of one candidacy at one stage before deciding."""

    code: str
    state: str
    awaiting: bool
    score: float | None
    raw: float | None
    spread: float
    reviews: int
    criteria: dict[str, float]
    profile: dict[str, float]
    history: list[dict]
    answers: list[AnswerAtStage]
    criterion_titles: dict[str, dict[str, str]]
    flags: list[integrity.AnswerFlags]

    @property
    def flagged(self) -> bool:
        """Whether any answer reaches an integrity threshold."""
        return any(f.flagged for f in self.flags)


def _answers_at_stage(db: Session, *, candidacy: Candidacy,
                      stage: Stage) -> list[AnswerAtStage]:
    """The stage's answers of a candidacy with their reviews, in task order (two queries).

    Reviewers are labelled R1, R2… in reading order, as in the dossier.
    """
    answers = db.execute(
        sa.select(Answer.id, Answer.redacted_text, Answer.check_status, Task.position,
                  Task.prompt_en, Task.prompt_ru)
        .join(Task, Task.id == Answer.task_id)
        .join(Submission, Submission.id == Answer.submission_id)
        .where(Submission.candidacy_id == candidacy.id, Submission.stage_id == stage.id,
               Submission.submitted_at.is_not(None))
        .order_by(Task.position)
    ).all()
    rows = db.execute(
        sa.select(Review.id, Review.answer_id, Review.reviewer_id, Review.score_raw,
                  Review.score_normalised, Review.comment, Review.candidate_comment,
                  Review.candidate_comment_hidden_at, Criterion.key, Criterion.title_en,
                  Criterion.title_ru, CriterionScore.value)
        .outerjoin(CriterionScore, CriterionScore.review_id == Review.id)
        .outerjoin(Criterion, Criterion.id == CriterionScore.criterion_id)
        .where(Review.answer_id.in_([a.id for a in answers]))
        .order_by(Review.submitted_at, Review.id, Criterion.position)
    ).all() if answers else []
    task_of = {a.id: a.position for a in answers}
    labels: dict[int, str] = {}
    for row in sorted(rows, key=lambda r: task_of[r.answer_id]):
        labels.setdefault(row.reviewer_id, f"R{len(labels) + 1}")
    reviews: dict[int, dict[int, ReviewOfAnswer]] = defaultdict(dict)
    for row in rows:
        review = reviews[row.answer_id].get(row.id)
        if review is None:
            review = reviews[row.answer_id][row.id] = ReviewOfAnswer(
                label=labels[row.reviewer_id], raw=row.score_raw,
                normalised=row.score_normalised, comment=row.comment or "", criteria=[],
                review_id=row.id, for_candidate=(row.candidate_comment or "").strip(),
                hidden=row.candidate_comment_hidden_at is not None)
        if row.key is not None:
            review.criteria.append(CriterionValue(
                key=row.key, title={"en": row.title_en, "ru": row.title_ru}, value=row.value))
    return [
        AnswerAtStage(position=a.position, prompt={"en": a.prompt_en, "ru": a.prompt_ru},
                      text=a.redacted_text if a.check_status == "released" else None,
                      reviews=sorted(reviews[a.id].values(), key=lambda r: int(r.label[1:])))
        for a in answers
    ]


def criterion_titles(db: Session, *, campaign_id: int) -> dict[str, dict[str, str]]:
    """Criterion key → its title in each language: as the campaign's rubrics name it, else as
    the loaded tracks do (a role may require a criterion this track never scores)."""
    titles: dict[str, dict[str, str]] = {}
    for key, title_en, title_ru in db.execute(
        sa.select(Criterion.key, Criterion.title_en, Criterion.title_ru)
        .join(Task, Task.id == Criterion.task_id).join(Stage, Stage.id == Task.stage_id)
        .where(Stage.campaign_id == campaign_id)
        .order_by(Stage.position, Task.position, Criterion.position)
    ):
        titles.setdefault(key, {"en": title_en, "ru": title_ru})
    for key, title in tracks.criterion_titles(db).items():
        titles.setdefault(key, title)
    return titles


def candidacy_at_stage(db: Session, *, candidacy: Candidacy, stage: Stage) -> CandidacyAtStage:
    """Scores, per-criterion averages and past decisions of one candidacy, by code only."""
    review_stats.normalise_due(db, stage_id=stage.id)
    scored = _page_scores(db, stage=stage, candidacy_ids=[candidacy.id]).get(candidacy.id)
    history = [
        {"stage": position, "outcome": d.outcome, "reason": d.reason, "via_cutoff": d.via_cutoff,
         "at": d.decided_at, "by": email, "flags": list(d.flags or ())}
        for d, email, position in db.execute(
            sa.select(Decision, User.email, Stage.position)
            .join(Stage, Stage.id == Decision.stage_id)
            .outerjoin(User, User.id == Decision.decided_by_id)
            .where(Decision.candidacy_id == candidacy.id)
            .order_by(Decision.decided_at, Decision.id))
    ]
    return CandidacyAtStage(
        code=candidacy.code,
        state=candidacy.state,
        awaiting=candidacy.current_stage_id == stage.id
        and candidacy.state in (State.SUBMITTED, State.ON_HOLD),
        score=scored.score if scored else None,
        raw=scored.raw if scored else None,
        spread=scored.spread if scored else 0.0,
        reviews=scored.reviews if scored else 0,
        criteria=dict(scored.criteria) if scored else {},
        profile=criterion_profiles(db, candidacy_ids=[candidacy.id]).get(candidacy.id, {}),
        history=history,
        answers=_answers_at_stage(db, candidacy=candidacy, stage=stage),
        criterion_titles=criterion_titles(db, campaign_id=candidacy.campaign_id),
        flags=integrity.candidacy_flags(db, candidacy=candidacy, stage=stage),
    )


# -- cut-off preview and application -----------------------------------------------------------

@dataclass(frozen=True)
class CutoffPreview:
    """What a cut-off would do, before it is applied."""

    rule: CutoffRule
    advance: int
    reject: int
    already_advanced: int
    on_hold: int
    not_ready: int
    threshold: float | None
    lowest_advancing: float | None
    highest_rejected: float | None
    # Ready but flagged for integrity: never decided by a cut-off, only one by one with a reason.
    flagged: int = 0

    @property
    def ties_added(self) -> int:
        """Extra candidacies a top-N cut-off advances because they tie at the boundary."""
        if self.rule.kind != "top_n":
            return 0
        return max(0, self.advance - max(0, int(self.rule.value) - self.already_advanced))


def _plan(db: Session, *, stage: Stage, rule: CutoffRule) -> CutoffPreview:
    flagged = integrity.flagged_clause(stage.campaign)
    ready = sa.and_(_ready(), sa.not_(sa.func.coalesce(flagged, False)))
    base = (sa.select(Submission.score).join(Candidacy, Candidacy.id == Submission.candidacy_id)
            .where(_submitted(stage)))
    waiting = Candidacy.state == State.SUBMITTED.value

    def count(condition) -> sa.ColumnElement:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    counts = db.execute(
        sa.select(count(sa.and_(waiting, ready)), count(Candidacy.state == State.ON_HOLD.value),
                  count(sa.and_(waiting, sa.not_(_ready()))),
                  count(sa.and_(waiting, _ready(), sa.func.coalesce(flagged, False))))
        .select_from(Submission).join(Candidacy, Candidacy.id == Submission.candidacy_id)
        .where(_submitted(stage), _awaiting(stage))
    ).one()
    candidates, on_hold, not_ready, flagged_count = (int(n) for n in counts)
    already = int(db.scalar(sa.select(sa.func.count()).select_from(Decision).where(
        Decision.stage_id == stage.id, Decision.outcome == "advance")) or 0)
    decidable = base.where(Candidacy.current_stage_id == stage.id, waiting, ready)
    threshold: float | None
    if rule.kind == "top_n":
        slots = max(0, int(rule.value) - already)
        threshold = None if slots == 0 else db.scalar(
            decidable.order_by(Submission.rank_key.desc()).offset(slots - 1).limit(1))
        if slots and threshold is None:
            # Fewer candidacies than slots: everyone decidable advances.
            threshold = float("-inf")
    else:
        threshold = float(rule.value) - _SHOWN
    if threshold is None:
        advance, lowest = 0, None
    else:
        passing = (decidable.where(Submission.score >= threshold - _TIE)
                   if math.isfinite(threshold) else decidable).subquery()
        stats = db.execute(sa.select(sa.func.count(), sa.func.min(passing.c.score))).one()
        advance, lowest = int(stats[0]), stats[1]
    below = (decidable if lowest is None else decidable.where(Submission.score < lowest - _TIE)
             ).subquery()
    highest_rejected = db.scalar(sa.select(sa.func.max(below.c.score)))
    return CutoffPreview(
        rule=rule, advance=advance, reject=candidates - advance, already_advanced=already,
        on_hold=on_hold, not_ready=not_ready,
        threshold=None if threshold is None or not math.isfinite(threshold) else threshold,
        lowest_advancing=lowest, highest_rejected=highest_rejected, flagged=flagged_count,
    )


def preview_cutoff(db: Session, *, stage: Stage, rule: CutoffRule,
                   now: datetime) -> CutoffPreview:
    """Count how many a cut-off would advance and reject, and where the boundary lies.

    A cut-off decides only candidacies that are ready (scored, every wanted review in, no
    custodian check pending) and not on hold; the rest wait for a later cut-off or a single
    decision. For top N, candidacies already advanced at this stage take places first, and
    candidacies tied with the last one in advance with it.
    """
    fresh_results(db, stage=stage, now=now)
    return _plan(db, stage=stage, rule=rule)


@dataclass(frozen=True)
class CutoffResult:
    """What applying a cut-off did."""

    advanced: int
    rejected: int


def apply_cutoff(db: Session, *, stage: Stage, rule: CutoffRule, by: User | None, now: datetime,
                 expect: tuple[int, int] | None = None) -> CutoffResult:
    """Decide every ready candidacy of the stage by the rule, in the caller's transaction.

    ``expect`` is the (advance, reject) the coordinator saw in the preview: when the ranking
    changed since (a review came in, someone decided), nothing is applied and the coordinator
    is asked to look again.
    """
    review_stats.normalise_due(db, stage_id=stage.id)
    stage_scores.refresh(db, stage_id=stage.id, now=now)
    plan = _plan(db, stage=stage, rule=rule)
    if expect is not None and (plan.advance, plan.reject) != tuple(expect):
        raise DecisionError("cutoff_changed",
                            "the ranking changed since the preview; check the preview again")
    rows = db.execute(
        sa.select(Candidacy.id, Submission.score)
        .join(Candidacy, Candidacy.id == Submission.candidacy_id)
        .where(_submitted(stage), _awaiting(stage), Candidacy.state == State.SUBMITTED.value,
               _ready(), sa.not_(sa.func.coalesce(integrity.flagged_clause(stage.campaign),
                                                  False)))
    ).all()
    lowest = plan.lowest_advancing
    advancing = {r.id for r in rows if plan.advance and lowest is not None
                 and r.score >= lowest - _TIE}
    context = _Context.load(db, stage=stage, candidacy_ids=[r.id for r in rows])
    reason = rule.as_reason
    for candidacy in context.candidacies:
        outcome = "advance" if candidacy.id in advancing else "reject"
        _decide(db, context=context, candidacy=candidacy, stage=stage, outcome=outcome,
                reason=reason, by=by, now=now, via_cutoff=True)
    if rows:
        stage_scores.results_changed(db, stage_id=stage.id)
    db.flush()
    return CutoffResult(advanced=len(advancing), rejected=len(rows) - len(advancing))


# -- deciding ----------------------------------------------------------------------------------

@dataclass
class _Context:
    """Everything deciding needs, loaded once for one candidacy or a whole cut-off."""

    next_stage: Stage | None
    own_role: str | None
    roles: list[matching.RoleSpec]
    job_roles: dict[str, JobRole]
    candidacies: list[Candidacy]
    users: dict[int, User]
    profiles: dict[int, dict[str, float]] | None = None

    @classmethod
    def load(cls, db: Session, *, stage: Stage, candidacy_ids: Sequence[int] = (),
             candidacies: Sequence[Candidacy] = ()) -> _Context:
        next_stage = db.scalar(sa.select(Stage).where(Stage.campaign_id == stage.campaign_id,
                                                      Stage.position > stage.position)
                               .order_by(Stage.position).limit(1))
        campaign = db.get(Campaign, stage.campaign_id)
        own_role = db.scalar(sa.select(JobRole.key).where(JobRole.id == campaign.job_role_id)) \
            if campaign.job_role_id else None
        job_roles = list(db.scalars(sa.select(JobRole).order_by(JobRole.key)))
        loaded = list(candidacies)
        for chunk in _chunks(candidacy_ids):
            loaded.extend(db.scalars(sa.select(Candidacy).where(Candidacy.id.in_(chunk))
                                     .order_by(Candidacy.id)))
        user_ids = [c.user_id for c in loaded if c.user_id is not None]
        users: dict[int, User] = {}
        for chunk in _chunks(user_ids):
            users.update({u.id: u for u in db.scalars(sa.select(User).where(User.id.in_(chunk)))})
        # Users are loaded so notify's per-candidacy look-ups hit the session, not the database.
        return cls(next_stage=next_stage, own_role=own_role,
                   roles=matching.role_specs(job_roles),
                   job_roles={r.key: r for r in job_roles}, candidacies=loaded, users=users)

    def profile(self, db: Session, candidacy_id: int) -> dict[str, float]:
        """Per-criterion averages, loaded for every candidacy of the context on first use."""
        if self.profiles is None:
            self.profiles = criterion_profiles(db, candidacy_ids=[c.id for c in self.candidacies])
        return self.profiles.get(candidacy_id, {})


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def decide(db: Session, *, candidacy: Candidacy, stage: Stage, outcome: str, reason: str,
           by: User | None, now: datetime, via_cutoff: bool = False) -> Decision:
    """Record a decision on a candidacy at a stage and carry it out.

    advance opens the next stage (or passes the last one) and tells the candidate; reject
    first matches alternate roles, then tells the candidate in a way that agrees with the
    match; hold keeps the candidacy for later. A single decision needs a reason.
    """
    context = _Context.load(db, stage=stage, candidacies=[candidacy])
    decision = _decide(db, context=context, candidacy=candidacy, stage=stage, outcome=outcome,
                       reason=reason, by=by, now=now, via_cutoff=via_cutoff)
    # What the candidacy was flagged for goes on record beside the reason.
    decision.flags = integrity.decision_flags(
        integrity.candidacy_flags(db, candidacy=candidacy, stage=stage))
    stage_scores.results_changed(db, stage_id=stage.id)
    db.flush()
    return decision


def _decide(db: Session, *, context: _Context, candidacy: Candidacy, stage: Stage, outcome: str,
            reason: str, by: User | None, now: datetime, via_cutoff: bool) -> Decision:
    if outcome not in OUTCOMES:
        raise DecisionError("outcome", f"unknown outcome {outcome!r}")
    reason = (reason or "").strip()
    if not via_cutoff and not reason:
        raise DecisionError("reason_required", "a single decision needs a reason")
    if candidacy.campaign_id != stage.campaign_id:
        raise DecisionError("wrong_campaign", "the candidacy belongs to another campaign")
    if candidacy.current_stage_id != stage.id:
        raise DecisionError("wrong_stage", "the candidacy is not at this stage")
    next_stage = context.next_stage
    event = {"advance": Event.ADVANCE if next_stage else Event.ADVANCE_FINAL,
             "reject": Event.REJECT, "hold": Event.HOLD}[outcome]
    try:
        state = transition(State(candidacy.state), event)
    except TransitionError as exc:
        raise DecisionError("transition", str(exc)) from exc
    decision = Decision(candidacy_id=candidacy.id, stage_id=stage.id, outcome=outcome,
                        reason=reason, via_cutoff=via_cutoff,
                        decided_by_id=by.id if by is not None else None, decided_at=now)
    candidacy.state = state.value
    candidacy.updated_at = now
    if outcome == "advance":
        if next_stage is not None:
            candidacy.current_stage_id = next_stage.id
        notify.stage_passed(db, candidacy=candidacy, stage=stage, next_stage=next_stage,
                            feedback=stage.feedback_enabled)
    elif outcome == "reject":
        # Match first, so the message never says "nothing more for you" to someone the
        # coordinator may still offer another role.
        matches = matching.match_roles(context.profile(db, candidacy.id), context.roles,
                                       exclude=[context.own_role] if context.own_role else [])
        decision.alternate_roles = [m.role.key for m in matches]
        notify.stage_not_passed(db, candidacy=candidacy, stage=stage,
                                alternate=context.job_roles[matches[0].role.key]
                                if matches else None, feedback=stage.feedback_enabled)
    db.add(decision)
    return decision


# -- criterion profiles and alternates ---------------------------------------------------------

def criterion_profiles(db: Session, *, candidacy_ids: Sequence[int]) -> dict[int, dict[str, float]]:
    """Per-criterion averages of each candidacy over all its reviews so far, in one query per
    chunk of ids: criterion key → mean of every score given on a criterion with that key."""
    profiles: dict[int, dict[str, float]] = defaultdict(dict)
    for chunk in _chunks(list(candidacy_ids)):
        for candidacy_id, key, average in db.execute(
            sa.select(Submission.candidacy_id, Criterion.key, sa.func.avg(CriterionScore.value))
            .join(Criterion, Criterion.id == CriterionScore.criterion_id)
            .join(Review, Review.id == CriterionScore.review_id)
            .join(Answer, Answer.id == Review.answer_id)
            .join(Submission, Submission.id == Answer.submission_id)
            .where(Submission.candidacy_id.in_(chunk))
            .group_by(Submission.candidacy_id, Criterion.key)
        ):
            profiles[candidacy_id][key] = float(average)
    return dict(profiles)


@dataclass(frozen=True)
class AlternateRow:
    """A candidacy that did not pass, with the roles it matches and why. Code only."""

    code: str
    state: str
    stage_position: int | None
    matches: list[matching.RoleMatch]
    invited_to: str | None = None


@dataclass(frozen=True)
class AlternatesPage:
    """A page of the campaign's not-passed candidacies that match at least one role."""

    rows: list[AlternateRow]
    page: int
    pages: int
    total: int


def alternates_page(db: Session, *, campaign: Campaign, page: int = 1,
                    per_page: int = PER_PAGE) -> AlternatesPage:
    """Candidacies rejected with a matching alternate role, still open for an offer or an
    invitation, with the matcher's reasons computed from their current profiles."""
    latest = (sa.select(Decision.candidacy_id, sa.func.max(Decision.id).label("decision_id"))
              .where(Decision.outcome == "reject").group_by(Decision.candidacy_id)
              .subquery())
    query = (
        sa.select(Candidacy.id, Candidacy.code, Candidacy.state, Stage.position,
                  Decision.alternate_roles)
        .join(latest, latest.c.candidacy_id == Candidacy.id)
        .join(Decision, Decision.id == latest.c.decision_id)
        .join(Stage, Stage.id == Decision.stage_id)
        .where(Candidacy.campaign_id == campaign.id,
               Candidacy.state == State.NOT_PASSED.value,
               sa.func.json_array_length(Decision.alternate_roles) > 0)
    )
    total = int(db.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0)
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    rows = db.execute(query.order_by(Candidacy.code).limit(per_page)
                      .offset((page - 1) * per_page)).all()
    profiles = criterion_profiles(db, candidacy_ids=[r.id for r in rows])
    roles = matching.role_specs(db.scalars(sa.select(JobRole).order_by(JobRole.key)))
    own = campaign.job_role.key if campaign.job_role else None
    return AlternatesPage(
        rows=[AlternateRow(code=r.code, state=r.state, stage_position=r.position,
                           matches=matching.match_roles(profiles.get(r.id, {}), roles,
                                                        exclude=[own] if own else []))
              for r in rows],
        page=page, pages=pages, total=total)


def invite(db: Session, *, candidacy: Candidacy, target: Campaign, by: User | None,
           now: datetime) -> Candidacy:
    """Move a candidate who did not pass into another campaign's track, without repeating
    eligibility: a new candidacy (new code) for the same account, the old one ends."""
    if target.id == candidacy.campaign_id:
        raise DecisionError("same_campaign", "choose another campaign than the candidacy's own")
    if candidacy.user_id is None:
        raise DecisionError("erased", "the candidate erased their account")
    if target.closes_at <= now:
        raise DecisionError("target_closed", "that campaign has closed")
    try:
        state = transition(State(candidacy.state), Event.INVITE)
    except TransitionError as exc:
        raise DecisionError("transition", str(exc)) from exc
    taken = db.scalar(sa.select(Candidacy.id).where(Candidacy.user_id == candidacy.user_id,
                                                    Candidacy.campaign_id == target.id))
    if taken is not None:
        raise DecisionError("already_there", "the candidate already takes part in that campaign")
    fresh = Candidacy(user_id=candidacy.user_id, campaign_id=target.id,
                      state=State.APPLIED.value, invited_from_id=candidacy.id,
                      created_at=now, updated_at=now)
    candidacy.state = state.value
    candidacy.finished_at = now
    candidacy.updated_at = now
    db.add(fresh)
    db.flush()
    audit.record(db, action="candidacy.invite", actor_id=by.id if by else None,
                 subject=candidacy.code, details={"campaign": target.key, "new_code": fresh.code})
    user = db.get(User, candidacy.user_id)
    if user is not None and user.active:
        locale = user.locale or "en"
        mail.queue(db, to=user.email, template="offer_invitation", locale=locale, context={
            "campaign_title": target.title(locale),
            "link": notify.link("applicant.home"),
        })
    return fresh
