"""Blast radius through the CLI as a user runs it: every step that takes replicas down counts,
whatever its type and wherever it sits: actions and probes of the method, steady-state probes
(run before and after the method), rollbacks, steps run again by `ref`, chaosk8s pod killers.
A refusal is exit 2 with one line naming the gate and the steps by their type; a refused real run
starts nothing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from gameday_helpers import ROOT, cli_command, experiment, write_plan

EXPECT = {"availability": {"max_budget_consumed": "1%"}}
ISSUE_POLICY = {"blast_radius": {"max_replicas": 1, "max_fraction": "34%"}}


def kill(kind: str, name: str, index: int = 0) -> dict[str, Any]:
    return {"type": kind, "name": name, "provider": {
        "type": "python", "module": "chaos_suite.faults.local", "func": "kill_replica",
        "arguments": {"index": index}}}


def terminate_pods(kind: str, name: str, **arguments: Any) -> dict[str, Any]:
    return {"type": kind, "name": name, "provider": {
        "type": "python", "module": "chaosk8s.pod.actions", "func": "terminate_pods",
        "arguments": {"label_selector": "app=checkout", "ns": "shop", **arguments}}}


def plan_with(folder: Path, exp: dict[str, Any], *, safety: dict[str, Any],
              replicas: int = 2, target: dict[str, Any] | None = None) -> Path:
    plan: Path = write_plan(folder, [{"name": "kills", "experiment": exp, "expect": EXPECT}],
                            replicas=replicas, tier="staging")
    env = {"kind": "Environment", "name": "staging", "tier": "staging", "safety": safety,
           "target": target or {"type": "local", "replicas": replicas, "managed": True}}
    (folder / "environments" / "test.yaml").write_text(yaml.safe_dump(env), encoding="utf-8")
    return plan


def gameday(plan: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "CHAOS_SUITE_CONFIRM"}
    return subprocess.run(cli_command("gameday", "run", str(plan), "--reports",
                                      str(plan.parent / "reports"), *extra),
                          cwd=ROOT, capture_output=True, text=True, timeout=60, env=environ)


def assert_refused(result: subprocess.CompletedProcess[str], *figures: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("chaos-suite: error: refused by gate 'blast-radius'"), lines[0]
    for figure in figures:
        assert figure in lines[0], lines[0]


def test_probes_that_kill_are_counted(tmp_path: Path) -> None:
    # the issue's case: two probes calling kill_replica passed and took down 2 of 2 replicas
    exp = experiment("probes kill", [kill("probe", "kill-0", 0), kill("probe", "kill-1", 1)])
    plan = plan_with(tmp_path, exp, safety=ISSUE_POLICY)
    assert_refused(gameday(plan, "--dry-run"), "scenario 'kills' takes down 2 replicas",
                   "with probe 'kill-0', probe 'kill-1'", "allows 1")


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_refused_real_run_with_killing_probes_starts_nothing(tmp_path: Path,
                                                             isolated_state: Path) -> None:
    exp = experiment("probes kill", [kill("probe", "kill-0", 0), kill("probe", "kill-1", 1)])
    plan = plan_with(tmp_path, exp, safety=ISSUE_POLICY)
    assert_refused(gameday(plan), "probe 'kill-0'")
    assert not (tmp_path / "reports").exists()
    assert list(isolated_state.rglob("*")) == []  # no ledger entry, registration, target
    assert _processes_mentioning(str(tmp_path)) == []
    assert _processes_mentioning(str(isolated_state)) == []


def test_one_killing_probe_counts_for_the_fraction(tmp_path: Path) -> None:
    exp = experiment("probe kills", [kill("probe", "kill-0")])
    plan = plan_with(tmp_path, exp, safety=ISSUE_POLICY)
    assert_refused(gameday(plan, "--dry-run"), "1 of 2 replicas (50%) with probe 'kill-0'",
                   "allows 34%")
    plan = plan_with(tmp_path, exp, safety=ISSUE_POLICY, replicas=3)
    result = gameday(plan, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "probe kill-0: python chaos_suite.faults.local.kill_replica(index=0)  · takes down " \
           "1 replica" in result.stdout


def test_steady_state_probe_that_kills_counts_twice(tmp_path: Path) -> None:
    exp = experiment("hypothesis kills", [])
    exp["steady-state-hypothesis"] = {"title": "alive", "probes": [
        {**kill("probe", "check"), "tolerance": {"type": "range", "range": [0, 100000]}}]}
    exp["method"] = [{"type": "action", "name": "pause", "provider": {
        "type": "python", "module": "chaos_suite.faults.local", "func": "replicas_alive"}}]
    plan = plan_with(tmp_path, exp, safety={"blast_radius": {"max_replicas": 1}}, replicas=3)
    assert_refused(gameday(plan, "--dry-run"), "takes down 2 replicas",
                   "steady-state probe 'check' (runs twice)")


def test_rollbacks_and_refs_that_kill_count(tmp_path: Path) -> None:
    exp = experiment("rollback kills", [kill("action", "kill-0"), {"ref": "kill-0"}],
                     rollbacks=[kill("action", "kill-again", 1)])
    plan = plan_with(tmp_path, exp, safety={"blast_radius": {"max_replicas": 2}}, replicas=4)
    assert_refused(gameday(plan, "--dry-run"), "takes down 3 replicas",
                   "action 'kill-0', action 'kill-0', rollback action 'kill-again'", "allows 2")


K8S = {"type": "kubernetes", "namespace": "shop"}


@pytest.mark.parametrize(("arguments", "figure"), [
    ({"qty": 2}, "takes down 2 replicas with probe 'terminate'"),
    ({"all": True}, "takes down every matching pod with probe 'terminate'"),
    ({"mode": "percentage", "qty": 50}, "cannot count the pods it takes down (mode='percentage'"),
], ids=["qty", "all", "percentage"])
def test_chaosk8s_pod_kills_count_in_any_step(tmp_path: Path, arguments: dict[str, Any],
                                              figure: str) -> None:
    exp = experiment("k8s", [terminate_pods("probe", "terminate", **arguments)])
    plan = plan_with(tmp_path, exp, safety={"blast_radius": {"max_replicas": 1}}, target=K8S)
    assert_refused(gameday(plan, "--dry-run"), "scenario 'kills'", figure)


def test_chaosk8s_pod_kill_within_limit_passes(tmp_path: Path) -> None:
    exp = experiment("k8s", [terminate_pods("action", "terminate", qty=1)])
    plan = plan_with(tmp_path, exp, safety={"blast_radius": {"max_replicas": 1}}, target=K8S)
    result = gameday(plan, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "safety gates: passed" in result.stdout
