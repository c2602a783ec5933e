"""Offers: issuing within a campaign's capacity, the candidate's answer, expiry, the hires list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from recruit import mail
from recruit.clock import local_day
from recruit.domain import notify
from recruit.domain.pipeline import Event, State, TransitionError, transition
from recruit.models import Campaign, Candidacy, JobRole, Offer, User

WORK_FORMATS = ("remote", "office", "hybrid")
# Offers that hold a place in the campaign; declined and expired ones give it back.
HOLDING = ("issued", "accepted")


class OfferError(Exception):
    """An offer that cannot be made or answered as asked; ``code`` lets the web layer
    translate it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Capacity:
    """How many offers a campaign may hold and holds now."""

    limit: int | None
    used: int

    @property
    def left(self) -> int | None:
        """Offers that can still be issued; None when the campaign has no limit."""
        return None if self.limit is None else max(0, self.limit - self.used)


def today(now: datetime, *, zone: str) -> date:
    """The calendar day offers are dated by: the day in the campaign's time zone, where an
    offer "valid until 7 December" lasts to the end of the 7th."""
    return local_day(now, zone=zone)


def capacity(db: Session, *, campaign: Campaign) -> Capacity:
    """Count the campaign's issued and accepted offers against its capacity."""
    used = db.scalar(
        sa.select(sa.func.count()).select_from(Offer)
        .join(Candidacy, Candidacy.id == Offer.candidacy_id)
        .where(Candidacy.campaign_id == campaign.id, Offer.status.in_(HOLDING))
    )
    return Capacity(limit=campaign.capacity, used=int(used or 0))


def issue(db: Session, *, candidacy: Candidacy, role: JobRole, salary: int, currency: str,
          start_date: date, work_format: str, conditions: list[str | dict[str, str]],
          expires_on: date,
          by: User | None, now: datetime) -> Offer:
    """Offer a role to a candidacy that passed (or, as an alternate role, did not pass).

    The salary may not be below the role's minimum, the offer must still be open tomorrow,
    and the campaign's capacity must have room. The candidate is e-mailed a link.
    """
    try:
        state = transition(State(candidacy.state), Event.OFFER)
    except TransitionError as exc:
        raise OfferError("transition", str(exc)) from exc
    if currency != role.currency:
        raise OfferError("currency", f"the {role.key} role is paid in {role.currency}")
    if salary < role.salary_min:
        raise OfferError("salary_min", f"the salary is below the role's minimum of "
                                       f"{role.salary_min} {role.currency}")
    if work_format not in WORK_FORMATS:
        raise OfferError("work_format", f"unknown work format {work_format!r}")
    day = today(now, zone=candidacy.campaign.time_zone)
    if expires_on <= day:
        raise OfferError("expires_on", "the offer must stay open at least until tomorrow")
    if start_date < day:
        raise OfferError("start_date", "the start date lies in the past")
    # Lock the campaign row so two coordinators cannot both take the last place (PostgreSQL;
    # SQLite serialises writing requests already).
    campaign = db.execute(sa.select(Campaign).where(Campaign.id == candidacy.campaign_id)
                          .with_for_update()).scalar_one()
    expire_due(db, now=now, campaign=campaign)
    room = capacity(db, campaign=campaign)
    if room.left == 0:
        raise OfferError("capacity", f"the campaign's capacity of {room.limit} offers is "
                                     "reached")
    offer = Offer(candidacy_id=candidacy.id, job_role_id=role.id,
                  alternate=candidacy.state == State.NOT_PASSED.value,
                  salary=salary, currency=currency, period=role.period, start_date=start_date,
                  work_format=work_format, conditions=list(conditions),
                  expires_on=expires_on, status="issued",
                  issued_by_id=by.id if by else None, issued_at=now)
    candidacy.state = state.value
    candidacy.updated_at = now
    db.add(offer)
    db.flush()
    user = db.get(User, candidacy.user_id) if candidacy.user_id is not None else None
    if user is not None and user.active:
        locale = user.locale or "en"
        mail.queue(db, to=user.email, template="offer_issued", locale=locale, context={
            "role_title": role.title_ru if locale == "ru" else role.title_en,
            "salary": offer.salary, "currency": offer.currency, "period": offer.period,
            "start_date": offer.start_date, "expires_on": offer.expires_on,
            "time_zone": candidacy.campaign.time_zone,
            "work_format": offer.work_format,
            "conditions": localised_conditions(offer.conditions, locale),
            "link": notify.link("offers.show", offer_id=offer.id),
        })
    return offer


def respond(db: Session, *, offer: Offer, accept: bool, now: datetime) -> Offer:
    """The candidate accepts (hired) or declines an open offer; a lapsed one cannot be."""
    expire_due(db, now=now, offer_ids=[offer.id])
    if offer.status == "expired":
        raise OfferError("expired", "the offer has expired")
    if offer.status != "issued":
        raise OfferError("answered", "the offer has been answered already")
    candidacy = offer.candidacy
    try:
        state = transition(State(candidacy.state), Event.ACCEPT if accept else Event.DECLINE)
    except TransitionError as exc:
        raise OfferError("transition", str(exc)) from exc
    offer.status = "accepted" if accept else "declined"
    offer.responded_at = now
    candidacy.state = state.value
    candidacy.finished_at = now
    candidacy.updated_at = now
    db.flush()
    return offer


def expire_due(db: Session, *, now: datetime, campaign: Campaign | None = None,
               offer_ids: list[int] | None = None, user_id: int | None = None) -> int:
    """Let every issued offer past its last day lapse (optionally only some); returns how many.

    Called by ``recruit offers expire`` and lazily before offers are shown or answered.
    """
    # Every offer past its last day in UTC, and those whose campaign's zone is already a day
    # ahead; the zone of each decides below.
    query = (sa.select(Offer).join(Candidacy, Candidacy.id == Offer.candidacy_id)
             .where(Offer.status == "issued", Offer.expires_on <= now.date()))
    if campaign is not None:
        query = query.where(Candidacy.campaign_id == campaign.id)
    if offer_ids is not None:
        query = query.where(Offer.id.in_(offer_ids))
    if user_id is not None:
        query = query.where(Candidacy.user_id == user_id)
    count = 0
    for offer in db.scalars(query.options(joinedload(Offer.candidacy)
                                          .joinedload(Candidacy.campaign))):
        if offer.expires_on >= today(now, zone=offer.candidacy.campaign.time_zone):
            continue
        offer.status = "expired"
        candidacy = offer.candidacy
        candidacy.state = transition(State(candidacy.state), Event.EXPIRE).value
        candidacy.finished_at = now
        candidacy.updated_at = now
        count += 1
    if count:
        db.flush()
    return count


def conditions_from_text(text: str) -> list[str]:
    """One condition per non-empty line."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def standard_conditions(role: JobRole) -> dict[str, str]:
    """The role's own conditions in both languages, as copied onto an offer."""
    return {"en": " ".join(role.conditions_en.split()), "ru": " ".join(role.conditions_ru.split())}


def localised_conditions(conditions: list, locale: str) -> list[str]:
    """An offer's conditions in one language: entries are plain text or {"en": …, "ru": …}."""
    result = []
    for item in conditions or []:
        if isinstance(item, dict):
            item = item.get(locale) or item.get("en") or ""
        if str(item).strip():
            result.append(str(item).strip())
    return result
