"""The reviewer's pages run a fixed number of SQL queries whatever the number of answers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from recruit.domain import assignment
from recruit.models import Answer
from tests.reviewing import Lowest, add_answers, add_reviewer, count_queries
from tests.world import build_world


@pytest.fixture
def world(db, monkeypatch):
    # Enter the token order at its start, so the count does not depend on where a random
    # entry point falls (tests/unit/test_assignment.py bounds the random case).
    monkeypatch.setattr(assignment, "secrets", SimpleNamespace(SystemRandom=Lowest))
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
    assert large["next"] <= 14 and large["page"] <= 6 and large["home"] <= 8, large
