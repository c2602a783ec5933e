"""Retention: `recruit purge --older-than DAYS` erases identities, keeps the statistics."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from recruit import ops
from recruit.cli import cli
from recruit.db import get_db, utcnow
from recruit.domain import audit, tracks
from recruit.models import AuditEvent, Candidacy, Identity, Role
from recruit.vault import store_identity
from tests.factories import make_user

NOW = utcnow()


def _campaigns(db):
    tracks.load_shipped(db)
    return [
        tracks.create_campaign(db, track_key="support-agent", key=f"purge-wave-{n}",
                               opens_at=NOW - timedelta(days=400),
                               closes_at=NOW + timedelta(days=30))
        for n in (1, 2)
    ]


def _person(db, campaigns, *states: tuple[str, int | None, int]):
    """An applicant with an identity and one candidacy per (state, finished days ago, updated
    days ago)."""
    user = make_user(db, role=Role.APPLICANT)
    store_identity(db, user=user, fields={"first": "Ivan", "last": "Petrov"})
    for campaign, (state, finished, updated) in zip(campaigns, states, strict=False):
        db.add(Candidacy(
            user_id=user.id, campaign_id=campaign.id, state=state,
            finished_at=None if finished is None else NOW - timedelta(days=finished),
            updated_at=NOW - timedelta(days=updated),
        ))
    db.flush()
    return user


@pytest.fixture
def people(db):
    campaigns = _campaigns(db)
    return {
        "rejected long ago": _person(db, campaigns, ("not_passed", 100, 100)),
        "withdrew recently": _person(db, campaigns, ("withdrawn", 10, 10)),
        "declined, active elsewhere": _person(db, campaigns, ("declined", 100, 100),
                                              ("in_stage", None, 1)),
        "hired long ago": _person(db, campaigns, ("hired", 100, 100)),
        "expired, no finish date": _person(db, campaigns, ("expired", None, 90)),
        "two finished, one recent": _person(db, campaigns, ("declined", 100, 100),
                                            ("withdrawn", 5, 5)),
        "two finished, both old": _person(db, campaigns, ("declined", 100, 100),
                                          ("not_passed", 60, 60)),
    }


PURGED = {"rejected long ago", "expired, no finish date", "two finished, both old"}


def _identity_of(db, user):
    return db.scalar(sa.select(Identity).where(Identity.user_id == user.id))


def test_purge_erases_exactly_the_identities_of_long_finished_candidacies(db, people):
    result = ops.purge_identities(db, older_than=timedelta(days=30), now=NOW)
    assert set(result.user_ids) == {people[name].id for name in PURGED}
    for name, user in people.items():
        assert (_identity_of(db, user) is None) == (name in PURGED), name


def test_purge_erases_old_profiles_that_led_to_no_candidacy_unless_on_the_waitlist(db, people):
    from recruit.models import WaitlistEntry

    def profile_only(days: int, waiting: bool = False):
        user = make_user(db, role=Role.APPLICANT)
        identity = store_identity(db, user=user, fields={"first": "Olga", "last": "Sidorova"})
        identity.updated_at = NOW - timedelta(days=days)
        if waiting:
            db.add(WaitlistEntry(user_id=user.id, created_at=NOW - timedelta(days=days)))
        db.flush()
        return user

    failed_long_ago, failed_lately, waiting = profile_only(100), profile_only(5), profile_only(
        100, waiting=True)
    result = ops.purge_identities(db, older_than=timedelta(days=30), now=NOW)
    assert failed_long_ago.id in result.user_ids
    assert {failed_lately.id, waiting.id}.isdisjoint(result.user_ids)
    assert _identity_of(db, failed_long_ago) is None
    assert _identity_of(db, failed_lately) is not None and _identity_of(db, waiting) is not None


def test_purge_keeps_the_pseudonymous_records(db, people):
    before = db.scalar(sa.select(sa.func.count()).select_from(Candidacy))
    ops.purge_identities(db, older_than=timedelta(days=30), now=NOW)
    assert db.scalar(sa.select(sa.func.count()).select_from(Candidacy)) == before
    purged_user = people["rejected long ago"]
    candidacy = db.scalar(sa.select(Candidacy).where(Candidacy.user_id == purged_user.id))
    assert candidacy.state == "not_passed" and candidacy.code


def test_each_erased_identity_and_the_run_are_audit_events(db, people):
    result = ops.purge_identities(db, older_than=timedelta(days=30), now=NOW)
    events = db.scalars(sa.select(AuditEvent).where(
        AuditEvent.action.in_(["identity.purged", "retention.purge"]))
        .order_by(AuditEvent.id)).all()
    erased = [e for e in events if e.action == "identity.purged"]
    assert {e.subject for e in erased} == {f"user:{uid}" for uid in result.user_ids}
    assert all(e.details["older_than_days"] == 30 and e.details["candidacies"] for e in erased)
    assert events[-1].action == "retention.purge" and events[-1].details["erased"] == 3
    # The audit details name candidacy codes, never a name.
    assert not any("Ivan" in str(e.details) or "Petrov" in str(e.details) for e in events)
    assert audit.verify(db)[1] is None


def test_a_dry_run_erases_nothing(db, people):
    result = ops.purge_identities(db, older_than=timedelta(days=30), now=NOW, dry_run=True)
    assert len(result.user_ids) == 3
    assert all(_identity_of(db, user) is not None for user in people.values())


def test_a_longer_period_erases_less(db, people):
    result = ops.purge_identities(db, older_than=timedelta(days=95), now=NOW)
    assert set(result.user_ids) == {people["rejected long ago"].id}


def test_purge_command_reports_and_commits(fresh_app):
    with fresh_app.app_context():
        db = get_db()
        campaigns = _campaigns(db)
        user = _person(db, campaigns, ("withdrawn", 400, 400))
        user_id = user.id
        db.commit()
    runner = fresh_app.test_cli_runner()
    dry = runner.invoke(cli, ["purge", "--older-than", "365", "--dry-run"])
    assert dry.exit_code == 0 and "Would erase 1 identities" in dry.output
    done = runner.invoke(cli, ["purge", "--older-than", "365"])
    assert done.exit_code == 0 and "Erased 1 identities" in done.output, done.output
    with fresh_app.app_context():
        db = get_db()
        assert db.scalar(sa.select(Identity).where(Identity.user_id == user_id)) is None
    refused = runner.invoke(cli, ["purge", "--older-than", "-1"])
    assert refused.exit_code != 0
