"""Dates mean days in the campaign's time zone; deadlines show their zone; one date format."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from recruit import ROOT
from recruit.domain import offers, tracks
from recruit.models import Campaign, Candidacy, JobRole, Offer, Role
from tests.factories import make_user


@pytest.fixture
def coordinator(db):
    tracks.load_shipped(db)
    return make_user(db, role=Role.COORDINATOR)


def _create(client, **fields) -> Campaign:
    data = {"track": "support-agent", "key": "new-year", "opens": "2026-12-01",
            "closes": "2026-12-31", "time_zone": "Europe/Moscow", "capacity": ""}
    data.update(fields)
    response = client.post_form("/coordinate/campaigns/new", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    from recruit.db import get_db

    return get_db().scalars(sa.select(Campaign).where(Campaign.key == data["key"])).one()


def test_a_campaign_closing_on_31_december_closes_at_the_end_of_that_day_there(client, db,
                                                                              coordinator):
    client.login(coordinator)
    campaign = _create(client)
    assert campaign.time_zone == "Europe/Moscow"
    assert campaign.opens_at == datetime(2026, 11, 30, 21, 0, tzinfo=UTC)
    assert campaign.closes_at == datetime(2026, 12, 31, 20, 59, 59, tzinfo=UTC)
    assert campaign.is_open(datetime(2026, 12, 31, 20, 59, tzinfo=UTC))
    assert not campaign.is_open(datetime(2026, 12, 31, 21, 0, tzinfo=UTC))


def test_the_hub_shows_31_december_with_its_zone_not_1_january(client, db, coordinator):
    client.login(coordinator)
    campaign = _create(client)
    page = client.get(f"/coordinate/campaigns/{campaign.id}").get_data(as_text=True)
    assert "until December 31, 2026, 11:59\u202fPM (Moscow, GMT+03:00)" in page
    assert "January 1, 2027" not in page


def test_a_campaign_far_east_keeps_its_own_days(client, db, coordinator):
    client.login(coordinator)
    campaign = _create(client, key="far-east", time_zone="Asia/Vladivostok")
    assert campaign.closes_at == datetime(2026, 12, 31, 13, 59, 59, tzinfo=UTC)
    page = client.get("/coordinate/").get_data(as_text=True)
    assert "December 31, 2026, 11:59\u202fPM (Vladivostok, GMT+10:00)" in page


def test_an_unknown_time_zone_is_refused_with_a_message(client, db, coordinator):
    client.login(coordinator)
    response = client.post_form("/coordinate/campaigns/new", {
        "track": "support-agent", "opens": "2026-12-01", "closes": "2026-12-31",
        "time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)


@pytest.mark.parametrize(("zone", "last_moment", "lapsed_moment"), [
    # Vladivostok (UTC+10) is a day ahead of UTC in the evening …
    ("Asia/Vladivostok", datetime(2026, 12, 7, 13, 30, tzinfo=UTC),
     datetime(2026, 12, 7, 14, 30, tzinfo=UTC)),
    # … Kaliningrad (UTC+2) is not yet on the next day at midnight UTC.
    ("Europe/Kaliningrad", datetime(2026, 12, 7, 21, 30, tzinfo=UTC),
     datetime(2026, 12, 7, 22, 30, tzinfo=UTC)),
], ids=["vladivostok", "kaliningrad"])
def test_an_offer_lasts_to_the_end_of_its_last_day_in_the_campaigns_zone(db, zone, last_moment,
                                                                         lapsed_moment):
    tracks.load_shipped(db)
    campaign = tracks.create_campaign(db, track_key="support-agent",
                                      key=f"offers-{zone[:4].lower()}",
                                      opens_at=datetime(2026, 11, 1, tzinfo=UTC),
                                      closes_at=datetime(2027, 1, 1, tzinfo=UTC),
                                      time_zone=zone)
    user = make_user(db, role=Role.APPLICANT)
    candidacy = Candidacy(user_id=user.id, campaign_id=campaign.id, state="offered")
    db.add(candidacy)
    db.flush()
    role = db.scalar(sa.select(JobRole).where(JobRole.key == "support-agent"))
    offer = Offer(candidacy_id=candidacy.id, job_role_id=role.id, salary=role.salary_min,
                  currency="RUB", start_date=date(2027, 1, 10), work_format="remote",
                  expires_on=date(2026, 12, 7), status="issued")
    db.add(offer)
    db.flush()
    assert offers.expire_due(db, now=last_moment) == 0 and offer.status == "issued"
    assert offers.expire_due(db, now=lapsed_moment) == 1 and offer.status == "expired"


def test_the_applicants_deadline_shows_its_time_zone(client, db, coordinator):
    from recruit.domain import applications

    tracks.load_shipped(db)
    now = datetime.now(UTC)
    campaign = tracks.create_campaign(db, track_key="support-agent", key="deadline-zone",
                                      opens_at=now - timedelta(days=1),
                                      closes_at=now + timedelta(days=30),
                                      time_zone="Asia/Yekaterinburg")
    user = make_user(db, role=Role.APPLICANT)
    candidacy = applications.apply(db, user=user, campaign=campaign, now=now)
    stage = campaign.stages[0]
    applications.start_stage(db, candidacy=candidacy, stage=stage, now=now)
    client.login(user)
    page = client.get(f"/me/candidacies/{candidacy.id}/stages/{stage.id}").get_data(as_text=True)
    assert "(Yekaterinburg, GMT+05:00)" in page


def test_every_template_writes_dates_through_the_one_format():
    """Dates and times go through format_day / format_moment / format_last_day, never straight
    to Babel with a style of their own."""
    offenders = []
    for path in sorted((ROOT / "templates").rglob("*.*")):
        text = path.read_text(encoding="utf-8")
        if re.search(r"\b(format_date|format_datetime|format_time|fmt_datetime)\(", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
