"""`make storm`: a wave's last minutes, under load, on the embedded set-up and the scale-out.

    python -m bench.storm                              # both set-ups, stepping N to the knee
    python -m bench.storm --setup scaleout --applicants 2000 --duration 180
    python -m bench.storm --quick                      # CI: 30 s, 40 applicants, each set-up

Each run, in a temporary folder and on 127.0.0.1 only:

1. seeds a wave (bench/storm/world.py): a reviewed pool for the reviewers and N applicants in
   stage 1 whose deadline falls ``--tail`` seconds before the end of the run;
2. starts the servers, each in its own process group — (a) *embedded*: SQLite, gunicorn -w 2,
   one mail worker; (b) *scale-out*: PostgreSQL 15, gunicorn -w 4, Redis for the rate limits,
   two `recruit mail worker` processes — and an SMTP sink (aiosmtpd) for the mail;
3. runs the people with locust (bench/storm/load.py) for ``--duration`` seconds, while the
   deadline job (`recruit stages close-expired`) runs every few seconds from two "hosts" once
   the deadline has passed;
4. drains: the deadline job until no stage of the wave is open, the mail until the outbox is
   empty (both bounded in time), then stops every server;
5. checks the database: every acknowledged save is what the answer holds (or a later save that
   got no answer), every stage of the wave was handed in (by hand or by the job), every
   handed-in answer was redacted, every message was sent and reached the sink exactly once.

A run *passes* with no acknowledged save lost, no 5xx and the checks above; it *holds* N when
it also has no failed request and p99 of autosave ≤ 300 ms. Without --applicants, each set-up
steps N up (``--steps``) until a run does not hold; the last N that held is its knee. Figures
go to stdout and ``--json`` (default bench/storm-results.json); exit 0 when every run passed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.procs import stop_group
from bench.soak import PostgresCluster
from bench.storm import services
from bench.storm.services import (
    DeadlineCron,
    Gunicorn,
    Process,
    Redis,
    SmtpSink,
    clean_env,
    free_port,
)

P99_LIMIT_MS = 300
SETUPS = {
    "embedded": {"workers": 2, "mail_workers": 1, "intake_workers": 1, "database": "sqlite",
                 "redis": False},
    "scaleout": {"workers": 4, "mail_workers": 2, "intake_workers": 1,
                 "database": "postgresql", "redis": True},
}


@dataclass
class Options:
    """One storm run."""

    setup: str
    applicants: int
    duration: float = 180.0
    tail: float = 60.0
    save_every: float = 10.0
    grace: int = 10
    reviewers: int = 20
    pool: int = 200
    two_tabs: float = 0.1
    submit_share: float = 0.5
    spawn_rate: float = 100.0
    drain_limit: float = 600.0
    keep: Path | None = None


@dataclass
class Outcome:
    """What one run measured and found."""

    setup: str
    applicants: int
    duration: float
    stats: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    server_errors: dict = field(default_factory=dict)
    problems: dict = field(default_factory=dict)
    lost: int = 0
    lost_examples: list[str] = field(default_factory=list)
    left_open: int = 0
    submitted_by_hand: int = 0
    submitted_automatically: int = 0
    submitted_by_job: int = 0
    job_runs: int = 0
    job_failures: int = 0
    job_seconds: float = 0.0
    closing_seconds: float = 0.0
    intake_seconds: float = 0.0
    unredacted: int = 0
    mail_queued: int = 0
    mail_sent: int = 0
    mail_received: int = 0
    mail_duplicates: int = 0
    mail_missing: int = 0
    mail_seconds: float = 0.0
    cpu: dict = field(default_factory=dict)
    # Second from the deadline → [typing autosaves sent, max ms, p99 ms].
    timeline: dict = field(default_factory=dict)
    seed_seconds: float = 0.0
    error: str | None = None

    @property
    def passed(self) -> bool:
        """Nothing lost, no 5xx, every stage handed in once, every mail once."""
        return (self.error is None and self.lost == 0 and not self.server_errors
                and self.left_open == 0 and self.unredacted == 0 and self.job_failures == 0
                and self.mail_duplicates == 0 and self.mail_missing == 0
                and self.mail_sent == self.mail_queued)

    @property
    def autosave_p99(self) -> float | None:
        """p99 of the autosaves while typing (ms)."""
        entry = self.stats.get("applicant: autosave")
        return entry["p99"] if entry else None

    @property
    def web_cpu_ms_per_request(self) -> float | None:
        """gunicorn's CPU time per request served (ms): what a request costs, however busy
        the machine was; cores ÷ this = the requests/s the web tier can serve."""
        requests = sum(e["requests"] for e in self.stats.values())
        cores = self.cpu.get("cores", {}).get("gunicorn")
        if not requests or cores is None or not self.cpu.get("seconds"):
            return None
        return round(1000 * cores * self.cpu["seconds"] / requests, 2)

    @property
    def holds(self) -> bool:
        """Passed, no failed request at all, p99 autosave within the limit."""
        failures = sum(e["failures"] for e in self.stats.values())
        p99 = self.autosave_p99
        return (self.passed and failures == 0 and not self.problems and p99 is not None
                and p99 <= P99_LIMIT_MS)


def say(message: str) -> None:
    """Progress on stderr."""
    print(f"[storm {datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# -- CPU: what limited the run ----------------------------------------------------------------

class CpuSampler(threading.Thread):
    """Samples the CPU time of each part of the set-up once a second."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, groups: dict[str, int], postmaster: Path | None):
        super().__init__(daemon=True, name="cpu")
        self.groups = groups
        self.postmaster = postmaster
        self.stop_event = threading.Event()
        self.busy: list[float] = []
        self.per_part: Counter = Counter()
        self.seconds = 0.0

    def _machine(self) -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields) - idle, sum(fields)

    def _parts(self) -> Counter:
        pg_root = None
        if self.postmaster is not None and self.postmaster.exists():
            pg_root = int(self.postmaster.read_text().split("\n", 1)[0])
        ticks: Counter = Counter()
        by_group = {pgid: name for name, pgid in self.groups.items()}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            ppid, pgid = int(fields[1]), int(fields[2])
            used = int(fields[11]) + int(fields[12])
            if pgid in by_group:
                ticks[by_group[pgid]] += used
            elif pg_root is not None and (int(entry.name) == pg_root or ppid == pg_root):
                ticks["postgresql"] += used
        return ticks

    def run(self) -> None:
        """Sample until stopped."""
        last_busy, last_total = self._machine()
        last_parts = self._parts()
        started = time.monotonic()
        while not self.stop_event.wait(1.0):
            busy, total = self._machine()
            if total > last_total:
                self.busy.append((busy - last_busy) / (total - last_total))
            last_busy, last_total = busy, total
            parts = self._parts()
            for name, used in parts.items():
                self.per_part[name] += max(used - last_parts.get(name, used), 0)
            last_parts = parts
        self.seconds = time.monotonic() - started

    def figures(self) -> dict:
        """Machine busy % (mean, p90) and CPU cores used per part (mean)."""
        busy = sorted(self.busy) or [0.0]
        seconds = max(self.seconds, 1e-9)
        return {
            "machine_busy_mean": round(100 * sum(busy) / len(busy), 1),
            "machine_busy_p90": round(100 * busy[int(0.9 * (len(busy) - 1))], 1),
            "cores": {name: round(t / self.TICK / seconds, 2)
                      for name, t in sorted(self.per_part.items())},
            "seconds": round(seconds, 1),
        }


