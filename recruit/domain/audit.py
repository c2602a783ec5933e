"""The hash-chained audit log: append events, verify the chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from recruit.db import utcnow
from recruit.models import AuditEvent

GENESIS = "0" * 64


def _digest(*, prev_hash: str, at: datetime, actor_id: int | None, action: str, subject: str,
            details: dict) -> str:
    payload = json.dumps(
        [prev_hash, at.isoformat(timespec="microseconds"), actor_id, action, subject, details],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def record(db: Session, *, action: str, actor_id: int | None, subject: str = "",
           details: dict | None = None) -> AuditEvent:
    """Append an event chained to the newest one."""
    if db.get_bind().dialect.name == "postgresql":
        # Serialise writers so two transactions never chain onto the same predecessor.
        db.execute(text("SELECT pg_advisory_xact_lock(7301)"))
    prev = db.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)) or GENESIS
    at = utcnow()
    details = dict(details or {})
    event = AuditEvent(
        at=at,
        actor_id=actor_id,
        action=action,
        subject=subject,
        details=details,
        prev_hash=prev,
        hash=_digest(prev_hash=prev, at=at, actor_id=actor_id, action=action, subject=subject,
                     details=details),
    )
    db.add(event)
    db.flush()
    return event


@dataclass(frozen=True)
class Break:
    """The first place where the chain does not hold."""

    event_id: int
    problem: str


def verify(db: Session) -> tuple[int, Break | None]:
    """Walk the chain in order; return how many events were checked and the first break."""
    prev = GENESIS
    count = 0
    for event in db.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(1000):
        count += 1
        if event.prev_hash != prev:
            return count, Break(event.id, "does not follow the previous event (one was removed "
                                          "or reordered)")
        expected = _digest(prev_hash=event.prev_hash, at=event.at, actor_id=event.actor_id,
                           action=event.action, subject=event.subject, details=event.details)
        if expected != event.hash:
            return count, Break(event.id, "its content was edited after it was written")
        prev = event.hash
    return count, None
