"""Helpers for end-to-end gameday tests: write plans and experiments, run the CLI, read the
run record, check that no process of a run survived."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SLOS = ROOT / "gamedays" / "slos" / "checkout.yaml"
LOCUSTFILE = ROOT / "loadtests" / "checkout.py"


def action(name: str, func: str, pause_after: float = 0, **arguments: Any) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "type": "action", "name": name,
        "provider": {"type": "python", "module": "chaos_suite.faults.local", "func": func,
                     "arguments": arguments},
    }
    if pause_after:
        activity["pauses"] = {"after": pause_after}
    return activity


def experiment(title: str, method: list[dict[str, Any]],
               rollbacks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"title": title, "description": title, "method": method,
            "rollbacks": rollbacks or []}


def write_plan(folder: Path, scenarios: list[dict[str, Any]], *, replicas: int = 2,
               baseline: str = "5s", cooldown: str = "3s", users: int = 10,
               abort: dict[str, Any] | None = None, tier: str = "local",
               managed: bool = True) -> Path:
    """scenarios: [{"name", "experiment": dict, "expect": {...}}]"""
    folder.mkdir(parents=True, exist_ok=True)
    env = {"kind": "Environment", "name": "test", "tier": tier,
           "target": {"type": "local", "replicas": replicas, "restart_delay": "2s",
                      "managed": managed}}
    (folder / "environments").mkdir(exist_ok=True)
    (folder / "environments" / "test.yaml").write_text(yaml.safe_dump(env), encoding="utf-8")
    plan_scenarios = []
    for scenario in scenarios:
        path = folder / f"{scenario['name']}.json"
        path.write_text(json.dumps(scenario["experiment"]), encoding="utf-8")
        plan_scenarios.append({"name": scenario["name"], "experiment": path.name,
                               "expect": scenario["expect"]})
    plan: dict[str, Any] = {
        "kind": "Gameday", "name": "test", "service": "checkout", "environment": "test",
        "slos": str(SLOS), "load": {"locustfile": str(LOCUSTFILE),
                                    "shape": {"kind": "steady", "users": users,
                                              "spawn_rate": users}},
        "baseline": baseline, "cooldown": cooldown, "min_events": 100,
        "hypothesis": {"window": "2s"}, "scenarios": plan_scenarios,
    }
    if abort:
        plan["abort"] = abort
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return path


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "chaos_suite.cli", *args]


def run_cli(*args: str, timeout: float = 240, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_command(*args), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ))


def only_run_dir(reports: Path) -> Path:
    dirs = [p for p in reports.iterdir() if p.is_dir()]
    assert len(dirs) == 1, dirs
    return dirs[0]


def events(run_dir: Path) -> list[dict[str, Any]]:
    lines = (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def latest_run_dir(reports: Path) -> Path | None:
    """The newest run directory under a --reports folder, if a run has created one."""
    dirs = sorted(p for p in reports.iterdir() if p.is_dir()) if reports.is_dir() else []
    return dirs[-1] if dirs else None


def wait_for_event(reports: Path, kind: str, timeout_s: float = 60
                   ) -> tuple[Path, dict[str, Any]]:
    """Poll a live run's record until an event of `kind` appears: (run dir, event)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run_dir = latest_run_dir(reports)
        if run_dir is not None and (run_dir / "events.jsonl").is_file():
            for event in events(run_dir):
                if event["type"] == kind:
                    return run_dir, event
        time.sleep(0.1)
    raise AssertionError(f"no {kind} event within {timeout_s} s")


def run_pids(run_dir: Path) -> list[int]:
    """Every process the run started: target supervisor + replicas, the Locust process."""
    pids: list[int] = []
    for event in events(run_dir):
        if event["type"] == "target_ready":
            pids.extend(event.get("pids") or [])
        if event["type"] == "load_started":
            pids.append(int(event["pid"]))
    return pids


def alive(pid: int) -> bool:
    from chaos_suite.targets.local import pid_alive

    return pid_alive(pid)


def assert_no_survivors(pids: list[int], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.1)
    assert [p for p in pids if alive(p)] == []


def samples(run_dir: Path, slo: str) -> list[tuple[int, int, int]]:
    out = []
    for line in (run_dir / "samples.jsonl").read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        counts = data["slis"].get(slo)
        if counts:
            out.append((int(data["t"]), int(counts["good"]), int(counts["total"])))
    return sorted(out)


@contextmanager
def standing_target() -> Iterator[dict[str, Any]]:
    """`chaos-suite target up --detach` on free ports; always `target down` afterwards."""
    up = run_cli("target", "up", "--detach", "--port", "0", "--admin-port", "0", timeout=60)
    assert up.returncode == 0, up.stderr
    status = json.loads(run_cli("target", "status").stdout)
    try:
        yield status
    finally:
        assert run_cli("target", "down").returncode == 0
        assert_no_survivors([int(status["supervisor_pid"]),
                             *[int(r["pid"]) for r in status["replicas"]]])


PROM_TOTAL = "sum(checkout_http_requests_total)"
PROM_BAD = 'sum(checkout_http_requests_total{status_class="5xx"})'


def prometheus_plan(folder: Path, prom_url: str, *, fault_s: float, baseline: str = "4s",
                    cooldown: str = "4s") -> Path:
    """A plan against the standing target with one SLO counted from the load and its twin
    read from Prometheus, and one scenario of 10% errors for `fault_s` seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    slos = {"kind": "SLOs", "service": "checkout", "slos": [
        {"name": "client-availability", "objective": "99.9%", "window": "30d", "source": "load"},
        {"name": "server-availability", "objective": "99.9%", "window": "30d",
         "source": {"type": "prometheus", "total": PROM_TOTAL, "bad": PROM_BAD}}]}
    (folder / "slos.yaml").write_text(yaml.safe_dump(slos))
    (folder / "environments").mkdir(exist_ok=True)
    (folder / "environments" / "standing.yaml").write_text(yaml.safe_dump({
        "kind": "Environment", "name": "standing", "tier": "staging",
        "target": {"type": "local", "managed": False},
        "sources": {"prometheus": {"url": prom_url}}}))
    (folder / "errors.json").write_text(json.dumps(experiment("10% errors", [
        action("inject", "inject_errors", pause_after=fault_s, ratio=0.1, ttl_s=120),
        action("clear", "clear_faults")], [action("clear", "clear_faults")])))
    expect = {"max_budget_consumed": "1%"}
    plan = {"kind": "Gameday", "name": "prom", "service": "checkout", "environment": "standing",
            "slos": "slos.yaml", "baseline": baseline, "cooldown": cooldown, "min_events": 50,
            "hypothesis": {"window": "2s", "max_burn_rate": 1000},
            "load": {"locustfile": str(ROOT / "loadtests/checkout.py"),
                     "shape": {"kind": "steady", "users": 5, "spawn_rate": 5}},
            "scenarios": [{"name": "errors", "experiment": "errors.json",
                           "expect": {"client-availability": expect,
                                      "server-availability": expect}}]}
    (folder / "plan.yaml").write_text(yaml.safe_dump(plan))
    return folder / "plan.yaml"