# -- one run ----------------------------------------------------------------------------------

def run_storm(options: Options) -> Outcome:
    """Run one storm and check it; every server it started is stopped on the way out."""
    setup = SETUPS[options.setup]
    outcome = Outcome(options.setup, options.applicants, options.duration)
    folder = Path(tempfile.mkdtemp(prefix=f"recruit-storm-{options.setup}-"))
    started: list = []
    crons: list[DeadlineCron] = []
    cluster = pg_folder = None
    sampler = None
    try:
        if setup["database"] == "postgresql":
            say("starting PostgreSQL 15 …")
            # A folder of its own: PostgreSQL runs as its own user when the storm runs as root.
            pg_folder = Path(tempfile.mkdtemp(prefix="recruit-storm-pg-"))
            cluster = PostgresCluster(pg_folder)
            database_url = cluster.url()
        else:
            database_url = f"sqlite:///{folder / 'recruit.sqlite3'}"
        from cryptography.fernet import Fernet

        key = Fernet.generate_key().decode()
        # The site refuses requests for any host but its public one: pick the port first.
        web_port = free_port()
        settings = {"INSTANCE_PATH": str(folder), "DATABASE_URL": database_url,
                    "SECRET_KEY": secrets.token_urlsafe(32), "ENCRYPTION_KEYS": key,
                    "AUDIT_KEYS": secrets.token_urlsafe(32),
                    "PUBLIC_URL": f"http://127.0.0.1:{web_port}", "MAIL_BACKEND": "smtp",
                    "MAIL_OUTBOX_DIR": str(folder / "outbox"),
                    # A hand-in records the stage; the intake workers below take it in.
                    "INTAKE": "worker"}
        app, world = _seed(settings, options, outcome)
        groups: dict[str, int] = {}
        if setup["redis"]:
            redis = Redis(folder)
            started.append(redis)
            groups["redis"] = redis.proc.pid
            settings["RATELIMIT_STORAGE_URI"] = redis.url()
        sink = SmtpSink(folder)
        started.append(sink)
        settings.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port))
        env = clean_env(**settings)
        say(f"starting gunicorn -w {setup['workers']}, {setup['mail_workers']} mail "
            f"worker(s) and {setup['intake_workers']} intake worker(s) …")
        web = Gunicorn(folder, env=env, workers=setup["workers"], port=web_port)
        started.append(web)
        groups["gunicorn"] = web.proc.pid
        for n in range(setup["mail_workers"]):
            worker = Process(services.recruit_argv("mail", "worker", "--interval", "1"),
                             log=folder / f"mail-{n}.log", env=env)
            started.append(worker)
            groups[f"mail worker {n + 1}"] = worker.proc.pid
        for n in range(setup["intake_workers"]):
            # At a lower priority than the web workers, as deploy/ runs it (Nice=10).
            worker = Process(["nice", "-n", "10",
                              *services.recruit_argv("intake", "worker", "--interval", "1")],
                             log=folder / f"intake-{n}.log", env=env)
            started.append(worker)
            groups[f"intake worker {n + 1}"] = worker.proc.pid

        from bench.storm.world import USER_AGENT, session_cookies, set_deadline, urls

        now = time.time()
        deadline = now + options.duration - options.tail
        end = now + options.duration
        with app.app_context():
            engine = app.extensions["recruit.engine"]
            set_deadline(engine, world, at=datetime.fromtimestamp(deadline, UTC))
            cookies = session_cookies(app, [a.user_id for a in world.applicants]
                                      + world.reviewer_ids + [world.coordinator_id])
            paths = urls(app, world)
        plan = _plan(options, world, cookies, paths, host=f"http://127.0.0.1:{web.port}",
                     deadline=deadline, end=end, ua=USER_AGENT,
                     cookie_name=app.config["SESSION_COOKIE_NAME"])
        (folder / "plan.json").write_text(json.dumps(plan))

        job_args = ("--grace", str(options.grace))
        every = max(3.0, min(10.0, options.tail / 4))
        mono_deadline = time.monotonic() + (deadline - time.time())
        for n, host in enumerate(("host-a", "host-b")):
            cron = DeadlineCron(host, env, every, job_args, folder / f"cron-{host}.log",
                                offset=n * every / 2)
            cron.start(begin_at=mono_deadline + options.grace)
            crons.append(cron)

        say(f"{options.applicants} applicants ({len(plan['applicants'])} people, "
            f"{sum(a['tabs'] for a in plan['applicants'])} tabs), {options.reviewers} "
            f"reviewers, a coordinator; deadline in {deadline - time.time():.0f} s, end in "
            f"{end - time.time():.0f} s …")
        load_log = (folder / "locust.log").open("ab")
        load = subprocess.Popen([sys.executable, "-m", "bench.storm.load",
                                 str(folder / "plan.json"), str(folder / "result.json")],
                                cwd=services.ROOT, stdout=load_log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        groups["locust"] = load.pid
        sampler = CpuSampler(groups, cluster.data / "postmaster.pid" if cluster else None)
        sampler.start()
        try:
            load.wait(timeout=options.duration + 180)
        except subprocess.TimeoutExpired:
            outcome.error = "the load generator did not stop in time"
        finally:
            stop_group(load, grace=10)
            load_log.close()
        sampler.stop_event.set()
        sampler.join(timeout=5)
        outcome.cpu = sampler.figures()
        if load.returncode != 0 and outcome.error is None:
            outcome.error = f"the load generator failed; see {folder / 'locust.log'}:\n" + \
                services.tail(folder / "locust.log")
        result = json.loads((folder / "result.json").read_text()) \
            if (folder / "result.json").exists() else {}
        outcome.stats = result.get("stats", {})
        outcome.counts = result.get("counts", {})
        outcome.timeline = result.get("timeline", {})
        outcome.server_errors = result.get("server_errors", {})
        outcome.problems = result.get("problems", {})

        say("draining: the deadline job until every stage is in, then the mail …")
        _drain(app, world, crons, [p for p in started if p.log.name.startswith("mail-")],
               [p for p in started if p.log.name.startswith("intake-")], options, outcome,
               deadline=deadline)
        for process in reversed(started):
            process.stop()
        started.clear()
        with app.app_context():
            _check(app, world, result, sink.out, outcome)
        app.extensions["recruit.engine"].dispose()
    except Exception as exc:  # the figures say what went wrong; the servers still stop
        outcome.error = f"{type(exc).__name__}: {exc}"
    finally:
        for cron in crons:
            cron.stop()
        for process in reversed(started):
            process.stop()
        if cluster is not None:
            cluster.stop()
            shutil.rmtree(pg_folder, ignore_errors=True)
        if options.keep is not None:
            target = options.keep / f"{options.setup}-{options.applicants}"
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(folder, target)
        shutil.rmtree(folder, ignore_errors=True)
    return outcome


def _seed(settings: dict[str, str], options: Options, outcome: Outcome):
    from bench.storm.world import seed_world
    from recruit import create_app
    from recruit.migrate import upgrade

    config = {**settings, "ENCRYPTION_KEYS": [settings["ENCRYPTION_KEYS"]],
              "AUDIT_KEYS": [settings["AUDIT_KEYS"]]}
    config.pop("INSTANCE_PATH")
    app = create_app(config)
    engine = app.extensions["recruit.engine"]
    upgrade(engine)
    say(f"seeding {options.pool} reviewed applicants and {options.applicants} in stage 1 …")
    # Answer texts are sealed with the app's keys as they are written: seed inside the app.
    with app.app_context():
        world = seed_world(engine, applicants=options.applicants, pool=options.pool,
                           reviewers=options.reviewers, keys=config["ENCRYPTION_KEYS"])
    outcome.seed_seconds = round(world.seconds, 1)
    return app, world


def _plan(options: Options, world, cookies: dict[int, str], paths: dict[str, str], *,
          host: str, deadline: float, end: float, ua: str, cookie_name: str) -> dict:
    import random

    rng = random.Random(17)
    window = min(60.0, (deadline - time.time()) * 0.3)
    people = []
    for applicant in world.applicants:
        submits = (deadline - rng.uniform(3, window) if rng.random() < options.submit_share
                   else None)
        people.append({"candidacy": applicant.candidacy_id, "answers": applicant.answer_ids,
                       "cookie": cookies[applicant.user_id],
                       "tabs": 2 if rng.random() < options.two_tabs else 1,
                       "submits": submits})
    typing = max(deadline - time.time(), options.save_every)
    return {
        "host": host, "ua": ua, "cookie_name": cookie_name, "seed": 17,
        "deadline": deadline, "end": end, "save_every": options.save_every,
        "expected_saves": max(int(typing / options.save_every), 1),
        "spawn_rate": options.spawn_rate, "urls": paths, "task_ids": world.task_ids,
        "task_limits": world.task_limits, "applicants": people,
        "reviewers": [cookies[r] for r in world.reviewer_ids],
        "coordinator": cookies[world.coordinator_id],
        "review_seconds": [10, 30] if options.duration >= 120 else [1, 3],
    }


def _open_stages(app, world) -> int:
    import sqlalchemy as sa

    from recruit.models import Submission

    engine = app.extensions["recruit.engine"]
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(Submission).where(
            Submission.id.in_(world.submission_ids), Submission.submitted_at.is_(None))) or 0


