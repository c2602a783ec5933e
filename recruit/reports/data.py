"""Plain values for the PDF documents and CSV exports, built with few, grouped queries.

Every builder returns dicts, lists, strings, numbers, dates and chart ``Markup`` only: the
templates under ``templates/pdf/`` can never walk from a value to an identity. The offer
letter is the one NAMED document (the vault opens the addressee's name); the dossier, the
campaign report and the results export are pseudonymous and carry candidacy codes only.
Numbers and dates are formatted with Babel for the document's language.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel.dates import format_date as babel_format_date
from babel.numbers import format_decimal as babel_format_decimal
from babel.numbers import format_percent
from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, selectinload
from werkzeug.routing import BuildError

from recruit import vault
from recruit.db import utcnow
from recruit.domain import (
    calibration,
    feedback,
    funnel,
    integrity,
    matching,
    review_stats,
    scoring,
)
from recruit.domain.decisions import criterion_titles
from recruit.domain.offers import localised_conditions
from recruit.i18n import company_address, company_name, format_last_day, format_money
from recruit.labels import cutoff_reason, period_label, redacted_text, work_format_label
from recruit.models import (
    Answer,
    Campaign,
    Candidacy,
    Criterion,
    CriterionScore,
    Decision,
    EligibilityCheck,
    Identity,
    JobRole,
    Offer,
    Review,
    Stage,
    Submission,
    Task,
    User,
)
from recruit.reports import charts

#: Histogram edges for stage scores on the 1–5 rubric scale.
SCORE_BINS = (1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0)
#: Histogram edges for the similarity of alike answers, in per cent (pairs are kept from 25).
SIMILARITY_BINS = tuple(range(25, 101, 5))

# Offer statuses that mean a letter exists and still matters to its addressee.
LETTER_STATUSES = ("issued", "accepted")


# -- formatting ---------------------------------------------------------------------------------

def document_locale(locale: str | None) -> str:
    """The supported language closest to ``locale`` (the default language otherwise)."""
    languages = current_app.config["LANGUAGES"]
    short = (locale or "").replace("-", "_").split("_")[0].lower()
    return short if short in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


@dataclass(frozen=True)
class _Fmt:
    """Locale-bound number and date formatting for one document."""

    locale: str

    def score(self, value: float | None) -> str | None:
        """A score or average with two decimals; None stays None (the template shows a dash)."""
        return None if value is None else babel_format_decimal(
            value, format="0.00", locale=self.locale)

    def signed(self, value: float | None) -> str | None:
        """A signed offset such as a reviewer's severity: +0.31, −0.12."""
        return None if value is None else babel_format_decimal(
            value, format="+0.00;−0.00", locale=self.locale)

    def days(self, value: float | None) -> str | None:
        """A number of days with one decimal."""
        return None if value is None else babel_format_decimal(
            value, format="#,##0.0", locale=self.locale)

    def number(self, value: float) -> str:
        """A count or chart axis value in the locale's style (1,200 or 1 200; 1.5 or 1,5)."""
        return babel_format_decimal(value, locale=self.locale)

    def date(self, value: date | datetime | None, zone: str | None = None) -> str:
        """A long date (3 March 2025, 3 марта 2025 г.), a moment seen in ``zone`` (a
        campaign's) or the company's."""
        if value is None:
            return ""
        if isinstance(value, datetime):
            zone_info = ZoneInfo(zone or current_app.config["BABEL_DEFAULT_TIMEZONE"])
            value = value.astimezone(zone_info).date()
        return babel_format_date(value, format="long", locale=self.locale)


def _role_title(role: JobRole, locale: str) -> str:
    return role.title_ru if locale == "ru" else role.title_en


def _outcome_label(outcome: str) -> str:
    labels = {"advance": _("Advanced"), "reject": _("Not passed"), "hold": _("On hold")}
    return labels.get(outcome, outcome)


# -- shared loading -----------------------------------------------------------------------------

@dataclass(frozen=True)
class _TaskInfo:
    id: int
    title: str
    criteria: tuple[tuple[int, str, str], ...]  # (criterion id, key, title)


@dataclass(frozen=True)
class _StageInfo:
    id: int
    key: str
    title: str
    tasks: tuple[_TaskInfo, ...]

    def criterion_titles(self) -> dict[str, str]:
        """Criterion key → title, in rubric order, over all tasks of the stage."""
        titles: dict[str, str] = {}
        for task in self.tasks:
            for _id, key, title in task.criteria:
                titles.setdefault(key, title)
        return titles


