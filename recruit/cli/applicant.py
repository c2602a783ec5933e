"""Applicant-side commands: close expired stages, tell the waitlist about open waves."""

from __future__ import annotations

import time
from datetime import timedelta

import click
from flask.cli import AppGroup, with_appcontext

from recruit import clock
from recruit.cli.common import progress
from recruit.db import get_db, when_unlocked, writes


@click.group(cls=AppGroup)
def stages():
    """Stages applicants are taking."""


@stages.command("close-expired")
@click.option("--batch", type=click.IntRange(1, 10_000), default=None,
              help="Stages handed in per transaction (the write lock is held that long); "
                   "20 on PostgreSQL, 5 on SQLite by default.")
@click.option("--grace", type=click.IntRange(0), default=30, show_default=True,
              help="Seconds past a deadline before a stage is closed, so a save that reached "
                   "the server in time can finish (the web workers' request timeout).")
@with_appcontext
@writes
def stages_close_expired(batch, grace):
    """Submit the saved drafts of every stage whose time ran out (run it every minute).

    Safe to run from several hosts at once: stages are claimed with SKIP LOCKED on
    PostgreSQL and under the write lock on SQLite, and none is handed in twice.
    """
    from sqlalchemy import func, select

    from recruit.domain import applications
    from recruit.models import Submission

    db = get_db()
    sqlite = db.get_bind().dialect.name == "sqlite"
    batch = batch or (5 if sqlite else 20)
    cutoff = clock.now() - timedelta(seconds=grace)

    def count_due() -> int:
        due = db.scalar(select(func.count()).select_from(Submission).where(
            Submission.submitted_at.is_(None), Submission.deadline_at <= cutoff)) or 0
        db.commit()
        return due

    due = when_unlocked(count_due, session=db)
    total = 0
    with progress(length=due, label="Closing expired stages") as bar:
        while True:

            def one_batch() -> int:
                done = applications.close_expired(db, now=clock.now(), limit=batch,
                                                  skip_locked=True,
                                                  grace=timedelta(seconds=grace))
                # One batch per transaction: other writers (autosaves) get the lock between.
                db.commit()
                return done

            started = time.monotonic()
            count = when_unlocked(one_batch, session=db)
            total += count
            bar.update(count)
            if count == 0:
                break
            if sqlite:
                # SQLite's waiting writers poll for the lock; taking it again at once would
                # starve the site's requests for as long as the job runs. Leave it free for
                # as long as the batch held it (at most a second).
                time.sleep(min(time.monotonic() - started, 1.0))
    # Answers handed in at the same moment on PostgreSQL may not have seen each other.
    from recruit.cli.integrity import sweep_all

    sweep_all()
    click.echo(f"Submitted {total} expired stage(s).")


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