def _intake_left(app) -> int:
    import sqlalchemy as sa

    from recruit.domain import intake

    engine = app.extensions["recruit.engine"]
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(
            intake.queued().order_by(None).subquery())) or 0


def _outbox_left(app) -> int:
    import sqlalchemy as sa

    from recruit.models import OutboxMessage

    engine = app.extensions["recruit.engine"]
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
            OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))) or 0


def _drain(app, world, crons: list[DeadlineCron], mail_workers: list[Process],
           intake_workers: list[Process], options: Options, outcome: Outcome, *,
           deadline: float) -> None:
    limit = time.monotonic() + options.drain_limit
    while time.monotonic() < limit and _open_stages(app, world):
        time.sleep(1)
    for cron in crons:
        cron.stop()
    outcome.closing_seconds = round(time.time() - deadline, 1)
    # One more run after the crons: a stage the last runs skipped (locked) is in now.
    crons[0].run_once()
    runs = [run for cron in crons for run in cron.runs]
    outcome.job_runs = len(runs)
    outcome.job_failures = sum(not run.ok for run in runs)
    outcome.submitted_by_job = sum(run.submitted for run in runs)
    outcome.job_seconds = round(sum(run.seconds for run in runs), 1)
    if not _wait_for_workers(lambda: _intake_left(app), intake_workers, "intake",
                             limit=limit, outcome=outcome):
        return
    outcome.intake_seconds = round(time.time() - deadline, 1)
    mail_started = time.monotonic()
    _wait_for_workers(lambda: _outbox_left(app), mail_workers, "mail", limit=limit,
                      outcome=outcome)
    outcome.mail_seconds = round(time.monotonic() - mail_started, 1)


