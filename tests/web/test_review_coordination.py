"""Coordinator pages of reviewing: the pool, progress, scores by candidacy code."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from recruit.cli import cli
from recruit.db import utcnow
from recruit.domain import assignment
from recruit.models import Answer, CampaignReviewer, Criterion, ReviewAssignment, Role
from tests.factories import make_user
from tests.reviewing import add_answers, add_reviewer
from tests.web.test_cli import _script_info
from tests.world import build_world


@pytest.fixture
def world(db):
    return build_world(db)


@pytest.fixture
def coordinator(client, world):
    client.login(world.users["coordinator"])
    return world.users["coordinator"]


def pool_url(world) -> str:
    return f"/coordinate/campaigns/{world.campaign.id}/reviewers"


def test_a_coordinator_adds_a_reviewer_to_the_pool(client, db, world, coordinator):
    newcomer = make_user(db, role=Role.REVIEWER)
    response = client.post_form(pool_url(world) + "/add", {"email": newcomer.email.upper()})
    assert response.status_code == 302
    assert db.get(CampaignReviewer, (world.campaign.id, newcomer.id)) is not None
    assert newcomer.email in client.get(pool_url(world)).get_data(as_text=True)


def test_the_custodian_can_never_join_the_pool(client, db, world, coordinator):
    custodian = world.users["custodian"]
    response = client.post_form(pool_url(world) + "/add", {"email": custodian.email})
    assert response.status_code == 400
    assert "can never review" in response.get_data(as_text=True)
    assert db.get(CampaignReviewer, (world.campaign.id, custodian.id)) is None


def test_adding_an_unknown_email_says_so(client, world, coordinator):
    response = client.post_form(pool_url(world) + "/add", {"email": "nobody@example.org"})
    assert response.status_code == 400
    assert "There is no account with this e-mail." in response.get_data(as_text=True)


def test_removing_a_reviewer_returns_their_leases_to_the_pool(client, db, world, coordinator):
    reviewer = world.users["reviewer"]  # holds a lease on the world's first answer
    response = client.post_form(f"{pool_url(world)}/{reviewer.id}/remove")
    assert response.status_code == 302
    assert db.get(CampaignReviewer, (world.campaign.id, reviewer.id)) is None
    row = db.scalar(select(ReviewAssignment).where(ReviewAssignment.reviewer_id == reviewer.id))
    assert row.status == "expired"
    db.refresh(world.answers[0])
    assert world.answers[0].reviews_leased == 0


def test_progress_shows_counts_severity_and_agreement_by_email_never_names(client, db, world,
                                                                         coordinator):
    campaign = world.campaign
    task = campaign.stages[0].tasks[1]
    for answer in db.scalars(select(Answer)):
        answer.reviews_wanted = 0
    add_answers(db, campaign=campaign, count=4, tasks=[task])
    criteria = db.scalars(select(Criterion.id).where(Criterion.task_id == task.id)).all()
    harsh, lenient = add_reviewer(db, campaign=campaign), add_reviewer(db, campaign=campaign)
    for reviewer, value in ((harsh, 2), (lenient, 4)):
        while (handout := assignment.next_answer(db, reviewer=reviewer, task=task,
                                                 lease_minutes=30, now=utcnow())):
            work = assignment.load_work(db, token=handout.token, reviewer_id=reviewer.id)
            assignment.submit_review(db, assignment=work.assignment, stage=work.stage,
                                     scores={c: value for c in criteria}, comment="ok",
                                     now=utcnow())
    html = client.get(f"/coordinate/campaigns/{campaign.id}/reviews").get_data(as_text=True)
    assert harsh.email in html and lenient.email in html
    assert "-2.00" in html and "+2.00" in html  # each is 2 points from the other
    assert "Krippendorff" in html
    assert world.users["applicant"].email not in html

    stage = campaign.stages[0]
    html = client.get(f"/coordinate/campaigns/{campaign.id}/reviews/stages/{stage.id}"
                      ).get_data(as_text=True)
    codes = db.scalars(select(world.candidacy.__class__.code)
                       .where(world.candidacy.__class__.campaign_id == campaign.id)).all()
    assert sum(code in html for code in codes) == len(codes)
    assert "3.00" in html  # the mean of 2 and 4
    assert world.users["applicant"].email not in html


def test_recomputing_normalised_scores_from_the_progress_page(client, world, coordinator):
    response = client.post_form(f"/coordinate/campaigns/{world.campaign.id}/reviews/normalise")
    assert response.status_code == 302
    assert "Normalised scores recomputed" in client.get(response.location).get_data(as_text=True)


def test_a_stage_of_another_campaign_is_not_found(client, db, world, coordinator):
    from datetime import timedelta

    from recruit.domain import tracks

    now = utcnow()
    other = tracks.create_campaign(db, track_key="support-agent", key="other-wave",
                                   opens_at=now, closes_at=now + timedelta(days=3))
    response = client.get(f"/coordinate/campaigns/{world.campaign.id}/reviews/stages/"
                          f"{other.stages[0].id}")
    assert response.status_code == 404


def test_the_command_line_normalises_scores_and_expires_leases(fresh_app):
    from tests.web.test_cli import run

    result = run(fresh_app, "review", "expire-leases")
    assert result.exit_code == 0 and "0 leases expired" in result.output
    result = run(fresh_app, "scores", "normalise")
    assert result.exit_code == 0
    result = CliRunner().invoke(cli, ["scores", "normalise", "--campaign", "no-such-wave"],
                                obj=_script_info(fresh_app))
    assert result.exit_code != 0 and "no campaign with key" in result.output
