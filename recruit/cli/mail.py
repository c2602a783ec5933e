"""`recruit mail`: the outbox and its workers."""

from __future__ import annotations

import os
import socket
import time

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from recruit.db import when_unlocked, writes


@click.group(cls=AppGroup)
def mail():
    """The outbox."""


@mail.command("worker")
@click.option("--once", is_flag=True,
              help="Send everything that is due now, in batches, then stop.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between polls.")
@with_appcontext
@writes
def mail_worker(once, interval):
    """Drain the outbox; several workers may run at once."""
    from recruit import mail as mail_module
    from recruit.db import get_db

    sender = mail_module.make_sender(current_app.config)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    session = get_db()
    while True:
        sent, failed = when_unlocked(
            lambda: mail_module.deliver_due(session, sender=sender, worker=worker),
            session=session)
        if sent or failed:
            click.echo(f"sent {sent}, failed {failed}")
        if once:
            break
        time.sleep(interval)
