"""Measured detection through real short gamedays: a real Prometheus (1 s scrape and
evaluation) scraping the standing target and evaluating `slo rules` alerts with seconds-long
windows, a real Alertmanager (group_wait 1 s) whose webhook reaches both chaos_suite's receiver
and the test's own. Truth: Prometheus's own ALERTS samples and the webhook the test receives."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
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
from support.alertmanager_server import WebhookSink, start_alertmanager
from support.prometheus_server import _free_port, start_prometheus

pytestmark = pytest.mark.slow

EVAL_S = 1.0  # Prometheus's scrape and evaluation interval here
TOTAL = "sum(checkout_http_requests_total)"
BAD = 'sum(checkout_http_requests_total{status_class="5xx"})'


def _slo_file(folder: Path, name: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"kind": "SLOs", "service": "checkout", "slos": [
        {"name": name, "objective": "99%", "window": "30d",
         "source": {"type": "prometheus", "total": TOTAL, "bad": BAD}}]}))
    return path


def _rules(folder: Path, slo_file: Path, factor: float) -> Path:
    """`chaos-suite slo rules` with one page row over 30s/5s at `factor` (error ratio above
    factor × 1%); factor 1000 can never fire (a ratio above 10)."""
    windows = folder / f"{slo_file.stem}-windows.yaml"
    windows.write_text(yaml.safe_dump({"name": "gameday", "windows": [
        {"severity": "page", "long": "30s", "short": "5s", "factor": factor}]}))
    out = folder / f"{slo_file.stem}-rules.yaml"
    done = run_cli("slo", "rules", str(slo_file), "--windows", str(windows),
                   "--eval-interval", "1s", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


@contextlib.contextmanager
def _stack(tmp_path: Path, folder: Path, rules: list[Path], slo_files: list[Path]
           ) -> Iterator[dict[str, Any]]:
    webhook_port = _free_port()
    with standing_target() as status, WebhookSink() as sink, \
            start_alertmanager([sink.url, f"http://127.0.0.1:{webhook_port}/"],
                               tmp_path / "am") as am, \
            start_prometheus([f"127.0.0.1:{status['admin_port']}"], tmp_path / "prom",
                             rule_files=rules, alertmanager=am.address) as prom:
        prom.wait_scraped()
        yield {"folder": folder, "prom": prom, "am": am, "sink": sink,
               "webhook_port": webhook_port, "slo_files": slo_files}


@pytest.fixture()
def stack(isolated_state: Path, tmp_path: Path) -> Iterator[dict[str, Any]]:
    folder = tmp_path / "plan"
    folder.mkdir()
    fires = _slo_file(folder, "server-availability")
    never = _slo_file(folder, "server-impossible")
    with _stack(tmp_path, folder, [_rules(folder, fires, 10), _rules(folder, never, 1000)],
                [fires, never]) as running:
        yield running


# An OpenSLO SLO whose inline AlertPolicy pages when the burn rate over 10 s is above 10 for 2 s
OPENSLO = {
    "apiVersion": "openslo/v1", "kind": "SLO", "metadata": {"name": "server-openslo"},
    "spec": {
        "service": "checkout",
        "indicator": {"metadata": {"name": "non-5xx"}, "spec": {"ratioMetric": {
            "counter": True,
            "bad": {"metricSource": {"type": "Prometheus", "spec": {"query": BAD}}},
            "total": {"metricSource": {"type": "Prometheus", "spec": {"query": TOTAL}}}}}},
        "timeWindow": [{"duration": "30d", "isRolling": True}],
        "budgetingMethod": "Occurrences",
        "objectives": [{"target": 0.99}],
        "alertPolicies": [{"kind": "AlertPolicy", "metadata": {"name": "fast-burn"}, "spec": {
            "alertWhenBreaching": True,
            "conditions": [{"kind": "AlertCondition", "metadata": {"name": "burn-10"}, "spec": {
                "severity": "page", "condition": {"kind": "burnrate", "op": "gt",
                                                  "threshold": 10, "lookbackWindow": "10s",
                                                  "alertAfter": "2s"}}}],
            "notificationTargets": [{"kind": "AlertNotificationTarget",
                                     "metadata": {"name": "on-call"},
                                     "spec": {"target": "webhook"}}]}}]}}


def test_an_openslo_alert_policy_is_the_alert_written_expected_and_measured(
        isolated_state: Path, tmp_path: Path) -> None:
    """`slo rules` writes the policy's alert (no --windows: an SLO with policies is alerted on
    by them); the plan expects it by the policy's name; the run measures it, pages (the policy
    has a notification target) and predicts it from the same single-window row."""
    folder = tmp_path / "plan"
    folder.mkdir()
    slo_file = folder / "openslo.yaml"
    slo_file.write_text(yaml.safe_dump(OPENSLO))
    rules = folder / "openslo-rules.yaml"
    done = run_cli("slo", "rules", str(slo_file), "--eval-interval", "1s", "--out", str(rules))
    assert done.returncode == 0, done.stderr
    with _stack(tmp_path, folder, [rules], [slo_file]) as running:
        plan = _write_plan(running, fault_s=12, alerts={
            "server-openslo": {"max_budget_consumed": "100%",
                               "alert": {"policy": "fast-burn", "within": "40s"}}},
            detection={"evaluation_interval": "1s", "scrape_interval": "1s"})
        result = run_cli("gameday", "run", str(plan), "--reports", str(tmp_path / "r"))
        assert result.returncode in (0, 1), result.stdout + result.stderr
        run_dir = only_run_dir(tmp_path / "r")
        onset = next(e["t"] for e in events(run_dir) if e["type"] == "fault_injected")
        truth = _alerts_truth(running["prom"].url, "server-openslo", "firing")[0]
        paged = running["sink"].first_firing(openslo_alert_policy="fast-burn")
    report = json.loads((run_dir / "report.json").read_text())
    [measured] = report["scenarios"][0]["detection"]["slos"]
    assert measured["expected"]["alert"]["labels"] == {
        "sloth_slo": "server-openslo", "openslo_alert_policy": "fast-burn"}
    assert measured["expected"]["alert"]["page"] is True
    assert measured["verdict"] == "detected", measured
    assert paged is not None
    assert abs(measured["time_to_detect_seconds"] - (truth - onset)) <= EVAL_S
    assert abs(measured["time_to_page_seconds"] - (paged - onset)) <= EVAL_S
    predicted = report["scenarios"][0]["slos"][0]["predicted_coverage"]
    assert predicted["window_set"] == "openslo-policies"
    assert [a["alert"] for a in predicted["alerts"]] == ["fast-burn"]
    print(f"policy alert: predicted {predicted['page_after_seconds']} s, measured "
          f"{measured['time_to_detect_seconds']} s")
    assert abs(predicted["page_after_seconds"] - measured["time_to_detect_seconds"]) \
        <= predicted["resolution_seconds"], (predicted, measured)


def _write_plan(stack: dict[str, Any], *, fault_s: float, silence: bool = False,
                alerts: dict[str, Any] | None = None, detection: dict[str, Any] | None = None
                ) -> Path:
    folder: Path = stack["folder"]
    (folder / "environments").mkdir(exist_ok=True)
    # the windows and intervals the rules of server-availability were written with, so the
    # report's predicted coverage is for the alert Prometheus evaluates
    detection = {"webhook_port": stack["webhook_port"], **(detection or {
        "windows": str(folder / "server-availability-windows.yaml"),
        "evaluation_interval": "1s", "scrape_interval": "1s"})}
    if silence:
        detection["silence"] = {"sloth_service": "checkout"}
    (folder / "environments" / "standing.yaml").write_text(yaml.safe_dump({
        "kind": "Environment", "name": "standing", "tier": "local",
        "target": {"type": "local", "managed": False},
        "sources": {"prometheus": {"url": stack["prom"].url},
                    "alertmanager": {"url": stack["am"].url}},
        "detection": detection}))
    (folder / "errors.json").write_text(json.dumps(experiment("50% errors", [
        action("inject", "inject_errors", pause_after=fault_s, ratio=0.5, ttl_s=120),
        action("clear", "clear_faults")], [action("clear", "clear_faults")])))
    alert = {"name": "ErrorBudgetBurn", "within": "40s"}
    plan = {"kind": "Gameday", "name": "detect", "service": "checkout",
            "environment": "standing", "slos": [p.name for p in stack["slo_files"]],
            "baseline": "4s", "cooldown": "8s", "min_events": 50,
            "hypothesis": {"window": "2s", "max_burn_rate": 1000},
            "load": {"locustfile": str(ROOT / "loadtests/checkout.py"),
                     "shape": {"kind": "steady", "users": 5, "spawn_rate": 5}},
            "scenarios": [{"name": "errors", "experiment": "errors.json", "expect": alerts or {
                "server-availability": {"max_budget_consumed": "100%", "alert": {
                    **alert, "labels": {"sloth_slo": "server-availability", "severity": "page"},
                    "page": not silence}},
                "server-impossible": {"max_budget_consumed": "100%", "alert": {
                    **alert, "labels": {"sloth_slo": "server-impossible"}}}}}]}
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    return path


def _alerts_truth(prom_url: str, slo: str, state: str) -> list[float]:
    """Timestamps of Prometheus's own ALERTS samples (the evaluations it was in `state`)."""
    body = httpx.get(f"{prom_url}/api/v1/query", params={
        "query": f'ALERTS{{alertstate="{state}",sloth_slo="{slo}"}}[15m]'}, timeout=5).json()
    return sorted(float(t) for series in body["data"]["result"] for t, _ in series["values"])


