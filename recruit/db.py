"""Engine, the per-request session, the declarative base and shared column types."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
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


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def writes(view):
    """Mark a view that writes on GET too (it closes expired stages, say): its transaction
    takes the write lock up front like a POST's."""
    view.writes_on_get = True
    return view


def will_write() -> None:
    """Declare that the current app context writes (a CLI job): its transactions, from the
    next one on, take the write lock up front."""
    g._recruit_writes = True


def _may_write() -> bool:
    if has_request_context():
        if request.method not in SAFE_METHODS:
            return True
        view = current_app.view_functions.get(request.endpoint or "")
        if getattr(view, "writes_on_get", False):
            return True
    return has_app_context() and bool(g.get("_recruit_writes"))


def make_engine(url: str, **kwargs) -> sa.Engine:
    """Create an engine; SQLite gets WAL, foreign keys and real transactions."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_on_connect(dbapi_conn, _record):
            # pysqlite's own transaction handling breaks SAVEPOINT and BEGIN IMMEDIATE;
            # hand control to SQLAlchemy, as its documentation recommends.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            if ":memory:" not in url and url != "sqlite://":
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_on_begin(conn):
            # A unit of work that may write takes the write lock up front: in WAL mode a read
            # transaction cannot be upgraded once another writer has committed, and would
            # fail at once with "database is locked" instead of waiting its turn.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if _may_write() else "BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(url, **kwargs)


def init_app(app) -> None:
    """Attach an engine and a session factory to the app; commit or roll back per request."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["recruit.engine"] = engine
    app.extensions["recruit.sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)

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
