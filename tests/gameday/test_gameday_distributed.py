"""Distributed load in a real gameday: a Locust master with 2 local workers, counts merged at
the master against the embedded target's own counters; a worker lost mid-fault ends the run
with rollbacks (exit 4) unless `min_workers` still holds. Remote workers: the plan expects 2,
starts 1 (`local_workers`), and the test starts `chaos-suite load worker` itself, standing in
for another machine; one that never connects is exit 2 before any fault."""

from __future__ import annotations

import json
import os
import signal
import socket
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


def distributed_plan(folder: Path, hold: float, min_workers: int | None = None,
                     **load: Any) -> Path:
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
    plan["load"].update(load)
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


def assert_merged_counts_are_the_targets(run_dir: Path, users: int) -> tuple[int, int]:
    """The master's merged counts against the target's own over the seconds the load measured:
    every second but the last equal (a request can land on either side of a second's
    boundary: the sums, within 2); the last is cut by the stop, whose requests in flight (at
    most one a user) the target answered and no worker counted. What the target saw after the
    last sample is Locust stopping, which no sample covers. Returns (merged, served)."""
    client: dict[int, int] = {}
    for line in (run_dir / "samples.jsonl").read_text().splitlines():
        sample = json.loads(line)
        client[sample["t"]] = client.get(sample["t"], 0) + sample["slis"]["availability"]["total"]
    server = {int(row["t"]): int(row["total"])
              for row in json.loads((run_dir / "server_counters.json").read_text())}
    measured = [t for t in client if client[t]]
    first, last = min(measured), max(measured)
    before = sum(client.get(t, 0) for t in range(first, last))
    truth_before = sum(server.get(t, 0) for t in range(first, last))
    assert before > 1000 and abs(before - truth_before) <= 2, (before, truth_before)
    both, truth = before + client[last], truth_before + server.get(last, 0)
    assert -2 <= truth - both <= users + 2, (both, truth)
    return both, truth


def test_two_workers_count_what_the_target_served(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    done = subprocess.run(cli_command("gameday", "run", str(distributed_plan(tmp_path / "p", 5)),
                                      "--reports", str(reports)), cwd=ROOT, capture_output=True,
                          text=True, timeout=240)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    run_dir = next(p for p in reports.iterdir() if p.is_dir())
    plan = json.loads((run_dir / "plan.json").read_text())
    assert plan["load"]["workers"] == 2
    both, truth = assert_merged_counts_are_the_targets(run_dir, users=6)
    print(f"2 local workers: merged {both}, target {truth}")  # the figures, with -s
    assert_no_survivors(run_pids(run_dir))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def remote_plan(folder: Path, port: int, **load: Any) -> Path:
    return distributed_plan(folder, 5, local_workers=1, master_bind="127.0.0.1",
                            master_port=port, **load)


def test_a_remote_worker_joins_and_the_master_counts_what_the_target_served(
        tmp_path: Path) -> None:
    port = free_port()
    plan = remote_plan(tmp_path / "p", port)
    command = f"chaos-suite load worker --master 127.0.0.1:{port} loadtests/checkout.py"
    dry = subprocess.run(cli_command("gameday", "run", str(plan), "--dry-run"), cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert command in dry.stdout and "1 remote" in dry.stdout
    # the other machine: started first, it keeps trying to connect until the master is up
    remote = subprocess.Popen(cli_command(*command.split()[1:]), cwd=ROOT,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, start_new_session=True)
    reports = tmp_path / "reports"
    try:
        done = subprocess.run(cli_command("gameday", "run", str(plan), "--reports",
                                          str(reports)), cwd=ROOT, capture_output=True,
                              text=True, timeout=240)
        # the master's stop ends the remote worker: it exits by itself, cleanly
        remote_out, _ = remote.communicate(timeout=30)
    finally:
        if remote.poll() is None:
            os.killpg(remote.pid, signal.SIGKILL)
            remote.communicate(timeout=10)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert command in done.stdout
    assert remote.returncode == 0, remote_out
    run_dir = next(p for p in reports.iterdir() if p.is_dir())
    assert not any(e["type"] == "worker_lost" for e in events(run_dir))
    # 6 users on 2 workers: without the remote worker's counts, about half the target's
    both, truth = assert_merged_counts_are_the_targets(run_dir, users=6)
    print(f"local + remote worker: merged {both}, target {truth}")  # the figures, with -s
    assert_no_survivors(run_pids(run_dir))


def test_a_remote_worker_that_never_connects_is_exit_2_before_any_fault(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    started = time.monotonic()
    done = subprocess.run(cli_command("gameday", "run", str(remote_plan(
        tmp_path / "p", free_port(), workers_timeout="3s")), "--reports", str(reports)),
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "expected 2 load workers (1 local, 1 remote), 1 connected within 3s" in done.stderr
    assert time.monotonic() - started < 60
    run_dir = next(p for p in reports.iterdir() if p.is_dir())
    kinds = [e["type"] for e in events(run_dir)]
    assert "fault_injected" not in kinds and "activity_started" not in kinds, kinds
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
