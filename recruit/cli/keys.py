"""`recruit keys` and `recruit audit`: the vault's encryption keys and the audit chain."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from recruit.db import writes


@click.group(cls=AppGroup)
def keys():
    """Encryption keys of the identity vault."""


@keys.command("rotate")
@with_appcontext
@writes
def keys_rotate():
    """Add a new key, re-encrypt every identity and answer original with it, keep the old key
    for decryption."""
    from cryptography.fernet import Fernet

    from recruit.db import get_db
    from recruit.vault import Vault, rotate_all

    new_key = Fernet.generate_key().decode()
    keys_now = [new_key, *current_app.config["ENCRYPTION_KEYS"]]
    session = get_db()
    identities, answers = rotate_all(session, vault=Vault(keys_now))
    done = f"Re-encrypted {identities} identities and {answers} answer originals"
    config_file = Path(current_app.instance_path, "config.py")
    if config_file.exists():
        text = config_file.read_text(encoding="utf-8")
        text += "\n# Rotated by `recruit keys rotate`; the first key encrypts.\n"
        text += f"ENCRYPTION_KEYS = {keys_now!r}\n"
        config_file.write_text(text, encoding="utf-8")
        session.commit()
        click.echo(f"{done}; new key written to {config_file}.")
    else:
        session.commit()
        click.echo(f"{done}. Set RECRUIT_ENCRYPTION_KEYS to:")
        click.echo(",".join(keys_now))
    current_app.extensions["recruit.vault"] = Vault(keys_now)


@click.group(cls=AppGroup)
def audit():
    """The audit log."""


def _verified(session):
    """Verify the chain against the checkpoint; stop with the problem named if it fails."""
    from recruit.domain import audit as audit_log

    count, broken = audit_log.verify(session, checkpoint=audit_log.checkpoint_path())
    if broken:
        where = f"at event {broken.event_id}: " if broken.event_id is not None else ""
        click.echo(f"BROKEN {where}{broken.problem} ({count} events checked).", err=True)
        sys.exit(1)
    return count


@audit.command("verify")
@with_appcontext
def audit_verify():
    """Check the keyed hash chain and its checkpoint; name the first thing that is wrong."""
    from recruit.db import get_db

    count = _verified(get_db())
    click.echo(f"Audit log intact: {count} events.")


@audit.command("checkpoint")
@with_appcontext
def audit_checkpoint():
    """Start the checkpoint from the log as it is (for a log older than checkpoints, or after
    a restore); the chain itself must verify."""
    from recruit.db import get_db
    from recruit.domain import audit as audit_log

    session = get_db()
    count, broken = audit_log.verify(session)
    if broken:
        click.echo(f"BROKEN at event {broken.event_id}: {broken.problem}; no checkpoint "
                   "written.", err=True)
        sys.exit(1)
    head = audit_log.head(session)
    if head is None:
        click.echo("The audit log is empty; nothing to checkpoint.")
        return
    audit_log.write_checkpoint(audit_log.checkpoint_path(), head, force=True)
    click.echo(f"Checkpoint written: {count} events, head {head.hash[:12]}… "
               f"({audit_log.checkpoint_path()}).")


@audit.command("rotate-key")
@with_appcontext
@writes
def audit_rotate_key():
    """Add a new audit key, sign the whole chain again with it (after checking it with the old
    keys), keep the old keys so workers not yet restarted still verify."""
    import secrets

    from recruit.db import get_db
    from recruit.domain import audit as audit_log

    session = get_db()
    count = _verified(session)
    new_key = secrets.token_urlsafe(32)
    keys_now = [new_key, *current_app.config["AUDIT_KEYS"]]
    audit_log.resign(session, key=new_key)
    head = audit_log.head(session)
    config_file = Path(current_app.instance_path, "config.py")
    if config_file.exists():
        with config_file.open("a", encoding="utf-8") as fh:
            fh.write("\n# Rotated by `recruit audit rotate-key`; the first key signs.\n"
                     f"AUDIT_KEYS = {keys_now!r}\n")
    session.commit()
    if head is not None:
        audit_log.write_checkpoint(audit_log.checkpoint_path(), head, force=True)
    current_app.config["AUDIT_KEYS"] = keys_now
    if config_file.exists():
        click.echo(f"Signed {count} events with a new key; written to {config_file}. Restart "
                   "the web and mail workers.")
    else:
        click.echo(f"Signed {count} events with a new key. Set RECRUIT_AUDIT_KEYS to:")
        click.echo(",".join(keys_now))
