"""Engine, the per-request session, the declarative base and shared column types."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

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
            # A request that may write takes the write lock up front: in WAL mode a read
            # transaction cannot be upgraded once another writer has committed, and would
            # fail at once with "database is locked" instead of waiting its turn.
            writing = has_request_context() and (
                request.method not in ("GET", "HEAD", "OPTIONS") or _view_writes())
            conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(url, **kwargs)


def writes(view):
    """Mark a GET view that writes (an audit event, say): it takes the write lock up front."""
    view.__writes__ = True
    return view


def _view_writes() -> bool:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return bool(getattr(view, "__writes__", False))


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
