"""The demo of `make run`: mail is delivered without a worker and the custodian reads it on the
outbox page; outside the demo neither happens."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest
import sqlalchemy as sa

from recruit.models import AuditEvent, OutboxMessage, Role
from tests.factories import make_user

REGISTER = {"email": "newcomer@example.org", "password": "a long password",
            "confirm": "a long password"}


@pytest.fixture
def demo(app, monkeypatch):
    """The session app switched into demo mode for one test."""
    monkeypatch.setitem(app.config, "DEMO", True)
    return app


def _message(db, to: str) -> OutboxMessage:
    return db.scalars(sa.select(OutboxMessage).where(OutboxMessage.to_address == to)).one()


def test_in_the_demo_the_confirmation_mail_is_delivered_by_the_request_itself(demo, client, db):
    assert client.post_form("/register", REGISTER).status_code == 302
    message = _message(db, "newcomer@example.org")
    db.refresh(message)
    assert message.sent_at is not None and message.attempts == 1
    eml = Path(demo.config["MAIL_OUTBOX_DIR"], f"{message.id:08d}.eml")
    email = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert email["To"] == "newcomer@example.org"
    assert "/confirm/" in email.get_body(("plain",)).get_content()


def test_outside_the_demo_mail_waits_for_the_worker(app, client, db):
    assert app.config["DEMO"] is False
    assert client.post_form("/register", REGISTER).status_code == 302
    message = _message(db, "newcomer@example.org")
    db.refresh(message)
    assert message.sent_at is None and message.attempts == 0


def test_a_request_that_failed_delivers_nothing(demo, client, db):
    bad = dict(REGISTER, confirm="something else")
    assert client.post_form("/register", bad).status_code == 200
    assert db.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_the_custodian_reads_the_outbox_with_its_links_and_the_visit_is_audited(demo, client,
                                                                                 db):
    client.post_form("/register", REGISTER)
    client.logout()
    custodian = make_user(db, role=Role.COORDINATOR, custodian=True)
    client.login(custodian)
    page = client.get("/demo/outbox")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "newcomer@example.org" in text
    assert 'href="http://localhost/confirm/' in text
    event = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "outbox.view")).one()
    assert event.actor_id == custodian.id


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.REVIEWER, Role.APPLICANT],
                         ids=["coordinator", "reviewer", "applicant"])
def test_nobody_but_the_custodian_opens_the_outbox(demo, client, db, role):
    client.login(make_user(db, role=role))
    assert client.get("/demo/outbox").status_code == 403


def test_outside_the_demo_the_outbox_page_does_not_exist(app, client, db):
    client.login(make_user(db, role=Role.COORDINATOR, custodian=True))
    assert client.get("/demo/outbox").status_code == 404
    assert b"/demo/outbox" not in client.get("/custody/").data


@pytest.mark.parametrize("page", ["10" * 15, str(2**64), "1e9", "-5"])
def test_an_outbox_page_number_no_list_can_have_is_not_a_500(demo, client, db, page):
    client.login(make_user(db, role=Role.COORDINATOR, custodian=True))
    status = client.get(f"/demo/outbox?page={page}").status_code
    assert status == (400 if page in ("10" * 15, str(2**64)) else 200)


def test_the_custodians_desk_links_to_the_outbox_in_the_demo(demo, client, db):
    client.login(make_user(db, role=Role.COORDINATOR, custodian=True))
    assert b'href="/demo/outbox"' in client.get("/custody/").data


def test_a_get_that_writes_takes_the_write_lock_up_front(fresh_app, db_kind, monkeypatch):
    """SQLite cannot upgrade a read to a write once another writer committed: a GET view that
    records an audit event must begin as a writer does."""
    if db_kind != "sqlite":
        pytest.skip("PostgreSQL has no write lock to take up front")
    from sqlalchemy import event

    from recruit.db import get_db
    from tests.conftest import Client

    monkeypatch.setitem(fresh_app.config, "DEMO", True)
    with fresh_app.app_context():
        custodian = make_user(get_db(), role=Role.COORDINATOR, custodian=True)
        get_db().commit()
    statements: list[str] = []
    engine = fresh_app.extensions["recruit.engine"]

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with fresh_app.app_context():
            client = Client(fresh_app)
            client.login(custodian)
            assert client.get("/demo/outbox").status_code == 200
            outbox = [s for s in statements if s.startswith("BEGIN")]
            statements.clear()
            assert client.get("/coordinate/").status_code == 200
            home = [s for s in statements if s.startswith("BEGIN")]
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert outbox and set(outbox) == {"BEGIN IMMEDIATE"}
    assert home and set(home) == {"BEGIN"}
