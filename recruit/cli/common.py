"""Helpers shared by the command modules."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import click

from recruit import ROOT


def instance_path() -> Path:
    """The instance folder the commands work on (RECRUIT_INSTANCE_PATH or ./instance)."""
    return Path(os.environ.get("RECRUIT_INSTANCE_PATH") or ROOT / "instance")


def parse_day_or_moment(value: str, *, zone: str, end: bool) -> datetime:
    """A plain day means the whole day in ``zone`` (its start, or with ``end`` its last
    second); a date-time is taken as given (in ``zone`` unless it has an offset)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from recruit.clock import end_of_day, start_of_day

    try:
        ZoneInfo(zone)
    except (ValueError, ZoneInfoNotFoundError):
        raise click.BadParameter(f"{zone!r} is not a time zone like Europe/Moscow") from None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        return end_of_day(day, zone=zone) if end else start_of_day(day, zone=zone)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a day like 2026-12-01 or a moment like "
                                 "2026-12-01T09:00") from exc
    return (moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))).astimezone(UTC)
