"""`recruit instance`: the instance folder with its local config and keys."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from recruit.cli.common import instance_path as _instance_path


@click.group(cls=AppGroup)
def instance():
    """The instance folder: local config, keys, SQLite database."""


@instance.command("init", with_appcontext=False)
def instance_init():
    """Create instance/config.py with a fresh secret key and encryption key (mode 600)."""
    from recruit.config import write_instance_config

    target = write_instance_config(_instance_path())
    if target is None:
        click.echo(f"{_instance_path() / 'config.py'} exists; keys kept.")
    else:
        click.echo(f"Created {target} with new random keys (mode 600). Back it up.")

