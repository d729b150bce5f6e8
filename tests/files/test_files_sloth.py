"""Sloth specs (prometheus/v1 files and the sloth.slok.dev/v1 resource) onto the one SLO model,
and the alert windows Sloth itself generates for them."""

from __future__ import annotations

import json

import pytest
from support.slo_files import DATA, DAY, cli, read

from chaos_suite.files.slo_file import PrometheusSource
from chaos_suite.slo.alerting import AlertSource
from chaos_suite.sources.prometheus import substitute_window

SLOTH = DATA / "sloth"


def test_prometheus_v1_objective_in_percent_window_30d() -> None:
    specs = read(SLOTH / "service.yaml")
    availability, latency = specs["requests-availability"], specs["requests-latency"]
    # objective 99.9 is a percentage: exactly 0.999, never "objective must be below 1.0"
    assert availability.slo.objective == 0.999 and latency.slo.objective == 0.99
    # no window in the spec: Sloth's default period, 30 days
    assert availability.slo.window_seconds == 30 * DAY
    assert availability.service == "myservice" and availability.origin == "Sloth prometheus/v1"
    # 0.1% of 30 days: 2592 s of full outage
    assert availability.slo.error_budget * availability.slo.window_seconds == pytest.approx(2592)


def test_events_queries_keep_the_window_template_and_fill_it() -> None:
    source = read(SLOTH / "service.yaml")["requests-availability"].source
    assert isinstance(source, PrometheusSource)
    assert source.bad == ('sum(rate(http_request_duration_seconds_count{job="myservice",'
                          'code=~"(5..|429)"}[{{.window}}]))')
    assert source.good is None
    # what Prometheus is sent for a 5-minute interval
    assert substitute_window(source.total, 300) == \
        'sum(rate(http_request_duration_seconds_count{job="myservice"}[300s]))'


def test_kubernetes_resource_camel_case_and_its_period() -> None:
    spec = read(SLOTH / "k8s.yaml")["k8s-requests-availability"]
    assert spec.slo.objective == 0.9995 and spec.slo.window_seconds == 28 * DAY
    assert isinstance(spec.source, PrometheusSource)
    assert spec.source.bad == 'sum(rate(http_requests_total{job="myservice",code=~"5.."}[{{.window}}]))'
    assert spec.origin == "Sloth sloth.slok.dev/v1"


def test_alert_table_is_sloths_own() -> None:
    """Sloth at 30d: page 1h/5m ×14.4 and 6h/30m ×6, ticket 1d/2h ×3 and 3d/6h ×1, no `for`
    (its window catalogue: 2%, 5%, 10%, 10% of the budget over the long window)."""
    result = cli("slo", "explain", str(SLOTH / "service.yaml"), str(SLOTH / "k8s.yaml"),
                 "--format", "json")
    assert result.returncode == 0, result.stderr
    items = {item["name"]: item for item in json.loads(result.stdout)}
    rows = [(r["severity"], r["long_window_seconds"], r["short_window_seconds"], r["burn_rate"],
             r["for_seconds"]) for r in items["requests-availability"]["alerts"]]
    assert items["requests-availability"]["alerts_from"] == AlertSource.SLOTH
    assert rows == [("page", 3_600, 300, 14.4, None), ("page", 21_600, 1_800, 6, None),
                    ("ticket", 86_400, 7_200, 3, None), ("ticket", 259_200, 21_600, 1, None)]
    # at 28 days: 2% × 672 h / 1 h = 13.44, 5% × 672 / 6 = 5.6, 10% × 672 / 24 = 2.8,
    # 10% × 672 / 72 = 0.9333...
    assert [r["burn_rate"] for r in items["k8s-requests-availability"]["alerts"]] == \
        [13.44, 5.6, 2.8, 0.933333333333]
    # the ticket alert disabled in the file is not generated
    latency = items["requests-latency"]
    assert [r["severity"] for r in latency["alerts"]] == ["page", "page"]
    assert latency["alerts_note"] == "ticket alerts disabled in the file"


def test_explain_text_has_no_for_column_for_sloth() -> None:
    text = cli("slo", "explain", str(SLOTH / "service.yaml")).stdout
    assert "burn-rate alerts Sloth generates (its windows for this period, no `for`):" in text
    assert "severity  long     short    burn rate  budget consumed" in text
    assert "    page      1h       5m            14.4  2%" in text


def test_validate_says_which_format() -> None:
    result = cli("validate", str(SLOTH))
    assert result.returncode == 0, result.stderr
    assert f"ok: {SLOTH / 'service.yaml'} (slos: requests-availability, requests-latency " \
           "(Sloth prometheus/v1))" in result.stdout
