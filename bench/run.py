"""`make bench`: the hot paths against bare-stack baselines, measured in the same run.

Steps (each bounded in time; every server started here is stopped here):

1. seed throw-away SQLite databases with ``bench.seed`` (sizes below; ``--quick`` is small);
2. serve the largest "main" database with gunicorn (sync workers, ``-w 2``) on 127.0.0.1,
   log in over HTTP and drive each hot path and each baseline with wrk;
3. count SQL queries per request of each hot path at two sizes (Flask test client);
4. compare the p50 of each hot path at ≈10 k and ≈1 M answers;
5. time offer letters against bare WeasyPrint, and 1,000 letters in parallel against serial;
6. time one draw (``assignment.next_answer``) in-process at every size, and normalisation in
   the domain layer.
7. index 100 k answers to one task for near-duplicates and time single submissions
   (bench/integrity.py, also runnable alone).

The table goes to stdout and everything to bench/results.json. Absolute times depend on
the machine; the ratios are what to read (see bench/README.md).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from bench.procs import gunicorn_argv, stop_group

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LUA = Path(__file__).resolve().parent / "request.lua"
RESULTS = Path(__file__).resolve().parent / "results.json"
USER_AGENT = "recruit-bench/1"
# Seeding the ≈1 M-answer database is skipped down to what fits in this many seconds.
SEED_BUDGET = 600.0
# …and the 1,000 serial letters down to what renders in this many seconds.
LETTER_BUDGET = 240.0

SIZES = {
    "full": {"small": 1_000, "main": 100_000, "scale": (3_334, 333_334), "wrk_seconds": 10,
             "scale_seconds": 5, "letters": 1_000, "letter_samples": 15,
             "domain_answers": 100_000, "draw_samples": 2_000, "handout_samples": 100,
             "integrity": (100_000, 1_000, 200)},
    "quick": {"small": 200, "main": 2_000, "scale": (334, 3_334), "wrk_seconds": 3,
              "scale_seconds": 2, "letters": 40, "letter_samples": 5,
              "domain_answers": 10_000, "draw_samples": 300, "handout_samples": 30,
              "integrity": (5_000, 100, 30)},
}

TARGETS = {
    "ratio": 0.8,  # hot path throughput ≥ 0.8 × its baseline
    "queries": 10,  # ≤ 10 per request, equal at both sizes
    "growth": 1.3,  # p50 at 1 M answers ≤ 1.3 × p50 at 10 k
    "letter": 1.5,  # app letter ≤ 1.5 × bare WeasyPrint
    "parallel": 1.7,  # parallel ≥ 1.7 × faster than serial
    "draw_ms": 1.0,  # one draw (assignment.next_answer) in-process at ≈1 M answers
    # The reviewer's answer page must beat the full run of 22 November 2026 (issue 16).
    "review_page_rps": 633,
}


class NotAvailable(Exception):
    """A hot path the application does not have (yet); reported, never faked."""


def log(message: str) -> None:
    """Progress on stderr, so stdout holds only the table."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the application in-process: URLs, fixtures and query counts -----------------------------

def _keys() -> tuple[str, list[str]]:
    from cryptography.fernet import Fernet

    return "bench-" + Fernet.generate_key().decode(), [Fernet.generate_key().decode()]


@dataclass
class Database:
    """A seeded benchmark database."""

    label: str
    applicants: int
    url: str
    path: Path
    seed_seconds: float
    rows: dict[str, int]

    @property
    def answers(self) -> int:
        """How many answers it holds."""
        return self.rows.get("answer", 0)


class Site:
    """The application on one database, in this process: builds targets and counts queries."""

    def __init__(self, database: Database, *, secret: str, keys: list[str], workdir: Path):
        from recruit import create_app

        self.database = database
        self.app = create_app({
            "SECRET_KEY": secret, "ENCRYPTION_KEYS": keys, "DATABASE_URL": database.url,
            "AUDIT_KEYS": ["audit-" + secret],
            "BENCH": True, "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False,
            "MAIL_OUTBOX_DIR": str(workdir / "outbox"), "PUBLIC_URL": "http://127.0.0.1",
        })
        self.engine = self.app.extensions["recruit.engine"]

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()

    def has(self, endpoint: str) -> bool:
        """Whether the application has this endpoint."""
        return endpoint in self.app.view_functions

    def url(self, endpoint: str, **values) -> str:
        """A path for an endpoint."""
        from flask import url_for

        with self.app.test_request_context():
            return url_for(endpoint, **values)

    @contextmanager
    def db(self):
        """A session inside an app context (committed by the caller when it writes)."""
        from recruit.db import get_db

        with self.app.app_context():
            yield get_db()

    def user_id(self, email: str) -> int:
        """The id of a seeded account."""
        import sqlalchemy as sa

        from recruit.models import User

        with self.db() as db:
            return db.scalar(sa.select(User.id).where(User.email == email))

    def client(self, email: str | None):
        """A test client logged in as ``email`` (the session written as Flask-Login would)."""
        from flask_login.utils import _create_identifier

        from recruit.models import User

        client = self.app.test_client()
        client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
        if email:
            with self.db() as db:
                session_id = db.get(User, self.user_id(email)).get_id()
            with self.app.test_request_context(environ_base=client.environ_base):
                identifier = _create_identifier()
            with client.session_transaction() as sess:
                sess.update({"_user_id": session_id, "_fresh": True, "_id": identifier})
        return client

    @contextmanager
    def counting(self):
        """Count the SQL statements run inside the block."""
        from sqlalchemy import event

        counter = {"n": 0}

        def count(*_args, **_kwargs):
            counter["n"] += 1

        event.listen(self.engine, "before_cursor_execute", count)
        try:
            yield counter
        finally:
            event.remove(self.engine, "before_cursor_execute", count)

    def count_queries(self, target: Target) -> int:
        """SQL statements one request of ``target`` runs (after one warm-up request)."""
        spec = target.sessions[0]
        client = self.client(spec.user)

        def once(n: int) -> None:
            body = target.body.replace("{n}", str(n)) if target.body else None
            headers = {"Content-Type": target.content_type} if target.content_type else {}
            response = client.open(spec.paths[0], method=target.method, data=body,
                                   headers=headers)
            if response.status_code >= 400:
                raise NotAvailable(f"{target.method} {spec.paths[0]} answered "
                                   f"{response.status_code} in the test client")

        once(spec.start)
        with self.counting() as counter:
            once(spec.start + 1)
        return counter["n"]


