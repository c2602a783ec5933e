"""The outbox: file and SMTP senders, retries with backoff, exactly-once with two workers."""

from __future__ import annotations

import threading
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from recruit import mail
from recruit.db import get_db, utcnow
from recruit.models import OutboxMessage
from tests.conftest import _free_port


class Recorder:
    """An aiosmtpd handler that keeps what it received."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server():
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, recorder
    controller.stop()


def _queue(app, n: int, locale: str = "en") -> None:
    with app.app_context(), app.test_request_context():
        db = get_db()
        for i in range(n):
            mail.queue(db, to=f"person{i}@example.org", template="confirm", locale=locale,
                       context={"link": f"http://localhost/confirm/{i}"})
        db.commit()


def test_smtp_sender_delivers_through_a_real_server(fresh_app, smtp_server):
    controller, recorder = smtp_server
    _queue(fresh_app, 1, locale="ru")
    sender = mail.SMTPSender(host="127.0.0.1", port=controller.port)
    with fresh_app.app_context():
        sent, failed = mail.deliver(get_db(), sender=sender, worker="w1")
    assert (sent, failed) == (1, 0)
    [(rcpt, content)] = recorder.messages
    assert rcpt == ["person0@example.org"]
    email = message_from_bytes(content, policy=policy.default)
    assert email["Subject"] == "Подтвердите адрес электронной почты"
    assert "http://localhost/confirm/0" in email.get_body(("plain",)).get_content()


def test_failed_sends_are_retried_with_backoff_then_given_up(fresh_app):
    _queue(fresh_app, 1)
    port = _free_port()  # nothing listens there
    sender = mail.SMTPSender(host="127.0.0.1", port=port, timeout=2)
    fresh_app.config["MAIL_MAX_ATTEMPTS"] = 2
    with fresh_app.app_context():
        db = get_db()
        assert mail.deliver(db, sender=sender, worker="w") == (0, 1)
        message = db.scalars(sa.select(OutboxMessage)).one()
        assert message.attempts == 1 and message.last_error
        assert message.next_attempt_at > utcnow()
        assert mail.deliver(db, sender=sender, worker="w") == (0, 0), "not due yet"
        message.next_attempt_at = utcnow()
        db.commit()
        assert mail.deliver(db, sender=sender, worker="w") == (0, 1)
        db.refresh(message)
        assert message.failed_at is not None and message.sent_at is None


def test_each_message_is_sent_exactly_once_with_two_workers(fresh_app):
    _queue(fresh_app, 40)
    delivered = []
    lock = threading.Lock()

    class Counting:
        def send(self, email, *, message_id):
            with lock:
                delivered.append(message_id)

    def work(name):
        with fresh_app.app_context():
            db = get_db()
            while mail.deliver(db, sender=Counting(), worker=name, limit=3)[0]:
                pass

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(delivered) == sorted(set(delivered))
    assert len(delivered) == 40


def test_file_sender_writes_eml_files(fresh_app, tmp_path):
    _queue(fresh_app, 2)
    sender = mail.FileSender(tmp_path / "out")
    with fresh_app.app_context():
        assert mail.deliver(get_db(), sender=sender, worker="w") == (2, 0)
    files = sorted((tmp_path / "out").glob("*.eml"))
    assert len(files) == 2
    email = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert email["Subject"] == "Confirm your e-mail address"


def test_unknown_mail_backend_is_refused():
    with pytest.raises(ValueError, match="MAIL_BACKEND"):
        mail.make_sender({"MAIL_BACKEND": "pigeon"})


@pytest.mark.parametrize("subject", [
    "An offer for you: Модератор контента",
    "Ваш результат по этапу 1 · Специалист службы поддержки — ноябрь 2026",
    "1 ноябрь набор: 2026 по по по «» 1 ноябрь Приглашение Специалист службы",
    "· 2026 службы в Модератор · — Модератор Приглашение результат",
])
def test_a_long_subject_keeps_every_space_when_folded(app, subject):
    with app.app_context():
        message = OutboxMessage(id=1, to_address="a@example.org", locale="ru", subject=subject,
                                body_text="…")
        raw = bytes(mail.build_email(message, sender="recruit@localhost"))
    assert message_from_bytes(raw, policy=policy.default)["Subject"] == subject
    assert all(len(line) <= 78 for line in raw.split(b"\n"))


def _worker_once(app):
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from recruit.cli import cli

    result = CliRunner().invoke(cli, ["mail", "worker", "--once"],
                                obj=ScriptInfo(create_app=lambda: app), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_the_worker_once_sends_everything_due_not_just_one_batch(fresh_app, tmp_path):
    # 45 messages: more than two batches of 20.
    _queue(fresh_app, 45)
    fresh_app.config["MAIL_OUTBOX_DIR"] = str(tmp_path / "once")
    result = _worker_once(fresh_app)
    assert len(list((tmp_path / "once").glob("*.eml"))) == 45
    assert "sent 45, failed 0" in result.output
    with fresh_app.app_context():
        assert get_db().scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                               .where(OutboxMessage.sent_at.is_(None))) == 0


def test_the_worker_once_stops_while_mail_keeps_failing(fresh_app, monkeypatch):
    _queue(fresh_app, 25)
    calls = []

    class Down:
        def send(self, email, *, message_id):
            calls.append(message_id)
            raise OSError("connection refused")

    monkeypatch.setattr(mail, "make_sender", lambda config: Down())
    result = _worker_once(fresh_app)
    # Each message was tried once, then waits for its backoff.
    assert sorted(calls) == sorted(set(calls)) and len(calls) == 25
    assert "sent 0, failed 25" in result.output
