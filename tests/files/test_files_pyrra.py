"""Pyrra's ServiceLevelObjective (pyrra.dev/v1alpha1) onto the one SLO model, and the alert
windows Pyrra itself generates, set beside Sloth's (they differ)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.slo_files import DATA, DAY, cli, read

from chaos_suite.files.slo_file import PrometheusSource
from chaos_suite.slo.model import SLIKind
from chaos_suite.sources.prometheus import PrometheusClient, sample_second

PYRRA = DATA / "pyrra"


def source_of(name: str, file: str) -> PrometheusSource:
    source = read(PYRRA / file)[name].source
    assert isinstance(source, PrometheusSource)
    return source


def test_ratio_target_percent_string_window_4w() -> None:
    spec = read(PYRRA / "ratio.yaml")["api-errors"]
    # target '99.9' → 0.999; window 4w → 28 days; 0.1% of 28 days is 2419.2 s
    assert spec.slo.objective == 0.999 and spec.slo.window_seconds == 28 * DAY
    assert spec.slo.error_budget * spec.slo.window_seconds == pytest.approx(2_419.2)
    assert spec.service == "shop"  # the namespace: Pyrra has no service field
    # counter selectors, counted as their increase over the measured interval
    source = source_of("api-errors", "ratio.yaml")
    assert source.total == 'sum(http_requests_total{job="api"})'
    assert source.bad == 'sum(http_requests_total{job="api",code=~"5.."})'
    assert source.counter


def test_latency_bucket_sets_the_threshold_window_2w() -> None:
    spec = read(PYRRA / "latency.yaml")["api-latency"]
    assert spec.slo.objective == 0.99 and spec.slo.window_seconds == 14 * DAY
    # le="0.5" seconds: a latency SLI with a 500 ms threshold
    assert spec.slo.sli.kind is SLIKind.LATENCY and spec.slo.sli.threshold_ms == 500
    source = source_of("api-latency", "latency.yaml")
    assert source.good == 'sum(http_request_duration_seconds_bucket{job="api",le="0.5"})'
    assert source.total == 'sum(http_request_duration_seconds_count{job="api"})'


def test_bool_gauge_samples_are_events_read_as_gauges() -> None:
    spec = read(PYRRA / "bool-gauge.yaml")["homepage-probe"]
    assert spec.slo.objective == 0.995 and spec.slo.window_seconds == 28 * DAY
    source = source_of("homepage-probe", "bool-gauge.yaml")
    metric = 'probe_success{job="blackbox",instance="https://shop.example"}'
    assert (source.good, source.total, source.counter) == (f"sum({metric})", f"count({metric})",
                                                           False)
    seen: list[str] = []

    class Probes(PrometheusClient):
        def query(self, promql: str, at: float | None = None) -> float | None:
            seen.append(promql)
            return 3.0 if promql.startswith("count(") else 2.0  # 3 probes, 2 succeeded

    with Probes("http://127.0.0.1:1") as client:
        sample = sample_second(spec, client, 1_000)
    # one second of a gauge: its values then, not a difference between two instants
    assert sample == {"t": 1_000, "source": "prometheus",
                      "slis": {"homepage-probe": {"good": 2, "total": 3}}}
    assert seen == [source.total, source.good]


def test_alert_tables_are_each_tools_own() -> None:
    """Pyrra at 28d: 1h/5m ×14 for 2m, 6h/30m ×7 for 15m, 1d/2h ×2 for 1h, 4d/6h ×1 for 3h;
    Sloth at 30d: 1h/5m ×14.4, 6h/30m ×6, 1d/2h ×3, 3d/6h ×1, without `for`."""
    result = cli("slo", "explain", str(PYRRA / "ratio.yaml"), str(DATA / "sloth" / "service.yaml"),
                 "--format", "json")
    assert result.returncode == 0, result.stderr
    items = {item["name"]: item for item in json.loads(result.stdout)}

    def table(name: str) -> list[tuple[str, float, float, float, float | None]]:
        return [(r["severity"], r["long_window_seconds"], r["short_window_seconds"],
                 r["burn_rate"], r["for_seconds"]) for r in items[name]["alerts"]]

    assert items["api-errors"]["alerts_from"] == "pyrra"
    assert table("api-errors") == [
        ("critical", 3_600, 300, 14, 120), ("critical", 21_600, 1_800, 7, 900),
        ("warning", 86_400, 7_200, 2, 3_600), ("warning", 345_600, 21_600, 1, 10_800)]
    assert table("requests-availability") == [
        ("page", 3_600, 300, 14.4, None), ("page", 21_600, 1_800, 6, None),
        ("ticket", 86_400, 7_200, 3, None), ("ticket", 259_200, 21_600, 1, None)]
    # Pyrra's factor 14 over 1h of 28 days spends 14/672 of the budget: 2.083%
    assert items["api-errors"]["alerts"][0]["budget_consumed"] == pytest.approx(14 / 672)


def test_pyrra_2w_windows_scale_with_the_slo_window() -> None:
    [item] = json.loads(cli("slo", "explain", str(PYRRA / "latency.yaml"), "--format",
                            "json").stdout)
    # half of 28 days: 30m/3m (2m30s rounds up to the minute) for 1m, 3h/15m for 8m,
    # 12h/1h for 30m, 2d/3h for 1h30m
    assert [(r["long_window_seconds"], r["short_window_seconds"], r["for_seconds"])
            for r in item["alerts"]] == [(1_800, 180, 60), (10_800, 900, 480),
                                          (43_200, 3_600, 1_800), (172_800, 10_800, 5_400)]


def test_explain_text_shows_pyrras_for_column() -> None:
    text = cli("slo", "explain", str(PYRRA / "ratio.yaml")).stdout
    assert "burn-rate alerts Pyrra generates (its windows for this period, with `for`):" in text
    assert "    critical  1h       5m       2m              14  2.083%" in text


def test_kubernetes_list_and_alerts_turned_off(tmp_path: Path) -> None:
    # `kubectl get slo -o yaml` writes a List; Pyrra writes no burn-rate alerts when told not to
    path = tmp_path / "export.yaml"
    path.write_text(
        "apiVersion: v1\nkind: List\nitems:\n"
        "  - apiVersion: pyrra.dev/v1alpha1\n    kind: ServiceLevelObjective\n"
        "    metadata: {name: quiet, namespace: shop, uid: 0f1e, resourceVersion: '12'}\n"
        "    spec:\n      target: '99'\n      window: 1w\n"
        "      indicator: {bool_gauge: {metric: up}}\n      alerting: {burnrates: false}\n",
        encoding="utf-8")
    spec = read(path)["quiet"]
    assert spec.slo.window_seconds == 7 * DAY
    [item] = json.loads(cli("slo", "explain", str(path), "--format", "json").stdout)
    assert item["alerts"] == []
    assert item["alerts_note"] == "no burn-rate alerts: the file turns them off"
