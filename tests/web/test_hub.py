"""The campaign page is the coordinator's hub; the custodian lands on the custody desk's counts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import delete

from recruit.models import CampaignReviewer
from tests.world import build_world


@pytest.fixture
def world(db):
    return build_world(db)


def _hub(client, world) -> str:
    client.login(world.users["coordinator"])
    response = client.get(f"/coordinate/campaigns/{world.campaign.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_hub_links_to_every_page_of_the_campaign(client, world):
    page = _hub(client, world)
    campaign = world.campaign.id
    wanted = [f"/coordinate/campaigns/{campaign}/reviewers",
              f"/coordinate/campaigns/{campaign}/reviews",
              f"/coordinate/campaigns/{campaign}/alternates",
              f"/coordinate/campaigns/{campaign}/offers",
              f"/coordinate/campaigns/{campaign}/report.pdf",
              f"/coordinate/campaigns/{campaign}/results.csv"]
    for stage in world.campaign.stages:
        wanted += [f"/coordinate/campaigns/{campaign}/stages/{stage.id}/decisions",
                   f"/coordinate/campaigns/{campaign}/reviews/stages/{stage.id}"]
    assert [url for url in wanted if f'href="{url}"' not in page] == []


def test_the_hub_draws_the_funnel_and_each_stages_review_progress(client, world):
    page = _hub(client, world)
    assert re.search(r'<svg [^>]*role="img"', page)
    # The world's stage 1: one submission, three answers wanting two reviews each, none done.
    first = world.campaign.stages[0]
    progress = re.search(rf'<progress id="progress-{first.id}" max="(\d+)" value="(\d+)"', page)
    assert progress and progress.groups() == ("6", "0")
    assert "Reviews: 0 of 6" in page


def test_the_hub_says_when_nobody_can_review_yet(client, world, db):
    db.execute(delete(CampaignReviewer).where(CampaignReviewer.campaign_id == world.campaign.id))
    page = _hub(client, world)
    assert "No reviewers yet: nobody can review this campaign" in page


def test_the_custodian_lands_on_what_waits_at_the_custody_desk(client, world, db):
    world.answers[1].check_status = "pending"
    db.flush()
    client.login(world.users["custodian"])
    landing = client.get("/", follow_redirects=True).get_data(as_text=True)
    desk = re.search(r'<section class="panel spaced custody-summary".*?</section>', landing,
                     re.S)
    assert desk, "the custodian's landing page shows the custody desk"
    text = re.sub(r"<[^>]+>", " ", desk.group(0))
    assert re.search(r"\b1\s+answer waits for your redaction check", text)
    assert re.search(r"\b1\s+contact request is open", text)
    assert 'href="/custody/"' in desk.group(0)


def test_a_coordinator_who_is_not_the_custodian_sees_no_custody_counts(client, world):
    client.login(world.users["coordinator"])
    landing = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "custody-summary" not in landing
