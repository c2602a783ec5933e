"""The wave a storm runs on: a reviewed pool from bench/seed.py, plus N applicants in stage 1
whose deadline falls inside the run.

The storm applicants are rows written with bulk inserts like the pool (an account, a sealed
identity with a real-looking name, a passed eligibility check, a candidacy taking stage 1, a
started submission with three empty drafts). Their deadline is set when the run starts.

Sessions: everyone in a storm has been logged in for a while (applicants started the stage an
hour ago), so the storm hands each simulated browser the session cookie a login would have
left — signed with the instance's key by the application's own session interface, bound to
127.0.0.1 and the storm's user agent as Flask-Login's strong protection wants. Logging in
under load is what bench/soak.py covers.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from bench import seed as pool_seed
from recruit.db import utcnow
from recruit.domain.accounts import hash_password
from recruit.domain.pipeline import State
from recruit.models import (
    Answer,
    Campaign,
    Candidacy,
    EligibilityCheck,
    Identity,
    Submission,
    Task,
    User,
)
from recruit.vault import Vault

USER_AGENT = "recruit-storm/1 (locust)"
CHUNK = 2_000


@dataclass
class StormApplicant:
    """One simulated person: their account, candidacy and the three answers they write."""

    user_id: int
    candidacy_id: int
    submission_id: int
    answer_ids: list[int]


@dataclass
class World:
    """What the storm needs to know about the seeded wave."""

    campaign_id: int
    stage_id: int
    task_ids: list[int]
    task_limits: list[tuple[int, int | None]]
    applicants: list[StormApplicant] = field(default_factory=list)
    reviewer_ids: list[int] = field(default_factory=list)
    coordinator_id: int = 0
    seconds: float = 0.0

    @property
    def submission_ids(self) -> list[int]:
        """The storm applicants' submissions."""
        return [a.submission_id for a in self.applicants]


def seed_world(engine: sa.Engine, *, applicants: int, pool: int, reviewers: int,
               keys: list[str], random_seed: int = 7) -> World:
    """Seed the pool (reviewed answers, staff) and ``applicants`` people taking stage 1."""
    started = time.perf_counter()
    report = pool_seed.seed(engine, applicants=pool, keys=keys, random_seed=random_seed,
                            unreviewed=0.9)
    # Not the pool's seed: the same stream would draw the pool's answer tokens again.
    rng = random.Random(random_seed + 1_000_003)
    vault = Vault(keys)
    now = utcnow()
    password_hash = hash_password(pool_seed.PASSWORD)
    with engine.connect() as conn:
        campaign_id, stage_id = report.campaign_id, report.stage_id
        tasks = conn.execute(sa.select(Task.id, Task.min_words, Task.max_words)
                             .where(Task.stage_id == stage_id).order_by(Task.position)).all()
        staff = dict(conn.execute(sa.select(User.email, User.id).where(User.email.in_(
            [pool_seed.COORDINATOR_EMAIL] + [pool_seed.reviewer_email(n)
                                             for n in range(1, reviewers + 1)]))).all())
        taken = set(conn.execute(sa.select(Candidacy.code)).scalars())
    world = World(campaign_id=campaign_id, stage_id=stage_id, task_ids=[t.id for t in tasks],
                  task_limits=[(t.min_words or 0, t.max_words) for t in tasks],
                  reviewer_ids=[staff[pool_seed.reviewer_email(n)]
                                for n in range(1, reviewers + 1)],
                  coordinator_id=staff[pool_seed.COORDINATOR_EMAIL])
    codes = [c for c in pool_seed._codes(applicants + len(taken) + 50, rng) if c not in taken]
    with engine.connect() as conn:
        for start in range(0, applicants, CHUNK):
            with conn.begin():
                ids = pool_seed._next_ids(conn, User, Identity, EligibilityCheck, Candidacy,
                                          Submission, Answer)
                rows: dict[str, list[dict]] = {k: [] for k in ids}
                for k, n in enumerate(range(start, min(applicants, start + CHUNK))):
                    _storm_rows(rows, ids, k, n, code=codes[n], now=now, rng=rng, vault=vault,
                                password_hash=password_hash, campaign_id=campaign_id,
                                stage_id=stage_id, task_ids=world.task_ids)
                    answer_ids = [ids["answer"] + k * 3 + t for t in range(3)]
                    world.applicants.append(StormApplicant(ids["user"] + k,
                                                           ids["candidacy"] + k,
                                                           ids["submission"] + k, answer_ids))
                for model in (User, Identity, EligibilityCheck, Candidacy, Submission, Answer):
                    conn.execute(sa.insert(model.__table__), rows[model.__tablename__])
        if conn.dialect.name == "postgresql":
            pool_seed.sync_sequences(conn)
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    world.seconds = time.perf_counter() - started
    return world


