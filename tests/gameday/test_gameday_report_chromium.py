"""The HTML report of a real short gameday, opened in headless Chromium, and the latency test
on a real latency fault.

Two scenarios on the embedded target: 200 ms of added latency for 8 s (under the latency SLO's
250 ms threshold, so the budget barely moves, yet the Mann-Whitney test sees the slower
seconds) and a scenario that injects nothing (its "fault window" is its whole phase). The DOM
Chromium builds must hold a summary cell per scenario × SLO with a verdict class and a
non-empty chart per scenario; a screenshot is written under the test's temp dir."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from gameday_helpers import action, experiment, only_run_dir, run_cli, write_plan

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
VERDICTS = {"as-expected", "worse-than-expected", "better-than-expected", "inconclusive"}
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


class _DOM(HTMLParser):
    """Summary cells (their classes) and, per scenario section, the shapes of its chart."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[str, str, set[str]]] = []  # (scenario, slo, classes)
        self.shapes: dict[str, int] = {}  # scenario -> path/rect elements in its chart
        self._section: str | None = None
        self._svg_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = set(a.get("class", "").split())
        if tag == "td" and "cell" in classes:
            self.cells.append((a.get("data-scenario", ""), a.get("data-slo", ""), classes))
        if tag == "section" and a.get("id", "").startswith("scenario-"):
            self._section = a["id"].removeprefix("scenario-")
            self.shapes.setdefault(self._section, 0)
        if tag == "svg" and "timeline-chart" in classes:
            self._svg_depth = 1
        elif tag in ("path", "rect") and self._svg_depth and self._section is not None:
            self.shapes[self._section] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._svg_depth = 0
        if tag == "section":
            self._section = None


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"chromium-profile-{len(list(tmp_path.glob('chromium-profile-*')))}"
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def gameday(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("chromium")
    # the quiet scenario first, next to the baseline it is compared with: per-second latency
    # on a shared host drifts over a run, and the test should see the fault, not the drift
    plan = write_plan(folder / "plan", [
        {"name": "no-fault",
         "experiment": experiment("nothing happens", [
             {"type": "probe", "name": "alive", "pauses": {"after": 6},
              "provider": {"type": "python", "module": "chaos_suite.faults.local",
                           "func": "replicas_alive"}}]),
         "expect": {"latency": {"max_budget_consumed": "0.1%"},
                    "availability": {"max_budget_consumed": "0.1%"}}},
        {"name": "latency-200ms",
         "experiment": experiment("200 ms slower", [
             action("inject", "inject_latency", pause_after=8, latency_ms=200, ttl_s=60),
             action("clear", "clear_faults")], [action("clear", "clear_faults")]),
         "expect": {"latency": {"max_budget_consumed": "1%"},
                    "availability": {"max_budget_consumed": "1%"}}},
    ], baseline="5s", cooldown="3s")
    data = yaml.safe_load(plan.read_text())
    data["hypothesis"] = {"window": "2s", "max_burn_rate": 1000}  # the slower seconds are expected
    plan.write_text(yaml.safe_dump(data, sort_keys=False))
    reports = folder / "reports"
    with pytest.MonkeyPatch.context() as env:  # module-scoped: a state folder of its own
        env.setenv("CHAOS_SUITE_STATE_DIR", str(folder / "state"))
        result = run_cli("gameday", "run", str(plan), "--reports", str(reports))
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return only_run_dir(reports)


def _latency_test(run_dir: Path, scenario: str) -> dict[str, Any]:
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    found = next(s for s in report["scenarios"] if s["name"] == scenario)
    test: dict[str, Any] = next(r for r in found["slos"] if r["slo"] == "latency")["latency_test"]
    print(scenario, json.dumps(test))  # the measured figures, with -s
    return test


def test_mann_whitney_sees_the_latency_fault_and_not_the_quiet_scenario(gameday: Path) -> None:
    slow, quiet = _latency_test(gameday, "latency-200ms"), _latency_test(gameday, "no-fault")
    assert slow["p_value"] < 0.05 and slow["significant"] is True
    assert slow["rank_biserial"] > 0.5  # the fault window's seconds were the slower ones
    assert slow["fault_median_ms"] > slow["baseline_median_ms"] + 100
    assert slow["n_baseline"] >= 3 and slow["n_fault"] >= 6
    # no fault: not significant, by the report's rule (p < alpha AND a median shift of at least
    # min_shift_ms): a busy host's sub-millisecond drift can give a small p on its own
    assert quiet["significant"] is False
    assert quiet["p_value"] >= 0.05 or abs(
        quiet["fault_median_ms"] - quiet["baseline_median_ms"]) < quiet["min_shift_ms"]
    report = json.loads((gameday / "report.json").read_text(encoding="utf-8"))
    assert len(report["summary"]["grid"]) == 4
    assert "Mann-Whitney U" in (gameday / "report.md").read_text(encoding="utf-8")


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no chromium")
def test_html_report_in_headless_chromium(gameday: Path, tmp_path: Path) -> None:
    page = (gameday / "report.html").resolve().as_uri()
    dumped = _chromium(tmp_path, "--dump-dom", page)
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = _DOM()
    dom.feed(dumped.stdout)
    scenarios, slos = {"latency-200ms", "no-fault"}, {"availability", "latency"}
    assert {(s, o) for s, o, _ in dom.cells} == {(s, o) for s in scenarios for o in slos}
    assert len(dom.cells) == len(scenarios) * len(slos)
    assert all(classes & VERDICTS for _, _, classes in dom.cells)
    assert set(dom.shapes) == scenarios
    assert all(count >= 4 for count in dom.shapes.values()), dom.shapes  # panels, lines
    shot = tmp_path / "report.png"
    taken = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2400", page)
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.is_file() and shot.stat().st_size > 10_000
