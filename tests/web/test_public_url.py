"""Absolute links come from the configured public URL, never from the request's Host header,
and requests for a host that is neither the public one nor allowed are refused."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask.cli import ScriptInfo

from recruit import create_app
from recruit.cli import cli
from recruit.config import ConfigError
from recruit.models import OutboxMessage
from tests.conftest import Client, app_config
from tests.factories import make_user

PUBLIC = "https://jobs.example.org"


@pytest.fixture
def public_app(app, db, database_url, tmp_path):
    """An app with a public URL and an alias, sharing the test's rolled-back transaction."""
    application = create_app(app_config(database_url, tmp_path, PUBLIC_URL=PUBLIC,
                                        ALLOWED_HOSTS="alias.example.org, 10.0.0.5, localhost",
                                        WTF_CSRF_ENABLED=False))
    application.extensions["recruit.sessionmaker"] = app.extensions["recruit.sessionmaker"]
    yield application
    application.extensions["recruit.engine"].dispose()


def _mails(db, to: str) -> list[OutboxMessage]:
    return db.scalars(sa.select(OutboxMessage).where(OutboxMessage.to_address == to)).all()


def test_a_reset_request_for_a_foreign_host_is_refused_and_sends_nothing(public_app, db):
    user = make_user(db, email="victim@example.org")
    response = public_app.test_client().post("/reset", data={"email": user.email},
                                             base_url="http://evil.example.net")
    assert response.status_code == 400
    assert "evil.example.net" not in response.get_data(as_text=True)
    assert _mails(db, "victim@example.org") == []


@pytest.mark.parametrize("host", ["alias.example.org", "10.0.0.5:8000", "jobs.example.org"])
def test_links_in_mail_use_the_public_url_whatever_allowed_host_was_asked(public_app, db,
                                                                          host):
    client = Client(public_app)
    user = make_user(db, email="anna@example.org")
    response = client.post("/reset", data={"email": user.email}, base_url=f"http://{host}")
    assert response.status_code == 302
    (message,) = _mails(db, "anna@example.org")
    links = re.findall(r"\w+://[^\s\"<]+", message.body_text + (message.body_html or ""))
    assert links and all(link.startswith(PUBLIC + "/") for link in links), links


def test_the_confirmation_link_uses_the_public_url(public_app, db):
    client = Client(public_app)
    client.post("/register", base_url="http://alias.example.org",
                data={"email": "new@example.org",
                      "password": "a long password", "confirm": "a long password"})
    (message,) = _mails(db, "new@example.org")
    assert re.search(re.escape(PUBLIC) + r"/confirm/\S+", message.body_text)


def test_the_custodians_contact_request_mail_links_to_the_public_url(public_app, db):
    from tests.world import build_world

    world = build_world(db)
    client = Client(public_app)
    client.login(world.users["coordinator"])
    # The request comes in on "localhost", an allowed host; the link points at PUBLIC.
    response = client.post(f"/coordinate/candidacies/{world.candidacy.code}/contact",
                           data={"message": "Please call."})
    assert response.status_code == 302, response.get_data(as_text=True)
    (message,) = _mails(db, world.users["custodian"].email)
    assert PUBLIC + "/custody/" in message.body_text
    assert "localhost" not in message.body_text


def test_the_refusal_is_in_the_users_language(client):
    response = client.get("/", headers={"Host": "evil.example.net", "Accept-Language": "ru"})
    assert response.status_code == 400
    assert "Откройте его по адресу" in response.get_data(as_text=True)


def test_a_public_url_without_a_host_is_a_clear_config_error(database_url, tmp_path):
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        create_app(app_config(database_url, tmp_path, PUBLIC_URL="jobs.example.org"))


def test_without_a_public_url_the_site_is_127_0_0_1_port_5000(database_url, tmp_path):
    application = create_app(app_config(database_url, tmp_path, PUBLIC_URL=None))
    try:
        assert application.config["PUBLIC_URL"] == "http://127.0.0.1:5000"
        client = application.test_client()
        for host in ("127.0.0.1:5000", "localhost:5000"):
            assert client.get("/", headers={"Host": host}).status_code == 200
        assert client.get("/", headers={"Host": "192.168.1.9:5000"}).status_code == 400
    finally:
        application.extensions["recruit.engine"].dispose()


def _run_command(application, monkeypatch, *args):
    served = {}

    def fake_run_simple(host, port, app, **options):
        served.update(host=host, port=port, app=app, **options)

    monkeypatch.setattr("flask.cli.run_simple", fake_run_simple)
    result = CliRunner().invoke(cli, ["run", *args],
                                obj=ScriptInfo(create_app=lambda: application),
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return served, result.output


def test_recruit_run_serves_its_own_port_as_the_public_url(database_url, tmp_path, monkeypatch):
    application = create_app(app_config(database_url, tmp_path, PUBLIC_URL=None))
    try:
        served, output = _run_command(application, monkeypatch, "--port", "5123",
                                      "--no-reload")
        assert (served["host"], served["port"], served["app"]) == ("127.0.0.1", 5123,
                                                                   application)
        assert served["use_reloader"] is False
        assert application.config["PUBLIC_URL"] == "http://127.0.0.1:5123"
        assert "http://127.0.0.1:5123" in output
        with application.app_context():
            from recruit.domain.notify import link

            assert link("auth.login") == "http://127.0.0.1:5123/login"
        client = application.test_client()
        for host in ("127.0.0.1:5123", "localhost:5123"):
            assert client.get("/login", headers={"Host": host}).status_code == 200
    finally:
        application.extensions["recruit.engine"].dispose()


def test_recruit_run_keeps_a_configured_public_url(public_app, monkeypatch):
    _run_command(public_app, monkeypatch, "--port", "5124")
    assert public_app.config["PUBLIC_URL"] == PUBLIC


def test_no_code_builds_an_absolute_url_from_the_request():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = [
        f"{path.relative_to(root)}:{n}"
        for folder in ("recruit", "templates")
        for path in (root / folder).rglob("*") if path.suffix in (".py", ".html", ".txt")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "_external" in line or "url_root" in line
    ]
    assert offenders == []
