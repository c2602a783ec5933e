"""`recruit intake`: taking handed-in stages in when ``INTAKE = "worker"``."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from recruit import clock
from recruit.db import get_db, when_unlocked, writing

#: Batches in a row found taken by someone else before the worker rests (or, with --once,
#: stops): a stage another transaction holds for long must not keep it spinning.
PASSES = 25


@click.group(cls=AppGroup)
def intake():
    """Handed-in stages on their way to the reviewers."""


@intake.command("worker")
@click.option("--once", is_flag=True, help="Take in everything waiting now, then stop.")
@click.option("--interval", default=1.0, show_default=True,
              help="Seconds between polls while nothing waits.")
@click.option("--batch", type=click.IntRange(1, 1000), default=5, show_default=True,
              help="Stages taken in per transaction.")
@with_appcontext
def intake_worker(once, interval, batch):
    """Redact, index and confirm handed-in stages (with INTAKE = "worker"); several
    workers may run at once, and each stage is taken in once.

    Run it at a lower priority than the web server (the systemd unit sets Nice=10): in a
    wave's last minute it then waits for the applicants' requests instead of slowing them.
    """
    db = get_db()
    sqlite = db.get_bind().dialect.name == "sqlite"
    if current_app.config["INTAKE"] != "worker":
        click.echo("Note: INTAKE is \"request\": hand-ins are taken in as they happen, so this "
                   "worker only finds what is left over.", err=True)
    taken = swept_after = passed_by = 0
    while True:
        count, waiting = _one_batch(db, batch=batch)
        taken += count
        if count:
            click.echo(f"took in {count} stage(s)")
            passed_by = 0
            continue
        if waiting and passed_by < PASSES:
            # Another worker took these first, or holds them: look again shortly.
            passed_by += 1
            time.sleep(0.2)
            continue
        passed_by = 0
        if taken > swept_after and not sqlite:
            # Two workers taking in at the same moment may not have compared those answers
            # with each other: compare them again now that the queue is empty.
            from recruit.cli.integrity import sweep_all

            sweep_all()
            swept_after = taken
        if once:
            break
        time.sleep(interval)
    if once:
        click.echo(f"Took in {taken} stage(s).")


def _one_batch(db, *, batch: int) -> tuple[int, int]:
    """Take in up to ``batch`` stages: (how many were taken in, how many were waiting).

    The slow part — redacting and signing — is done first, in a reading transaction that
    locks nothing; the writing transaction then claims the stages (SKIP LOCKED on
    PostgreSQL, the write lock on SQLite) and stores the results. So no row and no write
    lock is held while this low-priority process computes: a coordinator's ranking, which
    updates these submissions, or a site's saves on SQLite never wait for it."""
    from recruit.domain import applications

    prepared = _prepare(db, batch=batch)
    if not prepared:
        return 0, 0

    def work() -> int:
        done = applications.take_in_queued(db, now=clock.now(), skip_locked=True,
                                           prepared=prepared)
        db.commit()
        return len(done)

    with writing():
        return when_unlocked(work, session=db), len(prepared)


def _prepare(db, *, batch: int) -> dict:
    """Redact and sign the oldest waiting stages (submission id → prepared answers)."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from recruit.domain import applications
    from recruit.domain import intake as domain
    from recruit.models import Submission

    now = clock.now()
    try:
        ids = list(db.scalars(domain.queued().limit(batch)))
        prepared = {}
        for submission in db.scalars(select(Submission).where(Submission.id.in_(ids))
                                     .options(selectinload(Submission.answers))):
            identity = applications.identity_for_redaction(db, candidacy=submission.candidacy)
            prepared[submission.id] = domain.prepare(submission.answers, identity=identity,
                                                     now=now)
        return prepared
    finally:
        db.rollback()  # end the read: the write transaction begins with the lock
