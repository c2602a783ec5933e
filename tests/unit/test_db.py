"""The schema: migrations equal the models, and the constraints that protect the rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from recruit.db import make_engine, utcnow
from recruit.domain.pseudonyms import is_candidacy_code
from recruit.migrate import schema_differences, upgrade
from recruit.models import Campaign, Candidacy, Role, TrackVersion, User
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
