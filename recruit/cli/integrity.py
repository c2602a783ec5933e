"""Answer integrity: compare answers handed in before comparison existed, and sweep."""

from __future__ import annotations

import os

import click
from flask.cli import AppGroup, with_appcontext

from recruit import clock
from recruit.db import get_db, when_unlocked, writes


@click.group(cls=AppGroup)
def integrity():
    """Near-duplicate answers (flags for coordinators; see recruit.domain.integrity)."""


@integrity.command("index")
@click.option("--campaign", "campaign_key", help="Only this campaign (by key).")
@click.option("--workers", type=click.IntRange(1, 64), default=os.cpu_count() or 1,
              show_default=True, help="Processes that sign the answers.")
@with_appcontext
@writes
def integrity_index(campaign_key, workers):
    """Sign and compare every submitted answer that has no signature yet (answers handed in
    before this feature, or after a change of the normalisation)."""
    import sqlalchemy as sa

    from recruit.domain import integrity as domain
    from recruit.models import Campaign

    db = get_db()
    query = sa.select(Campaign).order_by(Campaign.opens_at, Campaign.id)
    if campaign_key:
        query = query.where(Campaign.key == campaign_key)
    campaigns = db.scalars(query).all()
    if campaign_key and not campaigns:
        raise click.ClickException(f"no campaign {campaign_key!r}")
    for campaign in campaigns:
        report = domain.index_campaign(db, campaign=campaign, now=clock.now(), workers=workers)
        db.commit()
        click.echo(f"{campaign.key}: {report.signed} answer(s) compared, "
                   f"{report.pairs} new pair(s).")


@integrity.command("sweep")
@with_appcontext
@writes
def integrity_sweep():
    """Compare again the answers whose first comparison may have missed one handed in at
    the same moment (PostgreSQL); `stages close-expired` does this every minute too."""
    total = sweep_all()
    click.echo(f"Swept {total} answer(s).")


def sweep_all() -> int:
    """Sweep in batches, one transaction each; returns how many answers were swept."""
    from recruit.domain import integrity as domain

    db = get_db()
    total = 0
    while True:

        def one_batch() -> int:
            done = domain.sweep(db, now=clock.now())
            db.commit()
            return done

        count = when_unlocked(one_batch, session=db)
        total += count
        if count == 0:
            return total