def _wait_for_workers(left, workers: list[Process], what: str, *, limit: float,
                      outcome: Outcome) -> bool:
    """Wait (until ``limit``, monotonic) for ``left()`` to reach 0 while ``workers`` work on
    it; False, with the error recorded, when one of them exited."""
    while time.monotonic() < limit and left():
        dead = [w.log.name for w in workers if w.proc.poll() is not None]
        if dead:
            outcome.error = f"{what} worker(s) exited: {', '.join(dead)}"
            return False
        time.sleep(1)
    return True


def _check(app, world, result: dict, received: Path, outcome: Outcome) -> None:
    """Compare what the server acknowledged with what the database holds."""
    import hashlib

    import sqlalchemy as sa

    from recruit.models import Answer, OutboxMessage, Submission

    engine = app.extensions["recruit.engine"]
    acked = {int(k): tuple(v) for k, v in result.get("acked", {}).items()}
    unconfirmed = {int(k): set(v) for k, v in result.get("unconfirmed", {}).items()}
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(Answer.id, Answer.version, Answer.text, Answer.redacted_text,
                      Submission.submitted_at)
            .join(Submission, Submission.id == Answer.submission_id)
            .where(Submission.id.in_(world.submission_ids))).all()
        outcome.left_open = sum(1 for r in {(r.id, r.submitted_at) for r in rows}
                                if r[1] is None) // 3
        for row in rows:
            if row.submitted_at is not None and row.redacted_text is None:
                outcome.unredacted += 1
            if row.id not in acked:
                continue
            version, digest = acked[row.id]
            stored = hashlib.sha256((row.text or "").encode()).hexdigest()
            if row.version == version and stored == digest:
                continue
            if row.version > version and stored in unconfirmed.get(row.id, set()):
                continue
            outcome.lost += 1
            outcome.lost_examples.append(f"answer {row.id}: acknowledged version {version}, "
                                         f"database has version {row.version}")
        handed_in = dict(conn.execute(
            sa.select(Submission.auto_submitted, sa.func.count())
            .where(Submission.id.in_(world.submission_ids), Submission.submitted_at.is_not(None))
            .group_by(Submission.auto_submitted)).all())
        # From the rows, not the responses: a Submit that came after the job had handed the
        # stage in is answered with a redirect too.
        outcome.submitted_by_hand = handed_in.get(False, 0)
        outcome.submitted_automatically = handed_in.get(True, 0)
        messages = dict(conn.execute(sa.select(OutboxMessage.id, OutboxMessage.sent_at)).all())
    outcome.mail_queued = len(messages)
    outcome.mail_sent = sum(1 for sent in messages.values() if sent is not None)
    seen: Counter = Counter()
    for line in received.read_text().splitlines():
        message_id = json.loads(line)["message_id"]
        if "outbox-" in message_id:
            seen[int(message_id.split("outbox-", 1)[1].split(".", 1)[0].split("@", 1)[0])] += 1
    outcome.mail_received = sum(seen.values())
    outcome.mail_duplicates = sum(n - 1 for n in seen.values() if n > 1)
    outcome.mail_missing = sum(1 for mid in messages if seen.get(mid, 0) == 0)


