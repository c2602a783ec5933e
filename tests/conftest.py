"""Shared fixtures: the app, a database rolled back after each test, a client, logins.

The suite runs on SQLite by default and on PostgreSQL with ``--db=postgresql``: then a
throw-away cluster is started on 127.0.0.1 with Debian's binaries and removed afterwards.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask_login.utils import _create_identifier
from sqlalchemy.orm import sessionmaker

from recruit import create_app
from recruit.db import make_engine
from recruit.migrate import upgrade

PG_BIN = Path(os.environ.get("RECRUIT_PG_BIN", "/usr/lib/postgresql/15/bin"))
TEST_KEY = Fernet.generate_key().decode()


def pytest_addoption(parser):
    parser.addoption("--db", choices=("sqlite", "postgresql"), default="sqlite",
                     help="database the suite runs against")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresCluster:
    """A throw-away PostgreSQL cluster in a temporary folder, listening on 127.0.0.1."""

    def __init__(self):
        missing = [b for b in ("initdb", "pg_ctl") if not (PG_BIN / b).exists()]
        if missing:
            raise RuntimeError(
                f"PostgreSQL 15 binaries missing in {PG_BIN}: {missing}. "
                "Install them with: apt-get install postgresql-15 (make test does this as root)."
            )
        self.dir = Path(tempfile.mkdtemp(prefix="recruit-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        # initdb refuses to run as root; use the postgres system account then.
        self.prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.prefix:
            shutil.chown(self.dir, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-w", "-o",
                  f"-h 127.0.0.1 -p {self.port} -k {self.dir} -F -c fsync=off "
                  "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
                  # Rolled-back tests leave dead rows; an autovacuum then records the shared
                  # test tables as empty, and the planner picks nested loops that take
                  # minutes per report query on the rows a later test inserts.
                  "-c autovacuum=off",
                  "start")

    def _run(self, binary: str, *args: str) -> None:
        subprocess.run([*self.prefix, str(PG_BIN / binary), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine.dispose()
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class RedisServer:
    """A throw-away redis-server on 127.0.0.1 (Debian's package), nothing kept on disk."""

    def __init__(self):
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is missing. Install it with: apt-get install "
                               "redis-server (make test does this as root).")
        self.dir = Path(tempfile.mkdtemp(prefix="recruit-redis-"))
        self.port = _free_port()
        self.process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.dir), "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, timeout=60)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server():
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def db_kind(request) -> str:
    return request.config.getoption("--db")


@pytest.fixture(scope="session")
def pg_cluster(db_kind):
    if db_kind != "postgresql":
        yield None
        return
    cluster = PostgresCluster()
    yield cluster
    cluster.stop()


_counter = iter(range(1, 10**6))


@pytest.fixture(scope="session")
def new_database(db_kind, pg_cluster, tmp_path_factory):
    """A factory of fresh, empty databases of the kind under test; returns a URL."""

    def make() -> str:
        n = next(_counter)
        if db_kind == "postgresql":
            return pg_cluster.create_database(f"recruit_test_{n}")
        return "sqlite:///" + str(tmp_path_factory.mktemp("db") / f"test{n}.sqlite3")

    return make


def app_config(database_url: str, tmp_path: Path, **extra) -> dict:
    """Configuration for a test app."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-" + TEST_KEY[:16],
        "ENCRYPTION_KEYS": [TEST_KEY],
        "AUDIT_KEYS": ["test-audit-" + TEST_KEY[:16]],
        "AUDIT_CHECKPOINT": str(tmp_path / "audit-checkpoint.json"),
        "DATABASE_URL": database_url,
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "RATELIMIT_ENABLED": False,
        "PUBLIC_URL": "http://localhost",
        "SERVER_NAME": None,
        **extra,
    }


@pytest.fixture(scope="session")
def database_url(new_database):
    """The migrated database shared by the rolled-back tests."""
    url = new_database()
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    """One app for the session; each test's changes are rolled back by ``db``."""
    application = create_app(app_config(database_url, tmp_path_factory.mktemp("instance")))
    yield application
    application.extensions["recruit.engine"].dispose()


