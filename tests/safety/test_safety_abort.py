"""The safeguard: injected errors beyond the plan's abort rule stop the run, roll back, exit 3,
and the record shows the sample that crossed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gameday_helpers import action, events, experiment, only_run_dir, run_cli, write_plan

pytestmark = pytest.mark.slow


def test_burn_above_abort_rule_aborts_and_rolls_back(tmp_path: Path) -> None:
    plan = write_plan(tmp_path / "p", [{
        "name": "errors-50pct",
        "experiment": experiment("half the requests fail", [
            action("inject", "inject_errors", pause_after=40, ratio=0.5, ttl_s=120),
            action("clear", "clear_faults")], [action("clear", "clear_faults")]),
        "expect": {"availability": {"max_budget_consumed": "1%"}},
    }], baseline="3s", abort={"burn_rate": 100, "long_window": "6s", "short_window": "2s"})
    reports = tmp_path / "r"
    result = run_cli("gameday", "run", str(plan), "--reports", str(reports), timeout=120)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "safeguard" in result.stderr
    run_dir = only_run_dir(reports)
    record = events(run_dir)
    abort = next(e for e in record if e["type"] == "abort")
    detail = abort["detail"]
    assert detail["rule"] == "burn-rate" and detail["slo"] == "availability"
    assert detail["burn_rate_long"] > 100 and detail["burn_rate_short"] > 100
    crossing = detail["sample"]
    assert crossing["total"] > 0 and crossing["good"] < crossing["total"]
    # the crossing sample is one the record holds
    stored = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    assert any(s["t"] == crossing["t"] for s in stored)
    # stopped long before the 40 s pause ended, and the rollback ran after the abort
    injected = next(e for e in record if e["type"] == "fault_injected")
    cleared = [e for e in record if e["type"] == "fault_cleared" and e["t"] > abort["t"]]
    assert cleared and cleared[0]["t"] - injected["t"] < 20
    rollbacks = [e for e in record if e["type"] == "rollbacks_started"]
    assert rollbacks and rollbacks[0]["t"] >= abort["t"]
    ended = record[-1]
    assert ended["type"] == "run_ended" and ended["status"] == "aborted" and ended["exit_code"] == 3
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    assert report["run"]["status"] == "aborted" and report["run"]["exit_code"] == 3
    assert "safeguard" in (run_dir / "report.md").read_text(encoding="utf-8")
