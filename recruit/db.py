"""Engine, the per-request session, the declarative base and shared column types."""

from __future__ import annotations

import contextlib
import logging
import os
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import wraps
from typing import TypeVar

import sqlalchemy as sa
from flask import current_app, g, has_app_context, has_request_context, request
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

T = TypeVar("T")
log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every model."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored as naive UTC and always returned timezone-aware."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Store in UTC without an offset, so SQLite and PostgreSQL agree."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use datetime.now(UTC)")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        """Give back an aware UTC datetime."""
        return None if value is None else value.replace(tzinfo=UTC)


class SealedText(sa.types.TypeDecorator):
    """Text encrypted at rest with the identity vault's keys (answer originals: people sign
    them with their names). The column holds a Fernet token; Python code sees the text."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Encrypt with the vault's newest key."""
        return None if value is None else _vault().seal_text(value)

    def process_result_value(self, value, dialect):
        """Decrypt with whichever configured key sealed it."""
        return None if value is None else _vault().open_text(value)


def _vault():
    if not has_app_context():
        raise RuntimeError("sealed columns are read and written inside the app (its keys)")
    return current_app.extensions["recruit.vault"]


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


# -- units of work that may write ---------------------------------------------------------------
#
# SQLite in WAL mode cannot upgrade a read transaction to a write once another connection has
# committed since it began: the write fails at once with "database is locked", whatever the
# busy timeout. So a unit of work that may write says so before its first statement and
# begins with BEGIN IMMEDIATE, which waits its turn for the lock. A POST always may write; a
# GET that writes (an audited view, a lazy job) and a CLI command that writes are marked with
# :func:`writes`. PostgreSQL needs no lock up front: under READ COMMITTED writers wait for each
# other row by row; the few check-then-act steps take :func:`serialise`.

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITES = "_recruit_writes"
_DISPATCHED = "_recruit_dispatched"
_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE")
log = logging.getLogger(__name__)


class UnmarkedWrite(RuntimeError):
    """A GET wrote without being marked with :func:`writes` (raised in tests only)."""


def writes(func: Callable) -> Callable:
    """Mark a view that writes on GET, or a CLI command, as a unit of work that may write."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        # A CLI command has no request to look at: the mark goes on the app context.
        setattr(g, _WRITES, True)
        return func(*args, **kwargs)

    wrapper.__writes__ = True
    return wrapper


def will_write() -> None:
    """Declare that the current app context (a CLI job) writes: its transactions, from the
    next one on, take the write lock up front."""
    setattr(g, _WRITES, True)


@contextlib.contextmanager
def writing() -> Iterator[None]:
    """Within: the current app context's transactions take the write lock up front. For a
    job that reads and works outside the lock first; end the reading transaction before."""
    before = g.get(_WRITES, False)
    setattr(g, _WRITES, True)
    try:
        yield
    finally:
        setattr(g, _WRITES, before)


def may_write() -> bool:
    """Whether the current request or command may write, so takes the write lock up front."""
    if has_request_context():
        if request.method not in SAFE_METHODS or g.get(_WRITES, False):
            return True
        # Decided from the matched view, not from when it runs: the user is loaded (and the
        # transaction begun) before the view function is called.
        view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
        return bool(getattr(view, "__writes__", False))
    return has_app_context() and bool(g.get(_WRITES, False))


def serialise(session: Session, name: str, key: int = 0) -> None:
    """Make concurrent units of work doing ``name`` (for ``key``) wait for each other.

    On PostgreSQL a transaction-level advisory lock; on SQLite nothing is needed, as a unit
    that may write already holds the database's one write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        # Two 32-bit halves: a stable number for the name, and the key.
        classid = zlib.crc32(name.encode()) - 2**31
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:a, :b)"),
                        {"a": classid, "b": int(key) % 2**31})


def make_engine(url: str, **kwargs) -> sa.Engine:
    """Create an engine; SQLite gets WAL, foreign keys and real transactions."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, **kwargs)

        path = sa.make_url(url).database
        on_disk = bool(path) and path != ":memory:"

        @event.listens_for(engine, "connect")
        def _sqlite_on_connect(dbapi_conn, _record):
            # pysqlite's own transaction handling breaks SAVEPOINT and BEGIN IMMEDIATE;
            # hand control to SQLAlchemy, as its documentation recommends.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            # Deleted rows (an erased identity, a sent mail) are overwritten, not left in
            # free pages of the file.
            cur.execute("PRAGMA secure_delete=ON")
            if on_disk:
                # Before the WAL exists: SQLite creates the -wal and -shm files with the
                # database file's mode.
                owner_only(path, f"{path}-wal", f"{path}-shm")
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_on_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if may_write() else "BEGIN")

    else:
        kwargs.setdefault("pool_pre_ping", True)
        engine = sa.create_engine(url, **kwargs)

    @event.listens_for(engine, "before_cursor_execute")
    def _unmarked_write(conn, cursor, statement, parameters, context, executemany):
        # A GET that writes without the mark works until two users meet, then fails under
        # load: the tests turn it into an error, production logs it.
        if (has_request_context() and g.get(_DISPATCHED, False)
                and statement.lstrip()[:7].upper().startswith(_WRITE_VERBS) and not may_write()):
            message = (f"GET {request.endpoint} writes ({statement.split(None, 2)[:2]}); mark "
                       "the view with @recruit.db.writes")
            if current_app.testing:
                raise UnmarkedWrite(message)
            log.warning(message)

    return engine


def owner_only(*paths: str) -> None:
    """Make existing files readable and writable by their owner only (mode 600)."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path, 0o600)


def init_app(app) -> None:
    """Attach an engine and a session factory to the app; commit or roll back per request."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["recruit.engine"] = engine
    app.extensions["recruit.sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)

    @app.before_request
    def _dispatched():
        # Only real requests are checked for unmarked writes, not a test_request_context().
        setattr(g, _DISPATCHED, True)

    @app.after_request
    def _commit(response):
        session = g.pop("_db", None)
        if session is not None:
            try:
                if response.status_code < 400:
                    session.commit()
                else:
                    session.rollback()
            finally:
                session.close()
        return response

    @app.teardown_request
    def _discard(exc):
        session = g.pop("_db", None)
        if session is not None:
            # Only reached when after_request did not run: an unhandled error.
            session.rollback()
            session.close()

    @app.teardown_appcontext
    def _close_outside_requests(exc):
        session = g.pop("_db", None)
        if session is not None:
            session.rollback()
            session.close()


def get_db() -> Session:
    """The session of the current request or app context (one per context)."""
    if "_db" not in g:
        g._db = current_app.extensions["recruit.sessionmaker"]()
    return g._db


def get_engine() -> sa.Engine:
    """The engine of the current app."""
    return current_app.extensions["recruit.engine"]


def when_unlocked(work: Callable[[], T], *, session: Session, attempts: int = 6,
                  wait: float = 2.0) -> T:
    """Run ``work``; when the database stays locked past its busy timeout (SQLite, while a
    long writer such as the deadline job holds the lock), roll back and try again, at most
    ``attempts`` times. For workers and jobs: one that gave up at the first "database is
    locked" would stop sending mail or closing stages until someone restarted it."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except OperationalError as exc:
            session.rollback()
            if "locked" not in str(exc.orig) or attempt == attempts:
                raise
            log.warning("database busy (%s); trying again in %.0f s", exc.orig, wait)
            time.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover
