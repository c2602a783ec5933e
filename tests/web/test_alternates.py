"""Alternate roles after any stage: a stage-1 failure is suggested for moderator, the page
says what is not known yet, and offers to create a campaign when none is open for the role."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from recruit.db import utcnow
from recruit.domain import decisions
from recruit.models import Decision, OutboxMessage, Role, User
from tests.decision_data import applicant, hand_in, reviewers, two_stage_campaign
from tests.factories import make_user

# Writes plainly but judges well: below the agent bar, above the moderator's.
JUDGE = {"literacy": 3, "clarity": 2, "tone": 2, "empathy": 2, "rules": 5, "judgement": 5}


@pytest.fixture
def rejected(db):
    """A candidacy of the agent track turned down at stage 1, scored as JUDGE."""
    campaign = two_stage_campaign(db)
    candidacy = applicant(db, campaign=campaign, first="Clara", last="Testova")
    stage = campaign.stages[0]
    hand_in(db, candidacy=candidacy, stage=stage, by=reviewers(db), scores=JUDGE)
    coordinator = make_user(db, role=Role.COORDINATOR)
    decisions.decide(db, candidacy=candidacy, stage=stage, outcome="reject",
                     reason="Below the bar for agents.", by=coordinator, now=utcnow())
    return candidacy, coordinator


def test_a_stage_1_failure_is_suggested_for_the_moderator_role(db, rejected):
    candidacy, _coordinator = rejected
    decision = db.scalars(sa.select(Decision).where(Decision.candidacy_id == candidacy.id)).one()
    assert "moderator" in decision.alternate_roles


def test_the_not_passed_mail_names_the_role_but_promises_no_offer(db, rejected):
    candidacy, _coordinator = rejected
    user = db.get(User, candidacy.user_id)
    message = db.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.to_address == user.email,
        OutboxMessage.template == "stage_not_passed")).one()
    assert "Content moderator" in message.body_text
    assert "We cannot promise anything yet" in message.body_text
    assert "You will receive that offer" not in message.body_text


def _alternates(client, candidacy, coordinator) -> str:
    client.login(coordinator)
    response = client.get(f"/coordinate/campaigns/{candidacy.campaign_id}/alternates")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_with_no_moderator_campaign_open_the_page_says_so_and_offers_to_create_one(
        client, rejected):
    candidacy, coordinator = rejected
    page = _alternates(client, candidacy, coordinator)
    assert candidacy.code in page
    assert "No open campaign hires for this role" in page
    assert 'href="/coordinate/campaigns/new?track=moderator"' in page
    form = client.get("/coordinate/campaigns/new?track=moderator").get_data(as_text=True)
    assert re.search(r'<option selected value="moderator">|<option value="moderator" selected',
                     form)


def test_with_a_moderator_campaign_open_the_candidate_can_be_invited(client, db, rejected):
    candidacy, coordinator = rejected
    moderators = two_stage_campaign(db, track_key="moderator", key="moderators-now")
    page = _alternates(client, candidacy, coordinator)
    invite = re.search(r'<form method="post" action="[^"]*/invite" class="invite">(.*?)</form>',
                       page, re.S)
    assert invite and f'<option value="{moderators.id}">' in invite.group(1)
    assert "No open campaign hires for this role" not in page


def test_criteria_are_named_by_title_and_unscored_ones_are_said_to_be_unknown(client, db):
    campaign = two_stage_campaign(db)
    candidacy = applicant(db, campaign=campaign, first="Dana", last="Testova")
    stage = campaign.stages[0]
    # Scores on literacy and rules only: judgement is not known yet.
    hand_in(db, candidacy=candidacy, stage=stage, by=reviewers(db),
            scores={"literacy": 4, "rules": 5, "clarity": 1, "tone": 1, "empathy": 1},
            default=1)
    for criterion in [c for task in stage.tasks for c in task.criteria if c.key == "judgement"]:
        db.execute(sa.text("DELETE FROM criterion_score WHERE criterion_id = :id"),
                   {"id": criterion.id})
    coordinator = make_user(db, role=Role.COORDINATOR)
    decisions.decide(db, candidacy=candidacy, stage=stage, outcome="reject", reason="Below.",
                     by=coordinator, now=utcnow())
    page = _alternates(client, candidacy, coordinator)
    assert "Judgement: not scored yet, needs 3.50" in page
    assert "Knowing the rules 5.00, needs 3.50" in page
    assert not re.search(r">\s*(judgement|rules|literacy)\b", page)