def _storm_rows(rows, ids, k: int, n: int, *, code: str, now: datetime, rng: random.Random,
                vault: Vault, password_hash: str, campaign_id: int, stage_id: int,
                task_ids: list[int]) -> None:
    user_id, cand_id, sub_id = ids["user"] + k, ids["candidacy"] + k, ids["submission"] + k
    applied = now - timedelta(days=2)
    started = now - timedelta(hours=1)
    rows["user"].append({"id": user_id, "email": f"storm{n:06d}@{pool_seed.DOMAIN}",
                         "password_hash": password_hash, "role": "applicant",
                         "is_custodian": False, "active": True,
                         "locale": "ru" if n % 4 else "en", "email_confirmed_at": applied,
                         "created_at": applied, "session_version": 1})
    birth = date(1980, 1, 1) + timedelta(days=rng.randrange(0, 365 * 25))
    fields = {"first": rng.choice(pool_seed.FIRST), "middle": rng.choice(pool_seed.MIDDLE),
              "last": rng.choice(pool_seed.LAST), "birth_date": birth.isoformat(),
              "citizenship": rng.choice(pool_seed.CITIZENSHIPS),
              "phone": f"+7 9{rng.randrange(10**9):09d}", "city": rng.choice(pool_seed.CITIES),
              "vk": f"id{rng.randrange(10**8)}", "handle": f"@storm{n}"}
    rows["identity"].append({"id": ids["identity"] + k, "user_id": user_id,
                             "sealed": vault.seal(fields), "created_at": applied,
                             "updated_at": applied})
    rows["eligibility_check"].append({"id": ids["eligibility_check"] + k, "user_id": user_id,
                                      "campaign_id": campaign_id, "passed": True, "reasons": [],
                                      "checked_at": applied})
    rows["candidacy"].append({"id": cand_id, "code": code, "user_id": user_id,
                              "campaign_id": campaign_id, "state": State.IN_STAGE.value,
                              "current_stage_id": stage_id, "created_at": applied,
                              "updated_at": started})
    # The deadline is moved into the run when it starts (set_deadline).
    rows["submission"].append({"id": sub_id, "candidacy_id": cand_id, "stage_id": stage_id,
                               "started_at": started, "deadline_at": now + timedelta(days=1),
                               "submitted_at": None, "auto_submitted": False})
    for t, task_id in enumerate(task_ids):
        rows["answer"].append({"id": ids["answer"] + k * 3 + t, "token": pool_seed._token(rng),
                               "submission_id": sub_id, "task_id": task_id, "text": "",
                               "version": 0, "saved_at": None, "redacted_text": None,
                               "redaction_spans": [], "check_status": "draft",
                               "released_at": None, "reviews_wanted": 0, "reviews_done": 0})


def set_deadline(engine: sa.Engine, world: World, *, at: datetime) -> None:
    """Move the storm applicants' deadline to ``at`` (the campaign stays open past it)."""
    with engine.begin() as conn:
        conn.execute(sa.update(Submission).where(Submission.id.in_(world.submission_ids))
                     .values(deadline_at=at))
        conn.execute(sa.update(Campaign).where(Campaign.id == world.campaign_id)
                     .values(closes_at=max(at + timedelta(days=1), utcnow())))


def session_cookies(app, user_ids: list[int]) -> dict[int, str]:
    """The session cookie each user's browser holds after logging in (see the module doc)."""
    from flask_login.utils import _create_identifier

    serializer = app.session_interface.get_signing_serializer(app)
    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"},
                                  headers={"User-Agent": USER_AGENT}):
        identifier = _create_identifier()
    return {uid: serializer.dumps({"_user_id": f"{uid}:1", "_fresh": True, "_id": identifier})
            for uid in user_ids}


#: Stands in for an id in a path template; the load process fills in the real one.
SLOT = 987654321


def urls(app, world: World) -> dict[str, str]:
    """Path templates ({id} for the varying id), built by the application's own URL map."""
    from flask import url_for

    def template(endpoint: str, **values) -> str:
        return url_for(endpoint, **values).replace(str(SLOT), "{id}")

    with app.test_request_context():
        return {
            "ranking": url_for("decisions.stage", campaign_id=world.campaign_id,
                               stage_id=world.stage_id),
            "stage": template("applicant.stage", candidacy_id=SLOT, stage_id=world.stage_id),
            "submit": template("applicant.stage_submit", candidacy_id=SLOT,
                               stage_id=world.stage_id),
            "autosave": template("applicant.autosave", answer_id=SLOT),
            "next": template("review.next_answer", task_id=SLOT),
            "review_home": url_for("review.home"),
        }
