"""Offers of a role to a candidacy, primary or alternate."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from recruit.db import Base, UTCDateTime, utcnow


class Offer(Base):
    """An offer: role, pay, start, format, conditions, expiry, and the candidate's answer."""

    __tablename__ = "offer"
    __table_args__ = (
        sa.CheckConstraint("salary > 0", name="salary_positive"),
        sa.CheckConstraint(
            "status IN ('issued', 'accepted', 'declined', 'expired', 'withdrawn')", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidacy_id: Mapped[int] = mapped_column(
        sa.ForeignKey("candidacy.id", ondelete="CASCADE"), index=True
    )
    job_role_id: Mapped[int] = mapped_column(sa.ForeignKey("job_role.id"))
    alternate: Mapped[bool] = mapped_column(default=False)
    salary: Mapped[int]
    currency: Mapped[str] = mapped_column(sa.String(3))
    period: Mapped[str] = mapped_column(sa.String(16), default="month")
    start_date: Mapped[date]
    work_format: Mapped[str] = mapped_column(sa.String(16))
    conditions: Mapped[list] = mapped_column(sa.JSON, default=list)
    expires_on: Mapped[date]
    status: Mapped[str] = mapped_column(sa.String(10), default="issued", index=True)
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    candidacy = relationship("Candidacy")
    job_role = relationship("JobRole")