@pytest.fixture
def db(app):
    """A session whose work, and every request's, is rolled back after the test."""
    engine = app.extensions["recruit.engine"]
    connection = engine.connect()
    outer = connection.begin()
    factory = sessionmaker(bind=connection, expire_on_commit=False,
                           join_transaction_mode="create_savepoint")
    original = app.extensions["recruit.sessionmaker"]
    app.extensions["recruit.sessionmaker"] = factory
    session = factory()
    ctx = app.app_context()
    ctx.push()
    try:
        yield session
    finally:
        ctx.pop()
        session.close()
        app.extensions["recruit.sessionmaker"] = original
        outer.rollback()
        connection.close()
        # The audit checkpoint follows commits of savepoints that were just rolled back.
        Path(app.config["AUDIT_CHECKPOINT"]).unlink(missing_ok=True)


class Client:
    """A test client that knows how to log in and to send forms with their CSRF token."""

    TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                       r'name="csrf_token" value="([^"]+)"')

    def __init__(self, app):
        self.app = app
        self.raw = app.test_client()
        original_open = self.raw.open

        def open_fresh(*args, **kwargs):
            # The test's app context is reused by requests (Flask does so when one is
            # active), so per-request caches on ``g`` (the user, the locale, the CSRF token)
            # would leak from one request into the next. Clear them, as a real server would.
            from flask import g

            for key in list(vars(g)):
                delattr(g, key)
            return original_open(*args, **kwargs)

        self.raw.open = open_fresh

    def __getattr__(self, name):
        return getattr(self.raw, name)

    def login(self, user) -> None:
        """Log ``user`` in by writing the session, as Flask-Login would."""
        # Flask-Login's strong protection binds the session to address and user agent.
        with self.app.test_request_context(environ_base=self.raw.environ_base):
            identifier = _create_identifier()
        with self.raw.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
            sess["_id"] = identifier

    def logout(self) -> None:
        with self.raw.session_transaction() as sess:
            sess.clear()

    def csrf_token(self) -> str:
        """A valid CSRF token for this client's session."""
        response = self.raw.get("/login")
        match = self.TOKEN.search(response.get_data(as_text=True))
        assert match, "no CSRF token on the login page"
        return match.group(1) or match.group(2)

    def post_form(self, url: str, data: dict | None = None, **kwargs):
        """POST a form with a fresh CSRF token."""
        payload = dict(data or {})
        payload.setdefault("csrf_token", self.csrf_token())
        return self.raw.post(url, data=payload, **kwargs)


@pytest.fixture
def client(app, db):
    """A client whose requests share the test's rolled-back transaction."""
    return Client(app)


@pytest.fixture
def fresh_app(new_database, tmp_path):
    """An app on its own fresh migrated database, with real commits (for CLI and servers)."""
    url = new_database()
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    application = create_app(app_config(url, tmp_path))
    yield application
    application.extensions["recruit.engine"].dispose()


def cli_env(app, tmp_path, **settings: str) -> dict[str, str]:
    """The environment a `recruit` command in a subprocess needs to work on ``app``'s
    database with its keys; ``settings`` adds RECRUIT_* values (``INTAKE="worker"``)."""
    return {**os.environ, "RECRUIT_INSTANCE_PATH": str(tmp_path),
            "RECRUIT_DATABASE_URL": app.config["DATABASE_URL"],
            "RECRUIT_SECRET_KEY": app.config["SECRET_KEY"],
            "RECRUIT_ENCRYPTION_KEYS": app.config["ENCRYPTION_KEYS"][0],
            "RECRUIT_AUDIT_KEYS": app.config["AUDIT_KEYS"][0],
            "RECRUIT_MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
            **{f"RECRUIT_{k}": v for k, v in settings.items()}}


def wait_for_port(port: int, timeout: float = 15) -> None:
    """Block until something listens on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")
