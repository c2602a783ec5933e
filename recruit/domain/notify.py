"""E-mails to applicants about their candidacy, queued in the outbox in the caller's transaction.

Each function finds the applicant's address and language itself (from ``candidacy.user_id``)
and does nothing when the account was erased: a pseudonymous candidacy has nobody to write to.
Templates live in ``templates/mail/<name>.{subject.txt,txt,html}``. Links use PUBLIC_URL, so
messages queued from the CLI point at the public site too.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from recruit import mail
from recruit.domain.eligibility import Failure, citizenship_choices
from recruit.models import (
    Campaign,
    Candidacy,
    JobRole,
    OutboxMessage,
    Stage,
    Submission,
    User,
    WaitlistEntry,
)


def link(endpoint: str, **values) -> str:
    """An absolute link to a page of the site, built from PUBLIC_URL (no request needed)."""
    adapter = current_app.url_map.bind("localhost")
    return current_app.config["PUBLIC_URL"].rstrip("/") + adapter.build(endpoint, values)


def _recipient(db: Session, candidacy: Candidacy) -> User | None:
    if candidacy.user_id is None:
        return None
    user = db.get(User, candidacy.user_id)
    return user if user is not None and user.active else None


def _locale(user: User) -> str:
    languages = current_app.config["LANGUAGES"]
    return user.locale if user.locale in languages else languages[0]


def _send(db: Session, user: User, template: str, **context) -> OutboxMessage:
    return mail.queue(db, to=user.email, template=template, locale=_locale(user),
                      context=context)


def application_received(db: Session, *, candidacy: Candidacy) -> OutboxMessage | None:
    """Tell the applicant their application is in and how the first stage works."""
    user = _recipient(db, candidacy)
    if user is None:
        return None
    campaign = candidacy.campaign
    first = campaign.stages[0] if campaign.stages else None
    return _send(db, user, "application_received",
                 campaign_title=campaign.title(_locale(user)),
                 stage_title=first.title(_locale(user)) if first else "",
                 minutes=first.time_limit_minutes if first else 0,
                 tasks=len(first.tasks) if first else 0,
                 closes_at=campaign.closes_at, time_zone=campaign.time_zone,
                 link=link("applicant.candidacy", candidacy_id=candidacy.id))


def not_eligible(db: Session, *, user: User, campaign: Campaign | None,
                 failures: tuple[Failure, ...] | list[Failure]) -> OutboxMessage:
    """Tell an applicant which eligibility rule they did not meet."""
    locale = _locale(user)
    return _send(db, user, "not_eligible",
                 campaign_title=campaign.title(locale) if campaign else "",
                 failures=list(failures),
                 acknowledgements={a["key"]: a.get(locale) or a["en"]
                                   for a in (campaign.acknowledgements if campaign else [])},
                 countries=dict(citizenship_choices(locale=locale)),
                 link=link("applicant.home"))


def _feedback_link(candidacy: Candidacy, stage: Stage, feedback: bool) -> str | None:
    return link("feedback.show", candidacy_id=candidacy.id, stage_id=stage.id) if feedback \
        else None


def stage_passed(db: Session, *, candidacy: Candidacy, stage: Stage,
                 next_stage: Stage | None, feedback: bool = False) -> OutboxMessage | None:
    """Tell the applicant they passed a stage and what the next one holds (None: the last);
    ``feedback`` adds the link to their feedback on the stage."""
    user = _recipient(db, candidacy)
    if user is None:
        return None
    locale = _locale(user)
    return _send(db, user, "stage_passed",
                 campaign_title=candidacy.campaign.title(locale),
                 stage_position=stage.position, stage_title=stage.title(locale),
                 next_title=next_stage.title(locale) if next_stage else None,
                 next_minutes=next_stage.time_limit_minutes if next_stage else None,
                 next_tasks=len(next_stage.tasks) if next_stage else 0,
                 link=(link("applicant.stage", candidacy_id=candidacy.id,
                            stage_id=next_stage.id) if next_stage
                       else link("applicant.candidacy", candidacy_id=candidacy.id)),
                 feedback_link=_feedback_link(candidacy, stage, feedback))


def stage_submitted(db: Session, *, submission: Submission) -> OutboxMessage | None:
    """Confirm a handed-in stage: by the applicant, or automatically when the time ran out."""
    candidacy = submission.candidacy
    user = _recipient(db, candidacy)
    if user is None:
        return None
    locale = _locale(user)
    stage = submission.stage
    return _send(db, user, "stage_submitted",
                 campaign_title=candidacy.campaign.title(locale),
                 stage_position=stage.position, stage_title=stage.title(locale),
                 auto=submission.auto_submitted, submitted_at=submission.submitted_at,
                 time_zone=candidacy.campaign.time_zone,
                 link=link("applicant.candidacy", candidacy_id=candidacy.id))


def stage_not_passed(db: Session, *, candidacy: Candidacy, stage: Stage,
                     alternate: JobRole | None = None,
                     feedback: bool = False) -> OutboxMessage | None:
    """Tell the applicant they did not pass a stage; ``alternate`` names a role we may offer
    instead (the offer itself comes separately), ``feedback`` adds the link to their
    feedback on the stage."""
    user = _recipient(db, candidacy)
    if user is None:
        return None
    locale = _locale(user)
    return _send(db, user, "stage_not_passed",
                 campaign_title=candidacy.campaign.title(locale),
                 stage_position=stage.position, stage_title=stage.title(locale),
                 alternate_title=(alternate.title_ru if locale == "ru" else alternate.title_en)
                 if alternate is not None else None,
                 link=link("applicant.candidacy", candidacy_id=candidacy.id),
                 feedback_link=_feedback_link(candidacy, stage, feedback))


def wave_opened(db: Session, *, user: User, campaign: Campaign) -> OutboxMessage:
    """Tell someone on the waitlist that a wave is open."""
    return _send(db, user, "wave_opened", campaign_title=campaign.title(_locale(user)),
                 closes_at=campaign.closes_at, time_zone=campaign.time_zone,
                 link=link("applicant.home"))


def notify_waitlist(db: Session, *, campaign: Campaign, now: datetime) -> int:
    """E-mail everyone waiting once the campaign is open; returns how many were told.

    Call it when a campaign is created or opens; `recruit waitlist notify` runs it for every
    open campaign. Nothing happens before the campaign opens, and nobody is told twice."""
    if not campaign.is_open(now):
        return 0
    rows = db.execute(
        sa.select(WaitlistEntry, User).join(User, User.id == WaitlistEntry.user_id)
        .where(WaitlistEntry.notified_at.is_(None)).order_by(WaitlistEntry.id)
        # Two runs at once must not both mail the same person (PostgreSQL; SQLite serialises).
        .with_for_update(of=WaitlistEntry, skip_locked=True)
    ).all()
    count = 0
    for entry, user in rows:
        entry.notified_at = now
        if user.active:
            wave_opened(db, user=user, campaign=campaign)
            count += 1
    db.flush()
    return count
