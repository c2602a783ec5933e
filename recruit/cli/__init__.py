"""The `recruit` command: a FlaskGroup with one module per command group.

The modules below define their groups without knowing about ``cli``; this file adds them,
so nothing imports in a circle.
"""

from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup, NoAppException

from recruit import create_app
from recruit.cli import (
    applicant,
    bench,
    custody,
    demo,
    instance,
    intake,
    integrity,
    keys,
    mail,
    offers,
    ops,
    reports,
    review,
    run,
    schema,
    tracks,
    users,
)


def _app_factory():
    from recruit.config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        # Flask prints this as one line ("Error: …") instead of a traceback, and `--help`
        # still lists the commands.
        raise NoAppException(str(exc)) from exc


cli = FlaskGroup(create_app=_app_factory, load_dotenv=False,
                 help="Fair, blind recruitment of support agents.")

for _command in (
    instance.instance, schema.db, users.users, keys.keys, keys.audit, mail.mail,
    tracks.questionnaire, tracks.campaign, demo.demo, applicant.stages, applicant.waitlist,
    bench.bench, custody.redact_command, custody.custody, offers.offers, ops.backup_command,
    ops.restore_command, ops.purge_command, reports.reports, review.scores, review.review,
    run.run, integrity.integrity, intake.intake,
):
    cli.add_command(_command)


def main() -> None:
    """Entry point of the console script."""
    from recruit.config import ConfigError

    try:
        cli(prog_name="recruit")
    except ConfigError as exc:
        # A missing key is a setup step, not a crash: say what to do, without a traceback.
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