def _stages(db: Session, *, campaign_id: int, locale: str) -> list[_StageInfo]:
    """The campaign's stages, tasks and criteria as plain values (three queries)."""
    stages = db.scalars(
        select(Stage).where(Stage.campaign_id == campaign_id).order_by(Stage.position)
        .options(selectinload(Stage.tasks).selectinload(Task.criteria))
    ).all()
    result = []
    for stage in stages:
        tasks = tuple(
            _TaskInfo(
                id=task.id,
                # A task has no title of its own: its prompt's first line stands in for one.
                title=_task_title(task.prompt(locale), task.position),
                criteria=tuple((c.id, c.key, c.title(locale)) for c in task.criteria),
            )
            for task in stage.tasks
        )
        result.append(_StageInfo(stage.id, stage.key, stage.title(locale), tasks))
    return result


def _task_title(prompt: str, position: int) -> str:
    first = next((line.strip() for line in prompt.splitlines() if line.strip()), "").rstrip(":")
    number = _("Task %(n)s", n=position)
    if not first:
        return number
    if len(first) > 80:
        first = first[:79].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return f"{number}. {first}"


def _criterion_titles(stages: Iterable[_StageInfo]) -> dict[str, str]:
    titles: dict[str, str] = {}
    for stage in stages:
        for key, title in stage.criterion_titles().items():
            titles.setdefault(key, title)
    return titles


@dataclass(frozen=True)
class _ReviewRow:
    review_id: int
    reviewer_id: int
    answer_id: int
    raw: float
    normalised: float
    candidacy_id: int
    stage_id: int


def _campaign_reviews(db: Session, *, campaign_id: int) -> list[_ReviewRow]:
    """Every review of the campaign with its stage and candidacy, in one query."""
    review_stats.normalise_due(db, campaign_id=campaign_id)
    rows = db.execute(
        select(Review.id, Review.reviewer_id, Review.answer_id, Review.score_raw,
               Review.score_normalised, Submission.candidacy_id, Submission.stage_id)
        .join(Answer, Answer.id == Review.answer_id)
        .join(Submission, Submission.id == Answer.submission_id)
        .join(Candidacy, Candidacy.id == Submission.candidacy_id)
        .where(Candidacy.campaign_id == campaign_id)
    ).all()
    # Until a reviewer has enough reviews to normalise, the raw score is their normalised one.
    return [
        _ReviewRow(r[0], r[1], r[2], r[3], r[4] if r[4] is not None else r[3], r[5], r[6])
        for r in rows
    ]


def _raw_reviews(rows: Iterable[_ReviewRow]) -> list[scoring.RawReview]:
    return [
        scoring.RawReview(review_id=r.review_id, reviewer_id=r.reviewer_id,
                          answer_id=r.answer_id, score=r.raw, criteria={})
        for r in rows
    ]


def _stage_scores(rows: Sequence[_ReviewRow]) -> dict[int, scoring.CandidateScore]:
    """Candidacy id → stage result for the reviews of one stage."""
    return scoring.candidate_scores(
        _raw_reviews(rows),
        {r.review_id: r.normalised for r in rows},
        answer_to_candidacy={r.answer_id: r.candidacy_id for r in rows},
    )


# -- offer letter (NAMED) -----------------------------------------------------------------------

def offer_reference(offer_id: int) -> str:
    """The reference printed on a letter and used in its file name: no name, no code."""
    return f"OF-{offer_id:06d}"


def _accept_url(offer_id: int) -> str:
    """Where the addressee answers the offer, as an absolute URL on the public address."""
    adapter = current_app.url_map.bind("localhost")
    for endpoint in ("offers.respond", "offers.show", "offers.offer", "applicant.offer"):
        try:
            path = adapter.build(endpoint, {"offer_id": offer_id})
        except BuildError:
            continue
        return current_app.config["PUBLIC_URL"].rstrip("/") + path
    return current_app.config["PUBLIC_URL"].rstrip("/") + "/"


def _conditions(offer: Offer, role: JobRole, locale: str) -> list[str]:
    conditions = localised_conditions(offer.conditions, locale)
    if not conditions:
        # An offer made before conditions were copied onto it falls back to the role's text.
        text = role.conditions_ru if locale == "ru" else role.conditions_en
        conditions = [" ".join(part.split()) for part in text.split("\n\n")]
    return [c for c in conditions if c]


