"""Which alerts each SLO of a run gets (plan.json's ``alerting``): the SLO file's own tool, the
environment's ``detection.windows`` and intervals, the embedded stack's short set; a bad
``detection.windows`` is one line and exit 2 before anything starts; and the report's predicted
coverage is the prediction for the fault window's pooled burn rate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from gameday_helpers import ROOT, run_cli

from chaos_suite.detection.coverage import alerting_record, coverage_of, window_set_of
from chaos_suite.detection.predict import predict_coverage
from chaos_suite.detection.windows import builtin_window_set
from chaos_suite.files.environment import BUILTIN_LOCAL, Detection
from chaos_suite.files.loader import load_slos, resolve_plan
from chaos_suite.gameday.resolve import plan_record
from chaos_suite.record.models import AlertingRecord, BurnAlertRecord

DATA = ROOT / "tests" / "data" / "slos"


def _rows(record: AlertingRecord) -> list[tuple[str, float, float, float, float]]:
    return [(a.severity, a.long_seconds, a.short_seconds, a.factor, a.for_seconds)
            for a in record.alerts]


@pytest.mark.parametrize(("file", "tool"), [
    (DATA / "sloth" / "service.yaml", "sloth"),
    (DATA / "pyrra" / "ratio.yaml", "pyrra"),
    (DATA / "openslo" / "threshold.yaml", "google"),
    (DATA / "openslo" / "multi-document.yaml", "openslo-policies"),
    (ROOT / "gamedays" / "slos" / "checkout.yaml", "google"),
])
def test_without_detection_config_each_slo_gets_its_own_tools_windows(file: Path, tool: str
                                                                      ) -> None:
    spec = load_slos(file)[0]
    record = alerting_record(spec, BUILTIN_LOCAL, None)
    assert (record.window_set, record.chosen_by) == (tool, "slo-file")
    # Prometheus's own default intervals, said as such
    assert record.evaluation_interval_seconds == record.scrape_interval_seconds == 60
    if tool == "openslo-policies":  # its AlertPolicy: burn rate > 14.4 over 1h for 5m, paging
        assert _rows(record) == [("page", 3600, 3600, 14.4, 300)]
        return
    expected = builtin_window_set(tool, spec.slo.window_seconds, spec.alerts_disabled)
    assert _rows(record) == [(a.severity, a.long_s, a.short_s, a.factor, a.for_s)
                             for a in expected.alerts]


def test_environment_windows_and_intervals_win_and_embedded_defaults_to_the_short_set(
        tmp_path: Path) -> None:
    spec = load_slos(ROOT / "gamedays" / "slos" / "checkout.yaml")[0]
    env = BUILTIN_LOCAL.model_copy(update={"detection": Detection(
        windows="sloth", evaluation_interval=30, scrape_interval=15)})
    record = alerting_record(spec, env, None)
    assert (record.window_set, record.chosen_by) == ("sloth", "environment")
    assert (record.evaluation_interval_seconds, record.scrape_interval_seconds) == (30, 15)

    (tmp_path / "windows.yaml").write_text(yaml.safe_dump({"name": "drill", "windows": [
        {"severity": "page", "long": "1m", "short": "5s", "factor": 14.4, "for": "10s"}]}))
    env_path = tmp_path / "env.yaml"
    custom = alerting_record(spec, BUILTIN_LOCAL.model_copy(update={
        "detection": Detection(windows="windows.yaml")}), env_path)
    assert custom.window_set == "drill" and _rows(custom) == [("page", 60, 5, 14.4, 10)]

    embedded = alerting_record(spec, BUILTIN_LOCAL.model_copy(update={
        "detection": Detection(embedded=True)}), None)
    assert (embedded.window_set, embedded.chosen_by) == ("gameday-short", "embedded")
    assert embedded.evaluation_interval_seconds == embedded.scrape_interval_seconds == 1
    assert _rows(embedded) == [("page", 30, 5, 14.4, 0)]


def test_a_window_set_that_fits_no_row_is_said_not_guessed() -> None:
    # Sloth's catalogue knows 28d and 30d periods only; a 7d SLO gets no Sloth alert
    spec = load_slos(ROOT / "gamedays" / "slos" / "checkout.yaml")[0]
    week = spec.slo.__class__(name=spec.slo.name, objective=spec.slo.objective,
                              window_seconds=7 * 86_400, sli=spec.slo.sli)
    spec = spec.__class__(**{**spec.__dict__, "slo": week})
    record = alerting_record(spec, BUILTIN_LOCAL.model_copy(update={
        "detection": Detection(windows="sloth")}), None)
    assert record.alerts == () and record.note and "sloth" in record.note
    assert coverage_of(spec.slo, record, 50.0, 0.0) is None


def test_coverage_of_is_the_prediction_at_the_recorded_windows_and_intervals() -> None:
    spec = load_slos(ROOT / "gamedays" / "slos" / "checkout.yaml")[0]
    record = AlertingRecord(window_set="drill", chosen_by="environment",
                            evaluation_interval_seconds=2, scrape_interval_seconds=1,
                            alerts=(BurnAlertRecord(severity="page", long_seconds=30,
                                                    short_seconds=5, factor=14.4),))
    coverage = coverage_of(spec.slo, record, 50.0, 0.5)
    assert coverage is not None and coverage.resolution_s == 3
    assert coverage == predict_coverage(spec.slo, window_set_of(record), 50.0, 0.5, 2,
                                        scrape_interval_s=1)
    assert coverage_of(spec.slo, None, 50.0, 0.5) is None  # an older record: nothing predicted


def _plan_with_env(folder: Path, detection: dict[str, object]) -> Path:
    (folder / "environments").mkdir(parents=True)
    env = yaml.safe_load((ROOT / "gamedays" / "environments" / "local.yaml").read_text())
    env["detection"] = detection
    (folder / "environments" / "local.yaml").write_text(yaml.safe_dump(env))
    plan = yaml.safe_load((ROOT / "gamedays" / "demo.yaml").read_text())
    plan["slos"] = str(ROOT / "gamedays" / "slos" / "checkout.yaml")
    plan["load"]["locustfile"] = str(ROOT / "loadtests" / "checkout.py")
    for scenario in plan["scenarios"]:
        scenario["experiment"] = str(ROOT / "gamedays" / scenario["experiment"])
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return path


@pytest.mark.parametrize("windows", ["missing.yaml", "googel"])
def test_a_bad_detection_windows_is_one_line_and_exit_2_before_anything_starts(
        isolated_state: Path, tmp_path: Path, windows: str) -> None:
    plan = _plan_with_env(tmp_path / "plan", {"windows": windows})
    reports = tmp_path / "reports"
    done = run_cli("gameday", "run", str(plan), "--reports", str(reports), timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "detection.windows" in lines[0] and "local.yaml" in lines[0]
    assert not reports.exists() or not any(reports.iterdir())


def test_the_plan_record_carries_the_alerting(tmp_path: Path) -> None:
    plan = _plan_with_env(tmp_path / "plan", {"windows": "google", "evaluation_interval": "15s"})
    record = plan_record(resolve_plan(plan), "run-id")
    alerting = [s.alerting for s in record.slos]
    assert alerting and all(
        a is not None and a.window_set == "google" and a.chosen_by == "environment"
        and a.evaluation_interval_seconds == 15 and a.scrape_interval_seconds == 60
        for a in alerting)
    assert json.loads(record.model_dump_json())["slos"][0]["alerting"]["window_set"] == "google"


def _policy_plan(folder: Path, alert: dict[str, object]) -> Path:
    """The demo plan on the OpenSLO file whose checkout-availability has an AlertPolicy."""
    plan = _plan_with_env(folder, {})
    data = yaml.safe_load(plan.read_text())
    data["slos"] = str(DATA / "openslo" / "multi-document.yaml")
    data["scenarios"] = data["scenarios"][:1]
    data["scenarios"][0]["expect"] = {"checkout-availability": {
        "max_budget_consumed": "5%", "alert": alert}}
    plan.write_text(yaml.safe_dump(data, sort_keys=False))
    return plan


def test_an_openslo_policy_supplies_the_alert_expectation(tmp_path: Path) -> None:
    plan = _policy_plan(tmp_path / "plan", {"policy": "checkout-fast-burn", "within": "10m"})
    record = plan_record(resolve_plan(plan), "run-id")
    expected = record.scenarios[0].expectations["checkout-availability"].alert
    assert expected is not None
    # the alert `slo rules` writes for the policy; it pages: the policy has a notification target
    assert (expected.name, expected.labels, expected.within_seconds, expected.page) == (
        "ErrorBudgetBurn", {"sloth_slo": "checkout-availability",
                            "openslo_alert_policy": "checkout-fast-burn"}, 600, True)
    [slo] = record.slos
    assert slo.alerting is not None and slo.alerting.window_set == "openslo-policies"
    assert [a.policy for a in slo.alerting.alerts] == ["checkout-fast-burn"]


@pytest.mark.parametrize(("alert", "says"), [
    ({"policy": "nope"}, "alert.policy: SLO 'checkout-availability' has no OpenSLO alert policy "
                         "'nope' (it has: checkout-fast-burn)"),
    ({"policy": "checkout-fast-burn", "name": "ErrorBudgetBurn"}, "exactly one of name"),
    ({"within": "1m"}, "exactly one of name"),
])
def test_a_bad_policy_expectation_is_one_line_and_exit_2(isolated_state: Path, tmp_path: Path,
                                                         alert: dict[str, object], says: str
                                                         ) -> None:
    plan = _policy_plan(tmp_path / "plan", alert)
    done = run_cli("gameday", "run", str(plan), "--dry-run", timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and "plan.yaml" in lines[0], lines
