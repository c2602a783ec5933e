"""Accounts and their roles."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column

from recruit.db import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    """What an account does; the custodian is a coordinator with a flag."""

    APPLICANT = "applicant"
    REVIEWER = "reviewer"
    COORDINATOR = "coordinator"


class User(UserMixin, Base):
    """A login: applicant or staff."""

    __tablename__ = "user"
    __table_args__ = (
        # At most one custodian: a unique index over the rows where the flag is set.
        sa.Index(
            "uq_user_one_custodian",
            "is_custodian",
            unique=True,
            sqlite_where=sa.text("is_custodian = 1"),
            postgresql_where=sa.text("is_custodian"),
        ),
        # The custodian knows identities, so may never review: only a coordinator holds it.
        sa.CheckConstraint(
            "NOT is_custodian OR role = 'coordinator'", name="custodian_is_coordinator"
        ),
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(
        sa.Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    is_custodian: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped on password change and erasure so old sessions stop working.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")

    def get_id(self) -> str:
        """Session identifier: id plus version, so a password change logs out other sessions."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        """Flask-Login: deactivated accounts cannot log in."""
        return self.active

    @property
    def is_staff(self) -> bool:
        """Reviewers and coordinators."""
        return self.role in (Role.REVIEWER, Role.COORDINATOR)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"