def offer_letter_context(db: Session, *, offer: Offer, locale: str, named: bool = True) -> dict:
    """Everything the offer letter shows, including the addressee's name from the vault.

    ``named=False`` is a coordinator's preview: the candidacy code stands where the name
    would be, and the vault is never opened.
    """
    locale = document_locale(locale)
    fmt = _Fmt(locale)
    role = db.get(JobRole, offer.job_role_id)
    user_id, code, zone = db.execute(
        select(Candidacy.user_id, Candidacy.code, Campaign.time_zone)
        .join(Campaign, Campaign.id == Candidacy.campaign_id)
        .where(Candidacy.id == offer.candidacy_id)).one()
    identity = (vault.open_identity_of(db, user_id=user_id)
                if named and user_id is not None else None)
    with force_locale(locale):
        return {
            "lang": locale,
            "company_name": company_name(locale),
            "company_address": company_address(locale),
            "letter_date": fmt.date(offer.issued_at),
            "reference": offer_reference(offer.id),
            "candidate_name": code if not named
            else (identity.full_name if identity else "") or _("candidate"),
            "preview": not named,
            "role_title": _role_title(role, locale),
            "salary": f"{format_money(offer.salary, offer.currency, language=locale)} "
                      f"{period_label(offer.period)}",
            # The salary line already names the currency; a row of its own would repeat it.
            "currency": None,
            "start_date": fmt.date(offer.start_date),
            "work_format": work_format_label(offer.work_format),
            "conditions": _conditions(offer, role, locale),
            # A deadline: the end of that day in the campaign's zone, and the zone says so.
            "expires_on": format_last_day(offer.expires_on, zone),
            "accept_url": _accept_url(offer.id),
            "signatory_title": _("Head of Recruitment"),
        }


def letter_offers(db: Session, *, campaign_id: int) -> list[Offer]:
    """The offers of a campaign whose letters still matter (issued or accepted), by id."""
    return list(db.scalars(
        select(Offer).join(Candidacy, Candidacy.id == Offer.candidacy_id)
        .where(Candidacy.campaign_id == campaign_id, Offer.status.in_(LETTER_STATUSES))
        .order_by(Offer.id)
    ))


def offer_addressee(db: Session, *, offer: Offer) -> tuple[int | None, str | None]:
    """The user id a letter is addressed to and that user's chosen language."""
    row = db.execute(
        select(User.id, User.locale).join(Candidacy, Candidacy.user_id == User.id)
        .where(Candidacy.id == offer.candidacy_id)
    ).first()
    return (row[0], row[1]) if row else (None, None)


# -- dossier (pseudonymous) ---------------------------------------------------------------------

