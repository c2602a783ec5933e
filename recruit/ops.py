"""Operations: backup and restore of the database, and the retention purge of identities.

No Flask here: the CLI in recruit/cli/ops.py passes the database URL, the session and the time.
"""

from __future__ import annotations

import os
import shutil
import sqlite3

# pg_dump and pg_restore run with an argument list, never through a shell.
import subprocess  # nosec B404
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from recruit.domain import applications, audit
from recruit.domain.pipeline import State
from recruit.models import Candidacy, Identity, OutboxMessage, User, WaitlistEntry

PG_BIN = Path(os.environ.get("RECRUIT_PG_BIN", "/usr/lib/postgresql/15/bin"))


class OpsError(Exception):
    """An operation that cannot be done, with the reason in plain words."""


# -- backup and restore -----------------------------------------------------------------------

def _pg_tool(name: str) -> str:
    candidate = PG_BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise OpsError(f"{name} not found in {PG_BIN} or on PATH; install the PostgreSQL "
                       "client (apt-get install postgresql-client-15) or set RECRUIT_PG_BIN")
    return found


def _libpq(url: sa.URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and the environment that carries it."""
    env = dict(os.environ)
    if url.password:
        # Not on the command line, where every local user could read it in `ps`.
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str] | None = None) -> None:
    # The arguments are our own: a binary path, fixed options, a URL and a file name.
    result = subprocess.run(args, env=env, capture_output=True, text=True,  # noqa: S603  # nosec B603
                            check=False)
    if result.returncode != 0:
        problem = result.stderr.strip() or f"exit status {result.returncode}"
        raise OpsError(f"{Path(args[0]).name} failed: {problem}")


def _sqlite_path(url: sa.URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise OpsError("an in-memory SQLite database cannot be backed up or restored")
    return Path(url.database)


def user_tables(engine: sa.Engine) -> list[str]:
    """Names of the application's tables (Alembic's bookkeeping left out)."""
    return sorted(t for t in sa.inspect(engine).get_table_names() if t != "alembic_version")


def is_empty(engine: sa.Engine) -> bool:
    """True when no application table holds a row (a fresh or freshly migrated database)."""
    tables = user_tables(engine)
    with engine.connect() as conn:
        for table in tables:
            if conn.execute(sa.select(sa.literal(1)).select_from(sa.table(table)).limit(1)).first():
                return False
    return True


Progress = Callable[[int, int], None]


def backup(*, url: str, target: Path, on_progress: Progress | None = None) -> Path:
    """Write a consistent copy of a live database to ``target`` (SQLite file or pg_dump -Fc).

    ``on_progress(done, total)`` reports pages copied (SQLite) or tables dumped (PostgreSQL).
    """
    parsed = sa.make_url(url)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "sqlite":
        source_path = _sqlite_path(parsed)
        if not source_path.exists():
            raise OpsError(f"no database at {source_path}")
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        _create_private(partial)
        # The online backup API copies page by page under SQLite's own locking, so the copy is
        # consistent even while the site keeps writing (WAL included), unlike a file copy.
        source = sqlite3.connect(source_path)
        dest = sqlite3.connect(partial)

        def pages(_status: int, remaining: int, total: int) -> None:
            if on_progress is not None:
                on_progress(total - remaining, total)

        try:
            with dest:
                # In steps, so a progress bar moves and writers get the lock in between.
                source.backup(dest, pages=1024, progress=pages)
        finally:
            dest.close()
            source.close()
        os.replace(partial, target)
        return target
    if parsed.get_backend_name() == "postgresql":
        uri, env = _libpq(parsed)
        # pg_dump writes into the file as it finds it, so it keeps this mode.
        target.unlink(missing_ok=True)
        _create_private(target)
        args = [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                f"--file={target}", f"--dbname={uri}"]
        if on_progress is None:
            _run(args, env)
        else:
            _dump_with_progress(args, env, url=url, on_progress=on_progress)
        return target
    raise OpsError(f"backups of {parsed.get_backend_name()} databases are not supported")


def _dump_with_progress(args: list[str], env: dict[str, str], *, url: str,
                        on_progress: Progress) -> None:
    """Run pg_dump --verbose and count the tables it has dumped against the ones there are."""
    engine = sa.create_engine(url)
    try:
        total = len(user_tables(engine)) + 1  # alembic_version is dumped too
    finally:
        engine.dispose()
    done, errors = 0, []
    # The arguments are our own, as in _run.
    with subprocess.Popen([*args, "--verbose"], env=env, stdout=subprocess.DEVNULL,  # noqa: S603  # nosec B603
                          stderr=subprocess.PIPE, text=True) as process:
        for line in process.stderr:
            if "dumping contents of table" in line:
                done = min(done + 1, total)
                on_progress(done, total)
            elif "error" in line.lower():
                errors.append(line.strip())
    if process.returncode != 0:
        problem = "; ".join(errors) or f"exit status {process.returncode}"
        raise OpsError(f"pg_dump failed: {problem}")
    on_progress(total, total)


def _create_private(path: Path) -> None:
    """Create an empty file only its owner can read: backups hold every identity."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def restore(*, url: str, source: Path, force: bool = False) -> None:
    """Replace the database's content with a backup; a database holding rows needs ``force``."""
    parsed = sa.make_url(url)
    source = Path(source)
    if not source.is_file():
        raise OpsError(f"no backup file at {source}")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise OpsError(f"restoring {backend} databases is not supported")
    _check_backup_file(backend, source)
    engine = sa.create_engine(url)
    try:
        exists = backend == "postgresql" or _sqlite_path(parsed).exists()
        if exists and not force and not is_empty(engine):
            raise OpsError("the database is not empty; restoring would overwrite it. Take a "
                           "backup of it first, then run again with --force")
    finally:
        engine.dispose()
    if backend == "sqlite":
        dest_path = _sqlite_path(parsed)
        dest_path.parent.mkdir(parents=True, exist_ok=True)
        backup_db = sqlite3.connect(source)
        dest = sqlite3.connect(dest_path)
        try:
            # The backup API in the other direction replaces every page of the live database
            # under its write lock, WAL included: readers see the old or the new, never a mix.
            backup_db.backup(dest)
        finally:
            dest.close()
            backup_db.close()
        return
    uri, env = _libpq(parsed)
    _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
          "--single-transaction", "--exit-on-error", f"--dbname={uri}", str(source)], env)


