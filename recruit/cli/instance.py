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
    """Create instance/config.py with fresh random keys (mode 600), or add the keys an older
    one lacks; existing keys are never changed."""
    from recruit.config import add_missing_keys, write_instance_config

    target = write_instance_config(_instance_path())
    if target is None:
        added = add_missing_keys(_instance_path())
        extra = f"; added {', '.join(added)}" if added else ""
        click.echo(f"{_instance_path() / 'config.py'} exists; keys kept{extra}.")
    else:
        click.echo(f"Created {target} with new random keys (mode 600). Back it up.")

