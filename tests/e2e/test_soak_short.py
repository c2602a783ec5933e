"""The soak script works: a short run with 20 applicants loses no acknowledged save."""

from __future__ import annotations

import pytest

from bench.soak import Settings, run_soak

pytestmark = pytest.mark.e2e


def test_a_short_soak_with_a_killed_worker_loses_nothing(db_kind):
    figures = run_soak(Settings(applicants=20, duration=8.0, interval=1.0,
                                postgresql=db_kind == "postgresql"), say=lambda _m: None)
    report = figures.report()
    assert figures.killed_pid is not None and figures.respawned, report
    assert figures.acknowledged > 20 and figures.acknowledged_after_kill > 0, report
    assert figures.lost == 0, report
    assert figures.ok, report
