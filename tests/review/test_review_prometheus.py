"""With a real Prometheus scraping the embedded target: the review sets the budget the service
actually spent over the period (read through the SLO's own queries, from the plan the run
recorded) beside what chaos spent; a Prometheus gone is a note, not a failure."""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from gameday_helpers import PROM_BAD, PROM_TOTAL, only_run_dir, prometheus_plan, run_cli

pytestmark = pytest.mark.slow






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
    plan = prometheus_plan(tmp_path / "plan", prom.url, fault_s=6, baseline="3s", cooldown="3s")
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
    total = counter(prom.url, PROM_TOTAL, until) - counter(prom.url, PROM_TOTAL, since)
    bad = counter(prom.url, PROM_BAD, until) - counter(prom.url, PROM_BAD, since)
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
