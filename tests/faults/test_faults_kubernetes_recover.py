"""End to end through the CLI against the fake Kubernetes API server: a gameday cordons node-1
(chaosk8s), the runner is SIGKILLed mid-fault, `chaos-suite recover` uncordons it from the ledger;
and the planted kubeconfig token appears in no file the run or recover wrote."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from gameday_helpers import LOCUSTFILE, ROOT, SLOS, cli_command, run_cli, standing_target
from support.fake_k8s import FakeK8s

from chaos_suite.safety import ledger
from chaos_suite.safety.state import ledger_dir

pytestmark = pytest.mark.slow

NODE = "chaosk8s.node.actions"


@pytest.fixture
def target(isolated_state: Path) -> Iterator[dict[str, Any]]:
    with standing_target() as status:
        yield status


def k8s_action(title: str, func: str, pause_after: float = 0, **arguments: Any) -> dict[str, Any]:
    activity: dict[str, Any] = {"type": "action", "name": title, "provider": {
        "type": "python", "module": NODE, "func": func, "arguments": arguments}}
    if pause_after:
        activity["pauses"] = {"after": pause_after}
    return activity


def write_k8s_plan(folder: Path, url: str, pause_after: float) -> Path:
    """A kubernetes environment (namespace shop, load sent to the standing target's url) and a
    one-scenario plan: cordon node-1, wait, rollback uncordon."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "environments").mkdir(exist_ok=True)
    env = {"kind": "Environment", "name": "k8s", "tier": "staging",
           "target": {"type": "kubernetes", "namespace": "shop", "url": url}}
    (folder / "environments" / "k8s.yaml").write_text(yaml.safe_dump(env), encoding="utf-8")
    uncordon = k8s_action("uncordon node-1", "uncordon_node", name="node-1")
    cordon = k8s_action("cordon node-1", "cordon_node", pause_after=pause_after, name="node-1")
    experiment = {"title": "cordon a node", "description": "node-1 takes no new pods",
                  "method": [cordon], "rollbacks": [uncordon]}
    (folder / "cordon.json").write_text(json.dumps(experiment), encoding="utf-8")
    plan = {
        "kind": "Gameday", "name": "k8s-cordon", "service": "checkout", "environment": "k8s",
        "slos": str(SLOS), "load": {"locustfile": str(LOCUSTFILE),
                                    "shape": {"kind": "steady", "users": 5, "spawn_rate": 5}},
        "baseline": "1s", "cooldown": "1s", "min_events": 10, "hypothesis": {"window": "2s"},
        "scenarios": [{"name": "cordon", "experiment": "cordon.json",
                       "expect": {"availability": {"max_budget_consumed": "1%"}}}],
    }
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return path


def state_ledger() -> list[ledger.LedgerEntry]:
    return ledger.pending(ledger_dir(Path(os.environ["CHAOS_SUITE_STATE_DIR"])))


def wait_cordoned(fake: FakeK8s, proc: subprocess.Popen[str], timeout_s: float = 40) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        if fake.node_unschedulable() and any(e.fault == "cordon_node" for e in state_ledger()):
            return
        time.sleep(0.1)
    raise AssertionError(f"node-1 was never cordoned (runner rc {proc.poll()})")


def files_containing(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()
            and needle.encode() in p.read_bytes()]


def test_sigkill_mid_cordon_then_recover_uncordons(fake: FakeK8s, target: dict[str, Any],
                                                   tmp_path: Path) -> None:
    plan = write_k8s_plan(tmp_path / "plan", str(target["url"]), pause_after=60)
    reports = tmp_path / "reports"
    proc = subprocess.Popen(cli_command("gameday", "run", str(plan), "--reports", str(reports)),
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_cordoned(fake, proc)
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
    assert fake.node_unschedulable(), "SIGKILL must leave the node cordoned"
    pending = [e for e in state_ledger() if e.fault == "cordon_node"]
    assert len(pending) == 1
    assert (pending[0].revert["module"], pending[0].revert["func"]) == (NODE, "uncordon_node")
    assert pending[0].target == "kubernetes:/shop"

    recovered = run_cli("recover", timeout=60)
    assert recovered.returncode == 0, recovered.stderr
    assert "reverted cordon_node" in recovered.stdout
    assert f"{NODE}.uncordon_node" in recovered.stdout
    assert not fake.node_unschedulable()
    assert state_ledger() == []

    state = Path(os.environ["CHAOS_SUITE_STATE_DIR"])
    assert files_containing(reports, fake.token) == []
    assert files_containing(state, fake.token) == []
    for text in (out, err, recovered.stdout, recovered.stderr):
        assert fake.token not in text


def test_normal_run_rolls_back_and_clears_the_ledger(fake: FakeK8s, target: dict[str, Any],
                                                     tmp_path: Path) -> None:
    plan = write_k8s_plan(tmp_path / "plan", str(target["url"]), pause_after=2)
    reports = tmp_path / "reports"
    done = run_cli("gameday", "run", str(plan), "--reports", str(reports), timeout=90)
    assert done.returncode in (0, 1), done.stderr
    assert not fake.node_unschedulable()
    assert state_ledger() == []
    run_dir = next(p for p in reports.iterdir() if p.is_dir())
    cleared = [json.loads(p.read_text(encoding="utf-8"))
               for p in (run_dir / "ledger" / "cleared").glob("*.json")]
    # the cordon's own entry was cleared by the rollback that calls its revert function
    assert any(c["fault"] == "cordon_node" and "uncordon" in c["cleared"]["how"]
               for c in cleared), cleared
    assert list((run_dir / "ledger").glob("*.json")) == []
    assert files_containing(run_dir, fake.token) == []
    # the fake saw the cordon and the uncordon through the kubeconfig's token
    patches = [body for method, path, body in fake.emulator.seen
               if method == "PATCH" and path == "/api/v1/nodes/node-1"]
    assert [bool(body["spec"]["unschedulable"]) for body in patches] == [True, False]
