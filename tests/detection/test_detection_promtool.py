"""Predicted time to fire (detection/predict.py) against `promtool test rules` on the rules
`slo rules` writes, fed with synthetic counters: total requests growing at a steady rate, bad
ones at the baseline ratio until fault onset t0 and at the fault's ratio after it (expanding
notation `a+bxN`). One test per window set (google, sloth, pyrra with its `for`, a custom
gameday set of seconds-long windows, an OpenSLO SLO's alert policies), each at a burn rate
below every factor, one above the ticket factors only, and one above all.

promtool is asked, at every evaluation from two intervals before each predicted firing to two
after, to see no alert: the alerts it reports instead are those firing, so the first evaluation
each appears at is its measured firing time. The measured time must be within one evaluation
interval of the prediction (it is equal in every case here), and alerts predicted never to fire
must not fire once both windows see only the fault."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import yaml

from chaos_suite.detection.predict import Coverage, predict_coverage
from chaos_suite.detection.rules import generate_rules, window_set_for
from chaos_suite.detection.window_file import load_window_set
from chaos_suite.detection.windows import WindowSet, prom_duration
from chaos_suite.files.loader import load_slos

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
REQUESTS_PER_S = 100  # every second 100 requests; the bad share follows the burn rate
OK = 'http_requests_total{job="api",code="200"}'
BAD = 'http_requests_total{job="api",code="500"}'

OWN_FORMAT = """\
apiVersion: chaos-suite/v1
kind: SLOs
service: shop
slos:
  - name: api
    objective: {objective}
    window: {window}
    source:
      type: prometheus
      total: 'sum(http_requests_total{{job="api"}})'
      {ratio}
"""
SLOTH = """\
version: prometheus/v1
service: shop
slos:
  - name: api
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="api",code="500"}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="api"}[{{.window}}]))
    alerting:
      name: ShopApi
"""
PYRRA = """\
apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata: {name: api, namespace: shop}
spec:
  target: "99.9"
  window: 4w
  indicator:
    ratio:
      errors: {metric: 'http_requests_total{job="api",code="500"}'}
      total: {metric: 'http_requests_total{job="api"}'}
"""
GAMEDAY = """\
name: gameday
windows:
  - {severity: page, long: 1m, short: 5s, factor: 14.4}
  - {severity: page, long: 5m, short: 30s, factor: 6, for: 10s}
  - {severity: ticket, long: 10m, short: 1m, factor: 3}
  - {severity: ticket, long: 20m, short: 2m, factor: 1, for: 1m}
"""

# OpenSLO alert policies: single-window rows (lookbackWindow), one with alertAfter
OPENSLO = """\
apiVersion: openslo/v1
kind: SLO
metadata: {name: api}
spec:
  service: shop
  indicator:
    metadata: {name: api-errors}
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec: {query: 'sum(http_requests_total{job="api",code="500"})'}
        total:
          metricSource: {type: Prometheus, spec: {query: 'sum(http_requests_total{job="api"})'}}
  timeWindow: [{duration: 1d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.99}]
  alertPolicies:
    - kind: AlertPolicy
      metadata: {name: fast}
      spec:
        conditions:
          - kind: AlertCondition
            metadata: {name: fast}
            spec: {severity: critical, condition: {kind: burnrate, op: gt, threshold: 14.4,
                                                   lookbackWindow: 1m, alertAfter: 10s}}
    - kind: AlertPolicy
      metadata: {name: slow}
      spec:
        conditions:
          - kind: AlertCondition
            metadata: {name: slow}
            spec: {severity: low, condition: {kind: burnrate, threshold: 3, lookbackWindow: 5m}}
