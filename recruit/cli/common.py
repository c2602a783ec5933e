"""Helpers shared by the command modules."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import click

from recruit import ROOT


def instance_path() -> Path:
    """The instance folder the commands work on (RECRUIT_INSTANCE_PATH or ./instance)."""
    return Path(os.environ.get("RECRUIT_INSTANCE_PATH") or ROOT / "instance")


def parse_date(value: str) -> datetime:
    """An ISO date or date-time from the command line; UTC unless an offset is given."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date like 2026-12-01 or "
                                 "2026-12-01T09:00") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