def dossier_context(db: Session, *, candidacy: Candidacy, locale: str) -> dict:
    """A candidacy's scores, comments, decisions and role matches, by candidacy code only."""
    review_stats.normalise_due(db, campaign_id=candidacy.campaign_id)
    locale = document_locale(locale)
    fmt = _Fmt(locale)
    with force_locale(locale):
        campaign = db.get(Campaign, candidacy.campaign_id)
        stages = _stages(db, campaign_id=campaign.id, locale=locale)
        reviews = db.execute(
            select(Review.id, Review.reviewer_id, Review.answer_id, Review.score_raw,
                   Review.score_normalised, Review.comment, Review.candidate_comment,
                   Review.candidate_comment_hidden_at, Answer.task_id, Submission.stage_id)
            .join(Answer, Answer.id == Review.answer_id)
            .join(Submission, Submission.id == Answer.submission_id)
            .where(Submission.candidacy_id == candidacy.id)
            .order_by(Review.submitted_at, Review.id)
        ).all()
        criterion_values: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for review_id, criterion_id, value in db.execute(
            select(CriterionScore.review_id, CriterionScore.criterion_id, CriterionScore.value)
            .join(Review, Review.id == CriterionScore.review_id)
            .join(Answer, Answer.id == Review.answer_id)
            .join(Submission, Submission.id == Answer.submission_id)
            .where(Submission.candidacy_id == candidacy.id)
        ):
            criterion_values[review_id].append((criterion_id, value))
        answers = {task_id: redacted_text(text or "") if status == "released" else None
                   for task_id, text, status in db.execute(
                       select(Answer.task_id, Answer.redacted_text, Answer.check_status)
                       .join(Submission, Submission.id == Answer.submission_id)
                       .where(Submission.candidacy_id == candidacy.id,
                              Submission.submitted_at.is_not(None)))}
        decisions: dict[int, Decision] = {}
        for decision in db.scalars(
            select(Decision).where(Decision.candidacy_id == candidacy.id)
            .order_by(Decision.decided_at, Decision.id)
        ):
            decisions[decision.stage_id] = decision  # the latest decision per stage wins

        task_order = {t.id: (s_index, t_index) for s_index, s in enumerate(stages)
                      for t_index, t in enumerate(s.tasks)}
        ordered = sorted(reviews, key=lambda r: (task_order.get(r.task_id, (99, 99)),))
        # Labels are per dossier, in reading order: R1 in one dossier is not R1 in another,
        # so comments cannot be gathered across dossiers into one reviewer's profile.
        labels: dict[int, str] = {}
        for review in ordered:
            labels.setdefault(review.reviewer_id, f"R{len(labels) + 1}")

        criterion_key = {cid: (key, title) for s in stages for t in s.tasks
                         for cid, key, title in t.criteria}
        criterion_position = {cid: n for s in stages for t in s.tasks
                              for n, (cid, _key, _title) in enumerate(t.criteria)}
        overall: dict[str, list[int]] = defaultdict(list)
        stage_sections = []
        for stage in stages:
            stage_reviews = [r for r in ordered if r.stage_id == stage.id]
            raw_reviews = [
                scoring.RawReview(
                    review_id=r.id, reviewer_id=r.reviewer_id, answer_id=r.answer_id,
                    score=r.score_raw,
                    criteria={criterion_key[cid][0]: value
                              for cid, value in criterion_values[r.id] if cid in criterion_key},
                )
                for r in stage_reviews
            ]
            result = scoring.candidate_scores(
                raw_reviews,
                {r.id: r.score_normalised if r.score_normalised is not None else r.score_raw
                 for r in stage_reviews},
                answer_to_candidacy={r.answer_id: candidacy.id for r in stage_reviews},
            ).get(candidacy.id)
            for raw in raw_reviews:
                for key, value in raw.criteria.items():
                    overall[key].append(value)
            titles = stage.criterion_titles()
            tasks = []
            for task in stage.tasks:
                task_reviews = [r for r in stage_reviews if r.task_id == task.id]
                norm = [r.score_normalised if r.score_normalised is not None else r.score_raw
                        for r in task_reviews]
                raw = [r.score_raw for r in task_reviews]
                tasks.append({
                    "title": task.title,
                    # The reviewers' redacted copy; None until the custodian released it.
                    "submitted": task.id in answers,
                    "answer": answers.get(task.id),
                    "score": fmt.score(statistics.fmean(norm)) if norm else None,
                    "raw": fmt.score(statistics.fmean(raw)) if raw else None,
                    "reviews": [
                        {
                            "label": labels[r.reviewer_id],
                            "score": fmt.score(r.score_normalised
                                               if r.score_normalised is not None
                                               else r.score_raw),
                            "raw": fmt.score(r.score_raw),
                            "criteria": [
                                {"title": criterion_key[cid][1], "value": value}
                                for cid, value in sorted(
                                    criterion_values[r.id],
                                    key=lambda item: criterion_position.get(item[0], 0))
                                if cid in criterion_key
                            ],
                            "comment": r.comment or "",
                            "for_candidate": (r.candidate_comment or "").strip(),
                            "hidden": r.candidate_comment_hidden_at is not None,
                        }
                        for r in task_reviews
                    ],
                })
            decision = decisions.get(stage.id)
            if result is None and decision is None and not any(t["reviews"] for t in tasks):
                # A stage the candidacy never reached says nothing about it.
                continue
            stage_sections.append({
                "title": stage.title,
                "score": fmt.score(result.score) if result else None,
                "raw": fmt.score(result.raw) if result else None,
                "decision": None if decision is None else {
                    "outcome": _outcome_label(decision.outcome),
                    "reason": cutoff_reason(decision.reason) if decision.via_cutoff
                    else decision.reason or "",
                    "decided_on": fmt.date(decision.decided_at),
                },
                "tasks": tasks,
                "criteria": [
                    {"title": titles.get(key, key), "average": fmt.score(average)}
                    for key, average in sorted(
                        (result.criteria if result else {}).items(),
                        key=lambda item: list(titles).index(item[0])
                        if item[0] in titles else len(titles))
                ],
            })

        averages = {key: statistics.fmean(values) for key, values in overall.items()}
        return {
            "lang": locale,
            "company_name": company_name(locale),
            "code": candidacy.code,
            "campaign_title": campaign.title(locale),
            "generated_on": fmt.date(utcnow()),
            "stages": stage_sections,
            "matches": _matches_for(db, averages=averages, campaign=campaign, fmt=fmt,
                                    titles={key: title[locale] for key, title in
                                            criterion_titles(
                                                db, campaign_id=campaign.id).items()}),
        }


