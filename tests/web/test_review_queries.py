"""The reviewer's pages run a fixed number of SQL queries whatever the number of answers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from recruit.models import Answer
from tests.reviewing import add_answers, add_reviewer, count_queries
from tests.world import build_world


@pytest.fixture
def world(db):
    return build_world(db)


def _measure(client, app, db, world, count: int) -> dict[str, int]:
    task = world.campaign.stages[0].tasks[1]
    add_answers(db, campaign=world.campaign, count=count, tasks=[task])
    reviewer = add_reviewer(db, campaign=world.campaign)
    client.login(reviewer)
    engine = app.extensions["recruit.engine"]
    counts = {}
    with count_queries(engine) as statements:
        response = client.post_form(f"/review/tasks/{task.id}/next", {"csrf_token": "x"})
    # The CSRF token comes from a login-page fetch in post_form; count the POST alone.
    assert response.status_code in (302, 400)
    token = client.csrf_token()
    with count_queries(engine) as statements:
        response = client.post(f"/review/tasks/{task.id}/next", data={"csrf_token": token})
    assert response.status_code == 302
    counts["next"] = len(statements)
    url = response.location
    with count_queries(engine) as statements:
        assert client.get(url).status_code == 200
    counts["page"] = len(statements)
    with count_queries(engine) as statements:
        assert client.get("/review/").status_code == 200
    counts["home"] = len(statements)
    token = client.csrf_token()
    with count_queries(engine) as statements:
        response = client.post(url + "/draft", json={"scores": {}, "comment": "x"},
                               headers={"X-CSRFToken": token})
        assert response.status_code == 200
    counts["draft"] = len(statements)
    return counts


def test_reviewer_pages_run_the_same_number_of_queries_for_10_and_1000_answers(client, app, db,
                                                                              world):
    small = _measure(client, app, db, world, 10)
    for answer in db.scalars(select(Answer)):
        answer.reviews_wanted = 0  # start the second measurement from a fresh pool
    db.flush()
    large = _measure(client, app, db, world, 1000)
    assert small == large, (small, large)
    # Counts include the test's SAVEPOINT and RELEASE around each request. The answer page is
    # the user and one query; the hand-out runs no lease expiry while no lease has lapsed.
    assert large["next"] <= 8 and large["page"] <= 4 and large["home"] <= 8, large


def test_submitting_a_review_reads_the_assignment_once(client, app, db, world):
    task = world.campaign.stages[0].tasks[1]
    add_answers(db, campaign=world.campaign, count=3, tasks=[task])
    reviewer = add_reviewer(db, campaign=world.campaign)
    client.login(reviewer)
    url = client.post_form(f"/review/tasks/{task.id}/next").location
    form = {f"c-{c.id}": "3" for c in task.criteria}
    form["csrf_token"] = client.csrf_token()
    with count_queries(app.extensions["recruit.engine"]) as statements:
        response = client.post(url + "/submit", data=form)
    assert response.status_code == 302
    by_token = [s for s in statements if "answer.token = " in s and "review_assignment" in s]
    assert len(by_token) == 1, by_token
