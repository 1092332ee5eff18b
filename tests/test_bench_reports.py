"""bench/reports.py still runs: a tiny database, every shipped report, its rows and plan."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_reports_benchmark_runs_every_shipped_report(kind, capsys):
    sys.path.insert(0, str(BENCH))
    try:
        import reports as bench_reports
        bench_reports.main(["--database", kind, "--scale", "0.001", "--rounds", "1"])
    finally:
        sys.path.remove(str(BENCH))
    printed = capsys.readouterr().out
    shipped = sorted(path.stem for path in (BENCH.parent / "definitions/reports").glob("*.json"))
    listed = re.findall(r"^  (\S+) +rows +(\d+) +[\d.]+ ms$", printed, re.MULTILINE)
    keys = [key for key, _ in listed if "@" not in key]
    assert keys == shipped * 2  # without the new indexes, then with them
    assert "on_time_rate_by_step@30d" in dict(listed)  # a report with a period, once more
    rows = dict(listed)
    assert int(rows["escalations_by_step"]) > 0 and int(rows["open_tasks_by_step"]) > 0
    plans = re.findall(r"^      plan: (.+)$", printed, re.MULTILINE)
    assert len(plans) == len(listed)
    assert any("ix_task_escalated" in plan for plan in plans)
    assert f"before → after ({kind}):" in printed