def _matches_for(db: Session, *, averages: Mapping[str, float], campaign: Campaign, fmt: _Fmt,
                 titles: Mapping[str, str]) -> list[dict]:
    roles = matching.role_specs(db.scalars(select(JobRole).order_by(JobRole.key)))
    own = campaign.job_role.key if campaign.job_role else None
    return [
        {
            "role_title": match.role.title(fmt.locale),
            "reasons": [
                f"{titles.get(check.key, check.key)}: {fmt.score(check.actual)} ≥ "
                f"{fmt.score(check.required)}" if check.known else
                _("%(criterion)s: not scored yet, needs %(required)s",
                  criterion=titles.get(check.key, check.key),
                  required=fmt.score(check.required))
                for check in match.checks
            ],
        }
        for match in matching.match_roles(averages, roles, exclude=[own] if own else [])
    ]


# -- campaign report (aggregates only) ----------------------------------------------------------

def _eligibility_label(code: str, *, campaign: Campaign) -> str:
    if code == "too_young":
        return ngettext("Younger than %(num)s year", "Younger than %(num)s years",
                        campaign.min_age)
    if code == "citizenship":
        return _("Citizenship not accepted")
    if code.startswith("acknowledgement"):
        return _("Confirmation not given")
    return code


def _reason_codes(reasons: object) -> set[str]:
    codes = set()
    for reason in reasons or []:
        code = reason.get("code") if isinstance(reason, Mapping) else reason
        if code:
            codes.add(str(code))
    return codes


def funnel_steps(numbers: funnel.CampaignFunnel) -> list[tuple[str, int]]:
    """The funnel's steps as (label, people) in the current language, first to last."""
    steps = [(_("Registered"), numbers.registered), (_("Eligible"), numbers.eligible),
             (_("Applied"), numbers.applied)]
    # Short labels: a stage's full title does not fit beside a funnel bar. A stage nobody
    # has started yet is one line, not four lines of zeros.
    for stage in numbers.stages:
        n = stage.position
        steps.append((_("Stage %(n)s: started", n=n), stage.started))
        if stage.started:
            steps += [(_("Stage %(n)s: submitted", n=n), stage.submitted),
                      (_("Stage %(n)s: reviewed", n=n), stage.reviewed),
                      (_("Stage %(n)s: decided", n=n), stage.decided)]
    steps += [(_("Offers"), numbers.offered), (_("Accepted"), numbers.accepted)]
    return steps


def _eligibility_failures(db: Session, *, campaign: Campaign) -> list[tuple[str, int]]:
    """Rule label → people who failed it and never got through, as the funnel counts them."""
    seen: set[tuple[object, str]] = set()
    counts: Counter[str] = Counter()
    got_through = sa.union(
        select(EligibilityCheck.user_id).where(EligibilityCheck.campaign_id == campaign.id,
                                               EligibilityCheck.passed,
                                               EligibilityCheck.user_id.is_not(None)),
        select(Candidacy.user_id).where(Candidacy.campaign_id == campaign.id,
                                        Candidacy.user_id.is_not(None)))
    for check_id, user_id, reasons in db.execute(
        select(EligibilityCheck.id, EligibilityCheck.user_id, EligibilityCheck.reasons)
        .where(EligibilityCheck.campaign_id == campaign.id, EligibilityCheck.passed.is_(False),
               sa.or_(EligibilityCheck.user_id.is_(None),
                      EligibilityCheck.user_id.not_in(got_through)))
    ):
        # Someone who retried counts once per rule they failed, not once per attempt.
        who = user_id if user_id is not None else f"check-{check_id}"
        for code in _reason_codes(reasons):
            if (who, code) not in seen:
                seen.add((who, code))
                counts[_eligibility_label(code, campaign=campaign)] += 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _days_to_decision(db: Session, *, campaign: Campaign) -> dict[int, list[float]]:
    """Stage id → days from submission to the first advance-or-reject decision."""
    first = (
        select(Decision.candidacy_id, Decision.stage_id,
               func.min(Decision.decided_at).label("decided_at"))
        .where(Decision.outcome.in_(("advance", "reject")))
        .group_by(Decision.candidacy_id, Decision.stage_id)
        .subquery()
    )
    rows = db.execute(
        select(Submission.stage_id, Submission.submitted_at, first.c.decided_at)
        .join(first, and_(first.c.candidacy_id == Submission.candidacy_id,
                          first.c.stage_id == Submission.stage_id))
        .join(Candidacy, Candidacy.id == Submission.candidacy_id)
        .where(Candidacy.campaign_id == campaign.id, Submission.submitted_at.is_not(None))
    ).all()
    days: dict[int, list[float]] = defaultdict(list)
    for stage_id, submitted_at, decided_at in rows:
        # min() over a TypeDecorator column comes back as the driver's naive value on SQLite.
        decided = decided_at if isinstance(decided_at, datetime) else datetime.fromisoformat(
            str(decided_at))
        if decided.tzinfo is None:
            decided = decided.replace(tzinfo=submitted_at.tzinfo)
        days[stage_id].append(max((decided - submitted_at).total_seconds(), 0) / 86400)
    return days


