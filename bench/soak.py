"""Soak test with a fault: applicants autosave for a minute while a worker is killed.

    python -m bench.soak                      # 200 applicants, 60 s, SQLite
    python -m bench.soak --postgresql         # the same on a throw-away PostgreSQL cluster
    python -m bench.soak --applicants 20 --duration 8

What it does, all on 127.0.0.1 and in a temporary folder:

1. creates a fresh instance (keys, database), an open campaign and N applicants who have
   started stage 1 (rows written directly: the soak is about autosave, not sign-up);
2. starts gunicorn (sync workers, ``-w 2``) in its own process group;
3. logs every applicant in through the login form, each from its own loopback address
   (127.0.1.x), as real people come from different addresses and the login limit is per
   address;
4. lets them autosave (``POST /me/answers/<id>/autosave`` with ``{"text", "version"}``; the
   answer is the new version) every ``--interval`` seconds on average, while a monitor asks
   ``/healthz`` four times a second;
5. half-way, kills one gunicorn worker with SIGKILL (requests it was serving are cut off; the
   clients retry with the version they last saw, and a 409 tells them the server is ahead);
6. stops the clients and checks every answer in the database against the last save the
   server acknowledged: the acknowledged text, or a later one the client sent, must be there.

It prints the figures and exits 0 when no acknowledged save was lost and the server kept
answering, 1 otherwise. Everything it started is stopped on the way out, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from bench.procs import gunicorn_argv, stop_group

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("RECRUIT_PG_BIN", "/usr/lib/postgresql/15/bin"))
PASSWORD = "soak-password-not-secret"  # noqa: S105 - throw-away accounts of the soak
HOST = "127.0.0.1"
# "The server kept answering": never this long without a single successful response.
MAX_SILENCE = 5.0
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
FILLER = ("Здравствуйте! Спасибо, что написали нам. Я понимаю, как неприятно, когда страница "
          "не открывается. Давайте разберёмся вместе: ")


@dataclass
class Settings:
    """What to run."""

    applicants: int = 200
    duration: float = 60.0
    workers: int = 2
    # Mean seconds between two saves of one applicant: autosave.js saves every 3 s of typing.
    interval: float = 3.0
    kill_at: float = 0.5  # fraction of the duration
    postgresql: bool = False
    request_timeout: float = 10.0


@dataclass
class Figures:
    """What happened; ``ok`` says whether the soak passed."""

    applicants: int = 0
    logged_in: int = 0
    duration: float = 0.0
    attempted: int = 0
    acknowledged: int = 0
    acknowledged_after_kill: int = 0
    recovered_conflicts: int = 0
    errors: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    killed_pid: int | None = None
    killed_at: float | None = None
    respawned: bool = False
    health_ok: int = 0
    health_failed: int = 0
    longest_silence: float = 0.0
    answers_checked: int = 0
    lost: int = 0
    lost_examples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No acknowledged save lost, the fault happened, and the site answered through it."""
        return (self.lost == 0 and self.killed_pid is not None and self.respawned
                and self.acknowledged_after_kill > 0 and self.logged_in == self.applicants
                and self.longest_silence < MAX_SILENCE)

    def report(self) -> str:
        """The figures as lines of text."""
        lat = sorted(self.latencies) or [0.0]

        def pct(p: float) -> float:
            return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000

        rate = self.acknowledged / self.duration if self.duration else 0.0
        lines = [
            f"applicants            {self.applicants} ({self.logged_in} logged in)",
            f"duration              {self.duration:.1f} s",
            f"saves attempted       {self.attempted}",
            f"saves acknowledged    {self.acknowledged} ({rate:.0f}/s; "
            f"{self.acknowledged_after_kill} after the kill)",
            f"latency ms            p50 {pct(0.5):.0f} · p95 {pct(0.95):.0f} · "
            f"p99 {pct(0.99):.0f} · max {lat[-1] * 1000:.0f}",
            f"recovered conflicts   {self.recovered_conflicts} (save landed, answer was cut off)",
            f"errors                {dict(self.errors) or 0}",
            f"worker killed         pid {self.killed_pid} at {self.killed_at or 0:.1f} s; "
            f"respawned: {'yes' if self.respawned else 'NO'}",
            f"/healthz              {self.health_ok} ok, {self.health_failed} failed",
            f"longest silence       {self.longest_silence:.2f} s without any successful "
            f"answer (limit {MAX_SILENCE:.0f} s)",
            f"answers checked       {self.answers_checked}",
            f"acknowledged lost     {self.lost}",
        ]
        lines += [f"  lost: {example}" for example in self.lost_examples[:10]]
        lines.append("RESULT                " + ("PASS" if self.ok else "FAIL"))
        return "\n".join(lines)