# -- what is measured ------------------------------------------------------------------------

@dataclass
class SessionSpec:
    """One logged-in session of a target: who, which paths in turn, the body counter start."""

    user: str | None
    paths: list[str]
    start: int = 1


@dataclass
class Target:
    """One request shape for wrk; each wrk thread takes one of the sessions."""

    method: str
    sessions: list[SessionSpec]
    body: str | None = None  # "{n}" → a counter per session
    content_type: str | None = None
    csrf_page: str = "/login"  # a page that carries a CSRF token for the session


@dataclass(frozen=True)
class Endpoint:
    """A hot path or a baseline, and how to build its target on a seeded site."""

    key: str
    title: str
    build: Callable[[Site], Target]
    baseline: str | None = None


def baseline_read(site: Site) -> Target:
    """Read one answer by primary key and render a tiny template."""
    import sqlalchemy as sa

    from recruit.models import Answer

    with site.db() as db:
        ids = db.scalars(sa.select(Answer.id).order_by(Answer.id).limit(4)).all()
    return Target("GET", [SessionSpec(None, [site.url("bench.read_row", row_id=i)])
                          for i in ids])


def baseline_insert(site: Site) -> Target:
    """Insert one row and commit (a JSON POST with the CSRF header, like autosave)."""
    return Target("POST", [SessionSpec(None, [site.url("bench.insert_row")])] * 4, body="{}",
                  content_type="application/json")


def baseline_list(site: Site) -> Target:
    """List 50 rows joined to another table, pages 1–20 in turn."""
    return Target("GET", [SessionSpec(None, [site.url("bench.list_rows", page=p)
                                             for p in range(1, 21)])])


def _need(site: Site, endpoint: str, owner: str) -> None:
    if not site.has(endpoint):
        raise NotAvailable(f"the application has no endpoint {endpoint} ({owner})")


def _reviewers(site: Site, count: int = 4) -> list[str]:
    from bench import seed

    return [seed.reviewer_email(i) for i in range(1, count + 1)]


def _lease_for(site: Site, email: str) -> str:
    """The token of an answer leased to this reviewer (leased now if they hold none)."""
    import sqlalchemy as sa

    from recruit.db import utcnow
    from recruit.domain import assignment
    from recruit.models import Campaign, Stage, Task, User

    with site.db() as db:
        reviewer = db.scalar(sa.select(User).where(User.email == email))
        task = db.scalar(sa.select(Task).join(Stage).order_by(Stage.position, Task.position)
                         .limit(1))
        lease = db.scalar(sa.select(Campaign.lease_minutes).join(Stage)
                          .where(Stage.id == task.stage_id))
        handout = assignment.next_answer(db, reviewer=reviewer, task=task,
                                         lease_minutes=max(lease, 60), now=utcnow())
        db.commit()
    if handout is None:
        raise NotAvailable("no answer left to hand out in the seeded pool")
    return handout.token


def hot_review_page(site: Site) -> Target:
    """The reviewer's page of the answer they were handed (prompt, redacted text, rubric)."""
    _need(site, "review.answer", "recruit/web/review.py")
    return Target("GET", [SessionSpec(r, [site.url("review.answer", token=_lease_for(site, r))])
                          for r in _reviewers(site)], csrf_page="/review/")


def hot_autosave(site: Site) -> Target:
    """The applicant's autosave: JSON with the text and the version it is based on."""
    import sqlalchemy as sa

    from recruit.models import Answer, Candidacy, Submission, User

    _need(site, "applicant.autosave", "recruit/web/applicant.py")
    with site.db() as db:
        rows = db.execute(
            sa.select(User.email, Answer.id, Answer.version)
            .join(Candidacy, Candidacy.user_id == User.id)
            .join(Submission, Submission.candidacy_id == Candidacy.id)
            .join(Answer, Answer.submission_id == Submission.id)
            .where(Candidacy.state == "in_stage", Submission.submitted_at.is_(None))
            .order_by(User.id, Answer.id)
        ).all()
    seen: dict[str, tuple[int, int]] = {}
    for email, answer_id, version in rows:
        seen.setdefault(email, (answer_id, version))
    if not seen:
        raise NotAvailable("no applicant of the seeded wave is still writing")
    from bench.seed import TextMaker

    text = TextMaker(__import__("random").Random(9)).text(250)
    body = json.dumps({"text": text, "version": 0}, ensure_ascii=False).replace(
        '"version": 0', '"version": {n}')
    return Target("POST", [SessionSpec(email, [site.url("applicant.autosave",
                                                        answer_id=answer_id)], start=version)
                           for email, (answer_id, version) in list(seen.items())[:4]],
                  body=body, content_type="application/json", csrf_page="/me/")


def hot_ranking(site: Site) -> Target:
    """The coordinator's stage ranking, 50 rows a page, pages 1–20 in turn."""
    import sqlalchemy as sa

    from bench import seed
    from recruit.models import Campaign, Stage

    _need(site, "decisions.stage", "recruit/web/decisions.py")
    with site.db() as db:
        campaign_id, stage_id = db.execute(
            sa.select(Campaign.id, Stage.id).join(Stage, Stage.campaign_id == Campaign.id)
            .where(Campaign.key == seed.CAMPAIGN_KEY, Stage.position == 1)).one()
    paths = [site.url("decisions.stage", campaign_id=campaign_id, stage_id=stage_id, page=p)
             for p in range(1, 21)]
    return Target("GET", [SessionSpec(seed.COORDINATOR_EMAIL, paths)], csrf_page="/coordinate/")


