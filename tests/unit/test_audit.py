"""The audit log is append-only in effect: any edit or removal breaks the hash chain."""

from __future__ import annotations

import sqlalchemy as sa

from recruit.domain import audit
from recruit.models import AuditEvent


def _three_events(db):
    for n in range(3):
        audit.record(db, action="identity.view", actor_id=None, subject=f"candidacy:{n}",
                     details={"reason": f"reason {n}"})


def test_an_untouched_chain_verifies(db):
    _three_events(db)
    count, broken = audit.verify(db)
    assert count >= 3
    assert broken is None


def test_an_edited_event_is_reported(db):
    _three_events(db)
    second = db.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).all()[1]
    db.execute(sa.update(AuditEvent).where(AuditEvent.id == second.id)
               .values(details={"reason": "forged"}))
    db.expire_all()
    _, broken = audit.verify(db)
    assert broken is not None
    assert broken.event_id == second.id
    assert "edited" in broken.problem


def test_a_removed_event_is_reported_at_its_successor(db):
    _three_events(db)
    events = db.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(3)).all()
    newest, middle = events[0], events[1]
    db.execute(sa.delete(AuditEvent).where(AuditEvent.id == middle.id))
    db.expire_all()
    _, broken = audit.verify(db)
    assert broken is not None
    assert broken.event_id == newest.id
    assert "removed" in broken.problem
