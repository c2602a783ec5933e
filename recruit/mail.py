"""E-mail: messages are queued in the outbox inside the request's transaction, then sent by
``recruit mail worker`` through a file or SMTP sender, with retries and backoff.

In the demo (``DEMO``, set by ``make run``) a request that queued mail also delivers what is
due once it has committed, so a newcomer's confirmation e-mail arrives without a worker.
"""

from __future__ import annotations

import functools
import os
import smtplib
import ssl
from datetime import datetime, timedelta
from email.header import Header
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import formataddr, make_msgid
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, g, has_app_context, render_template
from flask_babel import force_locale
from jinja2 import TemplateNotFound
from sqlalchemy.orm import Session

from recruit.db import utcnow, when_unlocked
from recruit.i18n import company_name
from recruit.models import OutboxMessage

CLAIM_SECONDS = 300


class _MailPolicy(EmailPolicy):
    """The standard policy, but the Subject is encoded by ``email.header.Header``.

    Python 3.11's folder drops the space between two encoded words when it folds a long
    non-ASCII subject ("Модераторконтента"; CPython gh-144156); the older encoder keeps every
    space inside the encoded text.
    """

    def fold(self, name, value):
        """Fold a header for text output."""
        if name.lower() != "subject":
            return super().fold(name, value)
        encoded = Header(str(value), "utf-8", header_name=name).encode(linesep=self.linesep)
        return f"{name}: {encoded}{self.linesep}"

    def fold_binary(self, name, value):
        """Fold a header for the bytes sent or written to a file."""
        if name.lower() != "subject":
            return super().fold_binary(name, value)
        return self.fold(name, value).encode("ascii")


MAIL_POLICY = _MailPolicy()


def queue(db: Session, *, to: str, template: str, locale: str, context: dict | None = None,
          audience: str = "applicant") -> OutboxMessage:
    """Render ``templates/mail/<template>.*`` in ``locale`` and put the message in the outbox."""
    context = dict(context or {})
    context.setdefault("company_name", company_name(locale))
    context.setdefault("public_url", current_app.config["PUBLIC_URL"].rstrip("/"))
    with force_locale(locale):
        subject = " ".join(render_template(f"mail/{template}.subject.txt", **context).split())
        body_text = render_template(f"mail/{template}.txt", **context).strip() + "\n"
        try:
            body_html = render_template(f"mail/{template}.html", **context)
        except TemplateNotFound:
            body_html = None
    message = OutboxMessage(
        to_address=to,
        audience=audience,
        template=template,
        locale=locale,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        next_attempt_at=utcnow(),
    )
    db.add(message)
    if has_app_context():
        # Read by the demo's delivery after the request (see deliver_after_request).
        g._recruit_mail_queued = True
    return message


def build_email(message: OutboxMessage, *, sender: str) -> EmailMessage:
    """A standard MIME e-mail (text, plus HTML when the template has one)."""
    email = EmailMessage(policy=MAIL_POLICY)
    email["From"] = formataddr((company_name(message.locale), sender))
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}", domain="recruit.local")
    email["Content-Language"] = message.locale
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    return email


class FileSender:
    """Writes each e-mail as an ``.eml`` file: the embedded default, handy for the demo."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def send(self, email: EmailMessage, *, message_id: int) -> None:
        """Write the message atomically (a temporary name, then rename)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.directory / f"{message_id:08d}.eml"
        tmp = final.with_suffix(".tmp")
        # Mail carries names and links that log in: readable by the app's own user only.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(bytes(email))
        os.replace(tmp, final)


class SMTPSender:
    """Sends through an SMTP server, with STARTTLS or implicit TLS and a login if configured."""

    def __init__(self, *, host: str, port: int, security: str = "none",
                 username: str | None = None, password: str | None = None, timeout: float = 20):
        if security not in ("none", "starttls", "ssl"):
            raise ValueError(f"SMTP_SECURITY must be none, starttls or ssl, not {security!r}")
        self.host, self.port, self.security = host, int(port), security
        self.username, self.password, self.timeout = username, password, timeout

    def send(self, email: EmailMessage, *, message_id: int) -> None:
        """Open a connection, send one message, close."""
        context = ssl.create_default_context()
        if self.security == "ssl":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.security == "starttls":
                client.starttls(context=context)
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(email)


def make_sender(config) -> FileSender | SMTPSender:
    """The sender the configuration asks for."""
    backend = config["MAIL_BACKEND"]
    if backend == "file":
        return FileSender(config["MAIL_OUTBOX_DIR"])
    if backend == "smtp":
        return SMTPSender(
            host=config["SMTP_HOST"],
            port=config["SMTP_PORT"],
            security=config["SMTP_SECURITY"],
            username=config["SMTP_USERNAME"],
            password=config["SMTP_PASSWORD"],
            timeout=config["SMTP_TIMEOUT"],
        )
    raise ValueError(f"MAIL_BACKEND must be 'file' or 'smtp', not {backend!r}")


