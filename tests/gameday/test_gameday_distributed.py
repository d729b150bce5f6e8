"""Distributed load in a real gameday: a Locust master with 2 local workers, counts merged at
the master against the embedded target's own counters; a worker lost mid-fault ends the run
with rollbacks (exit 4) unless `min_workers` still holds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from gameday_helpers import (
    ROOT,
    action,
    assert_no_survivors,
    cli_command,
    events,
    experiment,
    run_pids,
    wait_for_event,
    write_plan,
)

pytestmark = pytest.mark.slow


def distributed_plan(folder: Path, hold: float, min_workers: int | None = None) -> Path:
    path = write_plan(folder, [{
        "name": "errors",
        "experiment": experiment("errors", [
            action("inject", "inject_errors", pause_after=hold, ratio=0.1, ttl_s=120),
            action("clear", "clear_faults")], [action("clear", "clear_faults")]),
        "expect": {"availability": {"max_budget_consumed": "5%"}},
    }], baseline="3s", cooldown="2s", users=6)
    plan: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    plan["load"]["workers"] = 2
    if min_workers is not None:
        plan["load"]["min_workers"] = min_workers
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return path


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rfind(")") + 2:].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def run_and_kill_a_worker(folder: Path, min_workers: int | None) -> tuple[int, Path, str]:
    reports = folder / "reports"
    proc = subprocess.Popen(cli_command("gameday", "run", str(distributed_plan(
        folder, 10, min_workers)), "--reports", str(reports)), cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        run_dir, _ = wait_for_event(reports, "fault_injected", timeout_s=90)
        master = next(int(e["pid"]) for e in events(run_dir) if e["type"] == "load_started")
        workers = children(master)
        assert len(workers) == 2, workers
        time.sleep(1.0)
        os.kill(workers[0], signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, run_dir, out + err


def test_two_workers_count_what_the_target_served(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    done = subprocess.run(cli_command("gameday", "run", str(distributed_plan(tmp_path / "p", 5)),
                                      "--reports", str(reports)), cwd=ROOT, capture_output=True,
                          text=True, timeout=240)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    run_dir = next(p for p in reports.iterdir() if p.is_dir())
    plan = json.loads((run_dir / "plan.json").read_text())
    assert plan["load"]["workers"] == 2
    client: dict[int, int] = {}
    for line in (run_dir / "samples.jsonl").read_text().splitlines():
        sample = json.loads(line)
        client[sample["t"]] = client.get(sample["t"], 0) + sample["slis"]["availability"]["total"]
    server = {int(row["t"]): int(row["total"])
              for row in json.loads((run_dir / "server_counters.json").read_text())}
    # over the seconds the load measured, the master's merged counts are the server's (a
    # request can land on either side of a second's boundary: compare the sums); what the
    # server saw after the last sample is Locust stopping, which no sample covers
    measured = [t for t in client if client[t]]
    first, last = min(measured), max(measured)
    both = sum(client.get(t, 0) for t in range(first, last + 1))
    truth = sum(server.get(t, 0) for t in range(first, last + 1))
    assert both > 1000 and abs(both - truth) <= 2, (both, truth)
    assert_no_survivors(run_pids(run_dir))


def test_a_lost_worker_ends_the_run_with_rollbacks(tmp_path: Path) -> None:
    code, run_dir, output = run_and_kill_a_worker(tmp_path, None)
    assert code == 4, output
    assert "Locust worker was lost" in output
    record = events(run_dir)
    assert any(e["type"] == "worker_lost" for e in record)
    rollbacks = [e for e in record if e["type"] == "activity_ended" and e.get("rollback")]
    assert rollbacks and rollbacks[-1]["status"] == "succeeded"


def test_min_workers_lets_the_run_go_on(tmp_path: Path) -> None:
    code, run_dir, output = run_and_kill_a_worker(tmp_path, 1)
    assert code in (0, 1), output
    assert "1 of 2 left; the run goes on" in output
    assert any(e["type"] == "worker_lost" for e in events(run_dir))
    assert events(run_dir)[-1]["type"] == "run_ended"
