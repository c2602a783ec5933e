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
    "reviewers.settings": only(*STAFF),
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
    "offers.campaign_offers": only(*STAFF),
    "offers.offer_new": only(*STAFF),
    "offers.my_offers": only("applicant"),
    "offers.show": only("applicant"),
    "offers.accept": only("applicant"),
    "offers.decline": only("applicant"),
    "offers.hires": only("custodian"),
    # -- reports ----------------------------------------------------------------------------
    "reports.offer_letter": only("applicant", "custodian"),
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
    "custodian.release": only("custodian", ok=302),
    "custodian.reveal": only("custodian"),
    "custodian.contact_handled": only("custodian", ok=302),
    "custodian.contact_request": only(*STAFF),
    "custodian.handover": only("custodian"),
    "custodian.audit": only("custodian"),
}


@pytest.fixture
def world(db):
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
def test_route_statuses_for(role, app, client, world):
    params = url_params(world)
    failures = []
    for rule in _rules(app):
        expected = EXPECTED.get(rule.endpoint, {}).get(role)
        if expected is None:
            continue
        client.logout()
        if world.users[role] is not None:
            client.login(world.users[role])
        with app.test_request_context():
            url = url_for(rule.endpoint, **{a: params[a] for a in rule.arguments})
        response = client.get(url) if "GET" in rule.methods else client.post_form(url)
        if response.status_code != expected:
            failures.append(f"{rule.endpoint} {url}: {response.status_code} != {expected}")
        response.close()
    assert failures == []
