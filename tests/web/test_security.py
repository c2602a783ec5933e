"""Headers, cookies, the health check, rate limits and input hygiene."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from recruit import create_app, limits, security
from recruit.models import Role
from tests.conftest import app_config
from tests.factories import PASSWORD, make_user

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


# -- headers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/", "/login", "/healthz", "/no-such-page",
                                 "/static/style.css"], ids=["index", "login", "healthz",
                                                            "404", "static"])
def test_every_response_carries_the_security_headers(client, url):
    response = client.get(url)
    response.close()
    for name, value in security.HEADERS.items():
        assert response.headers[name] == value, name
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("strict-origin-when-cross-origin",
                                                   "no-referrer")


def test_pages_of_a_logged_in_user_are_not_cached(client, db):
    client.login(make_user(db, role=Role.APPLICANT))
    assert client.get("/me/").headers["Cache-Control"] == "no-store"
    static = client.get("/static/style.css")
    static.close()
    assert "no-store" not in static.headers.get("Cache-Control", "")


def test_hsts_only_with_secure_cookies(tmp_path, database_url):
    plain = create_app(app_config(database_url, tmp_path))
    secure = create_app(app_config(database_url, tmp_path, SECURE_COOKIES=True))
    try:
        assert "Strict-Transport-Security" not in plain.test_client().get("/").headers
        assert secure.test_client().get("/").headers["Strict-Transport-Security"].startswith(
            "max-age=")
    finally:
        for application in (plain, secure):
            application.extensions["recruit.engine"].dispose()


@pytest.mark.parametrize("pattern", [r"\sstyle=", r"\son[a-z]+\s*=", r"<script(?![^>]*\ssrc=)"],
                         ids=["style-attribute", "event-handler", "inline-script"])
def test_templates_need_nothing_the_csp_forbids(pattern):
    # PDF templates are rendered by WeasyPrint on the server, never by a browser under the CSP.
    offenders = [
        f"{path.relative_to(TEMPLATES)}:{n}"
        for path in TEMPLATES.rglob("*.html") if not {"pdf", "mail"} & set(path.parts)
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(pattern, line)
    ]
    assert offenders == []


# -- cookies and sessions ---------------------------------------------------------------------

def _session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    return cookies[-1]


def test_login_makes_a_permanent_httponly_lax_session(client, db):
    user = make_user(db, role=Role.APPLICANT)
    response = client.post_form("/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    cookie = _session_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Expires=" in cookie, "a permanent session has an expiry date"
    assert "Secure" not in cookie
    assert client.application.permanent_session_lifetime <= timedelta(hours=12)


def test_secure_cookies_setting_marks_the_session_cookie_secure(tmp_path, database_url):
    application = create_app(app_config(database_url, tmp_path, SECURE_COOKIES=True))
    try:
        client = application.test_client()
        with client.session_transaction() as sess:
            sess["lang"] = "en"
        cookie = _session_cookie(client.get("/"))
        assert "Secure" in cookie and "HttpOnly" in cookie
        assert application.config["REMEMBER_COOKIE_SECURE"] is True
    finally:
        application.extensions["recruit.engine"].dispose()


def test_remember_me_cookie_lasts_weeks_not_a_year(app):
    assert app.config["REMEMBER_COOKIE_DURATION"] <= timedelta(days=31)


# -- health check -----------------------------------------------------------------------------

def test_healthz_answers_ok_when_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_answers_503_when_the_database_is_gone(tmp_path):
    missing = tmp_path / "no-such-dir" / "gone.sqlite3"
    application = create_app(app_config(f"sqlite:///{missing}", tmp_path))
    try:
        response = application.test_client().get("/healthz")
        assert response.status_code == 503
        assert response.get_json()["status"] == "error"
    finally:
        application.extensions["recruit.engine"].dispose()


# -- rate limits ------------------------------------------------------------------------------

@pytest.fixture
def limited_app(database_url, tmp_path):
    """An app with rate limits on (the shared test app has them off)."""
    application = create_app(app_config(database_url, tmp_path, RATELIMIT_ENABLED=True,
                                        WTF_CSRF_ENABLED=False))
    yield application
    application.extensions["recruit.engine"].dispose()


def _flood(client, url: str, data: dict, times: int, **kwargs) -> list[int]:
    return [client.post(url, data=data, **kwargs).status_code for _ in range(times)]


LIMITED_FORMS = [
    ("/login", {"email": "nobody@example.org", "password": "wrong password"}, 10),
    ("/register", {"email": "x@example.org", "password": "a long password",
                   "confirm": "does not match"}, 5),
    ("/reset", {"email": "not an address"}, 5),
]


@pytest.mark.parametrize(("url", "data", "allowed"), LIMITED_FORMS,
                         ids=["login", "registration", "password-reset"])
def test_repeated_attempts_are_refused_with_a_clear_message(limited_app, url, data, allowed):
    client = limited_app.test_client()
    statuses = _flood(client, url, data, allowed)
    assert 429 not in statuses
    refused = client.post(url, data=data)
    assert refused.status_code == 429
    assert "You are doing that too often" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) > 0
    # Only attempts count: the page itself still opens.
    assert client.get(url).status_code == 200


def test_the_limit_is_per_address(limited_app):
    url, data, allowed = LIMITED_FORMS[0]
    client = limited_app.test_client()
    _flood(client, url, data, allowed + 1, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert client.post(url, data=data,
                       environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 429
    assert client.post(url, data=data,
                       environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 200


def test_the_message_is_in_the_users_language(limited_app):
    url, data, allowed = LIMITED_FORMS[0]
    client = limited_app.test_client()
    _flood(client, url, data, allowed)
    refused = client.post(url, data=data, headers={"Accept-Language": "ru"})
    assert refused.status_code == 429
    text = refused.get_data(as_text=True)
    assert "You are doing that too often" not in text
    assert re.search("[а-яА-Я]{4,}", text)


def test_json_clients_get_a_json_refusal(limited_app):
    url, data, allowed = LIMITED_FORMS[0]
    client = limited_app.test_client()
    _flood(client, url, data, allowed)
    refused = client.post(url, data=data, headers={"Accept": "application/json"})
    assert refused.status_code == 429
    body = refused.get_json()
    assert body["error"] == "rate_limit" and "too often" in body["message"]


def test_limits_are_off_when_disabled(app, client):
    assert app.config["RATELIMIT_ENABLED"] is False
    statuses = _flood(client, "/login", {"email": "nobody@example.org", "password": "x"}, 15)
    assert 429 not in statuses


def test_one_apps_switch_does_not_change_another(app, limited_app):
    # Flask-Limiter keeps its switch on the extension object: each app must have its own.
    assert app.extensions[limits.EXTENSION] is not limited_app.extensions[limits.EXTENSION]
    assert not app.extensions[limits.EXTENSION].enabled
    assert limited_app.extensions[limits.EXTENSION].enabled


@pytest.mark.parametrize(("named", "endpoint"), [
    (limits.login, "auth.login"),
    (limits.registration, "auth.register"),
    (limits.password_reset, "auth.reset_request"),
    (limits.password_reset, "auth.reset"),
    (limits.confirmation_mail, "auth.resend_confirmation"),
], ids=lambda v: v if isinstance(v, str) else v.name)
def test_sensitive_routes_carry_their_limit(app, named, endpoint):
    assert getattr(app.view_functions[endpoint], "__rate_limit__", None) is named


def test_autosave_is_limited_per_account(app):
    marked = [endpoint for endpoint, view in app.view_functions.items()
              if getattr(view, "__rate_limit__", None) is limits.autosave]
    assert marked, "the applicant's autosave route should carry @limits.autosave"


# -- input hygiene ----------------------------------------------------------------------------

def test_nul_characters_are_dropped_from_every_kind_of_input(app):
    with app.test_request_context("/?q=a%00b", method="POST", data={"f": "c\x00d"}):
        from flask import request

        assert request.args["q"] == "ab"
        assert request.form["f"] == "cd"
    with app.test_request_context("/", method="POST", json={"t": ["e\x00f", {"g\x00": "h"}]}):
        from flask import request

        assert request.get_json() == {"t": ["ef", {"g": "h"}]}


@pytest.mark.parametrize("body", ["true", '["x"]', "[1, 2]", '"text"', "3"],
                         ids=["bool", "list-of-one", "list", "string", "number"])
def test_a_json_body_that_is_not_an_object_is_a_clear_400(client, body):
    # Found by the fuzzer: Flask-WTF turned these into a server error on every form view.
    response = client.post("/login", data=body, content_type="application/json",
                           headers={"X-CSRFToken": client.csrf_token()})
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"