def test_measured_detection_agrees_with_prometheus_and_the_webhook(
        stack: dict[str, Any], tmp_path: Path) -> None:
    plan = _write_plan(stack, fault_s=15)
    result = run_cli("gameday", "run", str(plan), "--reports", str(tmp_path / "r"))
    assert result.returncode in (0, 1), result.stdout + result.stderr
    run_dir = only_run_dir(tmp_path / "r")
    record = events(run_dir)
    onset = next(e["t"] for e in record if e["type"] == "fault_injected")
    report = json.loads((run_dir / "report.json").read_text())
    detection = {d["slo"]: d for d in report["scenarios"][0]["detection"]["slos"]}

    fired = detection["server-availability"]
    assert fired["verdict"] == "detected", fired
    truth_firing = _alerts_truth(stack["prom"].url, "server-availability", "firing")[0]
    truth_page = stack["sink"].first_firing(sloth_slo="server-availability")
    assert truth_page is not None
    print(f"time to detect: measured {fired['time_to_detect_seconds']:.3f} s, "
          f"ALERTS {truth_firing - onset:.3f} s; time to page: measured "
          f"{fired['time_to_page_seconds']:.3f} s, test's webhook {truth_page - onset:.3f} s")
    assert abs(fired["time_to_detect_seconds"] - (truth_firing - onset)) <= EVAL_S
    assert abs(fired["time_to_page_seconds"] - (truth_page - onset)) <= EVAL_S
    assert fired["time_to_page_seconds"] >= fired["time_to_detect_seconds"] - EVAL_S
    assert fired["time_to_recover_seconds"] is None or fired["time_to_recover_seconds"] > 0
    assert {"alert_state", "alert_notified", "alert_history"} <= {e["type"] for e in record}
    # the ALERTS series read after the run agrees with the poll within one evaluation
    assert fired["firing_seen_by"] == "rules API"
    from_series = datetime.fromisoformat(fired["firing_in_alerts_series"]).timestamp()
    assert abs(from_series - truth_firing) <= EVAL_S
    # predicted coverage at the observed burn rate, for the rules' own windows and intervals,
    # is within its stated resolution of the measured time to detect
    predicted = report["scenarios"][0]["slos"][0]["predicted_coverage"]
    assert report["scenarios"][0]["slos"][0]["slo"] == "server-availability"
    print(f"predicted page after {predicted['page_after_seconds']} s: {predicted['text']}")
    assert abs(predicted["page_after_seconds"] - fired["time_to_detect_seconds"]) \
        <= predicted["resolution_seconds"], (predicted, fired)

    gap = detection["server-impossible"]
    assert gap["verdict"] == "gap" and gap["time_to_detect_seconds"] is None
    assert not _alerts_truth(stack["prom"].url, "server-impossible", "firing")
    assert report["scenarios"][0]["detection"]["noise"] == []

    cases = {c.get("name"): c for c in ET.parse(run_dir / "junit.xml").getroot().iter("testcase")}
    assert cases["detection server-impossible"].find("failure") is not None
    assert cases["detection server-availability"].find("failure") is None
    markdown = (run_dir / "report.md").read_text()
    assert "| server-impossible | gap |" in markdown


