"""The load is watched, not just kept alive: a Locust that stops sending samples (SIGSTOP) ends
the run with rollbacks (exit 4) when the silence is long, and a short one is left out of the
figures with the verdict saying so."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from gameday_helpers import (
    ROOT,
    action,
    cli_command,
    events,
    experiment,
    wait_for_event,
    write_plan,
)

pytestmark = pytest.mark.slow


def plan(folder: Path, hold: float) -> Path:
    return write_plan(folder, [{
        "name": "errors",
        "experiment": experiment("errors", [
            action("inject", "inject_errors", pause_after=hold, ratio=0.05, ttl_s=120),
            action("clear", "clear_faults")], [action("clear", "clear_faults")]),
        "expect": {"availability": {"max_budget_consumed": "5%"}},
    }], baseline="3s", cooldown="2s")


def stall_locust(folder: Path, seconds: float | None) -> tuple[subprocess.Popen[str], Path, str, str]:
    reports = folder / "reports"
    proc = subprocess.Popen(cli_command("gameday", "run", str(plan(folder, 12)), "--reports",
                                        str(reports)), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    locust = 0
    try:
        run_dir, _ = wait_for_event(reports, "fault_injected", timeout_s=60)
        locust = next(int(e["pid"]) for e in events(run_dir) if e["type"] == "load_started")
        time.sleep(1.0)
        os.kill(locust, signal.SIGSTOP)
        if seconds is not None:
            time.sleep(seconds)
            os.kill(locust, signal.SIGCONT)
        out, err = proc.communicate(timeout=120)
    finally:
        if locust:
            with contextlib.suppress(ProcessLookupError):
                os.kill(locust, signal.SIGCONT)
        if proc.poll() is None:
            proc.kill()
    return proc, run_dir, out, err


def test_a_stalled_load_generator_ends_the_run_with_rollbacks(tmp_path: Path) -> None:
    proc, run_dir, out, err = stall_locust(tmp_path, None)
    assert proc.returncode == 4, out + err
    assert "stalled" in err and "Traceback" not in err
    record = events(run_dir)
    assert record[-1]["type"] == "run_ended" and record[-1]["exit_code"] == 4
    rollbacks = [e for e in record if e["type"] == "activity_ended" and e.get("rollback")]
    assert rollbacks and rollbacks[-1]["status"] == "succeeded"
    verdicts = json.loads((run_dir / "report.json").read_text())["scenarios"][0]["slos"]
    assert all(v["verdict"] != "as-expected" for v in verdicts)


def test_a_short_stall_is_left_out_and_said(tmp_path: Path) -> None:
    proc, run_dir, out, err = stall_locust(tmp_path, 4.0)
    assert proc.returncode in (0, 1), out + err
    stalls = [e for e in events(run_dir) if e["type"] == "load_stalled"]
    assert stalls and stalls[0]["seconds"] >= 3
    row = json.loads((run_dir / "report.json").read_text())["scenarios"][0]["slos"][0]
    assert "of the fault window have no measured requests and are left out" in row["reason"], row
