"""SIGKILL a gameday run at random moments against a standing target, then `chaos-suite recover`;
after every round count what is left: faults active on the target, pending ledger entries, and
processes of the run still alive. Prints one line per round and the totals.

    python benchmarks/kill_recover.py --rounds 100

The slow test tests/safety/test_safety_recover.py runs 10 such rounds in CI; this script is the
100-round version (≈ 10 minutes on 2 cores)."""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chaos_suite.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def write_plan(folder: Path, func: str, arguments: dict[str, Any]) -> Path:
    step = {"type": "action", "name": "inject", "pauses": {"after": 30},
            "provider": {"type": "python", "module": "chaos_suite.faults.local", "func": func,
                         "arguments": {**arguments, "ttl_s": 600}}}
    clear = {"type": "action", "name": "clear", "pauses": {"before": 0.5},
             "provider": {"type": "python", "module": "chaos_suite.faults.local",
                          "func": "clear_faults"}}
    (folder / "x.json").write_text(json.dumps({"title": "fault", "description": "fault",
                                               "method": [step], "rollbacks": [clear]}))
    env = {"kind": "Environment", "name": "standing", "tier": "staging",
           "target": {"type": "local", "managed": False}}
    (folder / "environments").mkdir(exist_ok=True)
    (folder / "environments" / "standing.yaml").write_text(yaml.safe_dump(env))
    plan = {"kind": "Gameday", "name": "killed", "service": "checkout",
            "environment": "standing", "slos": str(ROOT / "gamedays/slos/checkout.yaml"),
            "load": {"locustfile": str(ROOT / "loadtests/checkout.py"),
                     "shape": {"kind": "steady", "users": 5, "spawn_rate": 5}},
            "baseline": "1s", "cooldown": "1s",
            "scenarios": [{"name": "fault", "experiment": "x.json",
                           "expect": {"availability": {"max_budget_consumed": "5%"}}}]}
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return path


def processes_with(marker: bytes, cmdline_part: bytes = b"") -> list[int]:
    """Processes whose environment holds `marker` (and whose command line holds `cmdline_part`):
    everything a run starts inherits this script's state dir and, in a scenario, the run id."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0") and \
                        cmdline_part in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def wait_for_fault(reports: Path, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        for events in reports.glob("*/events.jsonl"):
            if '"fault_injected"' in events.read_text(encoding="utf-8"):
                return
        time.sleep(0.1)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--seed", type=int, default=20261125)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="kill-recover-"))
    env = {**os.environ, "CHAOS_SUITE_STATE_DIR": str(work / "state")}
    up = cli("target", "up", "--detach", "--port", "0", "--admin-port", "0", env=env)
    if up.returncode != 0:
        print(up.stderr, file=sys.stderr)
        return 2
    status = json.loads(cli("target", "status", env=env).stdout)
    admin = status["admin_url"]
    totals = {"rounds": 0, "killed_with_fault_active": 0, "faults_left": 0,
              "pending_left": 0, "processes_left": 0, "recover_failed": 0}
    try:
        for n in range(args.rounds):
            folder = work / f"round-{n:03d}"
            folder.mkdir()
            kind = [("inject_errors", {"ratio": 0.3}), ("inject_latency", {"latency_ms": 150}),
                    ("kill_replica", {})][n % 3]
            plan = write_plan(folder, *kind)
            proc = subprocess.Popen([sys.executable, "-m", "chaos_suite.cli", "gameday", "run",
                                     str(plan), "--reports", str(folder / "reports")],
                                    cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            if n % 2:  # half the rounds: anywhere from start-up to the rollback
                time.sleep(rng.uniform(0.3, 9.0))
            else:  # the other half: while the fault is in, at a random moment of it
                wait_for_fault(folder / "reports", limit_s=60)
                time.sleep(rng.uniform(0.0, 3.0))
            active = httpx.get(f"{admin}/admin/status", timeout=5).json()["fault"]["active"]
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            totals["killed_with_fault_active"] += bool(active)
            run_ids = [p.name for p in (folder / "reports").glob("*") if p.is_dir()]
            recovered = cli("recover", env=env)
            totals["recover_failed"] += recovered.returncode != 0
            fault = httpx.get(f"{admin}/admin/status", timeout=5).json()["fault"]
            pending = list((work / "state" / "ledger").glob("*.json"))
            time.sleep(0.5)
            left = [p for r in run_ids for p in processes_with(f"CHAOS_SUITE_RUN_ID={r}".encode())]
            left += processes_with(f"CHAOS_SUITE_STATE_DIR={work / 'state'}".encode(),
                                   b"chaos_suite.load")  # a Locust of a killed run
            totals["rounds"] += 1
            totals["faults_left"] += bool(fault["active"])
            totals["pending_left"] += len(pending)
            totals["processes_left"] += len(set(left))
            print(f"round {n:3d} {kind[0]:<15} fault active at kill: {active!s:<5} → after "
                  f"recover: fault {fault['active']!s:<5} pending {len(pending)} "
                  f"processes {len(set(left))}", flush=True)
    finally:
        cli("target", "down", env=env)
    print(json.dumps(totals))
    ok = not (totals["faults_left"] or totals["pending_left"] or totals["processes_left"]
              or totals["recover_failed"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
