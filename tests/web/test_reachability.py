"""Every page is reachable by clicking: each role starts on its home page and follows links.

A page a role may open (EXPECTED in the access matrix says 200) but that no chain of links
from the role's home page leads to is a page nobody finds without typing its address; the
test names it. The crawl runs in demo mode, so the demo's pages count too.
"""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound

from recruit.db import utcnow
from recruit.models import Candidacy, Review, ReviewAssignment, Role
from tests.factories import make_user
from tests.web.test_access_matrix import EXPECTED
from tests.world import ROLES, build_world

# Not pages: the load balancer's health check.
NOT_PAGES = {"main.healthz"}
# Pages for visitors who are not logged in: nothing links a logged-in user back to them.
LOGGED_OUT_PAGES = {"auth.login", "auth.reset_request"}
# Links a crawl may follow per endpoint: enough to reach everything a page links to, few
# enough that a role's crawl (PDFs included) stays short.
PER_ENDPOINT = 3
MAX_PAGES = 400
_HREF = re.compile(r"""<(?:a|link)\b[^>]*?\bhref\s*=\s*["']([^"'#]+)""", re.I)


@pytest.fixture
def world(db, app, monkeypatch):
    monkeypatch.setitem(app.config, "DEMO", True)
    world = build_world(db)
    # One answer waits for the custodian's check, so the custody desk lists it.
    world.answers[1].check_status = "pending"
    # Another has all its reviews, so review progress offers it as a calibration answer.
    done = world.answers[2]
    for n in range(done.reviews_wanted):
        reviewer = make_user(db, role=Role.REVIEWER)
        held = ReviewAssignment(answer_id=done.id, reviewer_id=reviewer.id, status="submitted",
                                leased_at=utcnow(), lease_expires_at=utcnow(), draft={})
        db.add(held)
        db.flush()
        db.add(Review(assignment_id=held.id, answer_id=done.id, reviewer_id=reviewer.id,
                      score_raw=3.0 + n))
    done.reviews_done = done.reviews_wanted
    # Someone passed every stage, so the offers page has a candidacy to make an offer to.
    passed = make_user(db, role=Role.APPLICANT)
    db.add(Candidacy(user_id=passed.id, campaign_id=world.campaign.id, state="passed"))
    db.flush()
    return world


def crawl(app, client, start: str = "/", on_page=None) -> set[str]:
    """The endpoints answered with 200 along every chain of links from ``start``;
    ``on_page(url, response)`` sees each of those pages."""
    adapter = app.url_map.bind("localhost")
    reached: set[str] = set()
    asked: dict[str, int] = {}
    queue, seen = deque([start]), {start}
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        try:
            endpoint = adapter.match(urlsplit(url).path, method="GET")[0]
        except (NotFound, MethodNotAllowed):
            continue
        if asked.get(endpoint, 0) >= PER_ENDPOINT:
            continue
        asked[endpoint] = asked.get(endpoint, 0) + 1
        response = client.get(url)
        targets = [response.location] if response.location else []
        if response.status_code == 200:
            reached.add(endpoint)
            if on_page is not None:
                on_page(url, response)
            if response.mimetype == "text/html":
                targets += _HREF.findall(response.get_data(as_text=True))
        response.close()
        for target in targets:
            parts = urlsplit(urljoin("http://localhost" + url, target.strip()))
            if parts.hostname not in (None, "localhost"):
                continue
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            if local not in seen:
                seen.add(local)
                queue.append(local)
    return reached


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_a_role_is_reachable_from_its_home_page(role, app, client, world):
    if world.users[role] is not None:
        client.login(world.users[role])
    get_endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    may_open = {endpoint for endpoint in get_endpoints
                if EXPECTED[endpoint][role] == 200} - NOT_PAGES
    if role != "anonymous":
        may_open -= LOGGED_OUT_PAGES
    reached = crawl(app, client)
    unreachable = sorted(may_open - reached)
    assert unreachable == [], f"no link leads to these pages: {', '.join(unreachable)}"