def _criterion_averages(db: Session, *, campaign: Campaign) -> dict[int, dict[str, float]]:
    """Stage id → criterion key → average score over every review of the stage."""
    rows = db.execute(
        select(Submission.stage_id, Criterion.key, func.avg(CriterionScore.value))
        .join(Criterion, Criterion.id == CriterionScore.criterion_id)
        .join(Review, Review.id == CriterionScore.review_id)
        .join(Answer, Answer.id == Review.answer_id)
        .join(Submission, Submission.id == Answer.submission_id)
        .join(Candidacy, Candidacy.id == Submission.candidacy_id)
        .where(Candidacy.campaign_id == campaign.id)
        .group_by(Submission.stage_id, Criterion.key)
    ).all()
    result: dict[int, dict[str, float]] = defaultdict(dict)
    for stage_id, key, average in rows:
        result[stage_id][key] = float(average)
    return result


def _offers_by_role(db: Session, *, campaign: Campaign, locale: str) -> list[dict]:
    rows = db.execute(
        select(JobRole.title_en, JobRole.title_ru, Offer.alternate, Offer.status, func.count())
        .join(JobRole, JobRole.id == Offer.job_role_id)
        .join(Candidacy, Candidacy.id == Offer.candidacy_id)
        .where(Candidacy.campaign_id == campaign.id)
        .group_by(JobRole.title_en, JobRole.title_ru, Offer.alternate, Offer.status)
    ).all()
    table: dict[tuple[str, bool], Counter[str]] = defaultdict(Counter)
    for title_en, title_ru, alternate, status, count in rows:
        table[(title_ru if locale == "ru" else title_en, bool(alternate))][status] += count
    result = []
    # The campaign's own role first, alternate roles after it.
    for (title, alternate), counts in sorted(table.items(), key=lambda item: item[0][::-1]):
        result.append({
            "role_title": _("%(role)s (alternate role)", role=title) if alternate else title,
            "issued": sum(counts.values()),
            "accepted": counts["accepted"],
            "declined": counts["declined"],
            "expired": counts["expired"],
            "withdrawn": counts["withdrawn"],
            "open": counts["issued"],
        })
    return result


