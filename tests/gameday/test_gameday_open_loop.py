"""A latency fault under closed- and open-loop load, end to end on the embedded target.

Locust users wait for each response, so 300 ms answers cut a closed loop's requests to a
fraction: the time-weighted budget (every second alike) and the event-weighted one (bad events
against the baseline's traffic) part, and the report warns. An arrival shape holds the rate by
adding users, so the fault window's throughput stays the baseline's and the two agree; with
2 Locust workers too (the shape on the master, sized by the workers' request cycles)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from gameday_helpers import action, events, experiment, only_run_dir, run_cli, write_plan

pytestmark = pytest.mark.slow

FAULT_S = 10


def _plan(folder: Path, shape: dict[str, Any]) -> Path:
    path = write_plan(folder, [{
        "name": "latency-300ms",
        "experiment": experiment("300 ms slower", [
            action("inject", "inject_latency", pause_after=FAULT_S, latency_ms=300, ttl_s=60),
            action("clear", "clear_faults")], [action("clear", "clear_faults")]),
        "expect": {"latency": {"max_budget_consumed": "1%"},
                   "availability": {"max_budget_consumed": "1%"}},
    }], baseline="5s", cooldown="3s")
    plan = yaml.safe_load(path.read_text())
    plan["load"]["shape"] = shape
    plan["hypothesis"] = {"window": "2s", "max_burn_rate": 1000}  # the fault is expected
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return path


def _latency_row(tmp_path: Path, shape: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    plan = _plan(tmp_path / "plan", shape)
    result = run_cli("gameday", "run", str(plan), "--reports", str(tmp_path / "r"))
    assert result.returncode == 0, result.stdout + result.stderr
    run_dir = only_run_dir(tmp_path / "r")
    scenario = json.loads((run_dir / "report.json").read_text())["scenarios"][0]
    row = next(r for r in scenario["slos"] if r["slo"] == "latency")
    print(json.dumps(row["weighting"]), row["observed"]["budget_consumed"])  # the figures, with -s
    return row, scenario["warnings"]


def test_open_loop_holds_the_rate_and_the_weightings_agree(tmp_path: Path) -> None:
    row, warnings = _latency_row(tmp_path, {"kind": "arrival", "rate": 200, "max_users": 150})
    rates = row["weighting"]["events_per_second"]
    assert rates["fault"] == pytest.approx(rates["baseline"], rel=0.2)
    assert rates["baseline"] == pytest.approx(200, rel=0.2)
    time_weighted = row["observed"]["budget_consumed"]
    event_weighted = row["weighting"]["events"]["budget_consumed"]
    assert time_weighted > 0 and event_weighted == pytest.approx(time_weighted, rel=0.2)
    assert row["counts"]["fault"]["total"] > 0.8 * FAULT_S * rates["baseline"]
    assert warnings == []


def test_closed_loop_under_the_same_fault_warns(tmp_path: Path) -> None:
    row, warnings = _latency_row(tmp_path, {"kind": "steady", "users": 10, "spawn_rate": 10})
    rates = row["weighting"]["events_per_second"]
    assert rates["fault"] < 0.5 * rates["baseline"]
    assert row["weighting"]["differ"] is True
    assert row["weighting"]["events"]["budget_consumed"] < 0.5 * row["observed"]["budget_consumed"]
    assert len(warnings) == 1 and "below half the baseline's" in warnings[0]


def test_open_loop_holds_the_rate_across_two_workers(tmp_path: Path) -> None:
    """The shape runs on the Locust master, which makes no request: it sizes the users by
    the cycles the 2 workers report. Measured by the target's own counters: the rate holds
    through the baseline and the 300 ms fault alike."""
    rate = 200
    plan_path = _plan(tmp_path / "plan", {"kind": "arrival", "rate": rate, "max_users": 150})
    plan = yaml.safe_load(plan_path.read_text())
    plan["load"]["workers"] = 2
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False))
    result = run_cli("gameday", "run", str(plan_path), "--reports", str(tmp_path / "r"))
    assert result.returncode == 0, result.stdout + result.stderr
    run_dir = only_run_dir(tmp_path / "r")
    record = events(run_dir)
    assert not any(e["type"] == "worker_lost" for e in record)
    server = {int(row["t"]): int(row["total"])
              for row in json.loads((run_dir / "server_counters.json").read_text())}

    def served(start: float, end: float) -> float:
        """The target's requests a second over the whole seconds of [start, end)."""
        seconds = range(math.ceil(start), math.floor(end))
        return sum(server.get(t, 0) for t in seconds) / len(seconds)

    baseline = next(e for e in record if e["type"] == "phase_started")["t"]
    injected = next(e["t"] for e in record if e["type"] == "fault_injected")
    cleared = next(e["t"] for e in record if e["type"] == "fault_cleared")
    # the baseline from its second second (the first users still start), the fault from
    # its second (the users added for 300 ms responses start within about one)
    before, during = served(baseline + 1, injected), served(injected + 1, cleared)
    users = [json.loads(line).get("users") for line in
             (run_dir / "samples.jsonl").read_text().splitlines()]
    print(f"2 workers, target {rate}/s: served {before:.1f}/s before the fault, "
          f"{during:.1f}/s during it; users {users}")  # the figures, with -s
    assert before == pytest.approx(rate, rel=0.15)
    assert during == pytest.approx(rate, rel=0.15)
    # 300 ms answers: about rate × 0.3 users busy, where the baseline needs rate / 10
    assert max(u for u in users if u is not None) >= 0.8 * rate * 0.3