# -- figures ----------------------------------------------------------------------------------

ENDPOINTS = ("applicant: stage page", "applicant: autosave", "applicant: autosave (final)",
             "applicant: autosave (second tab)", "applicant: submit", "reviewer: take an answer",
             "reviewer: answer page", "reviewer: submit a review", "coordinator: ranking")


def report(outcome: Outcome) -> str:
    """One run as lines of text."""
    lines = [f"== {outcome.setup}: {outcome.applicants} applicants, {outcome.duration:.0f} s "
             f"(seeded in {outcome.seed_seconds} s) — "
             f"{'HOLDS' if outcome.holds else 'PASS' if outcome.passed else 'FAIL'}"]
    if outcome.error:
        lines.append(f"   error: {outcome.error}")
    lines.append(f"   {'endpoint':<34} {'requests':>8} {'fail':>5} {'p50':>6} {'p95':>6} "
                 f"{'p99':>6} {'max':>6}  (ms)")
    for name in ENDPOINTS:
        entry = outcome.stats.get(name)
        if entry:
            lines.append(f"   {name:<34} {entry['requests']:>8} {entry['failures']:>5} "
                         f"{entry['p50']:>6.0f} {entry['p95']:>6.0f} {entry['p99']:>6.0f} "
                         f"{entry['max']:>6.0f}")
    counts = outcome.counts
    lines += [
        f"   saves: {counts.get('saves acknowledged', 0)} acknowledged of "
        f"{counts.get('saves sent', 0)} sent; {counts.get('conflicts (two tabs)', 0)} two-tab "
        f"conflicts; {counts.get('saves refused after the deadline', 0)} refused after the "
        f"deadline; acknowledged saves lost: {outcome.lost}",
        f"   stages: {outcome.submitted_by_hand} submitted by hand, "
        f"{outcome.submitted_automatically} when the time ran out ({outcome.submitted_by_job} "
        f"by the deadline job: {outcome.job_runs} runs on two hosts, {outcome.job_failures} "
        f"failed, {outcome.job_seconds} s of job time); all in {outcome.closing_seconds} s "
        f"after the deadline; left open: {outcome.left_open}; not redacted: "
        f"{outcome.unredacted}; every stage taken in (redacted, indexed) "
        f"{outcome.intake_seconds} s after the deadline",
        f"   mail: {outcome.mail_sent} of {outcome.mail_queued} sent, {outcome.mail_received} "
        f"received, duplicates {outcome.mail_duplicates}, missing {outcome.mail_missing} "
        f"(drained {outcome.mail_seconds} s after the stages)",
        f"   reviews submitted: {counts.get('reviews submitted', 0)}; 5xx: "
        f"{outcome.server_errors or 0}; other problems: {outcome.problems or 0}",
        f"   CPU: machine busy {outcome.cpu.get('machine_busy_mean', 0)} % "
        f"(p90 {outcome.cpu.get('machine_busy_p90', 0)} %); cores used: "
        f"{outcome.cpu.get('cores', {})}; web CPU per request: "
        f"{outcome.web_cpu_ms_per_request or 0:.1f} ms",
    ]
    slow = [int(second) for second, (_n, _worst, p99) in outcome.timeline.items()
            if p99 > P99_LIMIT_MS]
    if slow:
        lines.append(f"   typing autosaves slower than {P99_LIMIT_MS:.0f} ms (p99) when sent "
                     f"{_ranges(sorted(slow))} s from the deadline")
    lines += [f"   lost: {example}" for example in outcome.lost_examples[:5]]
    return "\n".join(lines)


