"""The `recruit` command: a FlaskGroup with the project's own subcommands."""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from recruit import ROOT, create_app


def _app_factory():
    return create_app()


cli = FlaskGroup(create_app=_app_factory, load_dotenv=False,
                 help="Fair, blind recruitment of support agents.")


def main() -> None:
    """Entry point of the console script."""
    from recruit.config import ConfigError

    try:
        cli(prog_name="recruit")
    except ConfigError as exc:
        # A missing key is a setup step, not a crash: say what to do, without a traceback.
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)


def _instance_path() -> Path:
    return Path(os.environ.get("RECRUIT_INSTANCE_PATH") or ROOT / "instance")


# -- instance ---------------------------------------------------------------------------------

@cli.group()
def instance():
    """The instance folder: local config, keys, SQLite database."""


@instance.command("init", with_appcontext=False)
def instance_init():
    """Create instance/config.py with a fresh secret key and encryption key (mode 600)."""
    from recruit.config import write_instance_config

    target = write_instance_config(_instance_path())
    if target is None:
        click.echo(f"{_instance_path() / 'config.py'} exists; keys kept.")
    else:
        click.echo(f"Created {target} with new random keys (mode 600). Back it up.")


# -- database ---------------------------------------------------------------------------------

@cli.group()
def db():
    """Database schema."""


@db.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision):
    """Apply Alembic migrations."""
    from recruit.db import get_engine
    from recruit.migrate import upgrade

    upgrade(get_engine(), revision)
    click.echo(f"Database at {revision}.")


@db.command("check")
@with_appcontext
def db_check():
    """Fail if the database schema differs from the models."""
    from recruit.db import get_engine
    from recruit.migrate import schema_differences

    diffs = schema_differences(get_engine())
    for diff in diffs:
        click.echo(f"  {diff}")
    if diffs:
        raise click.ClickException(f"{len(diffs)} difference(s) between schema and models")
    click.echo("Schema matches the models.")


# -- users ------------------------------------------------------------------------------------