def campaign_report_context(db: Session, *, campaign: Campaign, locale: str) -> dict:
    """The campaign's funnel, eligibility, score, reviewer, timing and offer statistics."""
    locale = document_locale(locale)
    fmt = _Fmt(locale)
    with force_locale(locale):
        stages = _stages(db, campaign_id=campaign.id, locale=locale)
        steps = funnel_steps(funnel.campaign_funnel(db, campaign=campaign))
        failures = _eligibility_failures(db, campaign=campaign)
        reviews = _campaign_reviews(db, campaign_id=campaign.id)
        by_stage: dict[int, list[_ReviewRow]] = defaultdict(list)
        for row in reviews:
            by_stage[row.stage_id].append(row)
        criterion_averages = _criterion_averages(db, campaign=campaign)
        days = _days_to_decision(db, campaign=campaign)
        feedback_numbers = feedback.campaign_numbers(db, campaign=campaign)
        # Reviewers are numbered once per report, so #3 is the same person in every stage.
        reviewer_numbers = {rid: n for n, rid in
                            enumerate(sorted({r.reviewer_id for r in reviews}), start=1)}

        sections = []
        for stage in stages:
            rows = by_stage.get(stage.id, [])
            raw = _raw_reviews(rows)
            scores = [s.score for s in _stage_scores(rows).values() if s.score is not None]
            loads = Counter(r.reviewer_id for r in rows)
            severity = scoring.severity(raw)
            titles = stage.criterion_titles()
            averages = criterion_averages.get(stage.id, {})
            sections.append({
                "title": stage.title,
                "candidacies": len(scores),
                "histogram_svg": charts.histogram(
                    values=scores, bins=SCORE_BINS,
                    title=_("Stage scores of candidacies (normalised)"),
                    empty_label=_("No reviewed answers yet"), value_format=fmt.number),
                "criteria_svg": charts.bar_chart(
                    items=[(titles.get(key, key), averages[key])
                           for key in [*titles, *sorted(set(averages) - set(titles))]
                           if key in averages],
                    title=_("Average score per criterion"),
                    empty_label=_("No reviewed answers yet"), value_format=fmt.score),
                "reviewers": [
                    {
                        "label": _("Reviewer #%(n)s", n=reviewer_numbers[reviewer_id]),
                        "load": load,
                        "severity": fmt.signed(severity.get(reviewer_id)),
                    }
                    for reviewer_id, load in sorted(
                        loads.items(), key=lambda item: reviewer_numbers[item[0]])
                ],
                "alpha": fmt.score(scoring.agreement_alpha(raw)),
                "median_days_to_decision": fmt.days(statistics.median(days[stage.id]))
                if days.get(stage.id) else None,
                "feedback": _feedback_line(feedback_numbers.get(stage.id)),
            })

        drift = calibration.reviewer_drift(db, campaign=campaign)
        for row in drift:
            reviewer_numbers.setdefault(row.reviewer_id, len(reviewer_numbers) + 1)
        titles = calibration.criterion_titles(db, campaign=campaign) if drift else {}
        bound = float(campaign.calibration_bound)
        calibration_rows = [
            {
                "label": _("Reviewer #%(n)s", n=reviewer_numbers[row.reviewer_id]),
                "reviews": row.reviews,
                "overall": fmt.signed(row.overall),
                "recent": fmt.signed(row.recent),
                "criteria": [(titles.get(key, {}).get(locale, key), fmt.signed(value))
                             for key, value in row.recent_by_criterion.items()],
                "flagged": row.flagged,
                "line_svg": charts.drift_line(
                    values=row.series, bound=bound, width=140, height=34,
                    title=_("Deviation from the reference, calibration answer by answer")),
            }
            for row in sorted(drift, key=lambda r: reviewer_numbers[r.reviewer_id])
        ]

        return {
            "lang": locale,
            "company_name": company_name(locale),
            "campaign_title": campaign.title(locale),
            "campaign_key": campaign.key,
            "generated_on": fmt.date(utcnow()),
            "period": f"{fmt.date(campaign.opens_at, campaign.time_zone)} – "
                      f"{fmt.date(campaign.closes_at, campaign.time_zone)}",
            "funnel_svg": charts.funnel_chart(
                steps=steps, title=_("From registration to hire"),
                empty_label=_("No data"), value_format=fmt.number),
            "eligibility_failures": [(label, count) for label, count in failures],
            "eligibility_svg": charts.bar_chart(
                items=failures, title=_("Applicants by the rule they failed"),
                empty_label=_("No data"), value_format=fmt.number),
            "stage_sections": sections,
            "calibration_rows": calibration_rows,
            "calibration_bound": fmt.score(bound),
            "calibration_window": calibration.DRIFT_WINDOW,
            "calibration_min": calibration.DRIFT_MIN_REVIEWS,
            "offers": _offers_by_role(db, campaign=campaign, locale=locale),
            "integrity": _integrity_section(db, campaign=campaign, fmt=fmt),
        }


def _integrity_section(db: Session, *, campaign: Campaign, fmt: _Fmt) -> dict:
    """Near-duplicate pairs of the campaign: how many, their similarity, clusters (codes)."""
    figures = integrity.campaign_integrity(db, campaign=campaign)
    return {
        "threshold": figures.threshold,
        "pairs": figures.pairs,
        "stored": len(figures.similarities),
        "flagged_similar": figures.flagged_similar,
        "flagged_pasted": figures.flagged_pasted,
        "paste_threshold": figures.paste_threshold,
        "histogram_svg": charts.histogram(
            values=[100 * value for value in figures.similarities], bins=SIMILARITY_BINS,
            title=_("Similarity of alike answer pairs, per cent"),
            empty_label=_("No alike answers found"), value_format=fmt.number),
        "clusters": [{"task": _("Task %(n)s", n=cluster.position), "codes": cluster.codes,
                      "highest": format_percent(cluster.highest, locale=fmt.locale)}
                     for cluster in figures.clusters],
    }


def _feedback_line(numbers: feedback.FeedbackNumbers | None) -> str:
    """How a stage's candidates took their feedback, in words."""
    if numbers is None or not numbers.enabled:
        return _("Feedback for candidates is off for this stage.")
    return ngettext("Feedback opened by %(opened)s of the %(num)s candidate with a final "
                    "decision.",
                    "Feedback opened by %(opened)s of the %(num)s candidates with a final "
                    "decision.", numbers.decided, opened=numbers.opened)


