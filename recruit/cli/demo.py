"""`recruit demo`: the demo data of `make run`."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from recruit.db import writes


@click.group(cls=AppGroup)
def demo():
    """The demo data of `make run`."""


@demo.command("load")
@with_appcontext
@writes
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