def test_quiet_gameday_silences_the_page_and_still_measures_detection(
        stack: dict[str, Any], tmp_path: Path) -> None:
    plan = _write_plan(stack, fault_s=12, silence=True)
    result = run_cli("gameday", "run", str(plan), "--reports", str(tmp_path / "r"))
    assert result.returncode in (0, 1), result.stdout + result.stderr
    run_dir = only_run_dir(tmp_path / "r")
    record = events(run_dir)
    kinds = [(e["type"], e.get("action")) for e in record]
    created = kinds.index(("silence", "created"))
    assert created < kinds.index(("fault_injected", None))
    assert ("silence", "removed") in kinds
    assert stack["sink"].first_firing(sloth_slo="server-availability") is None  # nobody paged
    assert any(e["type"] == "alert_state" and e["source"] == "alertmanager"
               and e["state"] == "suppressed" for e in record)
    assert all(s["status"]["state"] == "expired" for s in stack["am"].silences())
    report = json.loads((run_dir / "report.json").read_text())
    fired = {d["slo"]: d for d in report["scenarios"][0]["detection"]["slos"]}
    assert fired["server-availability"]["verdict"] == "detected"
    assert fired["server-availability"]["time_to_page_seconds"] is None


def test_recover_removes_the_silence_after_sigkill(stack: dict[str, Any], tmp_path: Path
                                                   ) -> None:
    plan = _write_plan(stack, fault_s=60, silence=True)
    proc = subprocess.Popen(cli_command("gameday", "run", str(plan), "--reports",
                                        str(tmp_path / "r")),
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_event(tmp_path / "r", "fault_injected", timeout_s=90)
        assert [s["status"]["state"] for s in stack["am"].silences()] == ["active"]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    done = run_cli("recover")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "chaos_suite.detection.silence.remove_silence" in done.stdout + done.stderr
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(
            s["status"]["state"] != "expired" for s in stack["am"].silences()):
        time.sleep(0.2)
    assert all(s["status"]["state"] == "expired" for s in stack["am"].silences())
