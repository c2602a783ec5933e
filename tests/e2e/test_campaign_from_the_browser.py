"""A recruiting team runs a wave from the browser alone, in demo mode: mail arrives on the
outbox page, the coordinator adds a reviewer from the campaign page, the reviewer reviews, the
coordinator turns down a stage-1 answer, creates the moderator campaign the alternate-roles
page asks for and invites the candidate there, issues an offer, and the custodian and the
coordinator download the letters. Every step is a click from a page the role lands on."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from recruit.db import utcnow
from recruit.domain import applications, tracks
from recruit.models import Candidacy, Role
from recruit.vault import store_identity
from tests.e2e.conftest import DESKTOP, serving
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.e2e

ANSWER = " ".join(["Я спокойно объясню правило и скажу, что будет дальше."] * 12)


@pytest.fixture
def demo_server(new_database, tmp_path):
    with serving(new_database, tmp_path, DEMO=True) as server:
        yield server


def _world(db) -> dict:
    """A wave with one candidacy that handed in stage 1 and one that passed every stage."""
    tracks.load_shipped(db)
    now = utcnow()
    campaign = tracks.create_campaign(db, track_key="support-agent", key="agents",
                                      opens_at=now - timedelta(days=2),
                                      closes_at=now + timedelta(days=30))
    people = {}
    for name, state in (("clara", "submitted"), ("olga", "passed")):
        user = make_user(db, email=f"{name}@example.org", locale="en")
        store_identity(db, user=user, fields={"first": name.title(), "last": "Testova",
                                              "city": "Kazan", "citizenship": "RU"})
        candidacy = applications.apply(db, user=user, campaign=campaign, now=now)
        if state == "submitted":
            stage = campaign.stages[0]
            submission = applications.start_stage(db, candidacy=candidacy, stage=stage,
                                                  now=now)
            for answer in submission.answers:
                applications.save_answer(db, answer=answer, text=ANSWER,
                                         base_version=answer.version, now=now)
            applications.submit_stage(db, submission=submission, now=now)
        else:
            candidacy.state = "passed"
        people[name] = candidacy.code
    staff = {"coordinator": make_user(db, role=Role.COORDINATOR, email="olga@staff.example"),
             "custodian": make_user(db, role=Role.COORDINATOR, custodian=True,
                                    email="vera@staff.example"),
             "reviewer": make_user(db, role=Role.REVIEWER, email="rita@staff.example")}
    return {"campaign": campaign.id, **people, **{k: u.email for k, u in staff.items()}}


def _tab(browser):
    """A browser window of its own (own cookies), for one person."""
    context = browser.new_context(viewport=DESKTOP, locale="en-GB", accept_downloads=True)
    context.set_default_timeout(30_000)
    return context.new_page()


def _log_in(page, server, email: str) -> None:
    page.goto(server.url + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Log in")).to_have_count(0)


def test_a_team_runs_a_wave_by_clicking(demo_server, browser):
    server = demo_server
    world = server.run(_world)

    # A newcomer registers; the confirmation mail is on the custodian's outbox page.
    applicant = _tab(browser)
    applicant.goto(server.url + "/register")
    applicant.get_by_label("E-mail").fill("newcomer@example.org")
    applicant.get_by_label("Password", exact=True).fill("a long password")
    applicant.get_by_label("Repeat the password").fill("a long password")
    applicant.get_by_role("button", name="Create account").click()
    custodian = _tab(browser)
    _log_in(custodian, server, world["custodian"])
    custodian.get_by_role("link", name="Open the custody desk").click()
    custodian.get_by_role("link", name="Outbox (demo)").click()
    message = custodian.locator("ol.outbox > li").filter(has_text="newcomer@example.org")
    link = message.locator("a[href*='/confirm/']").get_attribute("href")
    applicant.goto(link)
    applicant.get_by_role("button", name="Confirm").click()
    expect(applicant.get_by_text("Your e-mail address is confirmed.")).to_be_visible()

    # The coordinator adds a reviewer to the pool, from the campaign's page.
    coordinator = _tab(browser)
    _log_in(coordinator, server, world["coordinator"])
    coordinator.get_by_role("link", name=re.compile("Support agent")).first.click()
    expect(coordinator.get_by_text("No reviewers yet")).to_be_visible()
    coordinator.locator("#people-heading").locator("..").get_by_role(
        "link", name="Reviewer pool").click()
    coordinator.get_by_label("Reviewer's e-mail").fill(world["reviewer"])
    coordinator.get_by_role("button", name="Add to the pool").click()
    expect(coordinator.get_by_text("can now review this campaign")).to_be_visible()

    # The reviewer scores every task of stage 1: plain writing, sound judgement.
    reviewer = _tab(browser)
    _log_in(reviewer, server, world["reviewer"])
    for _task in range(3):
        reviewer.get_by_role("button", name="Get next answer").first.click()
        for fieldset in reviewer.locator("fieldset.criterion").all():
            legend = fieldset.locator("legend").inner_text()
            score = "5" if re.search("Judgement|rules", legend) else "3"
            fieldset.locator(f"label.score:has(input[value='{score}'])").click()
        reviewer.get_by_role("button", name="Submit review").click()
        reviewer.get_by_role("link", name="Review queue").click()

    # The coordinator turns Clara down at stage 1; the moderator role is suggested.
    coordinator.get_by_role("link", name="Overview").click()
    coordinator.get_by_role("link", name="Decisions").first.click()
    coordinator.get_by_role("link", name=world["clara"]).click()
    expect(coordinator.get_by_text("Answers and reviews")).to_be_visible()
    coordinator.get_by_label("Do not pass").check()
    coordinator.get_by_label("Reason").fill("Writing below the bar for agents.")
    coordinator.get_by_role("button", name="Record the decision").click()
    coordinator.get_by_role("link", name="Alternate roles").first.click()
    row = coordinator.locator(f"#candidacy-{world['clara']}")
    expect(row.get_by_role("heading", name="Content moderator")).to_be_visible()
    row.get_by_role("link", name="Create a campaign for Content moderator").click()
    expect(coordinator.get_by_label("Track")).to_have_value("moderator")
    today = utcnow().date()
    coordinator.get_by_label("Opens on").fill(today.isoformat())
    coordinator.get_by_label("Closes on").fill((today + timedelta(days=30)).isoformat())
    coordinator.get_by_role("button", name="Create campaign").click()
    expect(coordinator.get_by_text(re.compile("Campaign .* created"))).to_be_visible()

    coordinator.get_by_role("link", name="Campaigns", exact=True).click()
    coordinator.get_by_role("link", name=re.compile("Support agent")).first.click()
    coordinator.get_by_role("link", name="Alternate roles").first.click()
    row = coordinator.locator(f"#candidacy-{world['clara']}")
    row.get_by_role("button", name="Invite").click()
    invited = re.compile(f"{world['clara']} is invited into")
    expect(coordinator.get_by_text(invited)).to_be_visible()

    # An offer to the candidate who passed every stage.
    coordinator.get_by_role("link", name="Offers").first.click()
    coordinator.get_by_role("link", name="Make an offer").click()
    coordinator.get_by_role("button", name="Issue the offer").click()
    expect(coordinator.get_by_text(f"Offer issued to {world['olga']}")).to_be_visible()
    with coordinator.expect_download() as preview:
        coordinator.get_by_role("link", name="Preview with the code (PDF)").click()
    assert preview.value.suggested_filename.endswith("-preview.pdf")

    # The custodian reads the invitation and offer mails and downloads the named letter.
    custodian.get_by_role("link", name="Custody", exact=True).click()
    custodian.get_by_role("link", name="Outbox (demo)").click()
    expect(custodian.locator("ol.outbox")).to_contain_text("An invitation")
    expect(custodian.locator("ol.outbox")).to_contain_text("An offer for you")
    custodian.get_by_role("link", name="Campaigns", exact=True).click()
    custodian.get_by_role("link", name=re.compile("Support agent")).first.click()
    custodian.get_by_role("link", name="Offers").first.click()
    with custodian.expect_download() as letter:
        custodian.get_by_role("link", name=re.compile("Named letter")).click()
    assert re.fullmatch(r"offer-OF-\d{6}\.pdf", letter.value.suggested_filename)

    def states(db):
        return {c.code: c.state for c in db.scalars(sa.select(Candidacy))}
    assert server.run(states)[world["clara"]] == "invited"
    assert server.run(states)[world["olga"]] == "offered"
