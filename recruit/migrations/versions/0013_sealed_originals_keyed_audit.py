"""answer originals encrypted at rest; audit chain keyed (HMAC) with a position per event

Revision ID: 0013
Revises: 0001

Existing rows need the instance's keys: answer texts are encrypted with ENCRYPTION_KEYS, and
the old unkeyed chain is checked once more, then signed again with AUDIT_KEYS; an event
"audit.keyed" records how many events there were and whether the old chain was intact. Run it
with `recruit db upgrade` (which has the keys); an empty database needs none.
"""
import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0001"
branch_labels = None
depends_on = None

GENESIS = "0" * 64

audit = sa.table(
    "audit_event",
    sa.column("id", sa.Integer), sa.column("seq", sa.Integer), sa.column("at", sa.DateTime),
    sa.column("actor_id", sa.Integer), sa.column("action", sa.String),
    sa.column("subject", sa.String), sa.column("details", sa.JSON),
    sa.column("prev_hash", sa.String), sa.column("hash", sa.String),
)
answer = sa.table("answer", sa.column("id", sa.Integer), sa.column("text", sa.Text))


def _app():
    from flask import current_app, has_app_context

    if not has_app_context():
        raise RuntimeError("this migration encrypts stored answers and signs the audit log with "
                           "the instance's keys: run it with `recruit db upgrade`")
    return current_app


def _legacy_digest(row) -> str:
    # The unkeyed SHA-256 of revision 0001, to check the old chain one last time.
    at = row.at.replace(tzinfo=None).isoformat(timespec="microseconds") + "+00:00"
    payload = json.dumps([row.prev_hash, at, row.actor_id, row.action, row.subject,
                          row.details], sort_keys=True, ensure_ascii=False,
                         separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _key_the_chain(conn) -> None:
    rows = conn.execute(sa.select(audit).order_by(audit.c.id)).all()
    if not rows:
        return
    app = _app()
    from datetime import UTC, datetime

    from recruit.domain.audit import Checkpoint, digest, write_checkpoint

    key = app.config["AUDIT_KEYS"][0]
    broken_at, prev = None, GENESIS
    for row in rows:
        if row.prev_hash != prev or _legacy_digest(row) != row.hash:
            broken_at = row.id
            break
        prev = row.hash
    # Hashes change; move every row out of the way of the unique constraints first.
    conn.execute(sa.update(audit).values(hash=sa.literal("old-") + sa.cast(audit.c.id, sa.String),
                                         prev_hash=sa.literal("was-")
                                         + sa.cast(audit.c.id, sa.String)))
    prev = GENESIS
    for seq, row in enumerate(rows, start=1):
        at = row.at.replace(tzinfo=UTC)
        new = digest(key=key, seq=seq, prev_hash=prev, at=at, actor_id=row.actor_id,
                     action=row.action, subject=row.subject, details=row.details)
        conn.execute(sa.update(audit).where(audit.c.id == row.id)
                     .values(seq=seq, prev_hash=prev, hash=new))
        prev = new
    seq = len(rows) + 1
    now = datetime.now(UTC)
    # Numbers only, so the audit page can name them in the reader's language.
    details = {"events": len(rows)}
    if broken_at is not None:
        details["broken_at"] = broken_at
    new = digest(key=key, seq=seq, prev_hash=prev, at=now, actor_id=None, action="audit.keyed",
                 subject="audit", details=details)
    conn.execute(sa.insert(audit).values(seq=seq, at=now.replace(tzinfo=None), actor_id=None,
                                         action="audit.keyed", subject="audit", details=details,
                                         prev_hash=prev, hash=new))
    write_checkpoint(app.config["AUDIT_CHECKPOINT"], Checkpoint(seq, new), force=True)


def _seal_answers(conn) -> None:
    if conn.execute(sa.select(answer.c.id).limit(1)).first() is None:
        return
    vault = _app().extensions["recruit.vault"]
    last = 0
    while True:
        rows = conn.execute(sa.select(answer).where(answer.c.id > last)
                            .order_by(answer.c.id).limit(1000)).all()
        if not rows:
            return
        conn.execute(sa.update(answer).where(answer.c.id == sa.bindparam("b_id"))
                     .values(text=sa.bindparam("b_text")),
                     [{"b_id": r.id, "b_text": vault.seal_text(r.text or "")} for r in rows])
        last = rows[-1].id


def upgrade():
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
    conn = op.get_bind()
    _key_the_chain(conn)
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_event_seq"), ["seq"])
    _seal_answers(conn)


def downgrade():
    conn = op.get_bind()
    if conn.execute(sa.select(answer.c.id).limit(1)).first() is not None:
        vault = _app().extensions["recruit.vault"]
        for row in conn.execute(sa.select(answer)).all():
            conn.execute(sa.update(answer).where(answer.c.id == row.id)
                         .values(text=vault.open_text(row.text)))
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_event_seq"), type_="unique")
        batch_op.drop_column("seq")
