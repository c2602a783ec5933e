"""Every route × every kind of visitor against an expected status.

A route missing from EXPECTED fails the test: adding a page means deciding, here, who may
open it. GET routes are fetched; POST-only routes are posted with a valid CSRF token and no
data (so allowed visitors get a validation answer, others 403 or the login redirect).
"""

from __future__ import annotations

import pytest
from flask import url_for

from tests.world import ROLES, build_world, url_params

LOGIN = 302  # anonymous visitors are sent to the login page


def only(*allowed: str, ok: int = 200) -> dict[str, int]:
    """``ok`` for the allowed kinds, the login redirect for anonymous, 403 for the rest."""
    return {r: ok if r in allowed else (LOGIN if r == "anonymous" else 403) for r in ROLES}


def everyone(ok: int = 200, **overrides: int) -> dict[str, int]:
    """The same status for every kind of visitor, with per-kind exceptions."""
    return {r: overrides.get(r, ok) for r in ROLES}


STAFF = ("coordinator", "custodian")
LOGGED_IN = ("applicant", "reviewer", "coordinator", "custodian")

EXPECTED: dict[str, dict[str, int]] = {
    # -- main, auth -------------------------------------------------------------------------
    "static": everyone(200),
    "main.index": everyone(302, anonymous=200),
    "main.set_language": everyone(302),
    "main.healthz": everyone(200),
    "main.favicon": everyone(301),
    "auth.register": everyone(302, anonymous=200),
    "auth.confirm": everyone(302),
    "auth.resend_confirmation": only("applicant", ok=302),
    "auth.login": everyone(200),
    "auth.logout": only(*LOGGED_IN, ok=302),
    "auth.reset_request": everyone(200),
    "auth.reset": everyone(302),
    # -- applicant --------------------------------------------------------------------------
    "applicant.home": only("applicant"),
    "applicant.profile": only("applicant"),
    "applicant.apply": only("applicant", ok=302),  # the world's applicant already applied
    "applicant.waitlist_join": only("applicant", ok=302),
    "applicant.waitlist_leave": only("applicant", ok=302),
    "applicant.candidacy": only("applicant"),
    "applicant.stage": only("applicant"),
    "applicant.stage_start": only("applicant", ok=302),
    "applicant.stage_save": only("applicant", ok=302),
    "applicant.autosave": only("applicant", ok=400),  # a form post is not the JSON it wants
    "applicant.stage_submit": only("applicant", ok=302),  # already submitted
    "applicant.withdraw": only("applicant"),
    "applicant.my_data": only("applicant"),
    "applicant.export": only("applicant"),
    "applicant.erase": only("applicant"),
    # -- review -----------------------------------------------------------------------------
    "review.home": only("reviewer"),
    "review.next_answer": only("reviewer", ok=302),
    "review.answer": only("reviewer"),
    "review.draft": only("reviewer", ok=400),
    "review.put_back": only("reviewer", ok=302),
    "review.recuse": only("reviewer", ok=302),
    # Routes run in name order: put_back just gave the world's lease back, so this is the
    # conflict a finished assignment answers.
    "review.submit": only("reviewer", ok=409),
    "review.mine": only("reviewer"),
    "reviewers.pool": only(*STAFF),
    "reviewers.add": only(*STAFF, ok=400),
    "reviewers.remove": only(*STAFF, ok=302),
    "reviewers.progress": only(*STAFF),
    "reviewers.stage_scores": only(*STAFF),
    "reviewers.normalise": only(*STAFF, ok=302),
    "reviewers.settings": only(*STAFF, ok=302),  # the form is on the campaign page
    "calibration.overview": only(*STAFF),
    # The custodian never scores, so never sets reference scores.
    "calibration.write": only("coordinator"),
    "calibration.copy": only("coordinator"),
    "calibration.retire": only("coordinator", ok=404),  # the world's answer is a candidate's
    # -- coordinator ------------------------------------------------------------------------
    "coordinator.home": only(*STAFF),
    "coordinator.tracks_list": only(*STAFF),
    "coordinator.track": only(*STAFF),
    "coordinator.campaign_new": only(*STAFF),
    "coordinator.campaign": only(*STAFF),
    # -- decisions and offers ---------------------------------------------------------------
    "decisions.stage": only(*STAFF),
    "decisions.cutoff_apply": only(*STAFF, ok=302),
    "decisions.candidacy": only(*STAFF),
    "decisions.alternates": only(*STAFF),
    "decisions.invite": only(*STAFF, ok=302),
    # Integrity flags (issue 18): coordinators only, never reviewers.
    "decisions.similar_pair": only(*STAFF),
    "decisions.integrity_overview": only(*STAFF),
    # -- candidates' feedback (issue 19) ------------------------------------------------------
    # The world's candidacy is still awaiting its decision: it has no feedback yet (404, with
    # the reason); tests/web/test_feedback.py opens feedback that exists.
    "feedback.show": only("applicant", ok=404),
    "feedback.settings": only(*STAFF, ok=302),  # the form is on the campaign page
    "feedback.comment": only(*STAFF, ok=400),  # which comment, and hide or show?
    "offers.campaign_offers": only(*STAFF),
    "offers.offer_new": only(*STAFF),
    "offers.my_offers": only("applicant"),
    "offers.show": only("applicant"),
    "offers.accept": only("applicant"),
    "offers.decline": only("applicant"),
    "offers.hires": only("custodian"),
    # -- reports ----------------------------------------------------------------------------
    # A reviewer has no right to know which offers exist: 404, as for a missing one.
    "reports.offer_letter": {**only("applicant", "custodian"), "reviewer": 404},
    "reports.offer_letter_preview": only(*STAFF),
    "reports.dossier": only(*STAFF),
    "reports.campaign_report": only(*STAFF),
    "reports.campaign_results_csv": only(*STAFF),
    "reports.hires_csv": only("custodian"),
    # -- custodian --------------------------------------------------------------------------
    "custodian.home": only("custodian"),
    "custodian.answer": only("custodian"),
    "custodian.mark_span": only("custodian", ok=400),
    "custodian.mark_phrase": only("custodian", ok=400),
    "custodian.unmark_span": only("custodian", ok=302),
    "custodian.confirm_flag": only("custodian", ok=302),
    "custodian.release": only("custodian", ok=302),
    "custodian.reveal": only("custodian"),
    "custodian.contact_handled": only("custodian", ok=302),
    "custodian.contact_request": only(*STAFF),
    "custodian.handover": only("custodian"),
    "custodian.audit": only("custodian"),
    # -- the demo of `make run` (the matrix runs in demo mode; outside it the page is a 404) --
    "demo.outbox": only("custodian"),
}


