"""Pages of the demo only (``DEMO``, set by ``make run``): the outbox, so a newcomer sees the
e-mails the site sent and can follow their links without a mail server."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user
from sqlalchemy import func, select

from recruit import access, security
from recruit.db import get_db, writes
from recruit.domain import audit
from recruit.models import OutboxMessage

bp = Blueprint("demo", __name__, url_prefix="/demo")

PAGE_SIZE = 30
# Links in the plain-text bodies; mail templates put each link on a line of its own.
_LINK = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class OutboxRow:
    """One e-mail as the outbox page lists it."""

    id: int
    to: str
    subject: str
    created_at: datetime
    status: str
    sent_at: datetime | None
    last_error: str | None
    links: list[str]
    body: str


def _status(message: OutboxMessage) -> str:
    if message.sent_at is not None:
        return "sent"
    if message.failed_at is not None:
        return "failed"
    return "retrying" if message.attempts else "queued"


@bp.route("/outbox")
@writes
@access.guard(access.may_read_outbox)
def outbox():
    """Every e-mail the demo sent, newest first, with its links; each view is audited."""
    if not current_app.config["DEMO"]:
        abort(404)
    db = get_db()
    page = security.page_arg()
    total = db.scalar(select(func.count()).select_from(OutboxMessage)) or 0
    messages = db.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())
                          .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    rows = [OutboxRow(id=m.id, to=m.to_address, subject=m.subject, created_at=m.created_at,
                      status=_status(m), sent_at=m.sent_at, last_error=m.last_error,
                      links=list(dict.fromkeys(_LINK.findall(m.body_text))), body=m.body_text)
            for m in messages]
    # The page shows applicants' addresses and the names in their mail.
    audit.record(db, action="outbox.view", actor_id=current_user.id, subject="outbox",
                 details={"messages": [row.id for row in rows]})
    return render_template("demo/outbox.html", rows=rows, page=page, total=total,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
                           outbox_dir=current_app.config["MAIL_OUTBOX_DIR"]
                           if current_app.config["MAIL_BACKEND"] == "file" else None)
