"""Runs that fail: nothing survives, every fault is reverted, the record says what happened."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
from gameday_helpers import (
    ROOT,
    action,
    assert_no_survivors,
    cli_command,
    events,
    experiment,
    only_run_dir,
    run_pids,
    wait_for_event,
    write_plan,
)

pytestmark = pytest.mark.slow


def long_errors_plan(folder: Path) -> Path:
    return write_plan(folder, [{
        "name": "errors",
        "experiment": experiment("errors for a long time", [
            action("inject", "inject_errors", pause_after=60, ratio=0.05, ttl_s=300),
            action("clear", "clear_faults")], [action("clear", "clear_faults")]),
        "expect": {"availability": {"max_budget_consumed": "1%"}},
    }], baseline="2s")


def test_load_process_dying_mid_run_is_infrastructure_error(tmp_path: Path) -> None:
    plan = long_errors_plan(tmp_path / "plan")
    reports = tmp_path / "reports"
    proc = subprocess.Popen(cli_command("gameday", "run", str(plan), "--reports", str(reports)),
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        run_dir, _ = wait_for_event(reports, "fault_injected")
        locust = next(e for e in events(run_dir) if e["type"] == "load_started")
        os.killpg(int(locust["pid"]), signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 4, out + err
    assert "load process" in err
    kinds = [e["type"] for e in events(run_dir)]
    assert kinds[-1] == "run_ended"
    ended = events(run_dir)[-1]
    assert ended["status"] == "failed" and ended["exit_code"] == 4
    assert "fault_cleared" in kinds  # the rollback ran
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    assert report["run"]["exit_code"] == 4
    assert list((run_dir / "ledger").glob("*.json")) == []
    assert_no_survivors(run_pids(run_dir))


def test_single_experiment_for_ci_writes_junit_and_fails_on_worse_burn(tmp_path: Path) -> None:
    exp = tmp_path / "errors.json"
    exp.write_text(json.dumps(experiment("20% errors for 4 s", [
        action("inject", "inject_errors", pause_after=4, ratio=0.2, ttl_s=60),
        action("clear", "clear_faults")], [action("clear", "clear_faults")])), encoding="utf-8")
    reports = tmp_path / "reports"
    result = subprocess.run(
        cli_command("run", str(exp), "--slos", "gamedays/slos/checkout.yaml", "--slo",
                    "availability", "--env", "local", "--users", "10", "--baseline", "3s",
                    "--cooldown", "2s", "--max-budget", "0.001%", "--reports", str(reports)),
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    # 20% for 4 s ≈ 0.03% of a 30-day budget: far above the 0.001% the command line expected
    assert result.returncode == 1, result.stdout + result.stderr
    run_dir = only_run_dir(reports)
    import xml.etree.ElementTree as ET

    suite = ET.parse(run_dir / "junit.xml").getroot()
    failures = suite.findall(".//failure")
    assert failures and "worse-than-expected" in ET.tostring(suite, encoding="unicode")
    assert "worse-than-expected" in result.stdout


def test_managed_supervisor_killed_mid_run_leaves_no_pending_entry(tmp_path: Path) -> None:
    """The managed target's supervisor dies under the fault: the reverts cannot reach it, but
    its faults died with it, so the run clears its own entries and the target's folder."""
    plan = long_errors_plan(tmp_path / "plan")
    reports = tmp_path / "reports"
    proc = subprocess.Popen(cli_command("gameday", "run", str(plan), "--reports", str(reports)),
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        run_dir, _ = wait_for_event(reports, "fault_injected")
        ready = next(e for e in events(run_dir) if e["type"] == "target_ready")
        os.kill(int(ready["pids"][0]), signal.SIGKILL)  # the supervisor
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 4, out + err
    assert "unreachable" in err and "Traceback" not in err
    state = Path(os.environ["CHAOS_SUITE_STATE_DIR"])
    assert list((state / "ledger").glob("*.json")) == []
    assert not (state / "managed" / run_dir.name).exists()
    assert list((run_dir / "ledger").glob("*.json")) == []
    assert_no_survivors(run_pids(run_dir))