"""


@dataclass(frozen=True)
class Case:
    """A window set, the SLO file it is read from, the grids and the baseline burn rate."""

    windows: str
    slo_file: str
    scrape_s: int
    every_s: int
    baseline: float


CASES = {
    # the workbook's rows at 30d, plain counters rewritten as rates; 2m scrapes and 5m
    # evaluations, so windows start between scrapes and rate() extrapolates
    "google": Case("google", OWN_FORMAT.format(objective="99.9%", window="30d",
                                               ratio=f"bad: 'sum({BAD})'"), 120, 300, 0.5),
    # Sloth's {{.window}} queries, scraped as coarsely as its shortest window (two samples each)
    "sloth": Case("sloth", SLOTH, 300, 300, 0.0),
    # Pyrra at 28d: `for` 2m, 15m, 1h, 3h, held 4m, 16m, 1h, 3h at 4m evaluations
    "pyrra": Case("pyrra", PYRRA, 120, 240, 0.25),
    # a gameday's seconds-long windows on a test target scraped every second, evaluated every 2s
    "gameday": Case("gameday", OWN_FORMAT.format(objective="99%", window="1d",
                                                 ratio=f"good: 'sum({OK})'"), 1, 2, 0.5),
    # an OpenSLO SLO's own alert policies (no --windows): the burn rate over one lookback window
    "openslo": Case("openslo", OPENSLO, 1, 2, 0.5),
}
# (burn rate, the alerts expected to fire): below every factor, above the ticket ones only, all
BURNS = {
    "google": [(0.8, set()), (4, {"ticket-1d-2h", "ticket-3d-6h"}),
               (20, {"page-1h-5m", "page-6h-30m", "ticket-1d-2h", "ticket-3d-6h"})],
    "sloth": [(0.9, set()), (5, {"ticket-1d-2h", "ticket-3d-6h"}),
              (15, {"page-1h-5m", "page-6h-30m", "ticket-1d-2h", "ticket-3d-6h"})],
    "pyrra": [(0.9, set()), (3, {"ticket-1d-2h", "ticket-4d-6h"}),
              (20, {"page-1h-5m", "page-6h-30m", "ticket-1d-2h", "ticket-4d-6h"})],
    "gameday": [(0.9, set()), (4, {"ticket-10m-1m", "ticket-20m-2m"}),
                (20, {"page-1m-5s", "page-5m-30s", "ticket-10m-1m", "ticket-20m-2m"})],
    "openslo": [(0.9, set()), (4, {"slow"}), (20, {"fast", "slow"})],
}
AGREEMENT: list[str] = []  # one line per alert, printed with -s


def _expanding(start: float, steps: list[tuple[float, int]]) -> str:
    """Counter values in promtool's expanding notation: ``steps`` of (increment, count)."""
    parts, value, first = [], start, True
    for increment, count in steps:
        begin = value if first else value + increment
        runs = count if first else count - 1
        parts.append(f"{_num(begin)}+{_num(increment)}x{runs}")
        value = begin + increment * runs
        first = False
    return " ".join(parts)


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(round(value, 9))


def _synthetic_test(rules: Path, case: Case, budget: float, burn: float, onset_s: int,
                    end_s: int, checks: list[int]) -> str:
    """The promtool test file: counters from 0 to ``end_s``, the fault from ``onset_s``."""
    per_scrape = REQUESTS_PER_S * case.scrape_s
    before, after = onset_s // case.scrape_s, (end_s - onset_s) // case.scrape_s
    bad_before, bad_after = case.baseline * budget * per_scrape, burn * budget * per_scrape
    series = [
        {"series": BAD, "values": _expanding(0, [(bad_before, before), (bad_after, after)])},
        {"series": OK, "values": _expanding(0, [(per_scrape - bad_before, before),
                                                (per_scrape - bad_after, after)])},
    ]
    return yaml.safe_dump({
        "rule_files": [str(rules)],
        "evaluation_interval": prom_duration(case.every_s),
        "tests": [{
            "interval": prom_duration(case.scrape_s),
            "input_series": series,
            "alert_rule_test": [{"eval_time": prom_duration(t), "alertname": "ErrorBudgetBurn",
                                 "exp_alerts": []} for t in checks],
        }],
    }, sort_keys=False)


_TIME = re.compile(r"alertname: ErrorBudgetBurn, time: (\S+),")
_KEY = re.compile(r'chaos_suite_alert="([^"]+)"')


def _firing(output: str, checks: list[int]) -> dict[int, set[str]]:
    """Which alerts promtool reports firing at each checked time (absent: none)."""
    by_text = {prom_duration(t): t for t in checks}
    firing: dict[int, set[str]] = {}
    current: int | None = None
    for line in output.splitlines():
        if (time := _TIME.search(line)) is not None:
            assert time.group(1) in by_text, f"unexpected time {time.group(1)}:\n{output}"
            current = by_text[time.group(1)]
            firing[current] = set()
        elif (key := _KEY.search(line)) is not None:
            assert current is not None, output
            firing[current].add(key.group(1))
    return firing


