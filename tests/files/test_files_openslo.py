"""OpenSLO v1 and v1alpha onto the one SLO model: every variant the specification allows, each
checked against budgets and windows worked out here by hand from the specification."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from support.slo_files import DATA, DAY, NOW, ROOT, cli, read

from chaos_suite.errors import UnknownSLOError, ValidationError
from chaos_suite.files.loader import detect_kind, load_slos, resolve_plan
from chaos_suite.files.slo_file import LoadSource, PrometheusSource
from chaos_suite.slo.alerting import AlertSource
from chaos_suite.slo.budgeting import BudgetingMethod
from chaos_suite.slo.model import SLIKind
from chaos_suite.sources.prometheus import PrometheusClient, budget_status

OPENSLO = DATA / "openslo"


def prometheus(spec_source: object) -> PrometheusSource:
    assert isinstance(spec_source, PrometheusSource)
    return spec_source


# ---------------------------------------------------------------- file shapes


def test_multi_document_file_keeps_every_kind_and_resolves_the_references() -> None:
    specs = read(OPENSLO / "multi-document.yaml")
    assert sorted(specs) == ["checkout-availability", "checkout-tiers-gold",
                             "checkout-tiers-silver"]
    availability = specs["checkout-availability"]
    # indicatorRef → SLI document; its metricSourceRef → a DataSource of type Prometheus
    source = prometheus(availability.source)
    assert source.bad == 'sum(checkout_http_requests_total{status_class="5xx"})'
    assert source.total == "sum(checkout_http_requests_total)" and source.counter
    assert availability.slo.objective == 0.999 and availability.slo.window_seconds == 30 * DAY
    # the alert policy, its condition and its notification target, all referred to by name
    [policy] = availability.alert_policies
    [condition] = policy.conditions
    assert (policy.name, policy.targets) == ("checkout-fast-burn", ("on-call",))
    assert (condition.severity, condition.op, condition.threshold) == ("page", "gt", 14.4)
    assert (condition.lookback_s, condition.alert_after_s) == (3_600, 300)


def test_several_objectives_become_several_slos_named_after_them() -> None:
    specs = read(OPENSLO / "multi-document.yaml")
    gold, silver = specs["checkout-tiers-gold"], specs["checkout-tiers-silver"]
    # targetPercent 99.95 is exactly 0.9995; 4w is 28 days
    assert (gold.slo.objective, silver.slo.objective) == (0.9995, 0.99)
    assert gold.slo.window_seconds == silver.slo.window_seconds == 28 * DAY
    assert gold.source == silver.source


def test_top_level_yaml_list_is_a_list_of_documents() -> None:
    spec = read(OPENSLO / "list.yaml")["search-availability"]
    assert spec.slo.objective == 0.995 and spec.slo.window_seconds == 7 * DAY
    assert prometheus(spec.source).good == 'sum(search_requests_total{code!~"5.."})'


def test_json_slo_and_json_list_are_slo_files_everywhere() -> None:
    for name in ("slo.json", "list.json"):
        assert detect_kind(OPENSLO / name) == "slos"
    ledger = read(OPENSLO / "list.json")["ledger-availability"]
    # isRolling left out and no calendar: rolling; targetPercent 99.5 → 0.995
    assert ledger.slo.objective == 0.995 and ledger.slo.window_seconds == 28 * DAY
    result = cli("validate", str(OPENSLO / "slo.json"), str(OPENSLO / "list.json"))
    assert result.returncode == 0, result.stderr
    assert "ok: " in result.stdout and "(slos: payments-availability" in result.stdout
    explained = json.loads(cli("slo", "explain", str(OPENSLO / "slo.json"), "--format",
                               "json").stdout)
    assert explained[0]["name"] == "payments-availability"


def test_indicator_ref_to_an_sli_in_another_file() -> None:
    both = read(OPENSLO / "ref-slo.yaml", OPENSLO / "ref-sli.yaml")
    spec = both["cart-availability"]
    assert prometheus(spec.source).total == "sum(cart_requests_total)"
    with pytest.raises(ValidationError) as info:
        read(OPENSLO / "ref-slo.yaml")
    assert info.value.field == "spec.indicatorRef"
    # the same through the CLI: validate and explain look across the files given
    result = cli("validate", str(OPENSLO / "ref-slo.yaml"), str(OPENSLO / "ref-sli.yaml"))
    assert result.returncode == 0, result.stderr
    assert "ref-sli.yaml (slos: no SLO, only 1 DataSource, 1 SLI)" in result.stdout
    explained = cli("slo", "explain", str(OPENSLO / "ref-slo.yaml"), str(OPENSLO / "ref-sli.yaml"))
    assert explained.returncode == 0 and "cart/cart-availability" in explained.stdout
    alone = cli("validate", str(OPENSLO / "ref-slo.yaml"))
    assert alone.returncode == 2
    assert alone.stderr.strip() == (f"invalid: {OPENSLO / 'ref-slo.yaml'}: spec.indicatorRef: no SLI "
                                    "named 'cart-ok' in this file or the other files given")


def test_a_plan_lists_several_slo_files(tmp_path: Path) -> None:
    plan = _plan(tmp_path, slos=[str(OPENSLO / "ref-slo.yaml"), str(OPENSLO / "ref-sli.yaml")],
                 expect="cart-availability")
    resolved = resolve_plan(plan)
    assert [s.name for s in resolved.slos] == ["cart-availability"]


# ---------------------------------------------------------------- windows


def test_calendar_windows_budget_the_calendar_period() -> None:
    specs = read(OPENSLO / "calendar.yaml")  # at NOW, 15 March 2026 12:00 UTC
    month, quarter = specs["billing-month"], specs["billing-quarter"]
    year, rolling = specs["billing-year"], specs["billing-rolling-month"]
    # March 2026 in New York: 31 days less the hour lost on 8 March; budget 0.1% of it
    assert month.slo.window_seconds == 31 * DAY - 3_600
    assert month.window is not None and month.window.calendar
    assert month.slo.error_budget * month.slo.window_seconds == pytest.approx(2_674.8)
    # the calendar quarter Q1 2026: 31 + 28 + 31 = 90 days, 0.1% of it is 7776 s
    assert quarter.slo.window_seconds == 90 * DAY
    assert quarter.slo.error_budget * quarter.slo.window_seconds == pytest.approx(7_776)
    # the calendar year 2026: 365 days at 99.99% leaves 3153.6 s
    assert year.slo.window_seconds == 365 * DAY
    assert year.slo.error_budget * year.slo.window_seconds == pytest.approx(3_153.6)
    # a rolling 1M is the month up to now (15 February to 15 March: 28 days), never a minute
    assert rolling.slo.window_seconds == 28 * DAY
    assert rolling.window is not None and not rolling.window.calendar


def test_calendar_quarter_in_another_quarter() -> None:
    from datetime import UTC, datetime

    at = datetime(2026, 8, 20, tzinfo=UTC)
    # Q3: July 31 + August 31 + September 30 = 92 days
    assert read(OPENSLO / "calendar.yaml", now=at)["billing-quarter"].slo.window_seconds == 92 * DAY


def test_explain_names_the_calendar_period() -> None:
    result = cli("slo", "explain", str(OPENSLO / "calendar.yaml"))
    assert result.returncode == 0, result.stderr
    assert "over the calendar quarter" in result.stdout and " UTC (" in result.stdout
    assert "over a rolling 1M (the month up to now:" in result.stdout


# ---------------------------------------------------------------- budgeting and metrics


def test_timeslices_and_ratio_timeslices() -> None:
    specs = read(OPENSLO / "timeslices.yaml")
    minutes, ratio = specs["api-minutes"], specs["api-ratio-slices"]
    assert minutes.budgeting.method is BudgetingMethod.TIMESLICES
    assert (minutes.budgeting.slice_seconds, minutes.budgeting.slice_target) == (60, 0.95)
    # 30 days of 1-minute slices: 43200; 0.1% of them may be bad: 43.2
    assert minutes.budgeting.slices_in(minutes.slo.window_seconds) == 43_200
    assert minutes.budgeting.budget_slices(0.999, minutes.slo.window_seconds) == pytest.approx(43.2)
    # timeSliceWindow: 5 is minutes; 28 days hold 8064 five-minute slices, 1% of them 80.64
    assert ratio.budgeting.method is BudgetingMethod.RATIO_TIMESLICES
    assert ratio.budgeting.slice_seconds == 300 and ratio.budgeting.slice_target is None
    assert ratio.budgeting.budget_slices(0.99, 28 * DAY) == pytest.approx(80.64)
    text = cli("slo", "explain", str(OPENSLO / "timeslices.yaml")).stdout
    assert "Timeslices: 43200 slices of 1m, a slice is good with at least 95% good events; " \
           "43.2 may be bad" in text
    assert "RatioTimeslices: 8064 slices of 5m" in text


def test_counter_false_is_read_as_a_gauge_never_differenced() -> None:
    spec = read(OPENSLO / "counter-false.yaml")["queue-rate"]
    source = prometheus(spec.source)
    assert source.counter is False
    seen: list[tuple[str, float | None]] = []

    class Recording(PrometheusClient):
        def query(self, promql: str, at: float | None = None) -> float | None:
            seen.append((promql, at))
            return 2.0 if "result" in promql else 4.0  # per-second rates

    with Recording("http://127.0.0.1:1") as client:
        status = budget_status(spec, client, at=1_000_000.0)
    # one query per role at the window's end: its mean over the window, never increase() nor
    # the value a window earlier subtracted
    assert [at for _, at in seen] == [1_000_000.0, 1_000_000.0]
    assert all(q.startswith("avg_over_time((sum(rate(queue_jobs_total") for q, _ in seen)
    assert not any("increase(" in q for q, _ in seen)
    assert status.total == 4.0 * 7 * DAY and status.good == 2.0 * 7 * DAY
    assert status.error_ratio == 0.5


def test_counter_true_is_differenced() -> None:
    assert prometheus(read(OPENSLO / "multi-document.yaml")["checkout-availability"].source).counter
    seen: list[float | None] = []

    class Recording(PrometheusClient):
        def query(self, promql: str, at: float | None = None) -> float | None:
            seen.append(at)
            return 100.0 if at == 1_000_000.0 else 40.0

    with Recording("http://127.0.0.1:1") as client:
        client.increase_over("sum(x)", 60.0, at=1_000_000.0, counter=True)
    assert seen == [1_000_000.0, 1_000_000.0 - 60.0]


def test_threshold_metric_counts_samples_that_meet_the_threshold() -> None:
    spec = read(OPENSLO / "threshold.yaml")["search-p99"]
    source = prometheus(spec.source)
    query = "histogram_quantile(0.99, sum by (le) (rate(search_seconds_bucket[1m])))"
    assert source.total == f"count({query})"
    assert source.good == f"sum(({query}) <= bool 0.25)"
    assert source.counter is False
    # Timeslices over 7 days of 1-minute slices at 99%: 100.8 bad slices allowed
    assert spec.budgeting.budget_slices(0.99, 7 * DAY) == pytest.approx(100.8)


def test_v1alpha_as_sloth_documents_it() -> None:
    spec = read(OPENSLO / "v1alpha.yaml")["wifi-availability"]
    assert spec.slo.objective == 0.95 and spec.slo.window_seconds == 30 * DAY
    assert spec.service == "home-wifi" and spec.origin == "OpenSLO v1alpha"
    assert "{{.window}}" in prometheus(spec.source).total


def test_openslo_alerts_use_the_workbook_table() -> None:
    spec = read(OPENSLO / "multi-document.yaml")["checkout-tiers-gold"]
    assert spec.alerting is AlertSource.WORKBOOK


# ---------------------------------------------------------------- what cannot be measured


def test_unmeasurable_source_is_refused_naming_document_field_and_way_out() -> None:
    result = cli("validate", str(OPENSLO / "datadog.yaml"))
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"invalid: {OPENSLO / 'datadog.yaml'}: spec.indicator.spec.ratioMetric"
                           ".total.metricSource.type: metric source 'Datadog' cannot be measured")
    assert "count SLO 'profile-availability' from the load instead" in line
    assert "count_from_load" in line


def test_a_plan_may_count_it_from_the_load(tmp_path: Path) -> None:
    plan = _plan(tmp_path, slos=str(OPENSLO / "datadog.yaml"), expect="profile-availability",
                 count_from_load=["profile-availability"])
    [spec] = resolve_plan(plan).slos
    assert isinstance(spec.source, LoadSource) and spec.slo.sli.kind is SLIKind.AVAILABILITY
    # validate with the plan alongside accepts the SLO file too
    (tmp_path / "slos.yaml").write_text((OPENSLO / "datadog.yaml").read_text(encoding="utf-8"),
                                        encoding="utf-8")
    local = _plan(tmp_path, slos="slos.yaml", expect="profile-availability",
                  count_from_load=["profile-availability"])
    result = cli("validate", str(local), str(tmp_path / "slos.yaml"))
    assert result.returncode == 0, result.stderr


def test_count_from_load_applies_to_measurable_slos_too(tmp_path: Path) -> None:
    plan = _plan(tmp_path, slos=str(OPENSLO / "slo.json"), expect="payments-availability",
                 count_from_load=["payments-availability"])
    [spec] = resolve_plan(plan).slos
    assert isinstance(spec.source, LoadSource) and spec.slo.source == "load"


def test_count_from_load_must_name_a_known_slo(tmp_path: Path) -> None:
    plan = _plan(tmp_path, slos=str(OPENSLO / "slo.json"), expect="payments-availability",
                 count_from_load=["payments-availabilty"])
    with pytest.raises(UnknownSLOError, match=r"count_from_load\[0\]: unknown SLO"):
        resolve_plan(plan)


def test_run_slos_reads_any_format() -> None:
    # `run --slos` and the budget gate read through load_slos, detecting by content
    assert [s.name for s in load_slos(OPENSLO / "slo.json")] == ["payments-availability"]
    with pytest.raises(ValidationError, match="no SLO here"):
        load_slos(OPENSLO / "ref-sli.yaml")


# ---------------------------------------------------------------- bad input, one line each


BAD = {
    "composite.yaml": ("spec.objectives[0].indicatorRef", "composite SLOs"),
    "missing-sli.yaml": ("spec.indicatorRef", "no SLI named 'nowhere'"),
    "calendar-rolling.yaml": ("spec.timeWindow[0].isRolling", "contradicts 'calendar'"),
    "bad-timezone.yaml": ("spec.timeWindow[0].calendar.timeZone", "unknown time zone"),
    "timeslices-no-target.yaml": ("spec.objectives[0].timeSliceTarget", "required with Timeslices"),
    "raw-ratio.yaml": ("spec.indicator.spec.ratioMetric.raw", "no event counts"),
    "bad-unit.yaml": ("spec.timeWindow[0].duration", "one of s m h d w M Q Y"),
    "target-twice.yaml": ("spec.objectives[0]", "exactly one of 'target'"),
    "duplicate-sli.yaml": ("documents[1].metadata.name", "SLI 'twice' is defined twice"),
    "openslo-v2.yaml": ("apiVersion", "unsupported OpenSLO version"),
    "slo-and-gameday.yaml": ("documents[1]", "cannot share a file with SLO documents"),
    "unknown-in-list.yaml": ("documents[1].kind", "unknown file type 'Deployment'"),
    "sloth-100.yaml": ("slos[0].objective", "below 100%"),
    "sloth-plugin.yaml": ("slos[0].sli.plugin", "SLI plugins run inside Sloth"),
    "pyrra-fraction.yaml": ("spec.target", "objective is a percentage"),
    "pyrra-no-le.yaml": ("spec.indicator.latency.success.metric", "le label matcher"),
    "pyrra-two-indicators.yaml": ("spec.indicator", "exactly one of ratio, latency"),
    "pyrra-month.yaml": ("spec.window", "Prometheus duration"),
}


def test_every_bad_slo_file_is_one_line_exit_2_naming_file_and_field() -> None:
    folder = DATA / "bad"
    assert sorted(p.name for p in folder.iterdir()) == sorted(BAD)
    result = cli("validate", str(folder))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == len(BAD)
    for line in lines:
        name = next(n for n in BAD if f"/{n}: " in line)
        field, problem = BAD[name]
        assert line.startswith(f"invalid: {folder / name}: {field}: "), line
        assert problem in line, line


def test_composite_alone_is_one_clear_line() -> None:
    result = cli("validate", str(DATA / "bad" / "composite.yaml"))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"invalid: {DATA / 'bad' / 'composite.yaml'}: spec.objectives[0].indicatorRef: composite "
        "SLOs (objectives with an indicator of their own) are not supported: write one SLO per "
        "indicator"]


# ---------------------------------------------------------------- detection, experiments


def test_json_experiment_is_still_an_experiment() -> None:
    experiment = ROOT / "tests" / "data" / "broken" / "bad-experiment.json"
    assert detect_kind(experiment) == "experiment"


def test_yaml_experiment_with_two_documents_is_refused(tmp_path: Path) -> None:
    source = (ROOT / "experiments" / "local-kill-replica.yaml").read_text(encoding="utf-8")
    path = tmp_path / "two.yaml"
    path.write_text(source + "\n---\n" + source, encoding="utf-8")
    result = cli("validate", str(path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"invalid: {path}: documents[1]: a Chaos Toolkit experiment holds exactly one document; "
        "this file has 2 (only the first would be read)"]


def test_slo_explain_detects_like_validate(tmp_path: Path) -> None:
    # a gameday plan is no SLO file: explain says so instead of misreading it
    result = cli("slo", "explain", str(ROOT / "gamedays" / "demo.yaml"))
    assert result.returncode == 2
    assert result.stderr.strip().endswith("demo.yaml: not an SLO file: it holds a gameday")


def _plan(folder: Path, *, slos: str | list[str], expect: str,
          count_from_load: list[str] | None = None) -> Path:
    plan = yaml.safe_load((ROOT / "gamedays" / "demo.yaml").read_text(encoding="utf-8"))
    plan["slos"] = slos
    plan["load"]["locustfile"] = str(ROOT / "loadtests" / "checkout.py")
    plan["environment"] = "local"
    for scenario in plan["scenarios"]:
        scenario["experiment"] = str(ROOT / "gamedays" / scenario["experiment"])
        scenario["expect"] = {expect: {"max_budget_consumed": 0.01}}
    if count_from_load is not None:
        plan["count_from_load"] = count_from_load
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(plan), encoding="utf-8")
    return path


def test_now_is_fixed_for_these_tests() -> None:
    assert NOW.isoformat() == "2026-03-15T12:00:00+00:00"