def _check_backup_file(backend: str, source: Path) -> None:
    """Refuse a file that is not a backup of this kind before touching the database."""
    if backend == "sqlite":
        with source.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise OpsError(f"{source} is not a SQLite backup")
        return
    with source.open("rb") as fh:
        if fh.read(5) != b"PGDMP":
            raise OpsError(f"{source} is not a pg_dump custom-format backup")


def table_rows(engine: sa.Engine) -> dict[str, list[tuple]]:
    """Every row of every application table, in a stable order (to compare two databases)."""
    metadata = sa.MetaData()
    metadata.reflect(engine)
    out: dict[str, list[tuple]] = {}
    with engine.connect() as conn:
        for name in user_tables(engine):
            table = metadata.tables[name]
            order = list(table.primary_key.columns) or list(table.columns)
            out[name] = [tuple(row) for row in conn.execute(sa.select(table).order_by(*order))]
    return out


# -- retention --------------------------------------------------------------------------------

# Candidacies that are over without a hire: after the retention period nobody needs to know
# who the person was. A hire, an open offer or a running candidacy keeps the identity.
FINISHED_STATES: frozenset[str] = frozenset(
    s.value for s in (State.NOT_PASSED, State.WITHDRAWN, State.DECLINED, State.EXPIRED)
)


@dataclass
class PurgeResult:
    """What a purge erased (or would erase, on a dry run)."""

    cutoff: datetime
    user_ids: list[int] = field(default_factory=list)
    candidacy_codes: list[str] = field(default_factory=list)


