"""`chaos-suite slo rules`: the rule file passes `promtool check rules` for every SLO file with a
Prometheus source (with every window set that fits), is refused in one line for SLOs without
one, names its rules as Sloth does, and alerts on the rows `slo explain` shows."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaos_suite.detection.rules import error_ratio_expr, generate_rules, window_set_for
from chaos_suite.detection.window_file import load_window_set
from chaos_suite.detection.windows import prom_duration
from chaos_suite.errors import ChaosSuiteError, InputError
from chaos_suite.files.explain import explain_json
from chaos_suite.files.loader import load_slos
from chaos_suite.files.slo_file import PrometheusSource

ROOT = Path(__file__).resolve().parents[2]
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
SLO_DIRS = (ROOT / "gamedays" / "slos", ROOT / "tests" / "data" / "slos")
# an OpenSLO SLO whose indicatorRef names an SLI of another file is read with that file
COMPANIONS = {"ref-slo.yaml": "ref-sli.yaml", "ref-sli.yaml": "ref-slo.yaml"}
GAMEDAY_WINDOWS = """\
name: gameday
windows:
  - {severity: page, long: 1m, short: 5s, factor: 14.4}
  - {severity: page, long: 5m, short: 30s, factor: 6, for: 10s}
  - {severity: ticket, long: 15m, short: 1m, factor: 3}
  - {severity: ticket, long: 1h, short: 5m, factor: 1, for: 1m}
