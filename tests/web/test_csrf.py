"""Every route that accepts POST refuses a request without a CSRF token, for every visitor.

The routes come from ``app.url_map``, so a new POST route is covered without touching this
file (its URL parameters come from tests/world.py ``url_params``).
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import url_for

from recruit.web import csrf
from tests.world import ROLES, build_world, url_params

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def _unsafe_rules(app):
    return sorted(
        ((rule, method) for rule in app.url_map.iter_rules() for method in UNSAFE
         if method in rule.methods),
        key=lambda pair: (pair[0].endpoint, pair[0].rule, pair[1]),
    )


@pytest.fixture
def world(db):
    return build_world(db)


def _url(app, rule, params) -> str:
    missing = [a for a in rule.arguments if a not in params]
    assert not missing, f"add a value for {missing} to tests/world.py url_params"
    with app.test_request_context():
        return url_for(rule.endpoint, **{a: params[a] for a in rule.arguments})


def test_there_are_post_routes_and_none_is_exempt(app):
    assert len(_unsafe_rules(app)) >= 5
    assert not csrf._exempt_views and not csrf._exempt_blueprints


def _row_counts(db) -> dict[str, int]:
    tables = sa.inspect(db.get_bind()).get_table_names()
    return {t: db.scalar(sa.select(sa.func.count()).select_from(sa.table(t))) for t in tables}


@pytest.mark.parametrize("role", ROLES)
def test_every_post_route_refuses_a_missing_token(role, app, client, db, world):
    params = url_params(world)
    before = _row_counts(db)
    failures = []
    for rule, method in _unsafe_rules(app):
        client.logout()
        if world.users[role] is not None:
            client.login(world.users[role])
        url = _url(app, rule, params)
        response = client.open(url, method=method, data={"anything": "value"})
        if response.status_code != 400:
            failures.append(f"{method} {rule.endpoint} {url}: {response.status_code}")
        elif "The form has expired" not in response.get_data(as_text=True):
            failures.append(f"{method} {rule.endpoint}: not the CSRF page")
        response.close()
    assert failures == []
    assert _row_counts(db) == before, "a refused request changed the database"


@pytest.mark.parametrize("role", ["anonymous", "applicant"])
def test_json_posts_without_a_token_get_a_json_refusal(role, app, client, world):
    params = url_params(world)
    failures = []
    for rule, method in _unsafe_rules(app):
        client.logout()
        if world.users[role] is not None:
            client.login(world.users[role])
        url = _url(app, rule, params)
        response = client.open(url, method=method, json={"text": "x", "version": 1},
                               headers={"Accept": "application/json"})
        body = response.get_json(silent=True) or {}
        if response.status_code != 400 or body.get("error") != "csrf" or not body.get("message"):
            failures.append(f"{method} {rule.endpoint}: {response.status_code} {body}")
        response.close()
    assert failures == []


def test_a_token_from_another_session_is_refused(app, client, db, world):
    other = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      other.get("/login").get_data(as_text=True)).group(1)
    client.login(world.users["applicant"])
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 400
    assert client.get("/me/").status_code == 200, "still logged in"


def test_a_forged_token_is_refused(client, world):
    client.login(world.users["applicant"])
    response = client.post("/logout", data={"csrf_token": "IjAwMDAi.forged.token"})
    assert response.status_code == 400
