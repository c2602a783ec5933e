"""A campaign end to end at the test-client level: two stages of decisions (cut-offs, a hold,
an override), alternate roles, offers within capacity, answers, expiry and the hires list."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from recruit.db import utcnow
from recruit.domain import decisions, offers
from recruit.models import (
    AuditEvent,
    Campaign,
    Candidacy,
    Decision,
    JobRole,
    Offer,
    OutboxMessage,
    Role,
    User,
)
from tests.decision_data import applicant, flat, hand_in, reviewers, two_stage_campaign
from tests.factories import make_user

NAMES = ("Anna", "Boris", "Clara", "Dmitry", "Elena", "Fedor")


def _stage_url(campaign, stage, suffix="decisions"):
    return f"/coordinate/campaigns/{campaign.id}/stages/{stage.id}/{suffix}"


def _mail_to(db, candidacy, template):
    email = db.scalar(sa.select(User.email).where(User.id == candidacy.user_id))
    return db.scalars(sa.select(OutboxMessage).where(OutboxMessage.to_address == email,
                                                     OutboxMessage.template == template)).all()


def _offer_form(role, **overrides):
    today = utcnow().date()
    data = {"role": role.key, "salary": str(role.salary_min),
            "start_date": (today + timedelta(days=20)).isoformat(), "work_format": "remote",
            "standard_conditions": "y",
            "extra_conditions": "One visit to the St Petersburg office in the first week",
            "expires_on": (today + timedelta(days=7)).isoformat()}
    data.update(overrides)
    return data


def _preview_numbers(html: str) -> tuple[int, int]:
    advance = re.search(r'name="expect_advance" type="hidden" value="(\d+)"', html)
    reject = re.search(r'name="expect_reject" type="hidden" value="(\d+)"', html)
    assert advance and reject, "no apply form on the page"
    return int(advance.group(1)), int(reject.group(1))


def _apply(client, campaign, stage, kind, value):
    page = client.get(_stage_url(campaign, stage), query_string={"kind": kind, "value": value})
    advance, reject = _preview_numbers(page.get_data(as_text=True))
    response = client.post_form(_stage_url(campaign, stage, "cutoff"), {
        "kind": kind, "value": value, "expect_advance": advance, "expect_reject": reject})
    assert response.status_code == 302
    return advance, reject


def test_a_campaign_runs_from_applications_through_two_stages_to_accepted_offers(client, db):
    agents = two_stage_campaign(db, capacity=2, key="agents")
    stage1, stage2 = agents.stages
    coordinator = make_user(db, role=Role.COORDINATOR)
    custodian = make_user(db, role=Role.COORDINATOR, custodian=True)
    pair = reviewers(db)
    people = {name: applicant(db, campaign=agents, first=name, last="Testova")
              for name in NAMES}
    clara_stage1 = {"literacy": 3, "clarity": 3, "tone": 3, "empathy": 3, "rules": 4}
    for name, scores in (("Anna", flat(5)), ("Boris", flat(4)), ("Clara", clara_stage1),
                         ("Dmitry", flat(1)), ("Elena", flat(3)), ("Fedor", flat(2))):
        hand_in(db, candidacy=people[name], stage=stage1, by=pair, scores=scores)
    code = {name: c.code for name, c in people.items()}
    client.login(coordinator)

    # Stage 1: the ranking shows codes, best first, and never a name or an address.
    page = client.get(_stage_url(agents, stage1)).get_data(as_text=True)
    order = [code[n] for n in ("Anna", "Boris", "Clara", "Elena", "Fedor", "Dmitry")]
    positions = [page.index(c) for c in order]
    assert positions == sorted(positions)
    assert "Testova" not in page and "@example.org" not in page.replace(coordinator.email, "")

    # A single decision needs a reason; without one nothing is recorded.
    detail = _stage_url(agents, stage1, f"candidacies/{code['Elena']}")
    refused = client.post_form(detail, {"outcome": "advance", "reason": ""})
    assert refused.status_code == 400
    assert "Give a reason" in refused.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(Decision)) == 0

    # Override: Elena advances although the cut-off would not take her; Fedor is held.
    assert client.post_form(detail, {"outcome": "advance",
                                     "reason": "Best answer to the caps-lock task"}
                            ).status_code == 302
    assert client.post_form(_stage_url(agents, stage1, f"candidacies/{code['Fedor']}"),
                            {"outcome": "hold", "reason": "Wait for the second wave"}
                            ).status_code == 302

    # Top 4: Elena already holds a place, so three more advance; Fedor stays on hold.
    preview = client.get(_stage_url(agents, stage1),
                         query_string={"kind": "top_n", "value": "4"}).get_data(as_text=True)
    assert "Apply: advance 3, do not pass 1" in preview
    assert _apply(client, agents, stage1, "top_n", "4") == (3, 1)
    db.expire_all()
    states = {n: c.state for n, c in people.items()}
    assert states == {"Anna": "advanced", "Boris": "advanced", "Clara": "advanced",
                      "Dmitry": "not_passed", "Elena": "advanced", "Fedor": "on_hold"}
    assert people["Anna"].current_stage_id == stage2.id
    cutoff = db.scalars(sa.select(Decision).where(Decision.candidacy_id == people["Anna"].id)
                        ).one()
    assert (cutoff.via_cutoff, cutoff.reason, cutoff.decided_by_id) == (True, "top_n 4",
                                                                        coordinator.id)
    passed_mail = _mail_to(db, people["Anna"], "stage_passed")
    assert len(passed_mail) == 1 and "passed" in passed_mail[0].subject
    dmitry_mail = _mail_to(db, people["Dmitry"], "stage_not_passed")
    assert len(dmitry_mail) == 1 and "offer you a place" not in dmitry_mail[0].body_text

    # Stage 2: Clara writes plainly but judges well — she fails the agent bar (3.5) and
    # matches the moderator role; Elena matches nothing.
    clara_stage2 = {"clarity": 2, "empathy": 2, "tone": 2, "rules": 4, "judgement": 4}
    for name, scores in (("Anna", flat(5)), ("Boris", flat(4)), ("Clara", clara_stage2),
                         ("Elena", flat(3))):
        hand_in(db, candidacy=people[name], stage=stage2, by=pair, scores=scores)
    assert _apply(client, agents, stage2, "min_score", "3.50") == (2, 2)
    db.expire_all()
    assert [people[n].state for n in ("Anna", "Boris", "Clara", "Elena")] == [
        "passed", "passed", "not_passed", "not_passed"]
    rejection = db.scalars(sa.select(Decision).where(Decision.candidacy_id == people["Clara"].id,
                                                     Decision.stage_id == stage2.id)).one()
    assert rejection.alternate_roles == ["moderator"]
    clara_mail = _mail_to(db, people["Clara"], "stage_not_passed")[0].body_text
    assert "Content moderator" in clara_mail
    assert "Content moderator" not in _mail_to(db, people["Elena"], "stage_not_passed")[0].body_text

    alternates = client.get(f"/coordinate/campaigns/{agents.id}/alternates").get_data(
        as_text=True)
    assert code["Clara"] in alternates and code["Elena"] not in alternates
    assert "Judgement" in alternates and "Testova" not in alternates

    # Offers: never below the role's minimum, and capped by the campaign's capacity (2).
    roles = {r.key: r for r in db.scalars(sa.select(JobRole))}
    agent_role, moderator_role = roles["support-agent"], roles["moderator"]
    assert agent_role.salary_min == 36000

    def offer_url(name, role=None):
        suffix = f"?role={role.key}" if role else ""
        return f"/coordinate/campaigns/{agents.id}/candidacies/{code[name]}/offer{suffix}"

    form = client.get(offer_url("Anna")).get_data(as_text=True)
    assert 'value="36000"' in form
    low = client.post_form(offer_url("Anna"), _offer_form(agent_role, salary="30000"))
    assert low.status_code == 400 and "below the role" in low.get_data(as_text=True)
    assert client.post_form(offer_url("Anna"), _offer_form(agent_role)).status_code == 302
    assert client.post_form(offer_url("Boris"), _offer_form(agent_role, salary="40000")
                            ).status_code == 302
    full = client.post_form(offer_url("Clara", moderator_role), _offer_form(moderator_role))
    assert full.status_code == 400 and "capacity is reached" in full.get_data(as_text=True)

    offer_of = {o.candidacy_id: o for o in db.scalars(sa.select(Offer))}
    anna_offer, boris_offer = offer_of[people["Anna"].id], offer_of[people["Boris"].id]
    issued = _mail_to(db, people["Anna"], "offer_issued")[0]
    assert f"/me/offers/{anna_offer.id}" in issued.body_text

    # Boris declines (after a confirmation step), which frees a place for Clara.
    client.login(db.get(User, people["Boris"].user_id))
    confirm = client.get(f"/me/offers/{boris_offer.id}/decline")
    assert confirm.status_code == 200 and "Yes, decline" in confirm.get_data(as_text=True)
    assert client.post_form(f"/me/offers/{boris_offer.id}/decline").status_code == 302
    # Somebody else's offer stays closed to him: it answers like one that does not exist.
    assert client.get(f"/me/offers/{anna_offer.id}").status_code == 404

    client.login(coordinator)
    assert client.post_form(offer_url("Clara", moderator_role), _offer_form(moderator_role)
                            ).status_code == 302
    db.expire_all()
    clara_offer = db.scalars(sa.select(Offer).where(Offer.candidacy_id == people["Clara"].id)
                             ).one()
    assert clara_offer.alternate and clara_offer.job_role_id == moderator_role.id

    for name, offer in (("Anna", anna_offer), ("Clara", clara_offer)):
        client.login(db.get(User, people[name].user_id))
        page = client.get(f"/me/offers/{offer.id}").get_data(as_text=True)
        assert "St Petersburg" in page
        assert client.post_form(f"/me/offers/{offer.id}/accept").status_code == 302
    db.expire_all()
    assert [people[n].state for n in ("Anna", "Boris", "Clara")] == ["hired", "declined",
                                                                      "hired"]
    assert [o.status for o in (anna_offer, boris_offer, clara_offer)] == [
        "accepted", "declined", "accepted"]

    # Coordinators see codes; only the custodian's hires list names the people hired.
    client.login(coordinator)
    for url in (_stage_url(agents, stage2), f"/coordinate/campaigns/{agents.id}/offers",
                f"/coordinate/campaigns/{agents.id}/alternates"):
        assert "Testova" not in client.get(url).get_data(as_text=True)
    assert client.get("/custody/hires").status_code == 403
    client.login(custodian)
    hires = client.get("/custody/hires").get_data(as_text=True)
    assert "Anna Testova" in hires and "Clara Testova" in hires and "Boris" not in hires
    assert db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "hires.view")
                     .where(AuditEvent.actor_id == custodian.id)) is not None


def test_a_cutoff_is_not_applied_when_the_ranking_changed_since_the_preview(client, db):
    campaign = two_stage_campaign(db)
    stage = campaign.stages[0]
    pair = reviewers(db)
    for n, value in enumerate((5, 4, 2)):
        hand_in(db, candidacy=applicant(db, campaign=campaign, first=f"P{n}", last="X"),
                stage=stage, by=pair, scores=flat(value))
    client.login(make_user(db, role=Role.COORDINATOR))
    response = client.post_form(_stage_url(campaign, stage, "cutoff"), {
        "kind": "top_n", "value": "1", "expect_advance": "2", "expect_reject": "1"})
    assert response.status_code == 302
    assert "ranking changed" in client.get(response.location).get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(Decision)) == 0


def test_flagged_candidacies_are_shown_and_left_out_of_a_cutoff(client, db):
    campaign = two_stage_campaign(db)
    stage = campaign.stages[0]
    pair = reviewers(db)
    ready = applicant(db, campaign=campaign, first="Ready", last="X")
    short = applicant(db, campaign=campaign, first="Short", last="X")
    pending = applicant(db, campaign=campaign, first="Pending", last="X")
    hand_in(db, candidacy=ready, stage=stage, by=pair, scores=flat(2))
    hand_in(db, candidacy=short, stage=stage, by=pair[:1], scores=flat(5), reviews_wanted=2)
    hand_in(db, candidacy=pending, stage=stage, by=[], scores={}, check_status="pending")
    client.login(make_user(db, role=Role.COORDINATOR))
    page = client.get(_stage_url(campaign, stage),
                      query_string={"kind": "min_score", "value": "1"}).get_data(as_text=True)
    assert "reviews missing" in page and "custodian check pending" in page
    assert _preview_numbers(page) == (1, 0)
    _apply(client, campaign, stage, "min_score", "1")
    db.expire_all()
    assert (ready.state, short.state, pending.state) == ("advanced", "submitted", "submitted")


def test_an_invitation_moves_the_candidate_into_another_campaign_without_eligibility(client,
                                                                                      db):
    agents = two_stage_campaign(db, key="agents")
    moderators = two_stage_campaign(db, track_key="moderator", key="moderators")
    pair = reviewers(db)
    clara = applicant(db, campaign=agents, first="Clara", last="X")
    hand_in(db, candidacy=clara, stage=agents.stages[0], by=pair,
            scores={"literacy": 3, "rules": 4, "clarity": 2, "tone": 2, "empathy": 2})
    coordinator = make_user(db, role=Role.COORDINATOR)
    decisions.decide(db, candidacy=clara, stage=agents.stages[0], outcome="advance",
                     reason="promising", by=coordinator, now=utcnow())
    hand_in(db, candidacy=clara, stage=agents.stages[1], by=pair,
            scores={"judgement": 4, "rules": 4, "clarity": 2, "tone": 2, "empathy": 2})
    decisions.decide(db, candidacy=clara, stage=agents.stages[1], outcome="reject",
                     reason="below the bar", by=coordinator, now=utcnow())
    client.login(coordinator)
    page = client.get(f"/coordinate/campaigns/{agents.id}/alternates").get_data(as_text=True)
    assert clara.code in page and f'<option value="{moderators.id}">' in page
    response = client.post_form(
        f"/coordinate/campaigns/{agents.id}/candidacies/{clara.code}/invite",
        {"target": str(moderators.id)})
    assert response.status_code == 302
    db.expire_all()
    fresh = db.scalars(sa.select(Candidacy).where(Candidacy.campaign_id == moderators.id)).one()
    assert (fresh.user_id, fresh.invited_from_id, fresh.state) == (clara.user_id, clara.id,
                                                                   "applied")
    assert clara.state == "invited" and fresh.code != clara.code
    assert _mail_to(db, clara, "offer_invitation")
    assert "Clara" not in client.get(response.location).get_data(as_text=True)


@pytest.fixture
def offered(db):
    """An agent candidacy that passed, with an offer issued ten days ago for a week."""
    campaign = two_stage_campaign(db, capacity=1)
    candidacy = applicant(db, campaign=campaign, first="Olga", last="X")
    candidacy.state = "passed"
    role = db.scalar(sa.select(JobRole).where(JobRole.key == "support-agent"))
    then = utcnow() - timedelta(days=10)
    offer = offers.issue(db, candidacy=candidacy, role=role, salary=36000, currency="RUB",
                         start_date=then.date() + timedelta(days=30), work_format="remote",
                         conditions=[], expires_on=then.date() + timedelta(days=7), by=None,
                         now=then)
    return campaign, candidacy, offer


def test_an_offer_lapses_when_viewed_after_its_expiry_and_frees_the_place(client, db, offered):
    campaign, candidacy, offer = offered
    client.login(db.get(User, candidacy.user_id))
    page = client.get(f"/me/offers/{offer.id}").get_data(as_text=True)
    assert "expired" in page
    assert client.post_form(f"/me/offers/{offer.id}/accept").status_code == 302
    db.expire_all()
    assert (offer.status, candidacy.state) == ("expired", "expired")
    assert offers.capacity(db, campaign=campaign).left == 1


def test_withdrawing_with_an_open_offer_withdraws_the_offer_and_frees_the_place(client, db):
    campaign = two_stage_campaign(db, capacity=1)
    candidacy = applicant(db, campaign=campaign, first="Olga", last="X")
    candidacy.state = "passed"
    role = db.scalar(sa.select(JobRole).where(JobRole.key == "support-agent"))
    offer = offers.issue(db, candidacy=candidacy, role=role, salary=36000, currency="RUB",
                         start_date=utcnow().date() + timedelta(days=30), work_format="remote",
                         conditions=[], expires_on=utcnow().date() + timedelta(days=7), by=None,
                         now=utcnow())
    assert offers.capacity(db, campaign=campaign).left == 0
    client.login(db.get(User, candidacy.user_id))
    response = client.post_form(f"/me/candidacies/{candidacy.id}/withdraw")
    assert response.status_code == 302
    db.expire_all()
    assert (candidacy.state, offer.status) == ("withdrawn", "withdrawn")
    assert offers.capacity(db, campaign=campaign).left == 1
    # The offer can no longer be accepted.
    client.post_form(f"/me/offers/{offer.id}/accept")
    db.expire_all()
    assert offer.status == "withdrawn"


def test_the_offers_expire_command_lets_overdue_offers_lapse(fresh_app):
    from recruit.cli import cli
    from recruit.db import get_db

    with fresh_app.app_context():
        session = get_db()
        campaign = two_stage_campaign(session, capacity=1)
        candidacy = applicant(session, campaign=campaign, first="Olga", last="X")
        candidacy.state = "passed"
        role = session.scalar(sa.select(JobRole).where(JobRole.key == "support-agent"))
        then = utcnow() - timedelta(days=10)
        offers.issue(session, candidacy=candidacy, role=role, salary=36000, currency="RUB",
                     start_date=then.date() + timedelta(days=30), work_format="remote",
                     conditions=[], expires_on=then.date() + timedelta(days=7), by=None,
                     now=then)
        session.commit()
    result = fresh_app.test_cli_runner().invoke(cli, ["offers", "expire"])
    assert result.exit_code == 0, result.output
    assert "1 offer(s) expired." in result.output
    with fresh_app.app_context():
        session = get_db()
        assert session.scalar(sa.select(Offer.status)) == "expired"
        assert session.scalar(sa.select(Candidacy.state)) == "expired"
        assert session.scalar(sa.select(Campaign.capacity)) == 1


def test_the_ranking_page_costs_the_same_queries_for_few_and_many_candidacies(client, db, app):
    campaign = two_stage_campaign(db)
    stage = campaign.stages[0]
    reviewer = reviewers(db, 1)
    client.login(make_user(db, role=Role.COORDINATOR))

    def count_queries() -> int:
        statements = []
        engine = app.extensions["recruit.engine"]

        def listener(*args):
            statements.append(args[2])

        sa.event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get(_stage_url(campaign, stage)).status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    def add(n):
        for i in range(n):
            hand_in(db, candidacy=applicant(db, campaign=campaign, first=f"N{i}x{n}", last="X"),
                    stage=stage, by=reviewer, scores=flat(1 + i % 5))

    add(3)
    few = count_queries()
    add(60)
    many = count_queries()
    assert many == few
