"""The application's clock: one place that tells the time, so tests can freeze it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from recruit.db import utcnow


def now() -> datetime:
    """The current time, timezone-aware UTC (tests monkeypatch this to stop or move time)."""
    return utcnow()


def start_of_day(day: date, *, zone: str) -> datetime:
    """The first instant of a calendar day in a time zone, in UTC."""
    return datetime.combine(day, time.min, ZoneInfo(zone)).astimezone(UTC)


def end_of_day(day: date, *, zone: str) -> datetime:
    """The last second of a calendar day in a time zone, in UTC: a date a coordinator gives
    as a deadline ("closes on 31 December") lasts until this moment."""
    return datetime.combine(day, time(23, 59, 59), ZoneInfo(zone)).astimezone(UTC)


def local_day(moment: datetime, *, zone: str) -> date:
    """The calendar day a moment falls on in a time zone."""
    return moment.astimezone(ZoneInfo(zone)).date()