# -- infrastructure ---------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class PostgresCluster:
    """A throw-away PostgreSQL cluster in a folder, on 127.0.0.1 only."""

    def __init__(self, folder: Path):
        self.dir = folder
        self.data = folder / "pgdata"
        self.port = _free_port()
        self.prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.prefix:
            shutil.chown(folder, "postgres")
        self.started = False
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E",
                  "UTF8", "--locale=C.UTF-8", "--no-sync")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(folder / "pg.log"), "-w", "-o",
                  f"-h {HOST} -p {self.port} -k {folder} -c max_connections=100", "start")
        self.started = True

    def _run(self, binary: str, *args: str) -> None:
        subprocess.run([*self.prefix, str(PG_BIN / binary), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)

    def url(self) -> str:
        return f"postgresql+psycopg://postgres@{HOST}:{self.port}/postgres"

    def stop(self) -> None:
        if self.started:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            self.started = False


def _children(pid: int) -> list[int]:
    """PIDs whose parent is ``pid`` (gunicorn's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: split after it.
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


class Server:
    """gunicorn in its own process group."""

    def __init__(self, *, env: dict[str, str], port: int, workers: int, log: Path):
        self.port = port
        self.log = log
        self._log_fh = log.open("wb")
        self.proc = subprocess.Popen(
            gunicorn_argv(bind=f"{HOST}:{port}", workers=workers),
            cwd=ROOT, env=env, stdout=self._log_fh, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def workers(self) -> list[int]:
        return _children(self.proc.pid)

    def wait_ready(self, workers: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log}:\n{self.tail()}")
            status = _healthz(self.port)
            if status == 200 and len(self.workers()) >= workers:
                return
            time.sleep(0.1)
        raise TimeoutError(f"gunicorn not ready after {timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        stop_group(self.proc, grace=10)
        self._log_fh.close()


def _healthz(port: int) -> int | None:
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        conn.close()


# -- the world --------------------------------------------------------------------------------

@dataclass
class Person:
    email: str
    address: str
    answer_ids: list[int]


def _config(instance: Path, database_url: str) -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        "SECRET_KEY": secrets.token_urlsafe(32),
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "AUDIT_KEYS": secrets.token_urlsafe(32),
        "DATABASE_URL": database_url,
        "MAIL_OUTBOX_DIR": str(instance / "outbox"),
    }


def _prepare(config: dict[str, str], applicants: int) -> list[Person]:
    """Migrate the database; an open campaign; applicants who started stage 1."""
    from werkzeug.security import generate_password_hash

    from recruit import create_app
    from recruit.db import get_db, get_engine, utcnow
    from recruit.domain import applications, tracks
    from recruit.migrate import upgrade
    from recruit.models import Candidacy, Role, User

    app = create_app({**config, "ENCRYPTION_KEYS": [config["ENCRYPTION_KEYS"]],
                      "AUDIT_KEYS": [config["AUDIT_KEYS"]]})
    people = []
    with app.app_context():
        upgrade(get_engine())
        db = get_db()
        now = utcnow()
        tracks.load_shipped(db)
        campaign = tracks.create_campaign(db, track_key="support-agent", key="soak-wave",
                                          opens_at=now - timedelta(days=1),
                                          closes_at=now + timedelta(days=30))
        stage = campaign.stages[0]
        # Real logins, but scrypt with a small work factor: the soak measures autosave, and
        # 200 full-strength verifications would take most of a minute on a small machine.
        password_hash = generate_password_hash(PASSWORD, method="scrypt:1024:8:1")
        for n in range(applicants):
            user = User(email=f"soak{n}@soak.test", password_hash=password_hash,
                        role=Role.APPLICANT, locale="en", email_confirmed_at=now)
            db.add(user)
            db.flush()
            candidacy = Candidacy(user_id=user.id, campaign_id=campaign.id, state="applied",
                                  current_stage_id=stage.id, created_at=now, updated_at=now)
            db.add(candidacy)
            db.flush()
            submission = applications.start_stage(db, candidacy=candidacy, stage=stage, now=now)
            # 127.0.1.1 … : every applicant has an address of its own on the loopback.
            address = f"127.0.{1 + n // 250}.{1 + n % 250}"
            people.append(Person(user.email, address, [a.id for a in submission.answers]))
        db.commit()
    app.extensions["recruit.engine"].dispose()
    return people


# -- one applicant ----------------------------------------------------------------------------

class CutOff(Exception):
    """The connection died before an answer came (the worker was killed, or a timeout)."""


class Applicant(threading.Thread):
    """Logs in, then autosaves one of its answers at random intervals until told to stop."""

    def __init__(self, person: Person, *, port: int, settings: Settings, run: Run):
        super().__init__(daemon=True, name=person.email)
        self.person = person
        self.port = port
        self.settings = settings
        self.run_state = run
        self.cookies: dict[str, str] = {}
        self.token = ""
        self.rng = random.Random(person.email)
        self.version = dict.fromkeys(person.answer_ids, 0)
        # Per answer: the last (version, text) the server acknowledged, and what was sent
        # afterwards without an answer (it may or may not have landed).
        self.acked: dict[int, tuple[int, str]] = {}
        self.unconfirmed: dict[int, list[str]] = {a: [] for a in person.answer_ids}
        self.logged_in = False
        self.login_done = False
        self.attempted = 0
        self.errors: Counter = Counter()

    def _request(self, method: str, path: str, body: bytes | None = None,
                 headers: dict[str, str] | None = None):
        conn = http.client.HTTPConnection(HOST, self.port, timeout=self.settings.request_timeout,
                                           source_address=(self.person.address, 0))
        all_headers = {"User-Agent": "recruit-soak", "Accept-Language": "en", **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise CutOff(type(exc).__name__) from exc
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response.status, response.headers, data

    def login(self) -> None:
        # People arrive over minutes, not in the same second: a few logins at a time keeps
        # the deliberately slow password hashing from queueing requests past their timeout.
        while not self.run_state.login_slots.acquire(timeout=0.5):
            if self.run_state.stop.is_set():
                return
        try:
            self._login()
        finally:
            self.run_state.login_slots.release()

    def _login(self) -> None:
        for _attempt in range(5):
            if self.run_state.stop.is_set():
                return
            try:
                status, _h, page = self._request("GET", "/login")
                token = TOKEN.search(page.decode())
                if status != 200 or not token:
                    raise CutOff(f"login page {status}")
                form = urlencode({"email": self.person.email, "password": PASSWORD,
                                  "csrf_token": token.group(1)}).encode()
                status, _h, _ = self._request(
                    "POST", "/login", form,
                    {"Content-Type": "application/x-www-form-urlencoded"})
                if status != 302:
                    raise CutOff(f"login answered {status}")
                status, _h, page = self._request("GET", "/me/")
                token = TOKEN.search(page.decode())
                if status != 200 or not token:
                    raise CutOff(f"home page {status}")
                self.token = token.group(1)
                self.logged_in = True
                return
            except CutOff as exc:
                self.errors[f"login: {exc}"] += 1
                time.sleep(0.5)

    def _text(self, answer_id: int) -> str:
        seq = self.attempted
        body = FILLER * self.rng.randint(1, 6)
        return f"[{self.person.email} answer {answer_id} save {seq}] {body}"

    def save(self, answer_id: int) -> None:
        text = self._text(answer_id)
        base = self.version[answer_id]
        payload = json.dumps({"text": text, "version": base}).encode()
        self.attempted += 1
        started = time.monotonic()
        try:
            status, _h, data = self._request(
                "POST", f"/me/answers/{answer_id}/autosave", payload,
                {"Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRFToken": self.token})
        except CutOff as exc:
            self.unconfirmed[answer_id].append(text)
            self.errors[f"cut off: {exc}"] += 1
            return
        elapsed = time.monotonic() - started
        body = _json(data)
        if status == 200 and body.get("version") == base + 1:
            self.version[answer_id] = body["version"]
            self.acked[answer_id] = (body["version"], text)
            self.unconfirmed[answer_id] = []
            self.run_state.acknowledge(elapsed)
        elif status == 409 and body.get("error") == "conflict" and self.unconfirmed[answer_id]:
            # A save whose answer was cut off did land: carry on from the server's version.
            self.version[answer_id] = int(body["version"])
            self.run_state.recovered()
        else:
            self.errors[f"HTTP {status} {body.get('error', '')}".strip()] += 1

    def run(self) -> None:
        try:
            self.login()
        finally:
            self.login_done = True
        self.run_state.logged_in.wait()
        if not self.logged_in:
            return
        # Spread the first saves so the applicants do not move in lock-step.
        time.sleep(self.rng.uniform(0, self.settings.interval))
        while not self.run_state.stop.is_set():
            self.save(self.rng.choice(self.person.answer_ids))
            self.run_state.stop.wait(self.rng.uniform(0.5, 1.5) * self.settings.interval)


def _json(data: bytes) -> dict:
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class Run:
    """State shared by the threads."""

    def __init__(self, *, workers: int):
        self.stop = threading.Event()
        self.logged_in = threading.Event()
        self.login_slots = threading.Semaphore(2 * workers)
        self.lock = threading.Lock()
        self.acknowledged = 0
        self.acknowledged_after_kill = 0
        self.recovered_conflicts = 0
        self.latencies: list[float] = []
        self.killed = False
        self.started: float | None = None
        self.last_success: float | None = None
        self.longest_silence = 0.0

    def answered(self) -> None:
        """Some request got a successful answer now."""
        with self.lock:
            self._answered(time.monotonic())

    def _answered(self, now: float) -> None:
        if self.started is None:
            return
        previous = self.last_success or self.started
        self.longest_silence = max(self.longest_silence, now - previous)
        self.last_success = now

    def finish(self) -> None:
        """Count the silence up to the end of the run."""
        with self.lock:
            if self.started is not None:
                now = time.monotonic()
                self.longest_silence = max(self.longest_silence,
                                           now - (self.last_success or self.started))

    def acknowledge(self, elapsed: float) -> None:
        with self.lock:
            self._answered(time.monotonic())
            self.acknowledged += 1
            self.latencies.append(elapsed)
            if self.killed:
                self.acknowledged_after_kill += 1

    def recovered(self) -> None:
        with self.lock:
            self.recovered_conflicts += 1


class HealthMonitor(threading.Thread):
    """Asks /healthz four times a second, as a load balancer would."""

    def __init__(self, port: int, run: Run):
        super().__init__(daemon=True, name="healthz")
        self.port = port
        self.run_state = run
        self.ok = 0
        self.failed = 0

    def run(self) -> None:
        while not self.run_state.stop.is_set():
            if _healthz(self.port) == 200:
                self.ok += 1
                self.run_state.answered()
            else:
                self.failed += 1
            self.run_state.stop.wait(0.25)


# -- checking ---------------------------------------------------------------------------------

def _check(database_url: str, applicants: list[Applicant], figures: Figures, *,
           keys: list[str]) -> None:
    """Every acknowledged save (or a later unconfirmed one) is what the database holds."""
    import sqlalchemy as sa

    from recruit.db import make_engine
    from recruit.vault import Vault

    # Answer texts are sealed at rest; the check opens them with the instance's keys.
    vault = Vault(keys)

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = {row.id: (row.version, vault.open_text(row.text))
                    for row in conn.execute(sa.text("SELECT id, version, text FROM answer"))}
    finally:
        engine.dispose()
    for applicant in applicants:
        for answer_id, (version, text) in applicant.acked.items():
            figures.answers_checked += 1
            stored_version, stored_text = rows.get(answer_id, (None, None))
            later = applicant.unconfirmed[answer_id]
            if stored_version == version and stored_text == text:
                continue
            if stored_version is not None and stored_version > version and stored_text in later:
                continue
            figures.lost += 1
            figures.lost_examples.append(
                f"answer {answer_id}: acknowledged version {version}, database has "
                f"{stored_version}")


# -- the run ----------------------------------------------------------------------------------

def _join(threads: list[threading.Thread], *, timeout: float) -> None:
    """Wait for the threads, all of them together at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))


