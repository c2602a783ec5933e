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


def wave_with_expired_stages(app, count: int, *, texts: bool = True,
                             key: str = "deadline") -> list[int]:
    """``count`` applicants whose stage 1 ended an hour ago (each with a saved draft unless
    ``texts`` is false); returns their submission ids."""
    from datetime import timedelta

    from recruit import clock
    from recruit.db import get_db
    from recruit.domain import applications, tracks

    now = clock.now()
    with app.app_context():
        db = get_db()
        tracks.load_shipped(db)
        wave = tracks.create_campaign(db, track_key="support-agent", key=key,
                                      opens_at=now - timedelta(days=1),
                                      closes_at=now + timedelta(days=1))
        ids = []
        for n in range(count):
            user = make_user(db, role=Role.APPLICANT)
            candidacy = applications.apply(db, user=user, campaign=wave, now=now)
            submission = applications.start_stage(db, candidacy=candidacy,
                                                  stage=wave.stages[0],
                                                  now=now - timedelta(hours=2, minutes=30))
            if texts:
                applications.save_answer(db, answer=submission.answers[0], text=f"draft {n}",
                                         base_version=0, now=now - timedelta(hours=2))
            ids.append(submission.id)
        db.commit()
    return ids
