"""A worker or job that meets "database is locked" (SQLite, while the deadline job holds the
write lock) tries again instead of dying: found by the storm, where a mail worker stopped."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import OperationalError

from recruit import db as db_module
from recruit.cli import cli
from recruit.db import get_db, utcnow
from recruit.models import OutboxMessage, Role
from tests.factories import make_user


class Session:
    """Counts rollbacks."""

    def __init__(self):
        self.rollbacks = 0

    def rollback(self):
        self.rollbacks += 1


def _locked() -> OperationalError:
    return OperationalError("UPDATE outbox_message …", {}, sqlite3.OperationalError(
        "database is locked"))


def test_work_is_tried_again_after_a_lock_timeout(monkeypatch):
    monkeypatch.setattr(db_module.time, "sleep", lambda _s: None)
    session, calls = Session(), []

    def work():
        calls.append(1)
        if len(calls) < 3:
            raise _locked()
        return "done"

    assert db_module.when_unlocked(work, session=session) == "done"
    assert len(calls) == 3 and session.rollbacks == 2


def test_other_database_errors_and_a_lock_that_never_ends_are_not_hidden(monkeypatch):
    monkeypatch.setattr(db_module.time, "sleep", lambda _s: None)

    def broken():
        raise OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: x"))

    with pytest.raises(OperationalError, match="no such table"):
        db_module.when_unlocked(broken, session=Session())

    def locked():
        raise _locked()

    session = Session()
    with pytest.raises(OperationalError, match="locked"):
        db_module.when_unlocked(locked, session=session, attempts=3)
    assert session.rollbacks == 3


def test_the_mail_worker_survives_a_locked_database(fresh_app, monkeypatch):
    from recruit import mail

    with fresh_app.app_context():
        db = get_db()
        user = make_user(db, role=Role.APPLICANT)
        mail.queue(db, to=user.email, template="wave_opened", locale="en",
                   context={"campaign_title": "Wave", "link": "http://localhost/",
                            "closes_at": utcnow()})
        db.commit()
    real, attempts = mail.deliver, []

    def flaky(*args, **kwargs):
        attempts.append(1)
        if len(attempts) == 1:
            raise _locked()
        return real(*args, **kwargs)

    monkeypatch.setattr(mail, "deliver", flaky)
    monkeypatch.setattr(db_module.time, "sleep", lambda _s: None)
    result = fresh_app.test_cli_runner().invoke(cli, ["mail", "worker", "--once"])
    assert result.exit_code == 0, result.output
    # The locked batch is tried again and sends; an empty batch then ends the drain.
    assert "sent 1" in result.output and len(attempts) == 3
    with fresh_app.app_context():
        sent = get_db().query(OutboxMessage.sent_at).one()[0]
        assert sent is not None
