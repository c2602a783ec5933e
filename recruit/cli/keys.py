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
    """Add a new key, re-encrypt every identity with it, keep the old key for decryption."""
    from cryptography.fernet import Fernet

    from recruit.db import get_db
    from recruit.vault import Vault, rotate_all

    new_key = Fernet.generate_key().decode()
    keys_now = [new_key, *current_app.config["ENCRYPTION_KEYS"]]
    session = get_db()
    count = rotate_all(session, vault=Vault(keys_now))
    config_file = Path(current_app.instance_path, "config.py")
    if config_file.exists():
        text = config_file.read_text(encoding="utf-8")
        text += "\n# Rotated by `recruit keys rotate`; the first key encrypts.\n"
        text += f"ENCRYPTION_KEYS = {keys_now!r}\n"
        config_file.write_text(text, encoding="utf-8")
        session.commit()
        click.echo(f"Re-encrypted {count} identities; new key written to {config_file}.")
    else:
        session.commit()
        click.echo(f"Re-encrypted {count} identities. Set RECRUIT_ENCRYPTION_KEYS to:")
        click.echo(",".join(keys_now))
    current_app.extensions["recruit.vault"] = Vault(keys_now)


@click.group(cls=AppGroup)
def audit():
    """The audit log."""


@audit.command("verify")
@with_appcontext
def audit_verify():
    """Check the hash chain; report the first broken link."""
    from recruit.db import get_db
    from recruit.domain import audit as audit_log

    count, broken = audit_log.verify(get_db())
    if broken:
        click.echo(f"BROKEN at event {broken.event_id}: {broken.problem} "
                   f"({count} events checked).", err=True)
        sys.exit(1)
    click.echo(f"Audit log intact: {count} events.")

