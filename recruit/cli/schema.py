"""`recruit db`: the database schema (Alembic migrations)."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from recruit.db import writes


@click.group(cls=AppGroup)
def db():
    """Database schema."""


@db.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
@writes
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

