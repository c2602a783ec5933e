"""Factories for test data: small functions with sensible defaults."""

from __future__ import annotations

import itertools

from recruit.domain import accounts
from recruit.models import Role, User

_seq = itertools.count(1)
# scrypt is deliberately slow; hash the shared test password once.
PASSWORD = "correct horse battery"
_HASH = accounts.hash_password(PASSWORD)


def make_user(db, *, role: Role = Role.APPLICANT, email: str | None = None,
              custodian: bool = False, confirmed: bool = True, locale: str = "en") -> User:
    """A user of the given role (the custodian flag is handed over properly)."""
    n = next(_seq)
    email = email or f"{role.value}{n}@example.org"
    user = User(email=email, password_hash=_HASH,
                role=role, locale=locale)
    if confirmed:
        from recruit.db import utcnow

        user.email_confirmed_at = utcnow()
    db.add(user)
    db.flush()
    if custodian:
        accounts.make_custodian(db, user=user, by=None)
    return user
