"""End to end through the CLI against the fake Kubernetes API server: a gameday adds latency
through chaos_suite.faults.chaosmesh; a normal run deletes the NetworkChaos as its revert; after
a SIGKILL with every ledger file removed, `chaos-suite recover --kube-namespace shop` finds the
resource by chaos_suite's labels and deletes it."""

from __future__ import annotations

import json
import os
import shutil
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

from chaos_suite.safety.state import ledger_dir

pytestmark = pytest.mark.slow


@pytest.fixture
def target(isolated_state: Path) -> Iterator[dict[str, Any]]:
    with standing_target() as status:
        yield status


def write_mesh_plan(folder: Path, url: str, pause_after: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "environments").mkdir(exist_ok=True)
    env = {"kind": "Environment", "name": "k8s", "tier": "staging",
           "target": {"type": "kubernetes", "namespace": "shop", "url": url}}
    (folder / "environments" / "k8s.yaml").write_text(yaml.safe_dump(env), encoding="utf-8")
    latency = {"type": "action", "name": "checkout latency", "pauses": {"after": pause_after},
               "provider": {"type": "python", "module": "chaos_suite.faults.chaosmesh",
                            "func": "add_latency", "arguments": {
                                "name": "checkout-latency", "ns": "shop", "latency": "100ms",
                                "label_selectors": {"app": "checkout"}, "duration": "5m"}}}
    experiment = {"title": "latency", "description": "checkout is slow", "method": [latency]}
    (folder / "latency.json").write_text(json.dumps(experiment), encoding="utf-8")
    plan = {
        "kind": "Gameday", "name": "k8s-mesh", "service": "checkout", "environment": "k8s",
        "slos": str(SLOS), "load": {"locustfile": str(LOCUSTFILE),
                                    "shape": {"kind": "steady", "users": 5, "spawn_rate": 5}},
        "baseline": "1s", "cooldown": "1s", "min_events": 10, "hypothesis": {"window": "2s"},
        "scenarios": [{"name": "latency", "experiment": "latency.json",
                       "expect": {"availability": {"max_budget_consumed": "1%"}}}],
    }
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return path


def test_normal_run_deletes_its_chaos_resource(fake: FakeK8s, target: dict[str, Any],
                                               tmp_path: Path) -> None:
    plan = write_mesh_plan(tmp_path / "plan", str(target["url"]), pause_after=2)
    done = run_cli("gameday", "run", str(plan), "--reports", str(tmp_path / "reports"),
                   timeout=90)
    assert done.returncode in (0, 1), done.stderr
    created = [body for method, path, body in fake.emulator.seen if method == "POST"
               and path == "/apis/chaos-mesh.org/v1alpha1/namespaces/shop/networkchaos"]
    assert len(created) == 1
    labels = created[0]["metadata"]["labels"]
    assert labels["app.kubernetes.io/managed-by"] == "chaos-suite"
    assert labels["chaos-suite/run-id"].endswith("-k8s-mesh")
    assert created[0]["spec"]["duration"] == "5m"
    assert fake.chaos() == []  # deleted as the revert
    assert any(m == "DELETE" and p.endswith("/networkchaos/checkout-latency")
               for m, p, _ in fake.emulator.seen)


def test_sigkill_without_ledger_then_recover_finds_it_by_label(
        fake: FakeK8s, target: dict[str, Any], tmp_path: Path) -> None:
    plan = write_mesh_plan(tmp_path / "plan", str(target["url"]), pause_after=60)
    reports = tmp_path / "reports"
    proc = subprocess.Popen(cli_command("gameday", "run", str(plan), "--reports", str(reports)),
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not fake.chaos() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert fake.chaos(), f"no NetworkChaos was created (runner rc {proc.poll()})"
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
    # the ledger is lost: the state's and the run directory's copies
    state = Path(os.environ["CHAOS_SUITE_STATE_DIR"])
    shutil.rmtree(ledger_dir(state), ignore_errors=True)
    for folder in reports.glob("*/ledger"):
        shutil.rmtree(folder)
    plain = run_cli("recover", timeout=60)
    assert plain.returncode == 0, plain.stderr
    assert len(fake.chaos()) == 1, "without --kube-* recover does not touch the cluster"
    recovered = run_cli("recover", "--kube-namespace", "shop", timeout=60)
    assert recovered.returncode == 0, recovered.stderr
    assert "deleted networkchaos shop/checkout-latency of run " in recovered.stdout
    assert "-k8s-mesh (found by label)" in recovered.stdout
    assert fake.chaos() == []
    again = run_cli("recover", "--kube-namespace", "shop", timeout=60)
    assert again.returncode == 0 and "networkchaos" not in again.stdout
