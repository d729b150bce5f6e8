"""Renderers: report.json keeps the §9 contract, junit.xml parses, Markdown and HTML read well."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from support.synthetic import T0, SyntheticRun, demo_plan, standard_run

from chaos_suite.errors import InputError
from chaos_suite.record import AbortEvent, BurnRateTrip, SLICounts, TripSample
from chaos_suite.report import render_run

# DESIGN.md §9, verbatim in shape: every key here must exist in report.json.
CONTRACT: dict[str, Any] = {
    "schema": "chaos-suite/report/v1",
    "run": {
        "id": "",
        "gameday": "",
        "service": "",
        "environment": "",
        "status": "",
        "exit_code": 0,
        "started": "",
        "ended": "",
    },
    "slos": [{"name": "", "objective": 0.0, "window_seconds": 0, "source": ""}],
    "scenarios": [
        {
            "name": "",
            "experiment": "",
            "status": "",
            "deviated": False,
            "fault": {"start": "", "end": ""},
            "slos": [
                {
                    "slo": "",
                    "counts": {"baseline": {"good": 0, "total": 0}, "fault": {"good": 0, "total": 0}},
                    "observed": {
                        "error_ratio": 0.0,
                        "error_ratio_ci": [0.0, 0.0],
                        "budget_consumed": 0.0,
                        "budget_consumed_attributed": 0.0,
                        "peak_burn_rate": 0.0,
                    },
                    "expected": {
                        "min_budget_consumed": None,
                        "max_budget_consumed": 0.0,
                        "max_peak_burn_rate": 0.0,
                    },
                    "verdict": "",
                }
            ],
        }
    ],
}


def missing_keys(contract: Any, actual: Any, path: str = "") -> list[str]:
    if isinstance(contract, dict):
        if not isinstance(actual, dict):
            return [path or "<root>"]
        found: list[str] = []
        for key, value in contract.items():
            if key not in actual:
                found.append(f"{path}.{key}")
            else:
                found += missing_keys(value, actual[key], f"{path}.{key}")
        return found
    if isinstance(contract, list) and contract and isinstance(contract[0], dict):
        if not isinstance(actual, list) or not actual:
            return [path]
        return [m for item in actual for m in missing_keys(contract[0], item, f"{path}[]")]
    return []


def two_scenario_run() -> SyntheticRun:
    """Scenario 1 is worse than expected (peak); scenario 2 never ran (aborted before)."""
    plan = demo_plan()
    plan["scenarios"][0]["expectations"]["availability"]["max_peak_burn_rate"] = 10
    plan["scenarios"].append({"name": "latency <200ms> & co", "experiment": "b.yaml"})
    run = standard_run(plan=plan, deviated=True)
    run.note(T0 + 15, "pipes | and <tags> survive", "alice")
    run.journals["errors-5pct.json"] = {"status": "completed"}
    return run


@pytest.fixture
def rendered(tmp_path: Path) -> dict[str, Path]:
    return render_run(two_scenario_run().write(tmp_path), ("json", "md", "junit", "html"))


def test_report_json_has_every_key_of_the_contract(rendered: dict[str, Path]) -> None:
    report = json.loads(rendered["json"].read_text(encoding="utf-8"))
    assert missing_keys(CONTRACT, report) == []
    assert report["schema"] == "chaos-suite/report/v1"
    assert report["slos"][0]["window_seconds"] == 2_592_000
    assert report["run"]["started"] == "2025-11-24T16:00:00.000Z"
    first = report["scenarios"][0]
    assert first["fault"]["start"] == "2025-11-24T16:00:12.000Z"
    assert first["deviated"] is True
    assert first["slos"][0]["verdict"] == "worse-than-expected"
    assert first["slos"][0]["counts"]["fault"] == {"good": 19_000, "total": 20_000}
    assert report["scenarios"][1]["status"] == "not-run"
    assert report["scenarios"][1]["fault"]["start"] is None
    assert report["run"]["exit_code"] == 1


def test_report_json_never_holds_nan_or_infinity(rendered: dict[str, Path]) -> None:
    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in report.json")

    report = json.loads(rendered["json"].read_text(encoding="utf-8"), parse_constant=refuse)
    observed = report["scenarios"][0]["slos"][0]["observed"]
    assert observed["peak_burn_rate"] > 0
    assert report["scenarios"][1]["slos"][0]["observed"]["budget_consumed"] is None


def test_junit_has_a_case_per_scenario_and_slo_with_failures_and_skips(
    rendered: dict[str, Path],
) -> None:
    root = ET.parse(rendered["junit"]).getroot()
    suite = root.find("testsuite")
    assert suite is not None
    cases = {(c.get("classname"), c.get("name")): c for c in suite.iter("testcase")}
    assert len(cases) == 2 * (1 + 2)  # two scenarios x (hypothesis + two SLOs)
    first, second = "demo.errors-5pct", "demo.latency <200ms> & co"
    assert cases[(first, "availability")].find("failure") is not None
    assert cases[(first, "steady-state hypothesis")].find("failure") is not None
    skipped = cases[(first, "latency")].find("skipped")
    assert skipped is not None and "no expectation" in (skipped.get("message") or "")
    assert cases[(second, "steady-state hypothesis")].find("skipped") is not None
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("6", "2", "4")


def test_markdown_has_headline_table_timeline_and_notes(rendered: dict[str, Path]) -> None:
    text = rendered["md"].read_text(encoding="utf-8")
    assert "**Worse than expected** (exit code 1)" in text
    assert "| SLO | expected | observed (attributed) | 95% CI | peak BR | events | verdict |" in text
    assert "| availability | ≤ 0.1% of budget; peak BR ≤ 10; recovery ≤ 10 s |" in text
    assert "fault: 1000 bad / 20000 (5%)" in text
    assert "note by alice: pipes \\| and <tags> survive" in text
    assert "`journals/errors-5pct.json`" in text


def test_markdown_shows_the_abort_reason(tmp_path: Path) -> None:
    run = standard_run(ended=False)
    counts = SLICounts(good=950, total=1000)
    trip = BurnRateTrip(slo="availability", burn_rate_long=50.0, burn_rate_short=50.0,
                        threshold=14.4, long_window_s=12, short_window_s=3, long=counts,
                        short=counts, sample=TripSample(t=T0 + 20, good=950, total=1000))
    run.event(AbortEvent(t=T0 + 21, reason="safeguard", detail=trip,
                         message="safeguard: availability burn-rate (burn rate 50.0/50.0 > 14.4)"))
    paths = render_run(run.write(tmp_path), ["md", "json"])
    text = paths["md"].read_text(encoding="utf-8")
    assert "**Run aborted: safeguard** (exit code 3)" in text
    assert "> **Aborted:** safeguard (safeguard: availability burn-rate (burn rate 50.0/50.0 > 14.4))" in text
    abort = json.loads(paths["json"].read_text(encoding="utf-8"))["run"]["abort"]
    assert abort["detail"]["rule"] == "burn-rate" and abort["detail"]["sample"]["total"] == 1000


def test_html_is_escaped_and_complete(rendered: dict[str, Path]) -> None:
    html = rendered["html"].read_text(encoding="utf-8")
    assert "pipes | and &lt;tags&gt; survive" in html
    assert "<tags>" not in html
    assert 'class="verdict worse-than-expected"' in html
    assert html.rstrip().endswith("</html>")


def test_render_run_writes_only_what_was_asked_and_no_temp_files(tmp_path: Path) -> None:
    run_dir = standard_run().write(tmp_path)
    paths = render_run(run_dir, ["markdown", "JSON"])
    assert sorted(paths) == ["json", "md"]
    assert sorted(p.name for p in run_dir.iterdir() if p.name.startswith(("report", "junit", "."))) == [
        "report.json",
        "report.md",
    ]


def test_render_run_refuses_an_unknown_format(tmp_path: Path) -> None:
    run_dir = standard_run().write(tmp_path)
    with pytest.raises(InputError, match="unknown report format 'pdf'"):
        render_run(run_dir, ["pdf"])
    assert not (run_dir / "report.json").exists()


def test_rerendering_is_deterministic(tmp_path: Path) -> None:
    run_dir = two_scenario_run().write(tmp_path)
    first = {k: p.read_text(encoding="utf-8") for k, p in render_run(run_dir).items()}
    second = {k: p.read_text(encoding="utf-8") for k, p in render_run(run_dir).items()}
    assert first == second


def test_rendering_in_a_fresh_process_imports_no_load_or_chaos_libraries(tmp_path: Path) -> None:
    run_dir = standard_run().write(tmp_path)
    script = (
        "import sys; from pathlib import Path; from chaos_suite.report import render_run;"
        f"render_run(Path({str(run_dir)!r}), ['json', 'md', 'junit']);"
        "bad = sorted(m for m in ('gevent', 'locust', 'chaoslib', 'kubernetes', 'jinja2')"
        " if m in sys.modules); print(','.join(bad))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == ""
    assert json.loads((run_dir / "report.json").read_text(encoding="utf-8"))["run"]["exit_code"] == 0


def test_an_unwritable_run_directory_is_an_input_error(tmp_path: Path) -> None:
    run_dir = standard_run().write(tmp_path)
    (run_dir / "report.json").mkdir()  # a directory where the file should go
    with pytest.raises(InputError, match=r"report\.json: cannot write the report"):
        render_run(run_dir, ["json"])
    assert [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")] == []
