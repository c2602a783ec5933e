"""deploy/ names only commands, options and settings that exist, and matches the README."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import click
import pytest
from flask.cli import ScriptInfo
from gunicorn.config import Config

from recruit import ROOT
from recruit.cli import cli
from recruit.config import DEFAULTS

DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
TIMERS = sorted((DEPLOY / "systemd").glob("*.timer"))
# Read by create_app and the ops module from the environment rather than app.config.
ENVIRONMENT_ONLY = {"RECRUIT_INSTANCE_PATH", "RECRUIT_PG_BIN"}


def unit(path: Path) -> configparser.ConfigParser:
    """A systemd unit file as sections of keys (systemd's syntax is INI-like)."""
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # keys are case-sensitive (ExecStart, not execstart)
    parser.read_string(path.read_text())
    return parser


def exec_start(path: Path) -> list[str]:
    """The command line of a service, unwrapped from `/bin/sh -c '…'` when it is one."""
    argv = shlex.split(unit(path)["Service"]["ExecStart"].replace("%%", "%"))
    if argv[:2] == ["/bin/sh", "-c"]:
        argv = shlex.split(argv[2])
        argv = argv[1:] if argv[0] == "exec" else argv
    return argv


def resolve(args: list[str]) -> click.Context:
    """Parse a `recruit …` command line as the CLI would, without running it."""
    ctx = cli.make_context("recruit", list(args), obj=ScriptInfo(create_app=lambda: None),
                           resilient_parsing=False)
    command: click.Command = cli
    rest = [*ctx._protected_args, *ctx.args]
    while isinstance(command, click.Group):
        _name, command, rest = command.resolve_command(ctx, rest)
        ctx = command.make_context(_name, list(rest), parent=ctx, resilient_parsing=False)
        rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
    assert not rest, f"unexpected arguments {rest}"
    return ctx


def test_there_are_units_for_web_mail_intake_and_every_scheduled_job():
    names = {p.name for p in UNITS}
    assert {"recruit-web.service", "recruit-mail@.service", "recruit-intake@.service"} <= names
    assert len(TIMERS) >= 4


@pytest.mark.parametrize("path", [p for p in UNITS if "gunicorn" in p.read_text()],
                         ids=lambda p: p.name)
def test_the_web_unit_runs_gunicorn_with_options_it_has(path):
    argv = exec_start(path)
    assert Path(argv[0]).name == "gunicorn"
    parsed = Config().parser().parse_args(argv[1:])
    assert parsed.args == ["recruit:create_app()"]
    # A private control socket (or none): never the one path every gunicorn would share.
    assert parsed.control_socket_disable or (
        parsed.control_socket and parsed.control_socket.startswith("/run/"))


@pytest.mark.parametrize("path", [p for p in UNITS if "gunicorn" not in p.read_text()],
                         ids=lambda p: p.name)
def test_each_recruit_unit_names_a_command_and_options_that_exist(path):
    argv = exec_start(path)
    assert Path(argv[0]).name == "recruit", argv
    ctx = resolve(argv[1:])
    assert ctx.command.callback is not None


@pytest.mark.parametrize("path", TIMERS, ids=lambda p: p.name)
def test_each_timer_has_its_service_and_a_schedule(path):
    timer = unit(path)
    target = timer["Timer"].get("Unit", path.with_suffix(".service").name)
    assert (DEPLOY / "systemd" / target).exists()
    assert timer["Timer"].get("OnCalendar")


def test_every_setting_named_in_deploy_is_a_real_setting():
    known = {f"RECRUIT_{key}" for key in DEFAULTS} | ENVIRONMENT_ONLY
    named = set()
    for path in DEPLOY.rglob("*"):
        if path.is_file():
            for line in path.read_text().splitlines():
                if not line.lstrip().startswith("#"):
                    named |= set(re.findall(r"\bRECRUIT_[A-Z0-9_]+", line))
    assert named, "the deploy files name no settings at all"
    assert named <= known, named - known


def test_the_scheduled_jobs_are_the_ones_the_readme_lists():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("**Scheduled jobs**"):].split("\n\n", 1)[0]
    listed = set(re.findall(r"`recruit ([a-z][a-z-]*(?: [a-z][a-z-]*)?)", section))
    scheduled = set()
    for path in TIMERS:
        argv = exec_start(path.with_suffix(".service"))
        ctx = resolve(argv[1:])
        scheduled.add(ctx.command_path.removeprefix("recruit "))
    assert scheduled == listed


def test_nginx_proxies_to_where_gunicorn_listens():
    web = exec_start(DEPLOY / "systemd" / "recruit-web.service")
    bind = Config().parser().parse_args(web[1:]).bind
    conf = (DEPLOY / "nginx" / "recruit.conf").read_text()
    assert re.search(rf"server {re.escape(bind[0])}\b", conf)
    assert "proxy_set_header Host $host" in conf and "X-Forwarded-Proto" in conf