@cli.group()
def users():
    """Staff accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(["reviewer", "coordinator"]), required=True)
@click.option("--custodian", is_flag=True, help="Hand this coordinator the custodian flag.")
@with_appcontext
def users_create(email, role, custodian):
    """Create a staff account; its random password is printed once."""
    from recruit.db import get_db
    from recruit.domain import accounts
    from recruit.models import Role

    session = get_db()
    try:
        user, password = accounts.create_staff(session, email=email, role=Role(role),
                                               custodian=custodian)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    session.commit()
    extra = " (custodian)" if user.is_custodian else ""
    click.echo(f"Created {role}{extra} {user.email} — password: {password}")
    click.echo("The password is shown only now.")


@users.command("make-custodian")
@click.argument("email")
@with_appcontext
def users_make_custodian(email):
    """Hand the custodian flag to a coordinator (recorded in the audit log)."""
    from recruit.db import get_db
    from recruit.domain import accounts

    session = get_db()
    user = accounts.find_user(session, email=email)
    if user is None:
        raise click.ClickException(f"no account with e-mail {email}")
    try:
        previous = accounts.make_custodian(session, user=user, by=None)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    session.commit()
    was = f" (was {previous.email})" if previous and previous.id != user.id else ""
    click.echo(f"{user.email} is now the custodian{was}.")


# -- keys and audit ---------------------------------------------------------------------------

@cli.group()
def keys():
    """Encryption keys of the identity vault."""


@keys.command("rotate")
@with_appcontext
def keys_rotate():
    """Add a new key, re-encrypt every identity with it, keep the old key for decryption."""
    from cryptography.fernet import Fernet

    from recruit.db import get_db
    from recruit.vault import Vault, rotate_all

    new_key = Fernet.generate_key().decode()
    keys_now = [new_key, *current_app.config["ENCRYPTION_KEYS"]]
    session = get_db()
    count = rotate_all(session, vault=Vault(keys_now))
    config_file = Path(current_app.instance_path, "config.py")
    if config_file.exists():
        text = config_file.read_text(encoding="utf-8")
        text += "\n# Rotated by `recruit keys rotate`; the first key encrypts.\n"
        text += f"ENCRYPTION_KEYS = {keys_now!r}\n"
        config_file.write_text(text, encoding="utf-8")
        session.commit()
        click.echo(f"Re-encrypted {count} identities; new key written to {config_file}.")
    else:
        session.commit()
        click.echo(f"Re-encrypted {count} identities. Set RECRUIT_ENCRYPTION_KEYS to:")
        click.echo(",".join(keys_now))
    current_app.extensions["recruit.vault"] = Vault(keys_now)


@cli.group()
def audit():
    """The audit log."""


@audit.command("verify")
@with_appcontext
def audit_verify():
    """Check the hash chain; report the first broken link."""
    from recruit.db import get_db
    from recruit.domain import audit as audit_log

    count, broken = audit_log.verify(get_db())
    if broken:
        click.echo(f"BROKEN at event {broken.event_id}: {broken.problem} "
                   f"({count} events checked).", err=True)
        sys.exit(1)
    click.echo(f"Audit log intact: {count} events.")


# -- mail -------------------------------------------------------------------------------------

@cli.group()
def mail():
    """The outbox."""


@mail.command("worker")
@click.option("--once", is_flag=True, help="Send what is due, then stop.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between polls.")
@with_appcontext
def mail_worker(once, interval):
    """Drain the outbox; several workers may run at once."""
    from recruit import mail as mail_module
    from recruit.db import get_db

    sender = mail_module.make_sender(current_app.config)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    session = get_db()
    while True:
        sent, failed = mail_module.deliver(session, sender=sender, worker=worker)
        if sent or failed:
            click.echo(f"sent {sent}, failed {failed}")
        if once:
            break
        time.sleep(interval)


# -- questionnaires and campaigns -------------------------------------------------------------

def _parse_date(value: str):
    from datetime import UTC, datetime

    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date like 2026-12-01 or "
                                 "2026-12-01T09:00") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@cli.group()
def questionnaire():
    """Questionnaire files: tracks, job roles, the interview bank."""


@questionnaire.command("check", with_appcontext=False)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def questionnaire_check(files):
    """Report every problem in the given files; exit 1 if there is any."""
    from recruit.domain.questionnaires import check_files

    problems = check_files(list(files))
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s) found.", err=True)
        sys.exit(1)
    click.echo(f"{len(files)} file(s) OK.")


@questionnaire.command("load")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@with_appcontext
def questionnaire_load(files):
    """Store a versioned snapshot of each file (by content hash); loading twice is a no-op."""
    from recruit.db import get_db
    from recruit.domain.questionnaires import QuestionnaireError, check_files
    from recruit.domain.tracks import load_path

    problems = check_files(list(files))
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        raise click.ClickException("nothing loaded: fix the problems first")
    session = get_db()
    for path in files:
        try:
            version, created = load_path(session, path=path)
        except QuestionnaireError as exc:
            raise click.ClickException(str(exc)) from exc
        state = "loaded" if created else "unchanged"
        click.echo(f"{path.name}: {version.kind} {version.key} {state} "
                   f"(version {version.content_hash[:12]})")
    session.commit()


@cli.group()
def campaign():
    """Recruitment waves."""


@campaign.command("create")
@click.option("--track", "track_key", required=True, help="Key of a loaded track.")
@click.option("--opens", required=True, help="Opening date (ISO, UTC unless an offset is "
                                              "given).")
@click.option("--closes", required=True, help="Closing date.")
@click.option("--capacity", type=click.IntRange(min=1), help="At most this many offers.")
@click.option("--key", help="Campaign key (default: track and month).")
@with_appcontext
def campaign_create(track_key, opens, closes, capacity, key):
    """Create a campaign from the newest loaded version of a track."""
    from recruit.db import get_db
    from recruit.domain.tracks import CampaignError, create_campaign

    session = get_db()
    try:
        created = create_campaign(session, track_key=track_key, opens_at=_parse_date(opens),
                                  closes_at=_parse_date(closes), capacity=capacity, key=key)
    except CampaignError as exc:
        raise click.ClickException(str(exc)) from exc
    from recruit.db import utcnow
    from recruit.domain.notify import notify_waitlist

    told = notify_waitlist(session, campaign=created, now=utcnow())
    session.commit()
    if told:
        click.echo(f"Told {told} people on the waitlist that the wave is open.")
    click.echo(f"Created campaign {created.key} from {track_key} version "
               f"{created.track_version.content_hash[:12]} "
               f"({len(created.stages)} stages).")


# -- demo -------------------------------------------------------------------------------------

@cli.group()
def demo():
    """The demo data of `make run`."""


@demo.command("load")
@with_appcontext
def demo_load():
    """Load the shipped questionnaires, an open campaign and staff accounts (idempotent)."""
    from recruit.db import get_db
    from recruit.domain.demo import load_demo

    session = get_db()
    created = load_demo(session)
    session.commit()
    if created:
        click.echo("Demo accounts (passwords are shown only this once):")
        for email, role, password in created:
            click.echo(f"  {role:<24} {email:<34} {password}")
    else:
        click.echo("Demo data present; existing accounts and passwords kept.")


# Commands of each area live beside it; importing registers them on ``cli``.
from recruit import (  # noqa: E402
    cli_applicant,  # noqa: F401
    cli_bench,  # noqa: F401
    cli_custody,  # noqa: F401
    cli_offers,  # noqa: F401
    cli_ops,  # noqa: F401
    cli_reports,  # noqa: F401
    cli_review,  # noqa: F401
)
