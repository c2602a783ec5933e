"""The application's clock: one place that tells the time, so tests can freeze it."""

from __future__ import annotations

from datetime import datetime

from recruit.db import utcnow


def now() -> datetime:
    """The current time, timezone-aware UTC (tests monkeypatch this to stop or move time)."""
    return utcnow()
