"""Starting and stopping what a benchmark runs: gunicorn command lines, process groups."""

from __future__ import annotations

import os
import signal
import subprocess
import sys


def gunicorn_argv(*, bind: str, workers: int, timeout: int = 30, graceful_timeout: int = 5,
                  extra: tuple[str, ...] = (), app: str = "recruit:create_app()") -> list[str]:
    """The gunicorn command line every harness uses (sync workers, no control socket).

    gunicorn 25+ opens a control socket at one fixed path per user (~/.gunicorn/gunicorn.ctl):
    the benchmarks, the storm, the soak and the tests run gunicorns side by side on one machine,
    and each would take the socket from the one before. None of them needs it.
    """
    from gunicorn.config import Config

    no_socket = ["--no-control-socket"] if "control_socket_disable" in Config().settings else []
    return [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class",
            "sync", "--bind", bind, "--timeout", str(timeout), "--graceful-timeout",
            str(graceful_timeout), *no_socket, *extra, app]


def stop_group(process: subprocess.Popen, *, grace: float) -> None:
    """SIGTERM the process group of ``process``; SIGKILL it if it outlives ``grace`` seconds."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass
