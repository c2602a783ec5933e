"""Helpers shared by the command modules."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO

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


class _Quiet:
    """The stand-in for a progress bar where nobody watches: same calls, no output."""

    def __init__(self, iterable: Iterable | None, length: int | None):
        self._iterable = iterable
        self.length = length
        self.pos = 0

    def __enter__(self) -> _Quiet:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def __iter__(self) -> Iterator:
        return iter(self._iterable or ())

    def update(self, n_steps: int) -> None:
        """Count ``n_steps`` more steps done."""
        self.pos += n_steps


def terminal() -> IO[str]:
    """Where progress is drawn: stderr, so stdout stays the command's result."""
    return sys.stderr


def progress(iterable: Iterable | None = None, *, length: int | None = None, label: str,
             file: IO[str] | None = None):
    """A progress bar on stderr when stderr is a terminal; silent in cron, pipes and logs.

    Use it like ``click.progressbar`` (a context manager with ``update(n)``, or iterate it).
    """
    stream = file if file is not None else terminal()
    isatty = getattr(stream, "isatty", None)
    if not (isatty and isatty()):
        return _Quiet(iterable, length)
    return click.progressbar(iterable, length=length, label=label, file=stream, show_pos=True,
                             show_eta=True)


def follow(bar) -> Callable[[int, int], None]:
    """An ``on_progress(done, total)`` callback that moves ``bar`` to ``done`` of ``total``."""

    def advance(done: int, total: int) -> None:
        bar.length = total
        bar.update(done - bar.pos)

    return advance
