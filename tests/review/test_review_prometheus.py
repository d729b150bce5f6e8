"""With a real Prometheus scraping the embedded target: the review sets the budget the service
actually spent over the period (read through the SLO's own queries, from the plan the run
recorded) beside what chaos spent; a Prometheus gone is a note, not a failure."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from gameday_helpers import ROOT, action, experiment, only_run_dir, run_cli, standing_target
from support.prometheus_server import start_prometheus

pytestmark = pytest.mark.slow

TOTAL = "sum(checkout_http_requests_total)"
BAD = 'sum(checkout_http_requests_total{status_class="5xx"})'


@pytest.fixture()
def standing_with_prometheus(isolated_state: Path, tmp_path: Path) -> Iterator[dict[str, Any]]:
    with standing_target() as status, \
            start_prometheus([f"127.0.0.1:{status['admin_port']}"], tmp_path / "prom") as prom:
        prom.wait_scraped()
        yield {"status": status, "prom": prom}


def write_plan(folder: Path, prom_url: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    slos = {"kind": "SLOs", "service": "checkout", "slos": [
        {"name": "client-availability", "objective": "99.9%", "window": "30d", "source": "load"},
        {"name": "server-availability", "objective": "99.9%", "window": "30d",
         "source": {"type": "prometheus", "total": TOTAL, "bad": BAD}}]}
    (folder / "slos.yaml").write_text(yaml.safe_dump(slos))
    (folder / "environments").mkdir(exist_ok=True)
    (folder / "environments" / "standing.yaml").write_text(yaml.safe_dump({
        "kind": "Environment", "name": "standing", "tier": "staging",
        "target": {"type": "local", "managed": False},
        "sources": {"prometheus": {"url": prom_url}}}))
    (folder / "errors.json").write_text(json.dumps(experiment("10% errors", [
        action("inject", "inject_errors", pause_after=6, ratio=0.1, ttl_s=120),
        action("clear", "clear_faults")], [action("clear", "clear_faults")])))
    expect = {"max_budget_consumed": "1%"}
    plan = {"kind": "Gameday", "name": "prom", "service": "checkout", "environment": "standing",
            "slos": "slos.yaml", "baseline": "3s", "cooldown": "3s", "min_events": 50,
            "hypothesis": {"window": "2s", "max_burn_rate": 1000},
            "load": {"locustfile": str(ROOT / "loadtests/checkout.py"),
                     "shape": {"kind": "steady", "users": 5, "spawn_rate": 5}},
            "scenarios": [{"name": "errors", "experiment": "errors.json",
                           "expect": {"client-availability": expect,
                                      "server-availability": expect}}]}
    (folder / "plan.yaml").write_text(yaml.safe_dump(plan))
    return folder / "plan.yaml"


def iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def counter(url: str, query: str, at: int) -> float:
    body = httpx.post(f"{url}/api/v1/query", data={"query": query, "time": str(at)},
                      timeout=5).json()
    result = body["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


def slos_of(review: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (service,) = review["services"]
    return {s["slo"]: s for s in service["slos"]}


def test_actual_spend_beside_chaos_and_a_lost_prometheus_is_a_note(
        standing_with_prometheus: dict[str, Any], tmp_path: Path) -> None:
    prom = standing_with_prometheus["prom"]
    plan = write_plan(tmp_path / "plan", prom.url)
    since = math.floor(time.time()) - 1
    result = run_cli("gameday", "run", str(plan), "--reports", str(tmp_path / "runs"))
    assert result.returncode in (0, 1), result.stdout + result.stderr
    until = math.ceil(time.time()) + 2
    while time.time() < until + 6:  # every second up to `until` scraped and queryable
        time.sleep(0.5)
    report = json.loads((only_run_dir(tmp_path / "runs") / "report.json").read_text())
    rows = {r["slo"]: r for r in report["scenarios"][0]["slos"]}
    chaos = rows["server-availability"]["observed"]["budget_consumed"]
    assert chaos > 0

    out = tmp_path / "review"
    reviewed = run_cli("review", str(tmp_path / "runs"), "--since", iso(since), "--until",
                       iso(until), "--out", str(out), "--format", "json,html")
    assert reviewed.returncode == 0, reviewed.stdout + reviewed.stderr
    slos = slos_of(json.loads((out / "review.json").read_text()))
    server = slos["server-availability"]
    assert server["note"] is None, server["note"]
    assert server["chaos_budget_consumed"] == pytest.approx(chaos, rel=1e-9)
    # the events Prometheus counted over the period, read here straight from the counters
    total = counter(prom.url, TOTAL, until) - counter(prom.url, TOTAL, since)
    bad = counter(prom.url, BAD, until) - counter(prom.url, BAD, since)
    assert bad > 0
    actual = server["actual"]
    assert actual["url"] == prom.url and actual["seconds"] == until - since
    assert actual["total"] == pytest.approx(total, abs=1)
    assert actual["total"] - actual["good"] == pytest.approx(bad, abs=1)
    # every bad request of the period came from the fault, so the service's real spend is
    # chaos's: the run's per-second sum and the review's 1 s slices read the same counters
    assert server["actual_budget_consumed"] == pytest.approx(chaos, rel=0.3)
    assert server["chaos_share"] == pytest.approx(chaos / server["actual_budget_consumed"])
    assert 0.7 < server["chaos_share"] < 1.4
    client = slos["client-availability"]
    assert client["actual_budget_consumed"] is None and client["note"] is None
    assert "actual spent" in (out / "review.html").read_text()

    prom.stop()
    offline = tmp_path / "review-without-prometheus"
    again = run_cli("review", str(tmp_path / "runs"), "--since", iso(since), "--until",
                    iso(until), "--out", str(offline), "--format", "json")
    assert again.returncode == 0, again.stdout + again.stderr
    review = json.loads((offline / "review.json").read_text())
    server = slos_of(review)["server-availability"]
    assert server["actual_budget_consumed"] is None
    assert "unreachable" in server["note"]
    assert server["chaos_budget_consumed"] == pytest.approx(chaos, rel=1e-9)
    assert any("unreachable" in note for note in review["notes"])
