"""Operations commands: `recruit backup`, `recruit restore`, `recruit purge`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from recruit.cli.common import follow, progress
from recruit.db import writes


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(file):
    """Write a consistent copy of the live database to FILE (SQLite copy or pg_dump -Fc)."""
    from recruit import ops

    try:
        with progress(length=1, label="Backing up") as bar:
            target = ops.backup(url=current_app.config["DATABASE_URL"], target=file,
                                on_progress=follow(bar))
    except ops.OpsError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backup written to {target} ({target.stat().st_size} bytes). Keep the "
               "instance's ENCRYPTION_KEYS with it: identities cannot be read without them.")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="Overwrite a database that already holds data.")
@with_appcontext
def restore_command(file, force):
    """Replace the database's content with the backup in FILE (refuses a non-empty database)."""
    from recruit import ops
    from recruit.db import get_engine

    # Pooled connections of this process must not keep the old tables open.
    get_engine().dispose()
    try:
        ops.restore(url=current_app.config["DATABASE_URL"], source=file, force=force)
    except ops.OpsError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Database restored from {file}. Restart the web and mail workers.")
    _restart_checkpoint()


def _restart_checkpoint() -> None:
    """A restored log is older than the checkpoint: start it again from the restored head."""
    from recruit.db import get_db
    from recruit.domain import audit

    session = get_db()
    count, broken = audit.verify(session)
    head = audit.head(session)
    if broken:
        click.echo(f"Warning: the restored audit log is broken at event {broken.event_id} "
                   f"({broken.problem}); the checkpoint was left as it was.", err=True)
    elif head is not None:
        audit.write_checkpoint(audit.checkpoint_path(), head, force=True)
        click.echo(f"Audit checkpoint moved to the restored log ({count} events).")


@click.command("purge")
@click.option("--older-than", "days", type=click.IntRange(min=0), required=True,
              help="Erase identities of candidacies finished more than DAYS days ago, and "
                   "profiles unchanged for DAYS days that led to no candidacy.")
@click.option("--dry-run", is_flag=True, help="Only say what would be erased.")
@with_appcontext
@writes
def purge_command(days, dry_run):
    """Erase identities of finished candidacies (not passed, withdrawn, declined, expired).

    Profiles that never led to a candidacy (eligibility failed) go too once unchanged for
    DAYS days, unless the person waits on the waitlist. Pseudonymous records stay.
    """
    from recruit import ops
    from recruit.db import get_db, utcnow

    session = get_db()
    with progress(length=1, label="Erasing identities") as bar:
        result = ops.purge_identities(session, older_than=timedelta(days=days), now=utcnow(),
                                      dry_run=dry_run, on_progress=follow(bar))
    count = len(result.user_ids)
    if dry_run:
        click.echo(f"Would erase {count} identities ({len(result.candidacy_codes)} finished "
                   f"candidacies before {result.cutoff:%Y-%m-%d %H:%M} UTC).")
        return
    session.commit()
    click.echo(f"Erased {count} identities ({len(result.candidacy_codes)} finished candidacies "
               f"before {result.cutoff:%Y-%m-%d %H:%M} UTC); pseudonymous records kept.")
