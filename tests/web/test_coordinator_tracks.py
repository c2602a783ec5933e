"""Coordinator pages for tracks and campaign creation."""

from __future__ import annotations

import sqlalchemy as sa

from recruit.domain import tracks
from recruit.models import Campaign, Role
from tests.factories import make_user


def _coordinator(client, db, locale="en"):
    tracks.load_shipped(db)
    client.login(make_user(db, role=Role.COORDINATOR, locale=locale))


def test_tracks_are_listed_with_their_versions(client, db):
    _coordinator(client, db)
    page = client.get("/coordinate/tracks").get_data(as_text=True)
    for key in ("support-agent", "moderator", "interview-bank", "job-roles"):
        assert key in page


def test_a_track_shows_stages_tasks_and_rubric_read_only(client, db):
    _coordinator(client, db, locale="ru")
    version = tracks.latest_version(db, key="support-agent")
    page = client.get(f"/coordinate/tracks/{version.id}").get_data(as_text=True)
    stage = version.data["stages"][0]
    assert stage["title"]["ru"] in page
    assert stage["tasks"][0]["rubric"][0]["descriptors"]["5"]["ru"] in page
    assert "<form" not in page.split("<main", 1)[1], "the track view is read-only"


def test_unknown_track_version_is_404(client, db):
    _coordinator(client, db)
    assert client.get("/coordinate/tracks/999999").status_code == 404


def test_campaign_form_refuses_closing_before_opening(client, db):
    _coordinator(client, db)
    response = client.post_form("/coordinate/campaigns/new", {
        "track": "support-agent", "opens": "2027-03-01", "closes": "2027-02-01"})
    assert "The campaign must close after it opens." in response.get_data(as_text=True)


def test_campaign_is_created_from_the_newest_track_version(client, db):
    _coordinator(client, db)
    response = client.post_form("/coordinate/campaigns/new", {
        "track": "support-agent", "key": "spring-wave", "opens": "2027-03-01",
        "closes": "2027-04-01", "capacity": "12"})
    assert response.status_code == 302
    campaign = db.scalar(sa.select(Campaign).where(Campaign.key == "spring-wave"))
    assert campaign.capacity == 12
    assert campaign.track_version_id == tracks.latest_version(db, key="support-agent").id
    assert [len(s.tasks) for s in campaign.stages] == [3, 2, 4]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "spring-wave" in page