def backoff(attempts: int) -> timedelta:
    """Wait before the next try: 30 s, 1 min, 2 min, … capped at one hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def claim(db: Session, *, worker: str, limit: int = 20,
          due_by: datetime | None = None) -> list[int]:
    """Claim due messages for ``worker`` and commit; no two workers claim the same message.

    ``due_by`` (default: now) leaves out messages that fall due later.
    """
    now = utcnow()
    due = (
        sa.select(OutboxMessage.id)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed_at.is_(None),
            OutboxMessage.next_attempt_at <= min(now, due_by or now),
            sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
        # PostgreSQL: concurrent workers skip each other's rows instead of waiting.
        .with_for_update(skip_locked=True)
    )
    # One statement, so SQLite takes the write lock at once instead of upgrading a read.
    ids = list(
        db.scalars(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id.in_(due))
            .values(claimed_by=worker, claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
    )
    db.commit()
    return sorted(ids)


def deliver(db: Session, *, sender, worker: str, limit: int = 20,
            due_by: datetime | None = None) -> tuple[int, int]:
    """Send one batch of due messages; returns (sent, failed this round)."""
    config = current_app.config
    ids = claim(db, worker=worker, limit=limit, due_by=due_by)
    if not ids:
        return 0, 0
    batch = [
        (m.id, m.attempts, build_email(m, sender=config["MAIL_FROM"]))
        for m in db.scalars(
            sa.select(OutboxMessage).where(
                OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == worker,
                OutboxMessage.sent_at.is_(None))
        )
    ]
    # End the read before writing: SQLite cannot upgrade a read that another worker outran.
    db.rollback()
    sent = failed = 0
    for message_id, attempts, email in batch:
        values: dict = {"claimed_by": None, "claimed_until": None, "attempts": attempts + 1}
        try:
            sender.send(email, message_id=message_id)
        except (OSError, smtplib.SMTPException) as exc:
            values["last_error"] = f"{type(exc).__name__}: {exc}"[:2000]
            values["next_attempt_at"] = utcnow() + backoff(attempts + 1)
            if attempts + 1 >= config["MAIL_MAX_ATTEMPTS"]:
                values["failed_at"] = utcnow()
            failed += 1
        else:
            values["sent_at"] = utcnow()
            # Once sent, the body (names, links that log in) has no reason to stay in the
            # database and its backups; the row keeps who, what template and when. The demo
            # keeps it: its outbox page is where a newcomer reads the mail (custodian only).
            if not config["DEMO"]:
                values["body_text"] = ""
                values["body_html"] = None
            sent += 1
        # A message that went out must be marked so, or its claim lapses and it goes out
        # again: wait out a busy database rather than give up on the mark.
        when_unlocked(functools.partial(_mark, db, message_id, values), session=db)
    return sent, failed


def deliver_due(db: Session, *, sender, worker: str, batch: int = 20) -> tuple[int, int]:
    """Send, batch after batch, every message due now; returns (sent, failed) over all.

    Messages queued or falling due meanwhile wait for the next call, a failed one waits for
    its backoff, and messages other workers hold are not claimed: this always ends.
    """
    start = utcnow()
    total_sent = total_failed = 0
    while True:
        sent, failed = deliver(db, sender=sender, worker=worker, limit=batch, due_by=start)
        total_sent, total_failed = total_sent + sent, total_failed + failed
        if not sent and not failed:
            return total_sent, total_failed


def _mark(db: Session, message_id: int, values: dict) -> None:
    db.execute(sa.update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))
    db.commit()


def deliver_after_request(exc: BaseException | None) -> None:
    """In the demo, send what is due once a request that queued mail has committed.

    After the commit rather than from a thread beside the server: the message is in the
    outbox (and on disk) by the time the next page loads, whatever server runs the app
    (``recruit run`` with its reloader, gunicorn), and there is no thread to start, stop or
    lose. Production keeps ``recruit mail worker``, so no request waits for an SMTP server.
    """
    queued = g.pop("_recruit_mail_queued", False)
    if exc is not None or not queued or not current_app.config["DEMO"]:
        return
    session = current_app.extensions["recruit.sessionmaker"]()
    try:
        deliver_due(session, sender=make_sender(current_app.config),
                    worker=f"demo:{os.getpid()}")
    except sa.exc.OperationalError as error:
        # The request itself succeeded; what is left in the outbox goes with the next one.
        current_app.logger.warning("demo mail delivery postponed: %s", error)
        session.rollback()
    finally:
        session.close()


def init_app(app) -> None:
    """Check the mail configuration early (a typo fails at start, not at the first e-mail)
    and, in the demo, deliver mail after each request that queued some."""
    make_sender(app.config)
    app.teardown_request(deliver_after_request)
