"""The small deadline storm CI runs: 30 s on each set-up (embedded SQLite; PostgreSQL with four
workers, Redis and two mail workers). It fails on a lost save, a 5xx, a stage left open or a
message sent twice or not at all — never on latency (the machine may be busy)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from recruit import ROOT

pytestmark = pytest.mark.e2e


def test_a_short_storm_on_each_set_up_loses_no_save_and_answers_no_5xx(tmp_path):
    out = tmp_path / "storm.json"
    done = subprocess.run([sys.executable, "-m", "bench.storm", "--quick", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=1200, check=False)
    report = done.stdout + done.stderr[-3000:]
    runs = json.loads(out.read_text())["runs"]
    assert {run["setup"] for run in runs} == {"embedded", "scaleout"}, report
    for run in runs:
        assert run["error"] is None, report
        assert run["lost"] == 0 and run["server_errors"] == {}, report
        assert run["counts"].get("saves acknowledged", 0) > 0, report
        # The deadline fell inside the run: the job handed in what nobody submitted by hand.
        assert run["left_open"] == 0 and run["submitted_by_job"] > 0, report
        handed_in = run["submitted_by_hand"] + run["submitted_automatically"]
        assert handed_in == run["applicants"], report
        assert run["submitted_by_job"] <= run["submitted_automatically"], report
        assert run["mail_duplicates"] == 0 and run["mail_missing"] == 0, report
        assert run["passed"], report
    assert done.returncode == 0, report
