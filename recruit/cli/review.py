"""`recruit scores …` and `recruit review …`: normalised scores and review leases."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from recruit.cli.common import progress
from recruit.db import get_db, utcnow, writes
from recruit.domain import assignment, review_stats
from recruit.models import Campaign


@click.group(cls=AppGroup)
def scores():
    """Review scores."""


@scores.command("normalise")
@click.option("--campaign", "campaign_key", help="Only this campaign (by key).")
@with_appcontext
@writes
def scores_normalise(campaign_key):
    """Recompute every normalised score exactly (submissions keep them within 0.005)."""
    db = get_db()
    query = select(Campaign).order_by(Campaign.id)
    if campaign_key:
        query = query.where(Campaign.key == campaign_key)
    campaigns = db.scalars(query).all()
    if campaign_key and not campaigns:
        raise click.ClickException(f"no campaign with key {campaign_key!r}")
    for campaign in campaigns:
        with progress(length=len(campaign.stages),
                      label=f"Normalising {campaign.key}") as bar:
            changed = review_stats.renormalise_campaign(
                db, campaign=campaign, on_progress=lambda done, _total: bar.update(1))
        db.commit()
        click.echo(f"{campaign.key}: {changed} normalised scores changed")


@click.group(cls=AppGroup)
def review():
    """Review hand-out."""


@review.command("expire-leases")
@with_appcontext
@writes
def review_expire_leases():
    """Send every review lease past its time back to the pool now (hand-out does it too)."""
    db = get_db()
    n = assignment.expire_leases(db, now=utcnow())
    db.commit()
    click.echo(f"{n} leases expired")
