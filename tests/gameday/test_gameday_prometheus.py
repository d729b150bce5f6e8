"""A gameday whose SLO is measured server-side from a real Prometheus scraping the target, beside
the same SLO measured client-side from the load; and a Prometheus lost mid-run (exit 4)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from gameday_helpers import (
    ROOT,
    cli_command,
    events,
    only_run_dir,
    prometheus_plan,
    run_cli,
    wait_for_event,
)

pytestmark = pytest.mark.slow





def test_server_side_slo_from_prometheus_agrees_with_client_side(
        standing_with_prometheus: dict[str, Any], tmp_path: Path) -> None:
    prom = standing_with_prometheus["prom"]
    plan = prometheus_plan(tmp_path / "plan", prom.url, fault_s=8)
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
    plan = prometheus_plan(tmp_path / "plan", prom.url, fault_s=40)
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