def hot_letter(site: Site) -> Target:
    """The offer-letter PDF, downloaded by the applicants it is addressed to."""
    import sqlalchemy as sa

    from recruit.models import Candidacy, Offer, User

    _need(site, "reports.offer_letter", "recruit/web/reports.py")
    with site.db() as db:
        rows = db.execute(
            sa.select(User.email, Offer.id).join(Candidacy, Candidacy.user_id == User.id)
            .join(Offer, Offer.candidacy_id == Candidacy.id).order_by(Offer.id).limit(4)
        ).all()
    if not rows:
        raise NotAvailable("the seeded wave has no offers")
    return Target("GET", [SessionSpec(email, [site.url("reports.offer_letter", offer_id=o)])
                          for email, o in rows], csrf_page="/me/")


BASELINES = [
    Endpoint("base_read", "baseline: read 1 row + tiny template", baseline_read),
    Endpoint("base_insert", "baseline: insert 1 row + commit", baseline_insert),
    Endpoint("base_list", "baseline: 50 rows joined", baseline_list),
]
HOT_PATHS = [
    Endpoint("review_page", "reviewer: answer page", hot_review_page, "base_read"),
    Endpoint("autosave", "applicant: autosave (JSON)", hot_autosave, "base_insert"),
    Endpoint("ranking", "coordinator: stage ranking (50 rows)", hot_ranking, "base_list"),
    Endpoint("letter", "offer letter PDF download", hot_letter, None),
]


def release_leases(site: Site) -> None:
    """Send every live lease back to the pool, so the next draw is a real hand-out."""
    from datetime import timedelta

    from recruit.db import utcnow
    from recruit.domain import assignment

    with site.db() as db:
        assignment.expire_leases(db, now=utcnow() + timedelta(days=3650))
        db.commit()


# -- the hand-out, in-process ------------------------------------------------------------------

def measure_handout(site: Site, *, samples: int) -> dict:
    """p50 and queries of ``POST /review/tasks/<id>/next`` when it really hands an answer out.

    Under wrk a reviewer would get their held lease back after the first request, so this
    one runs in-process: each sample is a reviewer without a lease on the task; between
    samples the lease is recused (not timed) so the next draw is a real one.
    """
    import sqlalchemy as sa

    from bench import seed
    from recruit.db import utcnow
    from recruit.domain import assignment
    from recruit.models import ReviewAssignment, Stage, Task

    if not site.has("review.next_answer"):
        return {"available": False, "reason": "recruit/web/review.py has no hand-out yet"}
    with site.db() as db:
        task_ids = db.scalars(sa.select(Task.id).join(Stage).order_by(Stage.position,
                                                                      Task.position)).all()[:3]
    release_leases(site)
    reviewers = [seed.reviewer_email(i) for i in range(1, seed.REVIEWERS + 1)]
    clients = {email: site.client(email) for email in reviewers}
    ids = {email: site.user_id(email) for email in reviewers}
    times, queries = [], []
    for i in range(samples + 3):
        email = reviewers[i % len(reviewers)]
        task_id = task_ids[(i // len(reviewers)) % len(task_ids)]
        path = site.url("review.next_answer", task_id=task_id)
        with site.counting() as counter:
            started = time.perf_counter()
            response = clients[email].post(path)
            elapsed = time.perf_counter() - started
        if response.status_code != 302 or "/answers/" not in response.headers["Location"]:
            return {"available": False,
                    "reason": f"POST {path} answered {response.status_code} "
                              f"{response.headers.get('Location', '')}"}
        if i >= 3:  # the first ones warm caches
            times.append(elapsed)
            queries.append(counter["n"])
        with site.db() as db:
            held = db.scalars(sa.select(ReviewAssignment).where(
                ReviewAssignment.reviewer_id == ids[email],
                ReviewAssignment.status == "leased")).all()
            for a in held:
                assignment.recuse(db, assignment=a, reason="bench", now=utcnow())
            db.commit()
    return {"available": True, "samples": samples, "p50_ms": statistics.median(times) * 1000,
            "queries": statistics.median(queries), "queries_max": max(queries)}


# -- seeding ---------------------------------------------------------------------------------

def seed_database(workdir: Path, label: str, applicants: int, keys: list[str]) -> Database:
    """Create, migrate and fill one SQLite database."""
    from bench import seed
    from recruit.db import make_engine
    from recruit.migrate import upgrade

    path = workdir / f"{label}-{applicants}.sqlite3"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    try:
        upgrade(engine)
        started = time.perf_counter()
        report = seed.seed(engine, applicants=applicants, keys=keys)
        seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    scores = (f", of which {report.scores_seconds:.1f} s storing stage results"
              if report.scores_seconds is not None else "")
    log(f"seeded {label}: {applicants:,} applicants, {report.answers:,} answers in "
        f"{seconds:.1f} s{scores} ({path.stat().st_size / 1e6:,.0f} MB)")
    return Database(label, applicants, url, path, seconds, report.rows)


# -- the server and the load -----------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn on 127.0.0.1 in its own process group; stopped on exit, whatever happened."""

    def __init__(self, database: Database, *, secret: str, keys: list[str], workdir: Path):
        self.database = database
        self.port = _free_port()
        self.log_path = workdir / f"gunicorn-{database.label}.log"
        self.env = {
            **os.environ,
            "RECRUIT_INSTANCE_PATH": str(workdir / "instance"),
            "RECRUIT_DATABASE_URL": database.url,
            "RECRUIT_SECRET_KEY": secret,
            "RECRUIT_ENCRYPTION_KEYS": ",".join(keys),
            "RECRUIT_AUDIT_KEYS": "audit-" + secret,
            "RECRUIT_BENCH": "true",
            # The limiter would answer 429 to a load generator; its cost is not what we
            # measure, and baselines pay the same request overhead without it.
            "RECRUIT_RATELIMIT_ENABLED": "false",
            "RECRUIT_MAIL_OUTBOX_DIR": str(workdir / "outbox"),
            "RECRUIT_PUBLIC_URL": f"http://127.0.0.1:{self.port}",
        }
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            gunicorn_argv(bind=f"127.0.0.1:{self.port}", workers=2, timeout=120,
                          extra=("--error-logfile", "-")),
            cwd=ROOT, env=self.env, stdout=self._log, stderr=self._log,
            start_new_session=True,  # its own process group: killed as one below
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}")
            try:
                if Browser(self.port).request("GET", "/healthz")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within 60 s; see {self.log_path}")

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        """Terminate the process group; kill it if it lingers."""
        if self.process is not None:
            stop_group(self.process, grace=15)
        self.process = None
        if getattr(self, "_log", None):
            self._log.close()


_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|name="csrf-token"[^>]*content="([^"]+)"'
                    r'|value="([^"]+)"[^>]*name="csrf_token"')


