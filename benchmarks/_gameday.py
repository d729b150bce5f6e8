"""Shared by the benchmarks: write a plan for the embedded target and run it through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


def errors_experiment(ratio: float, seconds: float) -> dict[str, Any]:
    def act(name: str, func: str, **args: Any) -> dict[str, Any]:
        return {"type": "action", "name": name,
                "provider": {"type": "python", "module": "chaos_suite.faults.local",
                             "func": func, "arguments": args}}
    inject = act("inject", "inject_errors", ratio=ratio, ttl_s=600)
    inject["pauses"] = {"after": seconds}
    return {"title": f"{ratio:.0%} errors for {seconds:g} s", "description": "benchmark",
            "method": [inject, act("clear", "clear_faults")],
            "rollbacks": [act("clear", "clear_faults")]}


def run_gameday(scenarios: list[tuple[str, dict[str, Any]]], *, users: int = 20,
                baseline: str = "5s", cooldown: str = "3s", abort: dict[str, Any] | None = None,
                workdir: Path | None = None, workers: int = 0,
                extra_env: dict[str, str] | None = None,
                plan_extra: dict[str, Any] | None = None) -> tuple[int, Path]:
    """Run the plan; `extra_env` is added to the runner's environment (e.g. PYTHONPATH for a
    benchmark's own probe module), `plan_extra` to the plan's top-level keys (e.g.
    safeguard_interval). Returns (exit code, run directory)."""
    folder = Path(workdir or tempfile.mkdtemp(prefix="cs-bench-"))
    (folder / "environments").mkdir(parents=True, exist_ok=True)
    (folder / "environments" / "bench.yaml").write_text(yaml.safe_dump(
        {"kind": "Environment", "name": "bench", "target": {"type": "local", "replicas": 2}}))
    plan_scenarios = []
    for name, exp in scenarios:
        (folder / f"{name}.json").write_text(json.dumps(exp))
        plan_scenarios.append({"name": name, "experiment": f"{name}.json",
                               "expect": {"availability": {"max_budget_consumed": "5%"}}})
    plan: dict[str, Any] = {
        "kind": "Gameday", "name": "bench", "service": "checkout", "environment": "bench",
        "slos": str(ROOT / "gamedays/slos/checkout.yaml"),
        "load": {"locustfile": str(ROOT / "loadtests/checkout.py"),
                 "shape": {"kind": "steady", "users": users, "spawn_rate": users}},
        "baseline": baseline, "cooldown": cooldown, "hypothesis": {"window": "2s"},
        "scenarios": plan_scenarios}
    if abort:
        plan["abort"] = abort
    if workers:
        plan["load"]["workers"] = workers
    plan.update(plan_extra or {})
    (folder / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))
    reports = folder / "reports"
    env = dict(os.environ, CHAOS_SUITE_STATE_DIR=str(folder / "state"), **(extra_env or {}))
    proc = subprocess.run([sys.executable, "-m", "chaos_suite.cli", "gameday", "run",
                           str(folder / "plan.yaml"), "--reports", str(reports)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if not reports.is_dir():
        raise SystemExit(f"the gameday did not start (exit {proc.returncode}): {proc.stderr}")
    run_dir = next(p for p in reports.iterdir() if p.is_dir())
    return proc.returncode, run_dir


def events(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()
            if line.strip()]
