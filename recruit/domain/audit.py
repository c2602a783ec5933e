"""The audit log: a keyed hash chain in the database, its head checkpointed outside it.

Each event carries its position (``seq``), the hash of its predecessor and an HMAC over both
and its content, made with the first of the instance's ``AUDIT_KEYS``. Without a key nobody
can write an event that verifies, so editing, inserting or rebuilding the chain in the database
alone is caught. What a chain cannot show by itself (its newest events cut off, or all of them
gone) is caught by the checkpoint: the newest position and hash, written to a file in the
instance folder after every commit that appended events.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from recruit.db import serialise, utcnow
from recruit.models import AuditEvent

GENESIS = "0" * 64
_HEAD = "recruit.audit_head"


class AuditKeyError(RuntimeError):
    """No audit key is configured (an instance config from before keyed chains)."""


def _keys() -> list[str]:
    keys = current_app.config.get("AUDIT_KEYS") or []
    if not keys:
        raise AuditKeyError("AUDIT_KEYS not configured: run `recruit instance init` to add one")
    return list(keys)


def digest(*, key: str, seq: int, prev_hash: str, at: datetime, actor_id: int | None,
           action: str, subject: str, details: dict) -> str:
    """The HMAC-SHA256 of one event under ``key``."""
    payload = json.dumps(
        [seq, prev_hash, at.isoformat(timespec="microseconds"), actor_id, action, subject,
         details],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hmac.new(key.encode(), payload.encode(), hashlib.sha256).hexdigest()


def _digest_of(event: AuditEvent, key: str) -> str:
    return digest(key=key, seq=event.seq, prev_hash=event.prev_hash, at=event.at,
                  actor_id=event.actor_id, action=event.action, subject=event.subject,
                  details=event.details)


def record(db: Session, *, action: str, actor_id: int | None, subject: str = "",
           details: dict | None = None) -> AuditEvent:
    """Append an event chained to the newest one."""
    key = _keys()[0]
    # Two transactions never chain onto the same predecessor (on SQLite the write lock the
    # unit of work holds already orders them).
    serialise(db, "audit")
    prev = db.execute(select(AuditEvent.seq, AuditEvent.hash)
                      .order_by(AuditEvent.seq.desc()).limit(1)).first()
    seq, prev_hash = (prev.seq + 1, prev.hash) if prev else (1, GENESIS)
    at = utcnow()
    details = dict(details or {})
    event = AuditEvent(seq=seq, at=at, actor_id=actor_id, action=action, subject=subject,
                       details=details, prev_hash=prev_hash,
                       hash=digest(key=key, seq=seq, prev_hash=prev_hash, at=at,
                                   actor_id=actor_id, action=action, subject=subject,
                                   details=details))
    db.add(event)
    db.flush()
    # Written to the checkpoint once the transaction commits (never for a rolled-back one).
    db.info[_HEAD] = (seq, event.hash)
    return event


# -- the checkpoint ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Checkpoint:
    """The newest event known to have been committed: its position and hash."""

    seq: int
    hash: str


def read_checkpoint(path: Path) -> Checkpoint | None:
    """The checkpoint in ``path``, or None when there is none."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"the checkpoint {path} cannot be read: {exc}") from exc
    return Checkpoint(seq=int(data["seq"]), hash=str(data["hash"]))


def write_checkpoint(path: Path, head: Checkpoint, *, force: bool = False) -> bool:
    """Move the checkpoint forward to ``head`` (never back, unless ``force``); True if moved."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        # Several workers commit events; the lock and the "only forward" rule keep the file
        # at the newest head whatever order they write in.
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        current = read_checkpoint(path)
        if current is not None and current.seq >= head.seq and not force:
            return False
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"seq": head.seq, "hash": head.hash,
                       "written_at": utcnow().isoformat(timespec="seconds")}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return True
    finally:
        os.close(lock_fd)


def checkpoint_path() -> Path:
    """Where this instance keeps its checkpoint."""
    return Path(current_app.config["AUDIT_CHECKPOINT"])


@sa_event.listens_for(Session, "after_commit")
def _checkpoint_after_commit(session: Session) -> None:
    head = session.info.pop(_HEAD, None)
    if head is not None and has_app_context():
        write_checkpoint(checkpoint_path(), Checkpoint(*head))


@sa_event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_HEAD, None)


# -- verification -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Break:
    """The first place where the log does not hold; ``event_id`` is None when the problem is
    the log as a whole (cut short, wiped, no checkpoint)."""

    event_id: int | None
    problem: str


def verify(db: Session, *, keys: Sequence[str] | None = None,
           checkpoint: Path | None = None) -> tuple[int, Break | None]:
    """Walk the chain in order (and compare its head with ``checkpoint`` when given); return
    how many events were checked and the first break."""
    keys = list(keys) if keys is not None else _keys()
    prev, count = GENESIS, 0
    for event in db.scalars(select(AuditEvent).order_by(AuditEvent.seq)).yield_per(1000):
        count += 1
        if event.prev_hash != prev or event.seq != count:
            return count, Break(event.id, "does not follow the previous event (one was removed "
                                          "or reordered)")
        if not any(hmac.compare_digest(_digest_of(event, key), event.hash) for key in keys):
            return count, Break(event.id, "its content was edited after it was written, or it "
                                          "was not signed with this instance's audit key")
        prev = event.hash
    if checkpoint is None:
        return count, None
    return count, _against_checkpoint(db, count, checkpoint)


def _against_checkpoint(db: Session, count: int, path: Path) -> Break | None:
    try:
        mark = read_checkpoint(path)
    except ValueError as exc:
        return Break(None, str(exc))
    if mark is None:
        if count == 0:
            return None
        return Break(None, f"there is no checkpoint at {path}, so a cut-off end of the log "
                           "cannot be ruled out (it was deleted, or the log predates "
                           "checkpoints: run `recruit audit checkpoint` after checking)")
    if count == 0:
        return Break(None, f"the log is empty but the checkpoint records {mark.seq} events: "
                           "the log was wiped")
    if count < mark.seq:
        return Break(None, f"the log ends at event {count} but the checkpoint records "
                           f"{mark.seq}: the newest {mark.seq - count} events were removed")
    at_mark = db.execute(select(AuditEvent.id, AuditEvent.hash)
                         .where(AuditEvent.seq == mark.seq)).first()
    if at_mark.hash != mark.hash:
        return Break(at_mark.id, f"event {mark.seq} differs from the checkpoint: the chain was "
                                 "rebuilt or replaced from there on")
    return None


def head(db: Session) -> Checkpoint | None:
    """The newest event of the log as a checkpoint."""
    row = db.execute(select(AuditEvent.seq, AuditEvent.hash)
                     .order_by(AuditEvent.seq.desc()).limit(1)).first()
    return Checkpoint(row.seq, row.hash) if row else None


def resign(db: Session, *, key: str) -> int:
    """Sign every event again with ``key`` (a new audit key), keeping the chain's order and
    content; returns how many events were signed. Verify the chain first."""
    prev, count = GENESIS, 0
    for event in db.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
        count += 1
        event.prev_hash = prev
        event.hash = _digest_of(event, key)
        prev = event.hash
    # Rewritten from the newest down would collide on the unique hashes; the flush orders
    # the UPDATEs by primary key, oldest first, and every hash is new.
    db.flush()
    return count