class Browser:
    """A minimal cookie-keeping HTTP client for 127.0.0.1 (standard library only)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, dict, str]:
        """Send one request; remember the cookies it sets."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            all_headers = {"User-Agent": USER_AGENT, "Accept-Language": "ru", **(headers or {})}
            if self.cookies:
                all_headers["Cookie"] = self.cookie_header()
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            for value in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            data = response.read()
            text = data.decode("utf-8", "replace") if b"%PDF" not in data[:8] else ""
            return response.status, dict(response.headers), text
        finally:
            conn.close()

    def cookie_header(self) -> str:
        """The Cookie header to replay."""
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items() if v)

    def csrf_token(self, path: str) -> str:
        """The CSRF token on a page of this session."""
        status, _headers, text = self.request("GET", path)
        match = _TOKEN.search(text)
        if not match:
            raise NotAvailable(f"no CSRF token on {path} (status {status})")
        return next(g for g in match.groups() if g)

    def login(self, email: str, password: str) -> None:
        """Log in through the real form."""
        token = self.csrf_token("/login")
        body = urlencode({"email": email, "password": password, "csrf_token": token}).encode()
        status, headers, _ = self.request(
            "POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302 or "/login" in headers.get("Location", "/login"):
            raise RuntimeError(f"login of {email} failed (status {status})")


WRK_CONNECTIONS = 4  # one thread and one connection per session; 2 workers stay busy


def run_wrk(port: int, target: Target, *, seconds: int, cookies: list[tuple[str, str]]) -> dict:
    """Load one target with wrk for ``seconds``; thread i uses session i (cycling)."""
    sessions = [target.sessions[i % len(target.sessions)] for i in range(WRK_CONNECTIONS)]
    cookies = [cookies[i % len(cookies)] for i in range(WRK_CONNECTIONS)]
    env = {
        **os.environ,
        "BENCH_METHOD": target.method,
        "BENCH_PATHS": "\n".join(" ".join(s.paths) for s in sessions),
        "BENCH_STARTS": "\n".join(str(s.start) for s in sessions),
        "BENCH_BODY": target.body or "",
        "BENCH_CONTENT_TYPE": target.content_type or "",
        "BENCH_COOKIES": "\n".join(c for c, _ in cookies),
        "BENCH_CSRF": "\n".join(t for _, t in cookies),
        "BENCH_USER_AGENT": USER_AGENT,
    }
    cmd = ["wrk", f"-t{WRK_CONNECTIONS}", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s",
           "--timeout", "30s", "-s", str(LUA), f"http://127.0.0.1:{port}"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60,
                          check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    first_error = next((x.removeprefix("BENCH_FIRST_ERROR ") for x in done.stdout.splitlines()
                        if x.startswith("BENCH_FIRST_ERROR ")), None)
    seconds_run = raw["duration_us"] / 1e6
    return {
        "first_error": first_error,
        "rps": raw["requests"] / seconds_run if seconds_run else 0.0,
        "p50_ms": raw["p50_us"] / 1000, "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000, "requests": raw["requests"],
        "errors": raw["status_errors"] + raw["socket_errors"],
    }


def open_sessions(port: int, target: Target, password: str) -> list[tuple[str, str]]:
    """Log each session's user in over HTTP; (Cookie header, CSRF token) per session."""
    sessions = []
    for spec in target.sessions:
        browser = Browser(port)
        if spec.user:
            browser.login(spec.user, password)
        token = browser.csrf_token(target.csrf_page if spec.user else "/login")
        sessions.append((browser.cookie_header(), token))
    return sessions


def measure_endpoint(server: Server, site: Site, endpoint: Endpoint, *, seconds: int,
                     password: str, warmup: int = 1) -> dict:
    """Build the target, check one request by hand, warm up, then load it with wrk."""
    try:
        target = endpoint.build(site)
    except NotAvailable as exc:
        return {"available": False, "reason": str(exc)}
    cookies = open_sessions(server.port, target, password)
    # One request by hand per session: a wrong status here would make wrk's numbers lies.
    for spec, (cookie, token) in zip(target.sessions, cookies, strict=True):
        probe = Browser(server.port)
        probe.cookies = dict(x.split("=", 1) for x in cookie.split("; ") if "=" in x)
        body = target.body.replace("{n}", str(spec.start)) if target.body else None
        headers = {"X-CSRFToken": token}
        if target.content_type:
            headers["Content-Type"] = target.content_type
        status, _h, text = probe.request(target.method, spec.paths[0],
                                         body.encode() if body else None, headers)
        if status >= 400:
            return {"available": False,
                    "reason": f"{target.method} {spec.paths[0]} answered {status}: "
                              f"{text[:200]}"}
    if warmup:
        if target.body and "{n}" in target.body:
            target = endpoint.build(site)  # the probe moved the counters (versions) on
        run_wrk(server.port, target, seconds=warmup, cookies=cookies)
        time.sleep(1)  # requests wrk abandoned at its deadline still finish on the server
    if target.body and "{n}" in target.body:
        target = endpoint.build(site)  # same users in the same order, fresh counters
    result = run_wrk(server.port, target, seconds=seconds, cookies=cookies)
    if not result["requests"]:
        return {"available": False, "reason": f"no request finished within {seconds} s"}
    result.update(available=True, path=target.sessions[0].paths[0], method=target.method)
    return result


# -- letters and the domain layer ------------------------------------------------------------

def measure_letters(site: Site, *, letters: int, samples: int, workdir: Path,
                    notes: list[str]) -> dict:
    """The app's offer letter against bare WeasyPrint; many letters in parallel vs serial."""
    import sqlalchemy as sa

    try:
        from recruit.reports import documents
        from recruit.reports.batch import LetterRenderer
        from recruit.reports.render import ASSET_DIR, render_pdf
    except ImportError as exc:
        return {"available": False, "reason": f"reports modules missing: {exc}"}
    from weasyprint import HTML
    from weasyprint.urls import path2url

    from recruit.models import Offer

    with site.app.test_request_context(), site.db() as db:
        offers = db.scalars(sa.select(Offer).order_by(Offer.id)).all()
        if not offers:
            return {"available": False, "reason": "the seeded database has no offers"}

        def app_letter():
            return documents.offer_letter(db, offer=offers[0], locale="ru").render()

        doc = documents.offer_letter(db, offer=offers[0], locale="ru")
        base = path2url(f"{ASSET_DIR}/")

        def bare():
            return HTML(string=doc.html, base_url=base).write_pdf()

        app_letter(), bare()  # warm: fonts, caches
        app_times, bare_times = [], []
        for _ in range(samples):
            for fn, times in ((app_letter, app_times), (bare, bare_times)):
                started = time.perf_counter()
                fn()
                times.append(time.perf_counter() - started)
        docs = [documents.offer_letter(db, offer=o, locale="ru") for o in offers]
    requested = letters
    per_letter = statistics.median(app_times)
    if letters * per_letter > LETTER_BUDGET:
        # A busy or slow machine: keep the serial run bounded, and say so.
        letters = max(100, int(LETTER_BUDGET / per_letter))
        notes.append(f"{requested:,} letters would take ≈{requested * per_letter:.0f} s "
                     f"serially here; measured {letters:,}")
    jobs = [(f"letter-{i:05d}.pdf", docs[i % len(docs)].job()) for i in range(letters)]
    out = workdir / "letters"
    started = time.perf_counter()
    for name, params in jobs:
        (out / "serial").mkdir(parents=True, exist_ok=True)
        (out / "serial" / name).write_bytes(render_pdf(params["html"], title=params["title"],
                                                       author=params["author"],
                                                       lang=params["lang"]))
    serial = time.perf_counter() - started
    processes = os.cpu_count() or 1
    started = time.perf_counter()
    with LetterRenderer(processes=processes) as renderer:
        renderer.render_many(jobs, out_dir=out / "parallel")
    parallel = time.perf_counter() - started
    shutil.rmtree(out, ignore_errors=True)
    app_ms = statistics.median(app_times) * 1000
    bare_ms = statistics.median(bare_times) * 1000
    return {"available": True, "app_ms": app_ms, "bare_ms": bare_ms,
            "ratio": app_ms / bare_ms, "letters": letters, "serial_s": serial,
            "parallel_s": parallel, "processes": processes, "speedup": serial / parallel}


def _draws(db, *, reviewers, tasks, samples: int) -> list[float]:
    """Seconds per ``assignment.next_answer`` call, each a real draw from the pool.

    Reviewer i takes task i // len(reviewers); the slot drawn is finished untimed, as a
    submitted review would finish it, so the next call by that reviewer draws again.
    """
    import sqlalchemy as sa

    from recruit.db import utcnow
    from recruit.domain import assignment
    from recruit.models import Answer, ReviewAssignment

    times = []
    for i in range(samples):
        reviewer = reviewers[i % len(reviewers)]
        task = tasks[(i // len(reviewers)) % len(tasks)]
        now = utcnow()
        started = time.perf_counter()
        handout = assignment.next_answer(db, reviewer=reviewer, task=task, lease_minutes=30,
                                         now=now)
        elapsed = time.perf_counter() - started
        if handout is None:
            break
        times.append(elapsed)
        db.execute(sa.update(ReviewAssignment)
                   .where(ReviewAssignment.id == handout.assignment_id)
                   .values(status="submitted", completed_at=now))
        db.execute(sa.update(Answer).where(Answer.token == handout.token)
                   .values(reviews_leased=Answer.reviews_leased - 1,
                           reviews_done=Answer.reviews_done + 1))
        if i % 100 == 99:
            db.commit()
    db.commit()
    return times


def measure_draw(site: Site, *, samples: int) -> dict:
    """One draw (``assignment.next_answer``) in-process, on its own: p50 and mean in ms.

    The request around it (login, CSRF, redirect) is measured by measure_handout; this is the
    domain call the target "one draw ≤ 1 ms at ≈1 M answers" is about.
    """
    import sqlalchemy as sa

    from bench import seed
    from recruit.models import Campaign, Stage, Task, User

    release_leases(site)
    with site.db() as db:
        stage = db.scalar(sa.select(Stage).join(Campaign)
                          .where(Campaign.key == seed.CAMPAIGN_KEY, Stage.position == 1))
        reviewers = db.scalars(sa.select(User).where(User.role == "reviewer")
                               .order_by(User.id)).all()
        tasks = db.scalars(sa.select(Task).where(Task.stage_id == stage.id)
                           .order_by(Task.position)).all()
        _draws(db, reviewers=reviewers, tasks=tasks, samples=min(20, samples))  # warm caches
        times = _draws(db, reviewers=reviewers, tasks=tasks, samples=samples)
    if not times:
        return {"available": False, "reason": "nothing to hand out"}
    return {"available": True, "samples": len(times), "answers": site.database.answers,
            "p50_ms": statistics.median(times) * 1000,
            "mean_ms": statistics.mean(times) * 1000}


def measure_domain(site: Site, *, answers: int) -> dict:
    """Normalisation in the domain layer: the arithmetic and a whole stage, plus a submission.

    ``scoring.normalise`` runs on 2 × ``answers`` synthetic reviews and
    ``review_stats.renormalise_stage`` (load, compute, write) on the main database's whole
    stage. A few ``submit_review`` calls are timed too (each marks the stage due), and the
    ``review_stats.normalise_due`` that the next reader then runs.
    """
    import numpy as np
    import sqlalchemy as sa

    from bench import seed
    from recruit.db import utcnow
    from recruit.domain import assignment, review_stats, scoring
    from recruit.models import Campaign, Review, Stage, Task, User

    result: dict = {"answers": answers, "slots": 2 * answers}
    rng = np.random.default_rng(7)
    first = rng.integers(0, 50, size=answers)
    second = (first + rng.integers(1, 50, size=answers)) % 50
    scores = np.clip(rng.normal(3.2, 0.8, size=(answers, 2)), 1, 5)
    reviews = [
        scoring.RawReview(review_id=2 * a + r, reviewer_id=int((first, second)[r][a]),
                          answer_id=a, score=float(scores[a, r]), criteria={})
        for a in range(answers) for r in range(2)
    ]
    started = time.perf_counter()
    scoring.normalise(reviews)
    result["normalise_s"] = time.perf_counter() - started

    release_leases(site)
    with site.db() as db:
        stage = db.scalar(sa.select(Stage).join(Campaign)
                          .where(Campaign.key == seed.CAMPAIGN_KEY, Stage.position == 1))
        n_reviews = db.scalar(sa.select(sa.func.count()).select_from(Review))
        started = time.perf_counter()
        review_stats.renormalise_stage(db, stage=stage)
        db.commit()
        result.update(renormalise_s=time.perf_counter() - started, stage_reviews=n_reviews)

        reviewers = db.scalars(sa.select(User).where(User.role == "reviewer")
                               .order_by(User.id)).all()
        tasks = db.scalars(sa.select(Task).where(Task.stage_id == stage.id)
                           .order_by(Task.position)).all()
        # A few real submissions: each only marks the stage due for renormalisation.
        submit_times = []
        for i in range(3):
            reviewer, task = reviewers[-1 - i], tasks[0]
            handout = assignment.next_answer(db, reviewer=reviewer, task=task,
                                             lease_minutes=30, now=utcnow())
            if handout is None:
                break
            work = assignment.load_work(db, token=handout.token, reviewer_id=reviewer.id)
            criteria = [c.id for c in task.criteria]
            started = time.perf_counter()
            assignment.submit_review(db, assignment=work.assignment, stage=work.stage,
                                     scores=dict.fromkeys(criteria, 3), comment="",
                                     now=utcnow())
            db.commit()
            submit_times.append(time.perf_counter() - started)
        if submit_times:
            result["submit_review_ms"] = statistics.median(submit_times) * 1000
            # The next ranking view, report or export brings the stage up to date, once.
            started = time.perf_counter()
            review_stats.normalise_due(db, stage_id=stage.id)
            db.commit()
            result["normalise_due_s"] = time.perf_counter() - started
    return result


# -- the run ---------------------------------------------------------------------------------

def _fmt(value, spec: str = ".1f", missing: str = "—") -> str:
    return missing if value is None else format(value, spec)


def _target(what: str, goal: str, measured, met: bool | None) -> dict:
    return {"what": what, "target": goal, "measured": measured,
            "met": met}


def query_rows() -> list[tuple[str, str]]:
    """The hot paths of the query and growth tables: the wrk ones and the in-process hand-out."""
    rows = [(hp.key, hp.title) for hp in HOT_PATHS]
    rows.insert(1, ("review_handout", "reviewer: hand-out, POST next (in-process)"))
    return rows


def evaluate(results: dict) -> list[dict]:
    """Each target of the issue against what was measured (None: could not be measured)."""
    checks = []
    thr = results["throughput"]
    for hp in HOT_PATHS:
        if hp.baseline:
            ratio = thr.get(hp.key, {}).get("ratio")
            checks.append(_target(f"{hp.key} req/s ÷ baseline", f"≥ {TARGETS['ratio']}",
                                  _fmt(ratio, ".2f"), None if ratio is None
                                  else ratio >= TARGETS["ratio"]))
    for key, _title in query_rows():
        q = results["queries"].get(key, {})
        small, main = q.get("small"), q.get("main")
        ok = None if small is None or main is None else (small == main
                                                         and main <= TARGETS["queries"])
        checks.append(_target(f"{key} queries/request", f"equal, ≤ {TARGETS['queries']}",
                              f"{_fmt(small, 'd')} / {_fmt(main, 'd')}", ok))
    for key, _title in query_rows():
        growth = results["growth"].get(key, {}).get("growth")
        checks.append(_target(f"{key} p50 growth", f"≤ {TARGETS['growth']}×",
                              _fmt(growth, ".2f"), None if growth is None
                              else growth <= TARGETS["growth"]))
    letters = results["letters"]
    if letters.get("available"):
        checks.append(_target("letter / bare WeasyPrint", f"≤ {TARGETS['letter']}×",
                              f"{letters['ratio']:.2f}", letters["ratio"] <= TARGETS["letter"]))
        checks.append(_target(f"{letters['letters']} letters parallel speed-up",
                              f"≥ {TARGETS['parallel']}×", f"{letters['speedup']:.2f}",
                              letters["speedup"] >= TARGETS["parallel"]))
    else:
        checks.append(_target("letters", "—", "not available", None))
    draw = results.get("draw", {}).get("scale-hi", {})
    p50 = draw.get("p50_ms") if draw.get("available") else None
    checks.append(_target(f"one draw at {draw.get('answers', 0):,} answers (p50)",
                          f"≤ {TARGETS['draw_ms']} ms", _fmt(p50, ".2f", "not available"),
                          None if p50 is None else p50 <= TARGETS["draw_ms"]))
    page = thr.get("review_page", {})
    rps = page.get("rps") if page.get("available") else None
    checks.append(_target("review_page req/s", f"> {TARGETS['review_page_rps']}",
                          _fmt(rps, ".0f", "not available"),
                          None if rps is None else rps > TARGETS["review_page_rps"]))
    integ = results.get("integrity")
    if integ:
        checks.append(_target(f"integrity: index {integ['answers']:,} answers",
                              f"≤ {integ['goals']['build_s']:.0f} s", f"{integ['build_s']:.1f}",
                              integ["build_s"] <= integ["goals"]["build_s"]))
        checks.append(_target(f"integrity: one submission at {integ['answers']:,}",
                              f"≤ {integ['goals']['submit_ms']:.0f} ms",
                              f"{integ['submit_ms_p50']:.1f}",
                              integ["submit_ms_p50"] <= integ["goals"]["submit_ms"]))
    return checks


def print_table(results: dict) -> None:
    """The human-readable summary."""
    meta = results["meta"]
    out = sys.stdout
    out.write(f"\nrecruit benchmark — {meta['mode']} mode, {meta['started']}, "
              f"{meta['cpus']} CPUs, gunicorn -w 2 (sync), wrk {meta['wrk_threads']} "
              f"connections × {meta['wrk_seconds']} s\n")
    out.write(f"main database: {meta['main_applicants']:,} applicants "
              f"({meta['main_answers']:,} answers)\n\n")
    out.write(f"{'endpoint':<40}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
              f"{'× base':>8}\n")
    for ep in BASELINES + HOT_PATHS:
        r = results["throughput"].get(ep.key, {})
        if not r.get("available"):
            out.write(f"{ep.title:<40}{'not available':>43}\n")
            continue
        out.write(f"{ep.title:<40}{r['rps']:>9.1f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}"
                  f"{r['errors']:>8d}{_fmt(r.get('ratio'), '.2f'):>8}\n")
    q = results["queries"]
    g = results["growth"]
    sizes = meta["query_sizes"]
    scale = meta["scale_answers"]
    out.write(f"\n{'hot path':<45}{'queries @' + format(sizes[0], ','):>16}"
              f"{'@' + format(sizes[1], ','):>10}"
              f"{'p50 @' + format(scale[0], ',') + ' ans':>19}"
              f"{'@' + format(scale[1], ','):>12}{'growth':>8}\n")
    for key, title in query_rows():
        qq, gg = q.get(key, {}), g.get(key, {})
        out.write(f"{title:<45}{_fmt(qq.get('small'), 'd', 'n/a'):>16}"
                  f"{_fmt(qq.get('main'), 'd', 'n/a'):>10}"
                  f"{_fmt(gg.get('lo_p50_ms'), '.1f', 'n/a'):>19}"
                  f"{_fmt(gg.get('hi_p50_ms'), '.1f', 'n/a'):>12}"
                  f"{_fmt(gg.get('growth'), '.2f', 'n/a'):>8}\n")
    letters = results["letters"]
    if letters.get("available"):
        out.write(f"\noffer letter: app {letters['app_ms']:.0f} ms, bare WeasyPrint "
                  f"{letters['bare_ms']:.0f} ms (× {letters['ratio']:.2f}); "
                  f"{letters['letters']:,} letters serial {letters['serial_s']:.1f} s, "
                  f"parallel ({letters['processes']} processes) {letters['parallel_s']:.1f} s "
                  f"(× {letters['speedup']:.2f} faster)\n")
    else:
        out.write(f"\noffer letters: not available ({letters.get('reason')})\n")
    draws = results.get("draw", {})
    if draws:
        out.write("one draw (assignment.next_answer, in-process): " + ", ".join(
            f"{d['p50_ms']:.2f} ms p50 at {d['answers']:,} answers" if d.get("available")
            else f"{label}: {d.get('reason')}" for label, d in draws.items()) + "\n")
    dom = results["domain"]
    out.write(f"domain: scoring.normalise of {dom['slots']:,} reviews {dom['normalise_s']:.2f} s; "
              f"renormalise_stage {dom['renormalise_s']:.2f} s on {dom['stage_reviews']:,} "
              f"reviews")
    if dom.get("submit_review_ms") is not None:
        out.write(f"; one submit_review {dom['submit_review_ms']:.0f} ms")
    if dom.get("normalise_due_s") is not None:
        out.write(f", then the next reader's normalise_due {dom['normalise_due_s']:.2f} s")
    out.write("\n")
    if results.get("integrity"):
        from bench.integrity import describe

        out.write(describe(results["integrity"]) + "\n")
    seeding = ", ".join(f"{d['applicants']:,} applicants {d['seconds']:.0f} s"
                        for d in results["seeding"])
    out.write(f"seeding: {seeding}\n")
    for note in meta.get("notes", []):
        out.write(f"note: {note}\n")
    out.write("\ntargets (reported, never asserted):\n")
    for check in results["targets"]:
        mark = {True: "met", False: "MISSED", None: "not measured"}[check["met"]]
        out.write(f"  {check['what']:<46}{check['target']:>16}{check['measured']:>14}  "
                  f"{mark}\n")
    out.flush()


def _seed_scale(workdir: Path, keys: list[str], requested: int, rate: float,
                notes: list[str]) -> Database:
    """Seed the large scaling database, shrunk to what fits in SEED_BUDGET seconds."""
    projected = requested * rate
    applicants = requested
    if projected > SEED_BUDGET:
        applicants = int(SEED_BUDGET / rate)
        notes.append(f"the ≈{requested * 3:,}-answer database would take ≈{projected:.0f} s to "
                     f"seed; measured at {applicants * 3:,} answers instead")
    return seed_database(workdir, "scale-hi", applicants, keys)


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and write the table and bench/results.json."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes (a few minutes)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON goes")
    parser.add_argument("--workdir", type=Path, help="keep the databases here (default: a "
                        "temporary folder removed at the end)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk (make bench does it as root)", file=sys.stderr)
        return 2
    mode = "quick" if args.quick else "full"
    sizes = SIZES[mode]
    # SIGTERM must unwind through the finally blocks that stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.path.insert(0, str(ROOT))
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="recruit-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    secret, keys = _keys()
    notes: list[str] = []
    from bench import seed

    started = time.perf_counter()
    results: dict = {"meta": {
        "mode": mode, "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(), "python": platform.python_version(),
        "database": "sqlite", "wrk_seconds": sizes["wrk_seconds"], "wrk_threads": 4,
        "notes": notes,
    }, "throughput": {}, "queries": {}, "growth": {}, "seeding": []}
    sites: list[Site] = []
    try:
        small = seed_database(workdir, "small", sizes["small"], keys)
        lo = seed_database(workdir, "scale-lo", sizes["scale"][0], keys)
        main_db = seed_database(workdir, "main", sizes["main"], keys)
        rate = main_db.seed_seconds / main_db.applicants
        hi = _seed_scale(workdir, keys, sizes["scale"][1], rate, notes)
        results["seeding"] = [{"applicants": d.applicants, "answers": d.answers,
                               "seconds": d.seed_seconds,
                               "megabytes": d.path.stat().st_size / 1e6}
                              for d in (small, lo, main_db, hi)]
        results["meta"].update(main_applicants=main_db.applicants, main_answers=main_db.answers,
                               query_sizes=[small.applicants, main_db.applicants],
                               scale_answers=[lo.answers, hi.answers])

        # Throughput: baselines and hot paths against the main database, one server.
        site = Site(main_db, secret=secret, keys=keys, workdir=workdir)
        sites.append(site)
        with Server(main_db, secret=secret, keys=keys, workdir=workdir) as server:
            for ep in BASELINES + HOT_PATHS:
                log(f"wrk {ep.key} ({sizes['wrk_seconds']} s)")
                results["throughput"][ep.key] = measure_endpoint(
                    server, site, ep, seconds=sizes["wrk_seconds"], password=seed.PASSWORD)
        for hp in HOT_PATHS:
            r, b = results["throughput"][hp.key], results["throughput"].get(hp.baseline or "")
            if r.get("available") and b and b.get("available"):
                r["ratio"] = r["rps"] / b["rps"]

        # Queries per request at the small and the main size.
        small_site = Site(small, secret=secret, keys=keys, workdir=workdir)
        sites.append(small_site)
        for hp in HOT_PATHS:
            counts = {}
            for label, s in (("small", small_site), ("main", site)):
                try:
                    counts[label] = s.count_queries(hp.build(s))
                except NotAvailable as exc:
                    counts["reason"] = str(exc)
            results["queries"][hp.key] = counts

        # p50 growth from ≈10 k to ≈1 M answers.
        p50 = {}
        scale_sites = {}
        for db_ in (lo, hi):
            s = scale_sites[db_.label] = Site(db_, secret=secret, keys=keys, workdir=workdir)
            sites.append(s)
            with Server(db_, secret=secret, keys=keys, workdir=workdir) as server:
                for hp in HOT_PATHS:
                    log(f"wrk {hp.key} on {db_.answers:,} answers")
                    r = measure_endpoint(server, s, hp, seconds=sizes["scale_seconds"],
                                         password=seed.PASSWORD)
                    p50.setdefault(hp.key, {})[db_.label] = r
        for hp in HOT_PATHS:
            a, b = p50[hp.key].get("scale-lo", {}), p50[hp.key].get("scale-hi", {})
            entry = {"lo_answers": lo.answers, "hi_answers": hi.answers}
            if a.get("available") and b.get("available"):
                entry.update(lo_p50_ms=a["p50_ms"], hi_p50_ms=b["p50_ms"],
                             growth=b["p50_ms"] / a["p50_ms"])
            else:
                entry["reason"] = a.get("reason") or b.get("reason")
            results["growth"][hp.key] = entry

        # The hand-out itself, in-process (see measure_handout), at every size.
        log("hand-out (POST next), in-process, at every size")
        handout = {label: measure_handout(s_, samples=sizes["handout_samples"])
                   for label, s_ in (("small", small_site), ("main", site),
                                     ("scale-lo", scale_sites["scale-lo"]),
                                     ("scale-hi", scale_sites["scale-hi"]))}
        results["handout"] = handout
        if all(h.get("available") for h in handout.values()):
            results["queries"]["review_handout"] = {
                "small": int(handout["small"]["queries"]),
                "main": int(handout["main"]["queries"])}
            results["growth"]["review_handout"] = {
                "lo_answers": lo.answers, "hi_answers": hi.answers,
                "lo_p50_ms": handout["scale-lo"]["p50_ms"],
                "hi_p50_ms": handout["scale-hi"]["p50_ms"],
                "growth": handout["scale-hi"]["p50_ms"] / handout["scale-lo"]["p50_ms"]}
        else:
            reason = next(h.get("reason") for h in handout.values() if not h.get("available"))
            results["queries"]["review_handout"] = {"reason": reason}
            results["growth"]["review_handout"] = {"reason": reason}

        log(f"letters ({sizes['letters']:,} in parallel and serial)")
        results["letters"] = measure_letters(site, letters=sizes["letters"],
                                             samples=sizes["letter_samples"], workdir=workdir,
                                             notes=notes)
        log(f"one draw in-process ({sizes['draw_samples']:,} samples) at every size")
        results["draw"] = {label: measure_draw(s_, samples=sizes["draw_samples"])
                           for label, s_ in (("main", site),
                                             ("scale-lo", scale_sites["scale-lo"]),
                                             ("scale-hi", scale_sites["scale-hi"]))}
        log(f"domain: normalisation ({sizes['domain_answers']:,} answers)")
        results["domain"] = measure_domain(site, answers=sizes["domain_answers"])
        # Near-duplicate detection (issue 18): its own database, one task of N answers.
        from bench import integrity as integrity_bench

        answers, copies, submits = sizes["integrity"]
        log(f"integrity: index {answers:,} answers, time {submits} submissions")
        results["integrity"] = integrity_bench.run(answers=answers, copies_per_level=copies,
                                                   submits=submits, workdir=workdir)
    finally:
        for s in sites:
            s.close()
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    results["meta"]["seconds"] = time.perf_counter() - started
    results["targets"] = evaluate(results)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n",
                        encoding="utf-8")
    print_table(results)
    log(f"done in {results['meta']['seconds']:.0f} s; results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
