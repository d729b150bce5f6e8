"""The core loop end to end, through the CLI: a short gameday on the embedded target, checked
against the target's own server-side counters."""

from __future__ import annotations

import json
from typing import Any

import pytest
from gameday_helpers import (
    action,
    assert_no_survivors,
    events,
    experiment,
    only_run_dir,
    run_cli,
    run_pids,
    samples,
    write_plan,
)

from chaos_suite.report.truth import compare_with_server

pytestmark = pytest.mark.slow

ERROR_RATIO = 0.10
FAULT_S = 8


@pytest.fixture(scope="module")
def loop_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("loop")
    # expected: 10% errors for 8 s at 99.9% over 30 d → 0.1/0.001 × 8/2592000 ≈ 0.031%
    scenarios = [
        {"name": "no-fault",
         "experiment": experiment("nothing happens", [
             {"type": "probe", "name": "alive", "pauses": {"after": 6},
              "provider": {"type": "python", "module": "chaos_suite.faults.local",
                           "func": "replicas_alive"}}]),
         "expect": {"availability": {"max_budget_consumed": "0.001%"}}},
        {"name": "errors",
         "experiment": experiment("10% errors", [
             action("inject", "inject_errors", pause_after=FAULT_S, ratio=ERROR_RATIO, ttl_s=60),
             action("clear", "clear_faults")], [action("clear", "clear_faults")]),
         "expect": {"availability": {"min_budget_consumed": "0.02%",
                                     "max_budget_consumed": "0.05%"}}},
        {"name": "kill-only-replica",
         "experiment": experiment("kill the only replica", [
             action("kill", "kill_replica", pause_after=4, index=0)],
             [action("wait", "wait_replicas_alive", timeout_s=20)]),
         "expect": {"availability": {"max_budget_consumed": "1%"}}},
    ]
    plan = write_plan(folder / "plan", scenarios, replicas=1)
    reports = folder / "reports"
    # Module-scoped, so the per-test isolated_state is not active yet: give the run its own state
    # folder, set only around the run (run_cli copies os.environ) and restored after it.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CHAOS_SUITE_STATE_DIR", str(folder / "state"))
        result = run_cli("gameday", "run", str(plan), "--reports", str(reports))
    run_dir = only_run_dir(reports)
    return {"result": result, "run_dir": run_dir,
            "report": json.loads((run_dir / "report.json").read_text(encoding="utf-8"))}


def scenario(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in report["scenarios"] if s["name"] == name)


def test_run_succeeds_and_says_where_the_report_is(loop_run: dict[str, Any]) -> None:
    result = loop_run["result"]
    assert result.returncode == 0, result.stdout + result.stderr
    assert str(loop_run["run_dir"] / "report.md") in result.stdout
    assert loop_run["report"]["schema"] == "chaos-suite/report/v1"
    assert loop_run["report"]["run"]["status"] == "completed"


def test_error_burn_matches_server_side_truth_within_1pct(loop_run: dict[str, Any]) -> None:
    rows = {r["scenario"]: r for r in compare_with_server(loop_run["run_dir"])}
    errors = rows["errors"]
    assert errors["server_attributed"] > 0
    assert errors["relative_difference"] < 0.01, errors
    # and the figure is the one the arithmetic predicts for the injected ratio and duration
    observed = scenario(loop_run["report"], "errors")["slos"][0]
    assert observed["verdict"] == "as-expected", observed["reason"]
    assert observed["observed"]["error_ratio"] == pytest.approx(ERROR_RATIO, abs=0.02)


def test_no_fault_scenario_burns_nothing(loop_run: dict[str, Any]) -> None:
    row = scenario(loop_run["report"], "no-fault")["slos"][0]
    assert row["observed"]["budget_consumed_attributed"] == pytest.approx(0.0, abs=1e-7)
    assert row["counts"]["fault"]["total"] > 100  # measured, not "no data"
    server = {r["scenario"]: r for r in compare_with_server(loop_run["run_dir"])}["no-fault"]
    assert server["server_attributed"] == pytest.approx(0.0, abs=1e-7)


def test_killed_replica_burns_then_recovers(loop_run: dict[str, Any]) -> None:
    run_dir = loop_run["run_dir"]
    kill = next(e for e in events(run_dir)
                if e["type"] == "fault_injected" and e.get("scenario") == "kill-only-replica")
    series = [(t, g, n) for t, g, n in samples(run_dir, "availability") if t >= int(kill["t"])]
    bad_seconds = [t for t, g, n in series if n > g]
    assert bad_seconds, "killing the only replica must show failed requests"
    tail = [s for s in series if s[0] > max(bad_seconds)]
    assert len(tail) >= 3 and all(g == n for _, g, n in tail), "no recovery after restart"
    journal = json.loads(next((run_dir / "journals").glob("*kill-only-replica.json")).read_text())
    rollback = journal["rollbacks"][0]
    assert rollback["status"] == "succeeded" and rollback["output"] == 1  # supervisor restarted it
    assert scenario(loop_run["report"], "kill-only-replica")["slos"][0]["observed"][
        "budget_consumed_attributed"] > 0


def test_record_is_complete_and_ledger_clean(loop_run: dict[str, Any]) -> None:
    run_dir = loop_run["run_dir"]
    kinds = [e["type"] for e in events(run_dir)]
    for expected in ("run_started", "target_ready", "load_started", "phase_started",
                     "fault_injected", "fault_cleared", "activity_started", "run_ended"):
        assert expected in kinds
    assert len(list((run_dir / "journals").glob("*.json"))) == 3
    assert list((run_dir / "ledger").glob("*.json")) == []  # every fault reverted
    assert len(list((run_dir / "ledger" / "cleared").glob("*.json"))) >= 2
    rerendered = run_cli("report", str(run_dir), "--format", "json")
    assert rerendered.returncode == 0
    again = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    assert again["scenarios"] == loop_run["report"]["scenarios"]


def test_no_process_survives(loop_run: dict[str, Any]) -> None:
    pids = run_pids(loop_run["run_dir"])
    assert len(pids) >= 3  # supervisor, replica, locust
    assert_no_survivors(pids)
