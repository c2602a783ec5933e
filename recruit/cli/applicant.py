"""Applicant-side commands: close expired stages, tell the waitlist about open waves."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from recruit import clock
from recruit.db import get_db, writes


@click.group(cls=AppGroup)
def stages():
    """Stages applicants are taking."""


@stages.command("close-expired")
@with_appcontext
@writes
def stages_close_expired():
    """Submit the saved drafts of every stage whose time ran out (run it every minute)."""
    from recruit.domain import applications

    db = get_db()
    count = applications.close_expired(db, now=clock.now())
    db.commit()
    click.echo(f"Submitted {count} expired stage(s).")


@click.group(cls=AppGroup)
def waitlist():
    """The waitlist of applicants waiting for a wave."""


@waitlist.command("notify")
@with_appcontext
@writes
def waitlist_notify():
    """E-mail everyone on the waitlist about a wave that is open now (nobody twice)."""
    from recruit.domain import applications, notify

    db = get_db()
    now = clock.now()
    total = 0
    for campaign in applications.open_campaigns(db, now=now):
        total += notify.notify_waitlist(db, campaign=campaign, now=now)
    db.commit()
    click.echo(f"Told {total} waiting applicant(s) about an open wave.")
