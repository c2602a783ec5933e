"""Rate limits behind a reverse proxy and across workers: each visitor has their own budget
when the proxy hops are configured (and X-Forwarded-For is never believed otherwise), and
workers sharing a real Redis count one budget between them."""

from __future__ import annotations

import pytest
import redis

from recruit import create_app
from tests.conftest import app_config

WRONG = {"email": "nobody@example.org", "password": "wrong password"}
ALLOWED = 10  # limits.login: 10 a minute


@pytest.fixture
def make_app(database_url, tmp_path):
    apps = []

    def make(**extra):
        application = create_app(app_config(database_url, tmp_path, RATELIMIT_ENABLED=True,
                                            WTF_CSRF_ENABLED=False, **extra))
        apps.append(application)
        return application

    yield make
    for application in apps:
        application.extensions["recruit.engine"].dispose()


@pytest.fixture
def redis_url(redis_server):
    redis.Redis.from_url(redis_server.url).flushall()
    return redis_server.url


def _try(client, *, forwarded_for: str | None = None, proxy: str = "10.0.0.1") -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post("/login", data=WRONG, headers=headers,
                       environ_base={"REMOTE_ADDR": proxy}).status_code


def test_behind_one_proxy_each_visitor_has_their_own_budget(make_app):
    client = make_app(PROXY_HOPS=1).test_client()
    statuses = [_try(client, forwarded_for="203.0.113.7") for _ in range(ALLOWED + 1)]
    assert statuses[:ALLOWED] == [200] * ALLOWED and statuses[ALLOWED] == 429
    # Another visitor through the same proxy is not punished for the first one's tries.
    assert _try(client, forwarded_for="198.51.100.23") == 200


def test_behind_one_proxy_a_forged_header_in_front_changes_nothing(make_app):
    client = make_app(PROXY_HOPS=1).test_client()
    for n in range(ALLOWED):
        # The client adds its own X-Forwarded-For; the proxy appends the real address last.
        assert _try(client, forwarded_for=f"192.0.2.{n}, 203.0.113.7") == 200
    assert _try(client, forwarded_for="192.0.2.99, 203.0.113.7") == 429


def test_without_proxy_hops_x_forwarded_for_is_never_believed(make_app):
    client = make_app().test_client()
    for n in range(ALLOWED):
        assert _try(client, forwarded_for=f"192.0.2.{n}", proxy="203.0.113.7") == 200
    # A new made-up address per try does not buy new tries.
    assert _try(client, forwarded_for="192.0.2.200", proxy="203.0.113.7") == 429


def test_the_proxy_hops_also_give_the_scheme_and_host(make_app):
    application = make_app(PROXY_HOPS=1, PUBLIC_URL="https://jobs.example.org")
    seen = {}

    @application.route("/_probe")
    def _probe():  # a test-only view: not part of the site
        from flask import request

        seen.update(scheme=request.scheme, host=request.host, addr=request.remote_addr)
        return "ok"

    _probe.__access__ = "public"
    response = application.test_client().get(
        "/_probe", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
                            "X-Forwarded-Host": "jobs.example.org"},
        environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert response.status_code == 200
    assert seen == {"scheme": "https", "host": "jobs.example.org", "addr": "203.0.113.7"}


def test_two_workers_sharing_redis_count_one_budget(make_app, redis_url):
    workers = [make_app(RATELIMIT_STORAGE_URI=redis_url).test_client() for _ in range(2)]
    statuses = [_try(workers[n % 2], proxy="203.0.113.7") for n in range(ALLOWED)]
    assert statuses == [200] * ALLOWED
    # The eleventh try is refused whichever worker takes it.
    assert _try(workers[0], proxy="203.0.113.7") == 429
    assert _try(workers[1], proxy="203.0.113.7") == 429
    keys = redis.Redis.from_url(redis_url).keys("*")
    assert keys, "the counts live in Redis"


def test_two_workers_behind_a_proxy_with_redis_keep_visitors_apart(make_app, redis_url):
    workers = [make_app(RATELIMIT_STORAGE_URI=redis_url, PROXY_HOPS=1).test_client()
               for _ in range(2)]
    for n in range(ALLOWED):
        assert _try(workers[n % 2], forwarded_for="203.0.113.7") == 200
    assert _try(workers[0], forwarded_for="203.0.113.7") == 429
    assert _try(workers[1], forwarded_for="198.51.100.23") == 200
