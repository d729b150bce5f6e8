"""The error-budget policy gate, reading the remaining budget from a real Prometheus that
scrapes the embedded target: too little budget left → refused before anything is injected."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from gameday_helpers import ROOT, run_cli
from support.prometheus_server import start_prometheus

from chaos_suite.targets.local import LocalTargetClient, start_target, stop_target

pytestmark = pytest.mark.slow

SLO_FILE = {
    "kind": "SLOs", "service": "checkout",
    "slos": [{"name": "server-availability", "objective": "99.9%", "window": "30d",
              "source": {"type": "prometheus",
                         "total": "sum(checkout_http_requests_total)",
                         "bad": 'sum(checkout_http_requests_total{status_class="5xx"})'}}],
}


@pytest.fixture()
def target_and_prometheus(tmp_path: Path) -> Iterator[dict[str, Any]]:
    info = start_target(tmp_path / "target", replicas=1)
    try:
        with start_prometheus([f"127.0.0.1:{info.admin_port}"], tmp_path / "prom") as prom:
            prom.wait_scraped()
            yield {"info": info, "prom": prom}
    finally:
        stop_target(tmp_path / "target")


def send(url: str, n: int) -> None:
    with httpx.Client(timeout=5) as client:
        for _ in range(n):  # bounded
            client.get(f"{url}/api/products")


def production_plan(folder: Path, prom_url: str, target_url: str, min_remaining: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "slos-server.yaml").write_text(yaml.safe_dump(SLO_FILE), encoding="utf-8")
    (folder / "environments").mkdir(exist_ok=True)
    env = {"kind": "Environment", "name": "production", "tier": "production",
           "target": {"type": "http", "url": target_url},
           "sources": {"prometheus": {"url": prom_url}},
           "safety": {"budget_policy": {"min_remaining": min_remaining,
                                        "slo_file": "../slos-server.yaml"}}}
    (folder / "environments" / "production.yaml").write_text(yaml.safe_dump(env), encoding="utf-8")
    plan = {"kind": "Gameday", "name": "prod", "service": "checkout", "environment": "production",
            "slos": str(ROOT / "gamedays/slos/checkout.yaml"),
            "load": {"locustfile": str(ROOT / "loadtests/checkout.py")},
            "scenarios": [{"name": "errors", "experiment": str(ROOT / "experiments/local-inject-errors.yaml"),
                           "expect": {"availability": {"max_budget_consumed": "0.1%"}}}]}
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(plan), encoding="utf-8")
    return path


def wait_for_total(prom_url: str, expected: int, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        data = httpx.get(f"{prom_url}/api/v1/query",
                         params={"query": "sum(checkout_http_requests_total)"}, timeout=5).json()
        result = data["data"]["result"]
        if result and float(result[0]["value"][1]) >= expected:
            return
        time.sleep(0.5)
    raise AssertionError("prometheus never saw the traffic")


def test_budget_gate_refuses_when_budget_is_spent_and_passes_when_healthy(
        target_and_prometheus: dict[str, Any], tmp_path: Path) -> None:
    info, prom = target_and_prometheus["info"], target_and_prometheus["prom"]
    plan = production_plan(tmp_path / "plan", prom.url, info.url, "50%")
    send(info.url, 200)
    wait_for_total(prom.url, 200)
    healthy = run_cli("gameday", "run", str(plan), "--dry-run", "--confirm", "production")
    assert healthy.returncode == 0, healthy.stderr
    assert "100.0% of the budget left" in healthy.stdout

    admin = LocalTargetClient(info.admin_url)
    admin.set_fault(error_ratio=0.2)
    try:
        send(info.url, 200)
    finally:
        admin.clear_faults()
    wait_for_total(prom.url, 400)
    refused = run_cli("gameday", "run", str(plan), "--confirm", "production",
                      "--reports", str(tmp_path / "reports"))
    assert refused.returncode == 2
    line = refused.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "refused by gate 'error-budget'" in line and "server-availability" in line
    assert "policy needs at least 50%" in line
    assert not (tmp_path / "reports").exists()  # nothing started, nothing injected
    assert admin.status()["fault"]["active"] is False


def test_budget_gate_refuses_a_source_without_history(tmp_path: Path) -> None:
    plan = production_plan(tmp_path / "plan", "http://127.0.0.1:9", "http://127.0.0.1:9", "10%")
    slo = yaml.safe_load((tmp_path / "plan" / "slos-server.yaml").read_text())
    slo["slos"][0]["source"] = "load"
    (tmp_path / "plan" / "slos-server.yaml").write_text(yaml.safe_dump(slo))
    result = run_cli("gameday", "run", str(plan), "--dry-run", "--confirm", "production")
    assert result.returncode == 2
    assert "keeps no history" in result.stderr


def test_unreachable_prometheus_is_exit_2(tmp_path: Path) -> None:
    plan = production_plan(tmp_path / "plan", "http://127.0.0.1:9", "http://127.0.0.1:9", "10%")
    result = run_cli("gameday", "run", str(plan), "--dry-run", "--confirm", "production")
    assert result.returncode == 2
    assert "unreachable" in result.stderr and len(result.stderr.strip().splitlines()) == 1