"""


def slo_files() -> list[Path]:
    return sorted(p for d in SLO_DIRS for p in d.rglob("*")
                  if p.suffix in (".yaml", ".yml", ".json") and "bad" not in p.parts)


def paths_for(path: Path) -> list[Path]:
    companion = COMPANIONS.get(path.name)
    return [path] + ([path.with_name(companion)] if companion else [])


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chaos_suite.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def promtool_check(path: Path) -> subprocess.CompletedProcess[str]:
    if not Path(PROMTOOL).exists():
        pytest.skip("promtool is not installed (Debian package prometheus)")
    return subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True,
                          timeout=60)


def measurable(paths: list[Path]) -> bool:
    """Every SLO the files hold reads, and has a Prometheus query."""
    try:
        return all(isinstance(s.source, PrometheusSource) for s in load_slos(paths))
    except ChaosSuiteError:
        return False


@pytest.mark.parametrize("path", slo_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_slo_file_gets_rules_promtool_accepts_or_one_line_refusal(path: Path,
                                                                       tmp_path: Path) -> None:
    paths = paths_for(path)
    out = tmp_path / "rules.yml"
    result = cli("slo", "rules", *map(str, paths), "--out", str(out))
    if not measurable(paths):
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("chaos-suite: error: ")
        assert not out.exists()
        return
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    checked = promtool_check(out)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


@pytest.mark.parametrize("windows", ["google", "sloth", "pyrra", "gameday"])
def test_every_window_set_that_fits_passes_promtool(windows: str, tmp_path: Path) -> None:
    chosen: Any = windows
    if windows == "gameday":
        (tmp_path / "gameday.yaml").write_text(GAMEDAY_WINDOWS, encoding="utf-8")
        chosen = load_window_set(tmp_path / "gameday.yaml")
    checked = 0
    for path in slo_files():
        paths = paths_for(path)
        if path.name == "ref-sli.yaml" or not measurable(paths):
            continue
        try:
            text = generate_rules(load_slos(paths), chosen, 1.0 if windows == "gameday" else None)
        except InputError as exc:  # Sloth's windows for 7d, a 1h table for a 1m window
            assert "give --windows FILE" in str(exc) and windows in ("sloth", "google")
            continue
        out = tmp_path / f"{path.stem}.yml"
        out.write_text(text, encoding="utf-8")
        result = promtool_check(out)
        assert result.returncode == 0, f"{path}: {result.stdout}{result.stderr}"
        checked += 1
    assert checked >= 8


@pytest.mark.parametrize("path", ["gamedays/slos/checkout.yaml", "tests/data/slos/openslo/datadog.yaml"])
def test_slos_without_a_prometheus_query_are_refused(path: str) -> None:
    result = cli("slo", "rules", path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1
    if path.endswith("checkout.yaml"):
        assert "SLO 'checkout/availability' has no Prometheus query (its source is load)" in result.stderr
    else:
        assert "profile-availability" in result.stderr


def rules_of(text: str) -> list[dict[str, Any]]:
    groups = yaml.safe_load(text)["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_sloth_names_and_labels() -> None:
    result = cli("slo", "rules", "tests/data/slos/sloth/service.yaml")
    assert result.returncode == 0, result.stderr
    doc = yaml.safe_load(result.stdout)
    assert [g["name"] for g in doc["groups"]] == ["chaos-suite-slo-myservice-requests-availability",
                                                  "chaos-suite-slo-myservice-requests-latency"]
    rules = doc["groups"][0]["rules"]
    records = [r["record"] for r in rules if "record" in r]
    assert records == [f"slo:sli_error:ratio_rate{w}" for w in
                       ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")] + [
        "slo:objective:ratio", "slo:error_budget:ratio", "slo:time_period:days",
        "slo:current_burn_rate:ratio", "slo:period_burn_rate:ratio",
        "slo:period_error_budget_remaining:ratio", "sloth_slo_info"]
    five = rules[0]
    assert five["labels"] == {"sloth_id": "myservice-requests-availability",
                              "sloth_service": "myservice", "sloth_slo": "requests-availability",
                              "sloth_window": "5m"}
    # Sloth's template filled per window, summed to one series per SLO
    assert ('sum(sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[5m])))'
            in five["expr"])
    by_name = {r["record"]: r for r in rules if "record" in r}
    assert by_name["slo:objective:ratio"]["expr"] == "vector(0.999)"
    assert by_name["slo:error_budget:ratio"]["expr"] == "vector(1-0.999)"
    assert by_name["slo:time_period:days"]["expr"] == "vector(30)"
    assert by_name["sloth_slo_info"]["labels"]["sloth_objective"] == "99.9"
    alerts = [r for r in rules if "alert" in r]
    assert [(a["labels"]["chaos_suite_alert"], a["labels"]["chaos_suite_factor"], a.get("for"))
            for a in alerts] == [("page-1h-5m", "14.4", None), ("page-6h-30m", "6", None),
                                 ("ticket-1d-2h", "3", None), ("ticket-3d-6h", "1", None)]
    assert alerts[0]["alert"] == "ErrorBudgetBurn"
    assert alerts[0]["labels"] == {
        "severity": "page", "sloth_severity": "page", "slo": "requests-availability",
        "service": "myservice", "chaos_suite_alert": "page-1h-5m", "chaos_suite_windows": "sloth",
        "chaos_suite_long": "1h", "chaos_suite_short": "5m", "chaos_suite_factor": "14.4"}
    assert "slo:sli_error:ratio_rate5m{" in alerts[0]["expr"] and "> (14.4 * 0.001)" in alerts[0]["expr"]
    # the latency SLO's file disables its ticket alert
    latency = [r for r in doc["groups"][1]["rules"] if "alert" in r]
    assert [a["labels"]["severity"] for a in latency] == ["page", "page"]


def test_pyrra_windows_carry_their_for_and_28d_is_4w() -> None:
    rules = rules_of(cli("slo", "rules", "tests/data/slos/pyrra/ratio.yaml").stdout)
    alerts = [r for r in rules if "alert" in r]
    assert [(a["labels"]["chaos_suite_alert"], a["labels"]["chaos_suite_factor"], a["for"])
            for a in alerts] == [("page-1h-5m", "14", "2m"), ("page-6h-30m", "7", "15m"),
                                 ("ticket-1d-2h", "2", "1h"), ("ticket-4d-6h", "1", "3h")]
    assert "slo:sli_error:ratio_rate4w" in [r.get("record") for r in rules]


@pytest.mark.parametrize(("query", "counter", "expected"), [
    ('sum(rate(x_total{a="1"}[{{.window}}]))', True, 'sum(sum(rate(x_total{a="1"}[1h])))'),
    ("sum(increase(x_total[{{ window }}]))", True, "sum(sum(increase(x_total[1h])))"),
    ('sum(x_total{code=~"5.."})', True, 'sum(rate(x_total{code=~"5.."}[1h]))'),
    ('sum by (route) (x_total{a="}"})', True, 'sum(rate(x_total{a="}"}[1h]))'),
    ("x_total", True, "sum(rate(x_total[1h]))"),
    ("sum(a_total) + sum(b_total)", True, "sum(rate((sum(a_total) + sum(b_total))[1h:]))"),
    ("count(up)", False, "sum(avg_over_time((count(up))[1h:]))"),
])
def test_queries_become_window_ratios(query: str, counter: bool, expected: str) -> None:
    source = PrometheusSource(total=query, bad=query, counter=counter)
    assert error_ratio_expr(source, 3_600) == f"{expected}\n/\n{expected}\n"


def test_good_queries_give_one_minus_the_good_ratio() -> None:
    source = PrometheusSource(total="sum(t_total)", good="sum(g_total)")
    assert error_ratio_expr(source, 300) == ("1 - (\n  sum(rate(g_total[5m]))\n  /\n"
                                             "  sum(rate(t_total[5m]))\n)\n")


@pytest.mark.parametrize(("seconds", "text"), [
    (28 * 86_400, "4w"), (30 * 86_400, "30d"), (5_400, "1h30m"), (2.5, "2s500ms"),
    (365 * 86_400, "1y"), (86_400, "1d"), (300, "5m")])
def test_durations_as_prometheus_prints_them(seconds: float, text: str) -> None:
    assert prom_duration(seconds) == text


def test_gameday_window_file_and_evaluation_interval(tmp_path: Path) -> None:
    windows = tmp_path / "gameday.yaml"
    windows.write_text(GAMEDAY_WINDOWS, encoding="utf-8")
    result = cli("slo", "rules", "tests/data/slos/pyrra/ratio.yaml", "--windows", str(windows),
                 "--eval-interval", "1s")
    assert result.returncode == 0, result.stderr
    group = yaml.safe_load(result.stdout)["groups"][0]
    assert group["interval"] == "1s"
    records = [r["record"] for r in group["rules"] if "record" in r]
    assert records[:6] == [f"slo:sli_error:ratio_rate{w}" for w in ("5s", "30s", "1m", "5m", "15m", "1h")]
    # the current burn rate over the fastest page alert's short window, as Sloth's over 5m
    current = next(r for r in group["rules"] if r.get("record") == "slo:current_burn_rate:ratio")
    assert current["expr"].startswith("slo:sli_error:ratio_rate5s{")
    alerts = [r for r in group["rules"] if "alert" in r]
    assert {a["labels"]["chaos_suite_windows"] for a in alerts} == {"gameday"}
    assert [(a["labels"]["chaos_suite_alert"], a.get("for")) for a in alerts] == [
        ("page-1m-5s", None), ("page-5m-30s", "10s"), ("ticket-15m-1m", None), ("ticket-1h-5m", "1m")]


@pytest.mark.parametrize(("content", "field", "problem"), [
    ("windows:\n  - {severity: pager, long: 1m, short: 5s, factor: 2}\n", "windows[0].severity",
     "'page' or 'ticket'"),
    ("- {severity: page, short: 5s, factor: 2}\n", "[0].long", "required field is missing"),
    ("- {severity: page, long: 1m, short: 5s, factor: 0}\n", "[0].factor", "positive burn rate"),
    ("- {severity: page, long: 1m, short: 5s, factor: fast}\n", "[0].factor", "burn rate such as"),
    ("- {severity: page, long: 1m, short: 5m, factor: 2}\n", "[0]", "must not be longer than long"),
    ("- {severity: page, long: 1M, short: 5s, factor: 2}\n", "[0].long", "month"),
    ("- {severity: page, long: 1m, short: 0.0001s, factor: 2}\n", "[0].short", "whole milliseconds"),
    ("- {severity: page, long: 1m, short: 5s, factor: 2, for: -1s}\n", "[0].for", "duration"),
    ("- {severity: page, long: 1m, short: 5s, factor: 2, burn: 3}\n", "[0].burn", "unknown field"),
    ("windows:\n  - {severity: page, long: 1m, short: 5s, factor: 2}\n"
     "  - {severity: page, long: 1m, short: 5s, factor: 9}\n", "windows", "two page rows over 1m/5s"),
    ("windows: []\n", "windows", "at least 1"),
    ("name: 'a b'\nwindows:\n  - {severity: page, long: 1m, short: 5s, factor: 2}\n", "name", "pattern"),
    ("just text\n", "", "expected a mapping with 'windows'"),
])
def test_bad_window_files_are_one_line_naming_the_field(tmp_path: Path, content: str, field: str,
                                                        problem: str) -> None:
    windows = tmp_path / "w.yaml"
    windows.write_text(content, encoding="utf-8")
    result = cli("slo", "rules", "tests/data/slos/pyrra/ratio.yaml", "--windows", str(windows))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    where = f"{windows}: {field}: " if field else f"{windows}: "
    assert result.stderr.startswith(f"chaos-suite: error: {where}"), result.stderr
    assert problem in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (("--windows", "gogle"), "gogle: file not found"),
    (("--eval-interval", "fast"), "--eval-interval: expected a duration"),
    (("--windows", "sloth"), "SLO 'search/search-availability': no sloth alert fits an SLO window of 1w"),
])
def test_bad_options_are_one_line(args: tuple[str, ...], message: str) -> None:
    result = cli("slo", "rules", "tests/data/slos/openslo/list.yaml", *args)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert message in result.stderr


@pytest.mark.parametrize("path", slo_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_explain_shows_the_alerts_the_rules_raise(path: Path) -> None:
    paths = paths_for(path)
    try:
        specs = load_slos(paths)
    except ChaosSuiteError:
        return
    severity = {"critical": "page", "warning": "ticket"}
    for spec, shown in zip(specs, explain_json(specs), strict=True):
        try:
            alerts = window_set_for(spec, None).alerts
        except InputError:
            assert shown["alerts"] == [] and shown["alerts_note"]
            continue
        assert [(r["chaos_suite_alert"], severity.get(r["severity"], r["severity"]),
                 r["long_window_seconds"], r["short_window_seconds"], r["burn_rate"],
                 r["for_seconds"] or 0.0) for r in shown["alerts"]] == [
            (a.key, a.severity, a.long_s, a.short_s, a.factor, a.for_s) for a in alerts]
