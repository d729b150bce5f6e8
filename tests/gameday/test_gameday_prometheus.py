"""A gameday whose SLO is measured server-side from a real Prometheus scraping the target, beside
the same SLO measured client-side from the load; and a Prometheus lost mid-run (exit 4)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from gameday_helpers import (
    ROOT,
    action,
    cli_command,
    events,
    experiment,
    only_run_dir,
    run_cli,
    standing_target,
    wait_for_event,
)
from support.prometheus_server import start_prometheus

pytestmark = pytest.mark.slow


@pytest.fixture()
def standing_with_prometheus(isolated_state: Path, tmp_path: Path) -> Iterator[dict[str, Any]]:
    with standing_target() as status, \
            start_prometheus([f"127.0.0.1:{status['admin_port']}"], tmp_path / "prom") as prom:
        prom.wait_scraped()
        yield {"status": status, "prom": prom}


def write(folder: Path, prom_url: str, fault_s: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    slos = {"kind": "SLOs", "service": "checkout", "slos": [
        {"name": "client-availability", "objective": "99.9%", "window": "30d", "source": "load"},
        {"name": "server-availability", "objective": "99.9%", "window": "30d",
         "source": {"type": "prometheus", "total": "sum(checkout_http_requests_total)",
                    "bad": 'sum(checkout_http_requests_total{status_class="5xx"})'}}]}
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
            "slos": "slos.yaml", "baseline": "4s", "cooldown": "4s", "min_events": 50,
            "hypothesis": {"window": "2s", "max_burn_rate": 1000},
            "load": {"locustfile": str(ROOT / "loadtests/checkout.py"),
                     "shape": {"kind": "steady", "users": 5, "spawn_rate": 5}},
            "scenarios": [{"name": "errors", "experiment": "errors.json",
                           "expect": {"client-availability": expect,
                                      "server-availability": expect}}]}
    (folder / "plan.yaml").write_text(yaml.safe_dump(plan))
    return folder / "plan.yaml"


def test_server_side_slo_from_prometheus_agrees_with_client_side(
        standing_with_prometheus: dict[str, Any], tmp_path: Path) -> None:
    prom = standing_with_prometheus["prom"]
    plan = write(tmp_path / "plan", prom.url, fault_s=8)
    result = run_cli("gameday", "run", str(plan), "--reports", str(tmp_path / "r"))
    assert result.returncode == 0, result.stdout + result.stderr
    run_dir = only_run_dir(tmp_path / "r")
    sources = {json.loads(line)["source"] for line in (run_dir / "samples.jsonl").read_text().splitlines()}
    assert sources == {"load", "prometheus"}
    report = json.loads((run_dir / "report.json").read_text())
    rows = {r["slo"]: r for r in report["scenarios"][0]["slos"]}
    client = rows["client-availability"]["observed"]["budget_consumed_attributed"]
    server = rows["server-availability"]["observed"]["budget_consumed_attributed"]
    assert client > 0 and server > 0
    # per-second attribution from 1 s scrapes is coarser than the load's buckets; the totals agree
    assert server == pytest.approx(client, rel=0.15)
    c_counts = rows["client-availability"]["counts"]["measurement"]
    s_counts = rows["server-availability"]["counts"]["measurement"]
    assert s_counts["total"] - s_counts["good"] == pytest.approx(
        c_counts["total"] - c_counts["good"], rel=0.1)


def test_prometheus_lost_mid_run_is_exit_4_with_rollbacks(
        standing_with_prometheus: dict[str, Any], tmp_path: Path) -> None:
    prom = standing_with_prometheus["prom"]
    plan = write(tmp_path / "plan", prom.url, fault_s=40)
    proc = subprocess.Popen(cli_command("gameday", "run", str(plan), "--reports", str(tmp_path / "r")),
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_event(tmp_path / "r", "fault_injected")
        prom.stop()
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 4, out + err
    assert "prometheus" in err
    run_dir = only_run_dir(tmp_path / "r")
    kinds = [e["type"] for e in events(run_dir)]
    assert "fault_cleared" in kinds and kinds[-1] == "run_ended"
    status = json.loads(run_cli("target", "status").stdout)
    assert status["fault"]["active"] is False
