"""The append-only audit log, each event chained to the previous one by a keyed hash."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from recruit.db import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    """Something that must be accountable: a reveal, a custodian handover, a purge."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Position in the chain (1, 2, …): signed with the event, so a cut is visible.
    seq: Mapped[int] = mapped_column(unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    subject: Mapped[str] = mapped_column(sa.String(128), default="")
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # Unique: two events can never chain onto the same predecessor (no forks).
    prev_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
