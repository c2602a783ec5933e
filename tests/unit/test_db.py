"""The schema: migrations equal the models, and the constraints that protect the rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from recruit import create_app
from recruit.db import make_engine, utcnow
from recruit.domain.pseudonyms import is_candidacy_code
from recruit.migrate import schema_differences, upgrade
from recruit.models import Campaign, Candidacy, Role, TrackVersion, User
from tests.conftest import app_config
from tests.factories import make_user


def test_migrated_schema_equals_models(new_database):
    engine = make_engine(new_database())
    upgrade(engine)
    assert schema_differences(engine) == []
    engine.dispose()


def test_engine_settings_of_the_database_under_test(db, db_kind):
    if db_kind == "sqlite":
        assert db.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        assert db.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
    else:
        assert db.get_bind().dialect.driver == "psycopg"
        assert db.execute(sa.text("SHOW server_version")).scalar().startswith("15")


def _insert_fails(db, obj) -> None:
    with pytest.raises(IntegrityError), db.begin_nested():
        db.add(obj)
        db.flush()


def test_email_is_unique(db):
    make_user(db, email="same@example.org")
    _insert_fails(db, User(email="same@example.org", password_hash="x", role=Role.APPLICANT))


def test_at_most_one_custodian_is_enforced_by_the_database(db):
    make_user(db, role=Role.COORDINATOR, custodian=True)
    second = make_user(db, role=Role.COORDINATOR)
    with pytest.raises(IntegrityError), db.begin_nested():
        db.execute(sa.update(User).where(User.id == second.id).values(is_custodian=True))


def test_a_reviewer_can_never_hold_the_custodian_flag(db):
    _insert_fails(db, User(email="r@example.org", password_hash="x", role=Role.REVIEWER,
                           is_custodian=True))


def _campaign(db) -> Campaign:
    version = TrackVersion(kind="track", key="t", content_hash="h" * 64, data={},
                           source_name="t.toml")
    now = utcnow()
    campaign = Campaign(key="wave", title_en="Wave", title_ru="Волна", track_version=version,
                        opens_at=now, closes_at=now + timedelta(days=30))
    db.add(campaign)
    db.flush()
    return campaign


def test_one_candidacy_per_applicant_and_campaign(db):
    campaign = _campaign(db)
    user = make_user(db)
    db.add(Candidacy(user_id=user.id, campaign_id=campaign.id))
    db.flush()
    _insert_fails(db, Candidacy(user_id=user.id, campaign_id=campaign.id))


def test_candidacy_codes_are_random_not_sequential(db):
    campaign = _campaign(db)
    codes = []
    for _ in range(20):
        candidacy = Candidacy(user_id=make_user(db).id, campaign_id=campaign.id)
        db.add(candidacy)
        db.flush()
        codes.append(candidacy.code)
    assert all(is_candidacy_code(c) for c in codes)
    assert len(set(codes)) == len(codes)
    assert codes != sorted(codes)


def test_campaign_must_close_after_it_opens(db):
    campaign = _campaign(db)
    version = campaign.track_version
    now = utcnow()
    _insert_fails(db, Campaign(key="bad", title_en="B", title_ru="Б", track_version=version,
                               opens_at=now, closes_at=now - timedelta(days=1)))


def _seed_at_0001(conn) -> None:
    """A campaign with reviewed answers, inserted through the 0001 schema (plain SQL)."""
    now = utcnow().replace(tzinfo=None)
    later = now + timedelta(days=30)

    def insert(table: str, **values) -> int:
        columns = ", ".join(f'"{k}"' for k in values)
        marks = ", ".join(f":{k}" for k in values)
        # Table and column names are this test's own literals, never input.
        return conn.execute(sa.text(f'INSERT INTO "{table}" ({columns}) VALUES ({marks}) '  # noqa: S608
                                    "RETURNING id"), values).scalar_one()

    reviewer = insert("user", email="r@example.org", password_hash="x", role="reviewer",
                      is_custodian=False, active=True, locale="en", created_at=now)
    version = insert("track_version", kind="track", key="t", content_hash="h" * 64, data="{}",
                     source_name="t.toml", loaded_at=now)
    campaigns = [insert("campaign", key=f"wave-{i}", title_en="Support agent — May 2026",
                        title_ru="Оператор — май 2026", track_version_id=version,
                        opens_at=now, closes_at=later, min_age=18, citizenships="[]",
                        acknowledgements="[]", reviews_per_answer=2, max_reviews=4,
                        disagreement_threshold=1.5, normalise_min_reviews=8, lease_minutes=30,
                        created_at=now) for i in range(3)]
    stage = insert("stage", campaign_id=campaigns[0], position=1, key="s", title_en="S",
                   title_ru="С", instructions_en="", instructions_ru="", time_limit_minutes=60,
                   pass_rule_kind="top_n", pass_rule_value=5)
    task = insert("task", stage_id=stage, position=1, key="t", prompt_en="P", prompt_ru="П",
                  guidance_en="", guidance_ru="", min_words=0)
    criterion = insert("criterion", task_id=task, position=1, key="c", title_en="C",
                       title_ru="К", weight=1.0, descriptors="{}")
    for i in range(20):
        candidacy = insert("candidacy", code=f"AB-{i:04d}", campaign_id=campaigns[0],
                           state="submitted", created_at=now, updated_at=now)
        submission = insert("submission", candidacy_id=candidacy, stage_id=stage,
                            started_at=now, deadline_at=later, auto_submitted=False)
        answer = insert("answer", token=f"token-{i}", submission_id=submission, task_id=task,
                        text="x", version=1, redaction_spans="[]", check_status="released",
                        reviews_wanted=2, reviews_done=1, reviews_leased=0)
        assignment = insert("review_assignment", answer_id=answer, reviewer_id=reviewer,
                            status="submitted", leased_at=now, lease_expires_at=now,
                            draft="{}")
        review = insert("review", assignment_id=assignment, answer_id=answer,
                        reviewer_id=reviewer, score_raw=3.0, comment="", submitted_at=now)
        conn.execute(sa.text("INSERT INTO criterion_score (review_id, criterion_id, value) "
                             "VALUES (:r, :c, 3)"), {"r": review, "c": criterion})


def test_upgrading_a_database_with_reviews_keeps_every_row(new_database, tmp_path):
    """Review II copies tables on SQLite (batch mode); nothing that references them may go.
    Answers exist, so the upgrade runs as `recruit db upgrade` does: with the instance's keys."""
    url = new_database()
    engine = make_engine(url)
    upgrade(engine, "0001")
    with engine.begin() as conn:
        _seed_at_0001(conn)
    with create_app(app_config(url, tmp_path)).app_context():
        upgrade(engine)
    with engine.connect() as conn:
        counts = {table: conn.execute(sa.select(sa.func.count()).select_from(sa.table(table))
                                      ).scalar_one()
                  for table in ("answer", "review_assignment", "review", "criterion_score")}
        keys = conn.execute(sa.text("SELECT draw_key FROM answer")).scalars().all()
        titles = conn.execute(sa.text("SELECT title_en, title_ru FROM campaign ORDER BY id")
                              ).all()
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert counts == {"answer": 20, "review_assignment": 20, "review": 20,
                      "criterion_score": 20}
    # Fresh exponential draw keys: all different and positive, not the column default 0.
    assert len(set(keys)) == 20 and min(keys) > 0
    assert [t.title_en for t in titles] == ["Support agent — May 2026",
                                            "Support agent — May 2026 (wave 2)",
                                            "Support agent — May 2026 (wave 3)"]
    assert titles[2].title_ru == "Оператор — май 2026 (волна 3)"
    assert schema_differences(engine) == []
    engine.dispose()
