"""Fail closed: no fault goes in without its ledger entry (read-only ledger, full disk), one
run per target (a lease), and a fault changed under a run makes it inconclusive.

The read-only and full-disk cases use real mounts (a read-only bind mount, a small tmpfs), as a
user's machine would have them; they need root and skip cleanly without it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gameday_helpers import (
    ROOT,
    action,
    cli_command,
    events,
    experiment,
    latest_run_dir,
    run_cli,
    wait_for_event,
    write_plan,
)

pytestmark = pytest.mark.slow





def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here ({done.stderr.strip()}): needs root")


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """`folder` becomes a read-only bind mount of itself until the block ends."""
    folder.mkdir(parents=True, exist_ok=True)
    _mount("--bind", str(folder), str(folder))
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
        yield
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@contextlib.contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> None:
    """Write until the file system says it is full."""
    with open(folder / "filler", "wb") as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 65536)
            handle.flush()


def fault_status(status: dict[str, Any]) -> dict[str, Any]:
    fault: dict[str, Any] = httpx.get(f"{status['admin_url']}/admin/status",
                                      timeout=5).json()["fault"]
    return fault


def server_errors_since(status: dict[str, Any], since: float) -> int:
    """5xx answers the target itself counted since `since`: the ground truth of injection."""
    rows = httpx.get(f"{status['admin_url']}/admin/counters", params={"since": since},
                     timeout=5).json()["seconds"]
    return sum(int(row["errors"]) for row in rows)


def errors_plan(folder: Path, *, hold: float = 8, rollbacks: bool = True,
                baseline: str = "3s", managed: bool = False) -> Path:
    clear = [action("clear", "clear_faults")] if rollbacks else []
    return write_plan(folder, [{
        "name": "errors",
        "experiment": experiment("errors", [
            action("inject", "inject_errors", pause_after=hold, ratio=0.2, ttl_s=600),
            action("clear", "clear_faults")], clear),
        "expect": {"availability": {"max_budget_consumed": "1%"}},
    }], baseline=baseline, managed=managed, tier="staging")


def start_run(plan: Path, reports: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(cli_command("gameday", "run", str(plan), "--reports", str(reports)),
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()


def one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("chaos-suite:")]
    assert lines, stderr
    return lines[-1]


def state_ledger() -> list[str]:
    folder = Path(os.environ["CHAOS_SUITE_STATE_DIR"]) / "ledger"
    return sorted(p.name for p in folder.glob("*.json")) if folder.is_dir() else []


# ---------------------------------------------------------------- no fault without its entry


def test_read_only_state_ledger_refuses_before_anything_starts(tmp_path: Path) -> None:
    plan = errors_plan(tmp_path / "p", managed=True)
    reports = tmp_path / "reports"
    with read_only(Path(os.environ["CHAOS_SUITE_STATE_DIR"]) / "ledger"):
        done = run_cli("gameday", "run", str(plan), "--reports", str(reports))
    assert done.returncode == 2, done.stderr
    line = one_error_line(done.stderr)
    assert "ledger folder" in line and "not writable" in line and "nothing was started" in line
    assert latest_run_dir(reports) is None


def test_ledger_turning_read_only_mid_run_stops_the_fault_step(
        standing: dict[str, Any], tmp_path: Path) -> None:
    """The state ledger is writable at the start, read-only by the time the fault step comes:
    the control refuses the step (fail closed), nothing is injected, exit 4 with the reason."""
    since = time.time()
    plan = errors_plan(tmp_path / "p", rollbacks=False, baseline="4s")
    reports = tmp_path / "reports"
    proc = start_run(plan, reports)
    try:
        wait_for_event(reports, "phase_started", timeout_s=60)
        with read_only(Path(os.environ["CHAOS_SUITE_STATE_DIR"]) / "ledger"):
            out, err = finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 4, out + err
    line = one_error_line(err)
    assert "fail-closed" in line and "step 'inject' not run" in line
    assert not fault_status(standing)["active"]
    assert server_errors_since(standing, since) == 0  # the target never answered a 5xx
    run_dir = latest_run_dir(reports)
    assert run_dir is not None
    record = events(run_dir)
    assert not any(e["type"] == "fault_injected" for e in record)
    assert record[-1]["type"] == "run_ended" and record[-1]["exit_code"] == 4
    assert list((run_dir / "ledger").glob("*.json")) == []  # the half-written entry is undone
    assert state_ledger() == []
    assert "nothing to recover" in run_cli("recover").stdout


def test_full_disk_under_the_run_directory(standing: dict[str, Any], tmp_path: Path) -> None:
    """The reports folder fills up during the baseline: the run ends exit 4 with one line, no
    traceback, nothing injected, no pending entry, and the record says why."""
    since = time.time()
    plan = errors_plan(tmp_path / "p", baseline="4s")
    with small_disk(tmp_path / "disk", "4m") as disk:
        reports = disk / "reports"
        proc = start_run(plan, reports)
        try:
            wait_for_event(reports, "phase_started", timeout_s=60)
            fill(disk)
            out, err = finish(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 4, out + err
        line = one_error_line(err)
        assert "No space left on device" in line or "not run" in line, line
        run_dir = latest_run_dir(reports)
        assert run_dir is not None
        ended = [e for e in events(run_dir) if e["type"] == "run_ended"]
        assert ended and ended[-1]["exit_code"] == 4  # the reserve left room for the end
    assert not fault_status(standing)["active"]
    assert server_errors_since(standing, since) == 0
    assert state_ledger() == []


# ---------------------------------------------------------------- one run per target


def test_second_run_on_the_same_target_is_refused(standing: dict[str, Any],
                                                  tmp_path: Path) -> None:
    plan = errors_plan(tmp_path / "p", hold=20, baseline="1s")
    first = start_run(plan, tmp_path / "r1")
    try:
        run_dir, _ = wait_for_event(tmp_path / "r1", "fault_injected", timeout_s=60)
        second = run_cli("gameday", "run", str(plan), "--reports", str(tmp_path / "r2"))
        dry = run_cli("gameday", "run", str(plan), "--dry-run")
        assert fault_status(standing)["active"]  # the second run cleared nothing
        first.send_signal(signal.SIGINT)
        out, err = finish(first)
    finally:
        if first.poll() is None:
            first.kill()
    assert second.returncode == 2, second.stderr
    line = one_error_line(second.stderr)
    assert "in use by run" in line and run_dir.name in line and "one run per target" in line
    assert latest_run_dir(tmp_path / "r2") is None
    assert dry.returncode == 2 and run_dir.name in one_error_line(dry.stderr)
    assert first.returncode == 3, out + err
    assert not fault_status(standing)["active"]
    # the lease ends with its run: the next run takes it
    again = run_cli("gameday", "run", str(errors_plan(tmp_path / "p2", hold=1, baseline="1s")),
                    "--reports", str(tmp_path / "r3"))
    assert again.returncode in (0, 1), again.stderr


def test_lease_of_a_killed_run_is_free_again(standing: dict[str, Any], tmp_path: Path) -> None:
    plan = errors_plan(tmp_path / "p", hold=20, baseline="1s")
    first = start_run(plan, tmp_path / "r1")
    try:
        wait_for_event(tmp_path / "r1", "fault_injected", timeout_s=60)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    # the holder is provably dead: the refusal is now about the pending revert, not the lease
    refused = run_cli("gameday", "run", str(plan), "--reports", str(tmp_path / "r2"))
    assert refused.returncode == 2 and "pending reverts" in one_error_line(refused.stderr)
    assert "reverted" in run_cli("recover").stdout
    assert not fault_status(standing)["active"]


def test_fault_changed_under_the_run_is_inconclusive(standing: dict[str, Any],
                                                    tmp_path: Path) -> None:
    plan = errors_plan(tmp_path / "p", hold=8, baseline="3s")
    proc = start_run(plan, tmp_path / "r")
    try:
        run_dir, _ = wait_for_event(tmp_path / "r", "fault_injected", timeout_s=60)
        time.sleep(1.5)
        # someone else clears the fault by hand (no run id): the run's figures are void
        httpx.delete(f"{standing['admin_url']}/admin/faults", timeout=5)
        out, err = finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode in (0, 1), out + err
    assert "changed by something outside this run" in err
    assert any(e["type"] == "fault_interference" for e in events(run_dir))
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    row = report["scenarios"][0]["slos"][0]
    assert row["verdict"] == "inconclusive", row
    assert "changed by something outside this run" in row["reason"]
