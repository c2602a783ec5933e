"""Units of work that may write take the write lock up front: requests (GETs that write
included) and CLI commands wait for another writer instead of failing "database is locked".

SQLite in WAL mode cannot upgrade a read transaction once another connection committed after
it began; these tests hold the lock in a second connection, start the unit of work, and let
the blocker commit while the unit of work waits. On PostgreSQL two custodian handovers at once
must both go through, one after the other.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import contextmanager

import click
import pytest
import sqlalchemy as sa
from flask.cli import ScriptInfo

from recruit import db as recruit_db
from recruit.cli import users as users_cli
from recruit.db import get_db
from recruit.models import AuditEvent, Role, User
from tests.conftest import Client
from tests.factories import make_user

# Long enough for the other thread to reach its first statement on a busy machine; the
# database's busy timeout (10 s) is far longer, so waiting never fails the test.
HOLD_SECONDS = 1.5
JOIN_SECONDS = 120


@contextmanager
def sqlite_write_lock(app):
    """Hold SQLite's write lock in a second connection, then commit a change on exit."""
    path = sa.make_url(app.config["DATABASE_URL"]).database
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        conn.execute("BEGIN IMMEDIATE")
        # A real change, so a read snapshot taken meanwhile is outdated after the commit.
        conn.execute("UPDATE user SET locale = locale")
        yield
        conn.execute("COMMIT")
    finally:
        conn.close()


def _in_thread(target) -> tuple[threading.Thread, dict]:
    result: dict = {}

    def run():
        try:
            result["value"] = target()
        except BaseException as exc:  # reported by the test, not lost in the thread
            result["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def _finish(thread: threading.Thread, result: dict):
    thread.join(JOIN_SECONDS)
    assert not thread.is_alive(), "the unit of work never finished"
    if "error" in result:
        raise result["error"]
    return result["value"]


@pytest.fixture
def sqlite_only(db_kind):
    if db_kind != "sqlite":
        pytest.skip("PostgreSQL has no read transaction to upgrade; see the handover test")


def test_a_get_that_writes_waits_for_the_lock_instead_of_failing(fresh_app, sqlite_only):
    with fresh_app.app_context():
        custodian = make_user(get_db(), role=Role.COORDINATOR, custodian=True)
        get_db().commit()
    client = Client(fresh_app)
    client.login(custodian)
    with sqlite_write_lock(fresh_app):
        def load_hires():
            with fresh_app.app_context():
                return client.get("/custody/hires").status_code

        thread, result = _in_thread(load_hires)
        time.sleep(HOLD_SECONDS)
    assert _finish(thread, result) == 200
    with fresh_app.app_context():
        actions = get_db().scalars(sa.select(AuditEvent.action)).all()
    assert actions.count("hires.view") == 1


def test_every_view_that_writes_on_get_is_marked(app):
    # The hires list and the offer letter are audited; applicant pages close expired stages;
    # the feedback page records its first opening.
    for endpoint in ("offers.hires", "reports.offer_letter", "reports.hires_csv",
                     "applicant.stage", "applicant.home", "decisions.stage", "feedback.show"):
        assert getattr(app.view_functions[endpoint], "__writes__", False), endpoint


def test_an_unmarked_get_that_writes_fails_loudly_in_tests(app, client, db):
    user = make_user(db)

    @recruit_db.writes
    def marked():
        return "ok"

    with app.test_request_context("/", method="GET"):
        from flask import g

        g._recruit_dispatched = True
        with pytest.raises(recruit_db.UnmarkedWrite):
            get_db().execute(sa.update(User).where(User.id == user.id).values(locale="ru"))
        # Once the unit of work says it may write, the same statement is allowed.
        marked()
        get_db().execute(sa.update(User).where(User.id == user.id).values(locale="ru"))


def _create_staff(app, email: str, *, custodian: bool = False) -> None:
    """Run `recruit users create` in this thread, as its own process would."""
    with click.Context(users_cli.users_create, obj=ScriptInfo(create_app=lambda: app)) as ctx:
        ctx.invoke(users_cli.users_create, email=email, role="coordinator",
                   custodian=custodian)


def test_two_cli_writers_at_once_both_succeed(fresh_app, sqlite_only):
    with sqlite_write_lock(fresh_app):
        first = _in_thread(lambda: _create_staff(fresh_app, "first@example.org"))
        second = _in_thread(lambda: _create_staff(fresh_app, "second@example.org"))
        time.sleep(HOLD_SECONDS)
    _finish(*first)
    _finish(*second)
    with fresh_app.app_context():
        emails = set(get_db().scalars(sa.select(User.email)))
    assert {"first@example.org", "second@example.org"} <= emails


def test_two_custodian_handovers_at_once_leave_exactly_one_custodian(fresh_app):
    start = threading.Barrier(2, timeout=JOIN_SECONDS)

    def create(email):
        start.wait()
        _create_staff(fresh_app, email, custodian=True)

    runs = [_in_thread(lambda e=e: create(e)) for e in ("anna@example.org", "boris@example.org")]
    for run in runs:
        _finish(*run)
    with fresh_app.app_context():
        db = get_db()
        custodians = db.scalars(sa.select(User.email).where(User.is_custodian)).all()
        handovers = db.scalars(sa.select(AuditEvent.action)
                               .where(AuditEvent.action == "custodian.handover")).all()
    assert len(custodians) == 1
    assert len(handovers) == 2
