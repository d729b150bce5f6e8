"""report.html: the verdict line and summary grid first, the per-scenario charts, markers,
latency test, the plan's words and action items when present, print CSS, nothing fetched;
and the same summary and latency test in report.json and report.md."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from support.synthetic import T0, standard_run

from chaos_suite.report import render_run
from chaos_suite.report.analysis import analyze_run
from chaos_suite.report.record import load_run
from chaos_suite.report.render_html import render_html

VERDICTS = {"as-expected", "worse-than-expected", "better-than-expected", "inconclusive"}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[set[str]] = []
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if tag == "td" and "cell" in a.get("class", "").split():
            self.cells.append(set(a["class"].split()))


def _page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _with_latency(run_dir: Path, slow: range, slow_ms: float = 200.0) -> Path:
    """Give every load sample a latency summary: ~5 ms, ``slow_ms`` in the ``slow`` seconds."""
    path = run_dir / "samples.jsonl"
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        sample = json.loads(line)
        t = sample["t"]
        p50 = (slow_ms if t in slow else 5.0) + (t % 7) * 0.1
        sample["latency_ms"] = {"p50": p50, "p95": p50 * 2, "mean": p50}
        lines.append(json.dumps(sample))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return run_dir


def test_verdict_line_and_a_grid_cell_per_scenario_and_slo(tmp_path: Path) -> None:
    run_dir = standard_run().write(tmp_path / "run")
    html = render_run(run_dir, ("html",))["html"].read_text(encoding="utf-8")
    page = _page(html)
    assert len(page.cells) == 2 and all(c & VERDICTS for c in page.cells)  # 1 scenario × 2 SLOs
    verdict = re.search(r'class="gameday-verdict as-expected">([^<]*)<', html)
    assert verdict and "as expected (exit code 0:" in verdict.group(1)
    assert html.index("gameday-verdict") < html.index('class="grid"') < html.index("<section")


def test_deviated_verdict_counts_scenarios(tmp_path: Path) -> None:
    run_dir = standard_run(bad_per_s=1000).write(tmp_path / "run")  # far beyond ≤ 0.1%
    written = render_run(run_dir, ("html", "json", "md"))
    summary = json.loads(written["json"].read_text(encoding="utf-8"))["summary"]
    assert summary["verdict"] == "deviated" and summary["deviated_scenarios"] == 1
    assert summary["text"].startswith("deviated: 1 of 1 scenarios (exit code 1:")
    cell = next(c for c in summary["grid"] if c["slo"] == "availability")
    assert cell["verdict"] == "worse-than-expected" and cell["expected"]["max_budget_consumed"] == 0.001
    assert cell["observed"] > 0.001 and len(cell["observed_ci"]) == 2
    assert f"**Verdict:** {summary['text']}" in written["md"].read_text(encoding="utf-8")
    assert 'class="gameday-verdict deviated"' in written["html"].read_text(encoding="utf-8")


def test_self_contained_printable_and_charted(tmp_path: Path) -> None:
    run = standard_run()
    run.note(T0 + 15, "dashboards went red", "alice")
    html = render_run(run.write(tmp_path / "run"), ("html",))["html"].read_text(encoding="utf-8")
    page = _page(html)
    # nothing to fetch: no scripts, stylesheets, images or frames from anywhere
    assert not [t for t, a in page.tags if t in ("script", "link", "img", "iframe")
                or "src" in a]
    assert "@media print" in html and "break-before: page" in html
    svgs = [a.get("class", "") for t, a in page.tags if t == "svg"]
    assert svgs == ["timeline-chart", "bars-chart"]
    marker_classes = {a["class"] for t, a in page.tags if t == "g" and "marker" in a.get("class", "")}
    assert marker_classes == {"marker marker-fault_injected", "marker marker-fault_cleared",
                              "marker marker-note"}
    assert sum(1 for t, a in page.tags if t == "path" and a.get("class") == "sli") == 2
    assert "dashboards went red" in html.split('<section class="scenario"')[1]
    assert "Appendix: raw counts" in html and "10000 / 10000" in html


def test_latency_test_in_every_format(tmp_path: Path) -> None:
    # standard_run: baseline [T0, T0+10), fault [T0+12, T0+32)
    run_dir = _with_latency(standard_run().write(tmp_path / "run"), range(T0 + 12, T0 + 32))
    written = render_run(run_dir, ("json", "md", "html"))
    report = json.loads(written["json"].read_text(encoding="utf-8"))
    rows = {r["slo"]: r for r in report["scenarios"][0]["slos"]}
    assert rows["availability"]["latency_test"] is None
    test = rows["latency"]["latency_test"]
    assert (test["n_baseline"], test["n_fault"]) == (10, 20) and test["metric"] == "p50"
    assert test["significant"] is True and test["p_value"] < 1e-4
    assert test["rank_biserial"] == 1.0 and test["u"] == 200
    assert test["fault_median_ms"] > 200 > 10 > test["baseline_median_ms"]
    cell = next(c for c in report["summary"]["grid"] if c["slo"] == "latency")
    assert cell["latency_significant"] is True
    md = written["md"].read_text(encoding="utf-8")
    assert "Latency test (Mann-Whitney U, per-second p50, 20 fault s vs 10 baseline s): " \
           "significantly different" in md
    assert "p = " in md and "(slower)" in md
    assert 'class="latency-test"' in written["html"].read_text(encoding="utf-8")


def test_no_latency_change_is_not_significant(tmp_path: Path) -> None:
    run_dir = _with_latency(standard_run().write(tmp_path / "run"), range(0))
    report = json.loads(render_run(run_dir, ("json",))["json"].read_text(encoding="utf-8"))
    test = report["scenarios"][0]["slos"][1]["latency_test"]
    assert test["significant"] is False and test["p_value"] >= 0.05


def test_plan_words_and_action_items_when_present(tmp_path: Path) -> None:
    """Read defensively: shown when the plan and the analysis carry them."""
    analysis = analyze_run(load_run(standard_run().write(tmp_path / "run")))
    scenario = analysis.plan.scenarios[0].model_copy(update={
        "hypothesis": "5% errors burn under 0.1% of the month's budget",
        "runbooks": ("https://runbooks.example/checkout-errors",), "acts": "on-call SRE"})
    record = analysis.plan.record.model_copy(update={
        "objectives": ("learn whether the error alert fires",), "scenarios": (scenario,)})
    analysis = replace(analysis, plan=replace(analysis.plan, record=record))
    items: list[Any] = [SimpleNamespace(text="tune the alert", owner="bob", due="2026-01-10",
                                        done=False, link=None)]
    object.__setattr__(analysis, "action_items", items)
    html = render_html(analysis)
    assert "learn whether the error alert fires" in html
    assert "Hypothesis:</strong> 5% errors burn under 0.1% of the month&#39;s budget" in html
    assert 'href="https://runbooks.example/checkout-errors"' in html and "on-call SRE" in html
    assert "tune the alert" in html and "2026-01-10" in html


def test_without_plan_words_the_page_leaves_them_out(tmp_path: Path) -> None:
    html = render_html(analyze_run(load_run(standard_run().write(tmp_path / "run"))))
    assert 'class="words"' not in html and "Action items" not in html
    assert "Objectives" not in html


def test_only_web_urls_become_links(tmp_path: Path) -> None:
    analysis = analyze_run(load_run(standard_run().write(tmp_path / "run")))
    scenario = analysis.plan.scenarios[0].model_copy(update={
        "runbooks": ("javascript:alert(1)", "wiki page 12")})
    record = analysis.plan.record.model_copy(update={"scenarios": (scenario,)})
    html = render_html(replace(analysis, plan=replace(analysis.plan, record=record)))
    assert "javascript:alert(1)" in html and 'href="javascript' not in html