def _ranges(numbers: list[int]) -> str:
    """[-5, -4, -3, 7] → "-5…-3, 7"."""
    parts, start = [], None
    for i, n in enumerate(numbers):
        start = n if start is None else start
        if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
            parts.append(f"{start}…{n}" if n != start else f"{n}")
            start = None
    return ", ".join(parts)


def _outcome_json(outcome: Outcome) -> dict:
    data = {k: v for k, v in vars(outcome).items()}
    data.update(passed=outcome.passed, holds=outcome.holds, autosave_p99=outcome.autosave_p99,
                web_cpu_ms_per_request=outcome.web_cpu_ms_per_request)
    return data


def main(argv: list[str] | None = None) -> int:
    """Command line: run the storms, print the figures, exit 0 when every run passed."""
    parser = argparse.ArgumentParser(prog="python -m bench.storm", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setup", choices=("embedded", "scaleout", "both"), default="both")
    parser.add_argument("--applicants", type=int, help="one run with N applicants (no steps)")
    parser.add_argument("--steps", default="60,120,180,250,350,500,1000,2000,3000",
                        help="N to step through per set-up until one does not hold")
    parser.add_argument("--duration", type=float, default=180.0, help="seconds of load")
    parser.add_argument("--tail", type=float, default=None,
                        help="seconds of load after the deadline (default: a third)")
    parser.add_argument("--save-every", type=float, default=10.0)
    parser.add_argument("--grace", type=int, default=10,
                        help="the deadline job's grace period (seconds)")
    parser.add_argument("--quick", action="store_true",
                        help="CI: 30 s, 40 applicants, saves every 3 s, each set-up once")
    parser.add_argument("--keep-going", action="store_true",
                        help="run every step even after one did not hold (the whole curve)")
    parser.add_argument("--json", type=Path, default=Path("bench/storm-results.json"))
    parser.add_argument("--keep", type=Path, help="copy each run's folder (logs) here")
    args = parser.parse_args(argv)
    # SIGTERM, and SIGINT even when a shell started us in the background with it ignored,
    # must unwind through the finally blocks that stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    setups = ("embedded", "scaleout") if args.setup == "both" else (args.setup,)
    if args.quick:
        args.applicants = args.applicants or 40
        args.duration, args.save_every, args.grace = 30.0, 3.0, 2
    tail = args.tail if args.tail is not None else args.duration / 3
    steps = [args.applicants] if args.applicants else [int(n) for n in args.steps.split(",")]
    outcomes: list[Outcome] = []
    knees: dict[str, int | None] = {}
    broken: set[str] = set()
    for setup in setups:
        knees[setup] = None
        for n in steps:
            options = Options(setup=setup, applicants=n, duration=args.duration, tail=tail,
                              save_every=args.save_every, grace=args.grace, keep=args.keep,
                              reviewers=20 if not args.quick else 5,
                              pool=200 if not args.quick else 30,
                              spawn_rate=max(50.0, n / 10))
            outcome = run_storm(options)
            outcomes.append(outcome)
            print(report(outcome), flush=True)
            # The knee is the last N of an unbroken run of holding steps.
            if outcome.holds and setup not in broken:
                knees[setup] = n
            elif not outcome.holds:
                broken.add(setup)
                if not args.keep_going:
                    break
    summary = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
               "p99_limit_ms": P99_LIMIT_MS, "knees": knees,
               "runs": [_outcome_json(o) for o in outcomes]}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=1, default=str))
    if not args.applicants:
        for setup, knee in knees.items():
            print(f"knee of {setup}: {knee if knee else 'below ' + str(steps[0])} applicants "
                  f"(p99 autosave ≤ {P99_LIMIT_MS} ms, no errors)")
    return 0 if all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