def run_soak(settings: Settings, *, say=print) -> Figures:
    """Run the whole soak and return its figures; everything started is stopped."""
    folder = Path(tempfile.mkdtemp(prefix="recruit-soak-"))
    cluster = server = None
    run = Run(workers=settings.workers)
    figures = Figures(applicants=settings.applicants)
    applicants: list[Applicant] = []
    completed = False
    try:
        if settings.postgresql:
            say("starting a throw-away PostgreSQL cluster …")
            cluster = PostgresCluster(folder)
            database_url = cluster.url()
        else:
            database_url = "sqlite:///" + str(folder / "soak.sqlite3")
        config = _config(folder, database_url)
        say(f"preparing {settings.applicants} applicants in {folder} …")
        people = _prepare(config, settings.applicants)

        port = _free_port()
        env = {**os.environ, "RECRUIT_INSTANCE_PATH": str(folder),
               **{f"RECRUIT_{k}": v for k, v in config.items()}}
        env.pop("RECRUIT_RATELIMIT_STORAGE_URI", None)
        say(f"starting gunicorn -w {settings.workers} on {HOST}:{port} …")
        server = Server(env=env, port=port, workers=settings.workers, log=folder / "gunicorn.log")
        server.wait_ready(settings.workers)

        applicants = [Applicant(p, port=port, settings=settings, run=run) for p in people]
        for applicant in applicants:
            applicant.start()
        say("logging in …")
        login_deadline = time.monotonic() + 60 + settings.applicants * 0.2
        while (time.monotonic() < login_deadline
               and not all(a.login_done for a in applicants)):
            time.sleep(0.1)
        figures.logged_in = sum(a.logged_in for a in applicants)

        monitor = HealthMonitor(port, run)
        started = time.monotonic()
        run.started = started
        monitor.start()
        run.logged_in.set()
        say(f"{figures.logged_in} applicants autosaving for {settings.duration:.0f} s; "
            f"a worker dies at {settings.duration * settings.kill_at:.0f} s …")
        kill_time = started + settings.duration * settings.kill_at
        while time.monotonic() < kill_time:
            time.sleep(0.05)
        victims = server.workers()
        if victims:
            figures.killed_pid = victims[0]
            os.kill(victims[0], signal.SIGKILL)
            figures.killed_at = time.monotonic() - started
            with run.lock:
                run.killed = True
        end = started + settings.duration
        while time.monotonic() < end:
            alive = [pid for pid in server.workers() if pid != figures.killed_pid]
            if figures.killed_pid and len(alive) >= settings.workers:
                figures.respawned = True
            time.sleep(0.1)
        run.finish()
        run.stop.set()
        figures.duration = time.monotonic() - started
        _join([*applicants, monitor], timeout=settings.request_timeout + 5)
        figures.health_ok, figures.health_failed = monitor.ok, monitor.failed
        figures.longest_silence = run.longest_silence
        completed = True
    finally:
        run.stop.set()
        run.logged_in.set()
        try:
            if server is not None:
                server.stop()
            for applicant in applicants:
                figures.attempted += applicant.attempted
                figures.errors.update(applicant.errors)
            figures.acknowledged = run.acknowledged
            figures.acknowledged_after_kill = run.acknowledged_after_kill
            figures.recovered_conflicts = run.recovered_conflicts
            figures.latencies = run.latencies
            if completed:
                _check(database_url, applicants, figures, keys=[config["ENCRYPTION_KEYS"]])
        finally:
            if cluster is not None:
                cluster.stop()
            shutil.rmtree(folder, ignore_errors=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    """Command line: run the soak, print the figures, exit 0 on a pass."""
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applicants", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of autosaving")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--interval", type=float, default=3.0,
                        help="mean seconds between two saves of one applicant")
    parser.add_argument("--postgresql", action="store_true",
                        help="run on a throw-away PostgreSQL cluster instead of SQLite")
    args = parser.parse_args(argv)
    if not 1 <= args.applicants <= 62_500 or args.duration <= 0 or args.workers < 2:
        parser.error("need 1–62500 applicants, a positive duration and at least 2 workers")
    settings = Settings(applicants=args.applicants, duration=args.duration,
                        workers=args.workers, interval=args.interval,
                        postgresql=args.postgresql)
    figures = run_soak(settings)
    print(figures.report())
    return 0 if figures.ok else 1


if __name__ == "__main__":
    sys.exit(main())
