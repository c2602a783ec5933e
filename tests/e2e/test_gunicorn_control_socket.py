"""gunicorn 25+ opens a control socket at one path per user (~/.gunicorn/gunicorn.ctl): the
benchmarks, the soak, the storm and the tests run gunicorns side by side, so none may use it."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from gunicorn.config import Config

from bench.procs import gunicorn_argv
from bench.storm.services import Gunicorn, free_port, healthz
from recruit import ROOT

pytestmark = pytest.mark.e2e


def test_the_shared_command_line_turns_the_control_socket_off():
    argv = gunicorn_argv(bind="127.0.0.1:1", workers=2)
    parsed = Config().parser().parse_args(argv[3:])  # after "python -m gunicorn"
    assert parsed.control_socket_disable is True


def test_no_harness_builds_a_gunicorn_command_of_its_own():
    # How a command line starting gunicorn is spelled: its binary, or "-m", "gunicorn".
    starts = re.compile(r'/\s*"gunicorn"|"-m",\s*"gunicorn"')
    offenders = [str(path.relative_to(ROOT))
                 for folder in ("bench", "tests", "recruit", "scripts")
                 for path in (ROOT / folder).rglob("*.py")
                 if path.name != "procs.py" and path != Path(__file__)
                 and starts.search(path.read_text())]
    assert offenders == []


def test_two_servers_at_once_leave_no_control_socket_behind(fresh_app, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "RECRUIT_INSTANCE_PATH": str(tmp_path),
           "RECRUIT_DATABASE_URL": fresh_app.config["DATABASE_URL"],
           "RECRUIT_SECRET_KEY": fresh_app.config["SECRET_KEY"],
           "RECRUIT_ENCRYPTION_KEYS": fresh_app.config["ENCRYPTION_KEYS"][0],
           "RECRUIT_AUDIT_KEYS": fresh_app.config["AUDIT_KEYS"][0]}
    servers = []
    try:
        for n in range(2):
            folder = tmp_path / f"server{n}"
            folder.mkdir()
            servers.append(Gunicorn(folder, env=env, workers=1, port=free_port()))
        time.sleep(1)  # gunicorn opens the socket right after it binds
        assert all(healthz(server.port) == 200 for server in servers)
        assert not (home / ".gunicorn").exists(), list((home / ".gunicorn").iterdir())
    finally:
        for server in servers:
            server.stop()