def purgeable_users(db: Session, *, cutoff: datetime) -> dict[int, list[str]]:
    """Users with an identity whose every candidacy finished unhired before ``cutoff``, and
    users whose identity has led to no candidacy and was last changed before ``cutoff``.

    Maps user id to the codes of those candidacies.
    """
    finished_on = sa.func.coalesce(Candidacy.finished_at, Candidacy.updated_at)
    still_needed = (
        sa.select(Candidacy.user_id)
        .where(Candidacy.user_id.is_not(None))
        .where(sa.or_(Candidacy.state.not_in(FINISHED_STATES), finished_on >= cutoff))
    )
    rows = db.execute(
        sa.select(Candidacy.user_id, Candidacy.code)
        .join(Identity, Identity.user_id == Candidacy.user_id)
        .where(Candidacy.state.in_(FINISHED_STATES), finished_on < cutoff)
        .where(Candidacy.user_id.not_in(still_needed))
        .order_by(Candidacy.user_id, Candidacy.code)
    ).all()
    found: dict[int, list[str]] = {}
    for user_id, code in rows:
        found.setdefault(user_id, []).append(code)
    # A profile that never led to a candidacy (eligibility failed, or the person stopped
    # there) and has not been touched since the cut-off: nothing needs it any more — unless
    # the person waits on the waitlist for the next wave.
    idle = db.scalars(
        sa.select(Identity.user_id)
        .where(Identity.user_id.is_not(None), Identity.updated_at < cutoff)
        .where(~sa.exists().where(Candidacy.user_id == Identity.user_id))
        .where(~sa.exists().where(WaitlistEntry.user_id == Identity.user_id,
                                  WaitlistEntry.notified_at.is_(None)))
    ).all()
    for user_id in idle:
        found.setdefault(user_id, [])
    return found


def tombstone_address(user_id: int) -> str:
    """The address an erased account keeps: unique, and deliverable nowhere (RFC 2606)."""
    return f"erased-{user_id}@erased.invalid"


def _tombstone(db: Session, *, user_id: int) -> None:
    """The e-mail address is identity too: replace it, close the account, drop its mail."""
    email = db.scalar(sa.select(User.email).where(User.id == user_id))
    if email is None:
        return
    db.execute(sa.delete(OutboxMessage).where(OutboxMessage.to_address == email))
    db.execute(sa.update(User).where(User.id == user_id).values(
        # Not a hash of anything, so no password ever matches it.
        email=tombstone_address(user_id), active=False, password_hash="!erased",  # noqa: S106
        session_version=User.session_version + 1))


def purge_identities(db: Session, *, older_than: timedelta, now: datetime,
                     dry_run: bool = False, on_progress: Progress | None = None) -> PurgeResult:
    """Erase the identities of candidacies finished more than ``older_than`` ago.

    Candidacies, answers, reviews and decisions stay (they carry no identity) so statistics
    hold; each erased identity and the run itself are audit events. ``on_progress(done,
    total)`` is called after each erased identity.
    """
    if older_than < timedelta(0):
        raise OpsError("the retention period cannot be negative")
    cutoff = now - older_than
    found = purgeable_users(db, cutoff=cutoff)
    result = PurgeResult(cutoff=cutoff, user_ids=sorted(found),
                         candidacy_codes=sorted(c for codes in found.values() for c in codes))
    if dry_run:
        return result
    days = older_than.days
    for done, (user_id, codes) in enumerate(sorted(found.items()), start=1):
        # A hand-in the intake worker has not reached yet is redacted while the name is known.
        applications.take_in_queued(db, now=now, user_id=user_id)
        db.execute(sa.delete(Identity).where(Identity.user_id == user_id))
        _tombstone(db, user_id=user_id)
        audit.record(db, action="identity.purged", actor_id=None, subject=f"user:{user_id}",
                     details={"candidacies": codes, "older_than_days": days})
        if on_progress is not None:
            on_progress(done, len(found))
    audit.record(db, action="retention.purge", actor_id=None, subject="identities",
                 details={"erased": len(found), "older_than_days": days,
                          "cutoff": cutoff.isoformat(timespec="seconds")})
    db.flush()
    return result
