"""`recruit offers …`: offers that lapse at their expiry date."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from recruit.db import writes


@click.group(cls=AppGroup)
def offers():
    """Offers to candidates."""


@offers.command("expire")
@with_appcontext
@writes
def offers_expire():
    """Let every open offer past its last day lapse (safe to run as often as you like)."""
    from recruit.db import get_db, utcnow
    from recruit.domain.offers import expire_due

    session = get_db()
    count = expire_due(session, now=utcnow())
    session.commit()
    click.echo(f"{count} offer(s) expired.")
