"""No fault is ever left behind: SIGKILL of the runner mid-fault, then `recover`; SIGINT and
SIGTERM abort with rollbacks and a written record."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from gameday_helpers import (
    ROOT,
    action,
    assert_no_survivors,
    cli_command,
    events,
    experiment,
    latest_run_dir,
    run_cli,
    wait_for_event,
    write_plan,
)

pytestmark = pytest.mark.slow





def fault_plan(folder: Path, func: str = "inject_errors", rollback_pause: float = 0,
               **arguments: Any) -> Path:
    clear = action("clear", "clear_faults")
    if rollback_pause:
        clear["pauses"] = {"before": rollback_pause}
    return write_plan(folder, [{
        "name": "fault",
        "experiment": experiment("a long fault", [
            action("inject", func, pause_after=60, ttl_s=600, **arguments),
            action("clear", "clear_faults")], [clear]),
        "expect": {"availability": {"max_budget_consumed": "1%"}},
    }], baseline="1s", managed=False, tier="staging")


def fault_active(status: dict[str, Any]) -> bool:
    return bool(httpx.get(f"{status['admin_url']}/admin/status", timeout=5).json()["fault"]["active"])


def start_run(plan: Path, reports: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(cli_command("gameday", "run", str(plan), "--reports", str(reports)),
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_injected(reports: Path) -> Path:
    # a bound on waiting, not a speed check: on 2 busy cores a run's start-up can take a while
    return wait_for_event(reports, "fault_injected", timeout_s=90)[0]


def locust_pid(run_dir: Path) -> int | None:
    return next((int(e["pid"]) for e in events(run_dir) if e["type"] == "load_started"), None)


def test_sigkill_at_random_moments_then_recover(standing: dict[str, Any], tmp_path: Path) -> None:
    rng = random.Random(20261124)
    injected_rounds = 0
    for round_no in range(10):
        reports = tmp_path / f"r{round_no}"
        kind = ("inject_errors", {"ratio": 0.3}) if round_no % 2 == 0 else \
            ("inject_latency", {"latency_ms": 200})
        plan = fault_plan(tmp_path / f"p{round_no}", kind[0], **kind[1])
        proc = start_run(plan, reports)
        try:
            if round_no < 7:  # most rounds: kill while the fault is active, at a random moment
                wait_injected(reports)
                time.sleep(rng.uniform(0.0, 2.0))
            else:  # the others: anywhere from start-up on
                time.sleep(rng.uniform(0.5, 4.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
        run_dir = latest_run_dir(reports)
        was_injected = bool(run_dir and any(e["type"] == "fault_injected" for e in events(run_dir)))
        if was_injected:
            injected_rounds += 1
            assert fault_active(standing), f"round {round_no}: SIGKILL must leave the fault"
        recovered = run_cli("recover")
        assert recovered.returncode == 0, recovered.stderr
        if was_injected:
            assert "reverted" in recovered.stdout
        assert not fault_active(standing), f"round {round_no}: recover left the fault"
        pid = locust_pid(run_dir) if run_dir else None
        if pid:
            assert_no_survivors([pid])
    assert injected_rounds >= 7
    # the target serves clean traffic again
    answers = [httpx.get(f"{standing['url']}/api/products", timeout=5).status_code
               for _ in range(50)]
    assert answers == [200] * 50


def test_pending_revert_blocks_the_next_run(standing: dict[str, Any], tmp_path: Path) -> None:
    plan = fault_plan(tmp_path / "p", ratio=0.3)
    proc = start_run(plan, tmp_path / "r1")
    try:
        wait_injected(tmp_path / "r1")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    refused = run_cli("gameday", "run", str(plan), "--dry-run")
    assert refused.returncode == 2 and "pending reverts" in refused.stderr  # as the real run
    refused = run_cli("gameday", "run", str(plan), "--reports", str(tmp_path / "r2"))
    assert refused.returncode == 2
    assert "pending reverts" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r2").exists()
    assert fault_active(standing)
    recovered = run_cli("recover")
    assert "reverted inject_errors" in recovered.stdout
    assert not fault_active(standing)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_operator_signal_aborts_with_rollbacks(standing: dict[str, Any], tmp_path: Path,
                                               sig: signal.Signals) -> None:
    # the rollback waits 1.5 s before clearing: a second signal lands while it runs
    plan = fault_plan(tmp_path / "p", rollback_pause=1.5, ratio=0.3)
    reports = tmp_path / "r"
    proc = start_run(plan, reports)
    try:
        run_dir = wait_injected(reports)
        time.sleep(0.5)
        proc.send_signal(sig)
        time.sleep(0.5)
        proc.send_signal(sig)  # a second signal must not skip the rollbacks
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, out + err
    assert not fault_active(standing)
    record = events(run_dir)
    ended = record[-1]
    assert ended["type"] == "run_ended" and ended["status"] == "aborted"
    assert ended["exit_code"] == 3 and ended["reason"] == "operator"
    rollback_ends = [e for e in record if e["type"] == "activity_ended" and e.get("rollback")]
    assert rollback_ends and rollback_ends[-1]["status"] == "succeeded"
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    assert report["run"]["status"] == "aborted"
    assert list((run_dir / "ledger").glob("*.json")) == []
    pid = locust_pid(run_dir)
    assert pid is not None
    assert_no_survivors([pid])
    assert os.listdir(Path(os.environ["CHAOS_SUITE_STATE_DIR"]) / "ledger") == []


def _processes_with_env(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_recover_stops_what_a_killed_rollback_started(standing: dict[str, Any],
                                                      tmp_path: Path) -> None:
    """SIGKILL while a rollback's `sleep` runs: the child is orphaned; `recover` finds it by
    the run id it inherited and stops it, then replays the reverts."""
    sleep = {"type": "action", "name": "settle",
             "provider": {"type": "process", "path": "sleep", "arguments": "30"}}
    plan = write_plan(tmp_path / "p", [{
        "name": "fault",
        "experiment": experiment("fault, then a slow rollback", [
            action("inject", "inject_errors", pause_after=1, ratio=0.3, ttl_s=600)],
            [sleep, action("clear", "clear_faults")]),
        "expect": {"availability": {"max_budget_consumed": "1%"}},
    }], baseline="1s", managed=False, tier="local")
    reports = tmp_path / "r"
    proc = start_run(plan, reports)
    try:
        run_dir, _ = wait_for_event(reports, "rollbacks_started", timeout_s=60)
        marker = f"CHAOS_SUITE_RUN_ID={run_dir.name}"
        deadline = time.monotonic() + 10
        while not _processes_with_env(marker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _processes_with_env(marker), "the rollback's sleep should be running"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    orphans = _processes_with_env(marker)
    assert orphans  # still there after the runner died
    recovered = run_cli("recover")
    assert recovered.returncode == 0, recovered.stderr
    assert "killed process" in recovered.stdout
    assert_no_survivors(orphans)
    assert not fault_active(standing)