@pytest.fixture
def world(db, app, monkeypatch):
    # Demo mode, so the demo's pages exist too (and mail is delivered after each request).
    monkeypatch.setitem(app.config, "DEMO", True)
    return build_world(db)


def test_every_route_is_in_the_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - EXPECTED.keys())
    assert missing == [], f"add these routes to EXPECTED: {missing}"
    stale = sorted(EXPECTED.keys() - endpoints)
    assert stale == [], f"these routes no longer exist: {stale}"


def test_every_view_asks_the_access_policy(app):
    unguarded = sorted(
        endpoint for endpoint, view in app.view_functions.items()
        if endpoint != "static" and not hasattr(view, "__access__")
    )
    assert unguarded == [], f"wrap these views in access.guard or access.public: {unguarded}"


def _rules(app):
    return sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint)


@pytest.mark.parametrize("role", ROLES)
def test_route_statuses_for(role, app, client, db, world):
    params = url_params(world)
    failures = []
    for rule in _rules(app):
        expected = EXPECTED.get(rule.endpoint, {}).get(role)
        if expected is None:
            continue
        client.logout()
        if world.users[role] is not None:
            # Logging out (one of the routes) ends every session of the user: log in anew.
            db.refresh(world.users[role])
            client.login(world.users[role])
        with app.test_request_context():
            url = url_for(rule.endpoint, **{a: params[a] for a in rule.arguments})
        response = client.get(url) if "GET" in rule.methods else client.post_form(url)
        if response.status_code != expected:
            failures.append(f"{rule.endpoint} {url}: {response.status_code} != {expected}")
        response.close()
    assert failures == []


# Routes that load an object by id and belong to one visitor: anyone else gets the same 404 as
# for an id that does not exist, so ids cannot be probed (403 would say "it exists").
OWNED = {
    "applicant.candidacy": "applicant",
    "applicant.stage": "applicant",
    "applicant.stage_start": "applicant",
    "applicant.stage_save": "applicant",
    "applicant.autosave": "applicant",
    "applicant.stage_submit": "applicant",
    "applicant.withdraw": "applicant",
    "feedback.show": "applicant",
    "offers.show": "applicant",
    "offers.accept": "applicant",
    "offers.decline": "applicant",
    "reports.offer_letter": "applicant",
    "review.answer": "reviewer",
    "review.draft": "reviewer",
    "review.submit": "reviewer",
    "review.recuse": "reviewer",
    "review.next_answer": "reviewer",
}

MISSING = {"candidacy_id": 999_999, "answer_id": 999_999, "offer_id": 999_999,
           "task_id": 999_999, "token": "no-such-token"}


@pytest.mark.parametrize("endpoint", sorted(OWNED))
def test_someone_elses_object_answers_like_a_missing_one(endpoint, app, client, db, world):
    from recruit.models import CampaignReviewer, Role
    from tests.factories import make_user

    role = Role(OWNED[endpoint])
    other = make_user(db, role=role)
    if role is Role.REVIEWER:
        # Even in the same pool, another reviewer's answer does not exist for them; a task
        # of a campaign whose pool they are not in does not either.
        if endpoint != "review.next_answer":
            db.add(CampaignReviewer(campaign_id=world.campaign.id, user_id=other.id))
        db.flush()
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    params = url_params(world)
    statuses = []
    for values in (params, {**params, **MISSING}):
        client.logout()
        client.login(other)
        with app.test_request_context():
            url = url_for(endpoint, **{a: values[a] for a in rule.arguments})
        response = client.get(url) if "GET" in rule.methods else client.post_form(url)
        statuses.append(response.status_code)
        response.close()
    assert statuses == [404, 404], statuses