def _plan(case: Case, windows: WindowSet, coverage: Coverage) -> tuple[int, int, list[int]]:
    """(onset, end, checked times): the onset after the longest window has seen baseline only,
    on both grids; checks around each predicted firing, and at the end, when the windows of
    every alert predicted never to fire see nothing but the fault."""
    grid = math.lcm(case.scrape_s, case.every_s)
    longest = max(a.long_s for a in windows.alerts)
    onset = math.ceil((longest + 2 * case.scrape_s) / grid) * grid
    fired = [p.after_s for p in coverage.alerts if p.after_s is not None]
    horizon = max([p.alert.long_s + case.scrape_s + p.alert.for_s + case.every_s
                   for p in coverage.alerts if p.after_s is None]
                  + [after + 2 * case.every_s for after in fired])
    end = onset + math.ceil(horizon / grid) * grid
    checks = {end}
    for after in fired:
        at = onset + round(after)
        checks.update(at + k * case.every_s for k in range(-2, 3))
    return onset, end, sorted(checks)


@pytest.mark.parametrize("name", list(CASES))
def test_predicted_time_to_fire_agrees_with_promtool(name: str, tmp_path: Path) -> None:
    if not Path(PROMTOOL).exists():
        pytest.skip("promtool is not installed (Debian package prometheus)")
    case = CASES[name]
    slo_path = tmp_path / "slo.yaml"
    slo_path.write_text(case.slo_file, encoding="utf-8")
    specs = load_slos([slo_path])
    chosen: str | WindowSet | None = case.windows
    if case.windows == "openslo":
        chosen = None  # the SLO's alert policies
    if case.windows == "gameday":
        (tmp_path / "gameday.yaml").write_text(GAMEDAY, encoding="utf-8")
        chosen = load_window_set(tmp_path / "gameday.yaml")
    windows = window_set_for(specs[0], chosen)
    rules = tmp_path / "rules.yml"
    rules.write_text(generate_rules(specs, chosen), encoding="utf-8")
    budget = specs[0].slo.error_budget
    for burn, expected in BURNS[name]:
        # promtool evaluates every rule at every evaluation from time 0, history included: when
        # nothing is to fire, nothing is pending either, so a coarse grid (predicted alike)
        # checks the same thing in a fraction of the time
        case = replace(CASES[name], every_s=CASES[name].every_s if expected
                       else 60 * CASES[name].scrape_s)
        coverage = predict_coverage(specs[0].slo, windows, burn, case.baseline, case.every_s,
                                    scrape_interval_s=case.scrape_s)
        predicted = {p.alert.key: p.after_s for p in coverage.alerts}
        assert {key for key, after in predicted.items() if after is not None} == expected
        onset, end, checks = _plan(case, windows, coverage)
        test_file = tmp_path / f"test-{burn:g}.yml"
        test_file.write_text(_synthetic_test(rules, case, budget, burn, onset, end, checks),
                             encoding="utf-8")
        result = subprocess.run([PROMTOOL, "test", "rules", str(test_file)], capture_output=True,
                                text=True, timeout=240, cwd=tmp_path)
        output = result.stdout + result.stderr
        firing = _firing(output, checks)
        assert (result.returncode == 0) == (not firing), output
        for key, after in predicted.items():
            seen_at = sorted(t for t, keys in firing.items() if key in keys)
            if after is None:
                assert end not in seen_at, f"{name} BR {burn}: {key} fired:\n{output}"
                continue
            assert seen_at and end in seen_at, f"{name} BR {burn}: {key} never fired:\n{output}"
            measured = seen_at[0] - onset
            # seen at the first check means it may have fired before it: too early to measure
            assert seen_at[0] > onset + round(after) - 2 * case.every_s, (key, seen_at, after)
            assert abs(measured - after) <= case.every_s, (name, burn, key, measured, after)
            AGREEMENT.append(f"{name} BR {burn:g}: {key} predicted {prom_duration(after)}, "
                             f"promtool {prom_duration(measured)} (evaluation every "
                             f"{prom_duration(case.every_s)})")
    print("\n" + "\n".join(line for line in AGREEMENT if line.startswith(name)))
