"""Small things a user noticed: the icon, a failed applicant's pages, the data page."""

from __future__ import annotations

import pytest

from recruit.models import Role
from tests.factories import make_user
from tests.world import build_world


@pytest.fixture
def world(db):
    return build_world(db)


def test_every_page_names_its_icon_and_the_old_icon_address_answers(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">' in page
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.location.endswith("/static/favicon.svg")
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    icon.close()


def test_an_applicant_who_did_not_pass_sees_no_withdraw_link_and_no_green_badge(client, db,
                                                                                 world):
    world.candidacy.state = "not_passed"
    db.flush()
    client.login(world.users["applicant"])
    page = client.get(f"/me/candidacies/{world.candidacy.id}").get_data(as_text=True)
    assert "/withdraw" not in page
    stage = world.campaign.stages[0]
    answers = client.get(f"/me/candidacies/{world.candidacy.id}/stages/{stage.id}")
    text = answers.get_data(as_text=True)
    assert 'class="result neutral" id="submitted-note"' in text and "result ok" not in text
    refused = client.get(f"/me/candidacies/{world.candidacy.id}/withdraw")
    assert refused.status_code == 302


def test_an_applicant_under_review_may_still_withdraw(client, world):
    client.login(world.users["applicant"])
    page = client.get(f"/me/candidacies/{world.candidacy.id}").get_data(as_text=True)
    assert f"/me/candidacies/{world.candidacy.id}/withdraw" in page


def test_the_data_page_says_what_erasing_would_do_not_that_it_happened(client, db):
    client.login(make_user(db, role=Role.APPLICANT))
    page = client.get("/me/data").get_data(as_text=True)
    assert "If you erase your account, your profile and account are deleted" in page
