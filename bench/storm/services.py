"""The servers a storm runs against, each in its own process group on 127.0.0.1.

Every class here starts one thing and has ``stop()``; the storm stops them all in ``finally``.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.procs import gunicorn_argv, stop_group

ROOT = Path(__file__).resolve().parent.parent.parent
HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, process: subprocess.Popen, what: str, log: Path,
                  timeout: float = 60) -> None:
    """Block until something listens on ``port``; fail early if ``process`` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}; see {log}:\n"
                               + tail(log))
        with socket.socket() as sock:
            if sock.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not listen on {HOST}:{port} within {timeout:.0f} s")


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log file."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Process:
    """A child in its own process group, its output in a log file."""

    def __init__(self, argv: list[str], *, log: Path, env: dict[str, str] | None = None):
        self.log = log
        self._fh = log.open("ab")
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self._fh,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self, grace: float = 10) -> None:
        """SIGTERM the group, SIGKILL what outlives ``grace``."""
        stop_group(self.proc, grace=grace)
        self._fh.close()


class Redis(Process):
    """Debian's redis-server, no persistence, for the rate limits of every worker."""

    def __init__(self, folder: Path):
        self.port = free_port()
        super().__init__(["redis-server", "--bind", HOST, "--port", str(self.port),
                          "--save", "", "--appendonly", "no", "--dir", str(folder),
                          "--daemonize", "no"], log=folder / "redis.log")
        wait_for_port(self.port, process=self.proc, what="redis-server", log=self.log)

    def url(self) -> str:
        """The storage URI for Flask-Limiter."""
        return f"redis://{HOST}:{self.port}/0"


class SmtpSink(Process):
    """aiosmtpd writing one JSON line per received message (bench/storm/sink.py)."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.out = folder / "received.jsonl"
        self.out.touch()
        super().__init__([sys.executable, "-m", "bench.storm.sink", "--port", str(self.port),
                          "--out", str(self.out)], log=folder / "smtp.log")
        wait_for_port(self.port, process=self.proc, what="the SMTP sink", log=self.log)


class Gunicorn(Process):
    """The web workers (sync), ready when /healthz answers."""

    def __init__(self, folder: Path, *, env: dict[str, str], workers: int, port: int):
        self.port = port
        super().__init__(gunicorn_argv(bind=f"{HOST}:{self.port}", workers=workers,
                                       extra=("--backlog", "4096")),
                         log=folder / "gunicorn.log", env=env)
        wait_for_port(self.port, process=self.proc, what="gunicorn", log=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if healthz(self.port) == 200:
                return
            time.sleep(0.2)
        raise TimeoutError(f"gunicorn did not answer /healthz; see {self.log}")


def healthz(port: int) -> int | None:
    """The status of GET /healthz, or None when nothing answers."""
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


def recruit_argv(*args: str) -> list[str]:
    """The `recruit` console command, from this interpreter's environment."""
    return [sys.executable, "-c", "from recruit.cli import main; main()", *args]


@dataclass
class JobRun:
    """One run of the deadline job."""

    host: str
    started: float
    seconds: float
    submitted: int
    ok: bool
    output: str = ""


@dataclass
class DeadlineCron:
    """``recruit stages close-expired`` every ``every`` seconds, as cron on one host would."""

    name: str
    env: dict[str, str]
    every: float
    args: tuple[str, ...]
    log: Path
    offset: float = 0.0
    runs: list[JobRun] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _current: subprocess.Popen | None = None

    def start(self, *, begin_at: float) -> None:
        """Run from ``begin_at`` (monotonic) on, in a thread."""
        self._thread = threading.Thread(target=self._loop, args=(begin_at,), daemon=True,
                                        name=f"cron-{self.name}")
        self._thread.start()

    def _loop(self, begin_at: float) -> None:
        next_at = begin_at + self.offset
        while not self._stop.is_set():
            delay = next_at - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                return
            self.run_once()
            next_at += self.every

    def run_once(self) -> JobRun:
        """One run, waited for (at most 10 minutes)."""
        started = time.monotonic()
        with self.log.open("ab") as fh:
            self._current = subprocess.Popen(
                recruit_argv("stages", "close-expired", *self.args), cwd=ROOT, env=self.env,
                stdout=subprocess.PIPE, stderr=fh, start_new_session=True)
            try:
                out, _ = self._current.communicate(timeout=600)
            except subprocess.TimeoutExpired:
                stop_group(self._current, grace=5)
                out = b""
        text = out.decode(errors="replace").strip()
        found = re.search(r"Submitted (\d+) expired", text)
        run = JobRun(self.name, started, time.monotonic() - started,
                     int(found.group(1)) if found else 0,
                     self._current.returncode == 0 and found is not None, text)
        self._current = None
        self.runs.append(run)
        return run

    def stop(self) -> None:
        """Stop after the run in progress (which is killed if it hangs)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=620)
        if self._current is not None:
            stop_group(self._current, grace=5)


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without RECRUIT_* settings, plus ``settings`` as RECRUIT_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECRUIT_")}
    env.update({f"RECRUIT_{k}": v for k, v in settings.items()})
    return env