# -- CSV exports --------------------------------------------------------------------------------

def campaign_results_table(db: Session, *, campaign: Campaign) -> tuple[list[str], list[list]]:
    """Pseudonymous results of every candidacy: header and rows (codes, states, scores)."""
    with force_locale("en"):
        stages = _stages(db, campaign_id=campaign.id, locale="en")
    reviews = _campaign_reviews(db, campaign_id=campaign.id)
    by_stage: dict[int, list[_ReviewRow]] = defaultdict(list)
    for row in reviews:
        by_stage[row.stage_id].append(row)
    stage_scores = {stage.id: _stage_scores(by_stage.get(stage.id, [])) for stage in stages}
    criteria: dict[int, dict[str, float]] = defaultdict(dict)
    for candidacy_id, key, average in db.execute(
        select(Submission.candidacy_id, Criterion.key, func.avg(CriterionScore.value))
        .join(Criterion, Criterion.id == CriterionScore.criterion_id)
        .join(Review, Review.id == CriterionScore.review_id)
        .join(Answer, Answer.id == Review.answer_id)
        .join(Submission, Submission.id == Answer.submission_id)
        .join(Candidacy, Candidacy.id == Submission.candidacy_id)
        .where(Candidacy.campaign_id == campaign.id)
        .group_by(Submission.candidacy_id, Criterion.key)
    ):
        criteria[candidacy_id][key] = float(average)
    criterion_keys = list(_criterion_titles(stages))
    criterion_keys += sorted({k for c in criteria.values() for k in c} - set(criterion_keys))

    header = ["code", "state"]
    for stage in stages:
        header += [f"{stage.key}_score", f"{stage.key}_raw", f"{stage.key}_reviews"]
    header += [f"avg_{key}" for key in criterion_keys]

    def number(value: float | None) -> str:
        # Machine-readable: a dot, two decimals, whatever the coordinator's language.
        return "" if value is None else f"{value:.2f}"

    rows = []
    for candidacy_id, code, state in db.execute(
        select(Candidacy.id, Candidacy.code, Candidacy.state)
        .where(Candidacy.campaign_id == campaign.id).order_by(Candidacy.code)
    ):
        row: list = [code, state]
        for stage in stages:
            result = stage_scores[stage.id].get(candidacy_id)
            row += [number(result.score), number(result.raw), result.reviews] if result \
                else ["", "", 0]
        row += [number(criteria[candidacy_id].get(key)) for key in criterion_keys]
        rows.append(row)
    return header, rows


def hires_table(db: Session, *, campaign: Campaign,
                locale: str) -> tuple[list[str], list[list]]:
    """NAMED: accepted offers of a campaign with each hire's name and contacts (custodian)."""
    locale = document_locale(locale)
    offers = db.execute(
        select(Offer.id, Offer.start_date, Offer.salary, Offer.currency, Offer.work_format,
               Offer.alternate, JobRole.title_en, JobRole.title_ru, Candidacy.code,
               Candidacy.user_id)
        .join(Candidacy, Candidacy.id == Offer.candidacy_id)
        .join(JobRole, JobRole.id == Offer.job_role_id)
        .where(Candidacy.campaign_id == campaign.id, Offer.status == "accepted")
        .order_by(Offer.start_date, Offer.id)
    ).all()
    user_ids = [row.user_id for row in offers if row.user_id is not None]
    sealed = {
        user_id: (seal, email)
        for user_id, seal, email in db.execute(
            select(Identity.user_id, Identity.sealed, User.email)
            .join(User, User.id == Identity.user_id)
            .where(Identity.user_id.in_(user_ids))
        )
    } if user_ids else {}
    opened_vault = vault.get_vault()
    header = ["offer", "code", "role", "alternate", "start_date", "salary", "currency",
              "work_format", "last_name", "first_name", "middle_name", "email", "phone",
              "city", "vk", "handle"]
    rows = []
    for row in offers:
        seal = sealed.get(row.user_id)
        who = opened_vault.open(seal[0], email=seal[1]) if seal else vault.IdentityData()
        rows.append([
            offer_reference(row.id), row.code, row.title_ru if locale == "ru" else row.title_en,
            "yes" if row.alternate else "no", row.start_date.isoformat(), row.salary,
            row.currency, row.work_format, who.last, who.first, who.middle, who.email,
            who.phone, who.city, who.vk, who.handle,
        ])
    return header, rows
