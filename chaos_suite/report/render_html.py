"""report.html: the report people read, as one self-contained page (jinja2, autoescaped;
inline SVG and CSS, nothing fetched, readable printed).

It opens with the gameday's verdict and the scenario × SLO grid; per scenario the hypothesis
in the team's words, the timeline chart (burn rate and SLI, fault window, events), expected
against observed with the interval, the Chaos Toolkit result, the latency test, notes; then
action items, the timeline and an appendix of raw counts. The plan's words (objectives,
hypothesis, runbooks, who acts) and action items are read defensively: records and analyses
written before them have none, and the page simply leaves those parts out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chaos_suite.report.analysis import RunAnalysis, ScenarioResult
from chaos_suite.report.chart import Bar, Marker, expectation_bars_svg, timeline_chart_svg
from chaos_suite.report.formatting import iso
from chaos_suite.report.render_markdown import (
    WEIGHTING_NOTE,
    fault_text,
    headline,
    latency_test_text,
    row_cells,
    run_facts,
    summary_rows,
    timeline_rows,
    weighting_text,
)
from chaos_suite.report.series import Sample
from chaos_suite.report.summary import coverage_text, gameday_verdict, measured_beside, seconds_text

# timeline kinds that frame the run rather than mark something on a scenario's chart
_NOT_MARKERS = frozenset({"activity_started", "activity_ended", "phase_started", "phase_ended",
                          "run_started", "run_ended"})


def _markers(analysis: RunAnalysis, scenario: ScenarioResult) -> list[Marker]:
    """Every timeline entry inside the scenario's measurement window except the framing
    ones: faults, aborts, notes, stalls and whatever a later record adds (detections)."""
    if scenario.windows is None:
        return []
    m = scenario.windows.measurement
    return [Marker(e.t, e.kind, e.text) for e in analysis.timeline
            if e.kind not in _NOT_MARKERS and m.start <= e.t <= m.end]


def _bars(scenario: ScenarioResult) -> str:
    return expectation_bars_svg([
        Bar(r.slo.name, r.expected.min_budget_consumed, r.expected.max_budget_consumed,
            r.budget_consumed_attributed, r.budget_consumed_attributed_ci, r.verdict.value)
        for r in scenario.slos])


def _words(obj: object, name: str) -> str | None:
    value = getattr(obj, name, None)
    return value.strip() or None if isinstance(value, str) else None


def _strings(obj: object, name: str) -> list[str]:
    value = getattr(obj, name, None)
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if str(v).strip()]
    return []


def _action_items(analysis: RunAnalysis) -> list[dict[str, Any]]:
    """Action items when the analysis carries them (``action_items``: objects with text,
    owner, due, done, link)."""
    items = getattr(analysis, "action_items", None) or ()
    out: list[dict[str, Any]] = []
    for item in items:
        text = getattr(item, "text", None)
        if not text:
            continue
        out.append({"text": str(text), "owner": str(getattr(item, "owner", "") or ""),
                    "due": str(getattr(item, "due", "") or ""),
                    "done": bool(getattr(item, "done", False)),
                    "link": getattr(item, "link", None) or None})
    return out


def _scenario(analysis: RunAnalysis, s: ScenarioResult, samples: Sequence[Sample],
              offset: dict[float, str]) -> dict[str, Any]:
    plan = next((p for p in analysis.plan.scenarios if p.name == s.name), None)
    markers = _markers(analysis, s)
    chart = ""
    if samples and s.windows is not None and s.slos:
        m, f = s.windows.measurement, s.windows.fault
        chart = timeline_chart_svg(samples, [r.slo for r in s.slos], (m.start, m.end),
                                   (f.start, f.end), analysis.plan.peak_window_seconds,
                                   markers)
    notes = []
    if s.windows is not None:
        m = s.windows.measurement
        notes = [{"text": n.text, "author": n.author, "offset": offset.get(n.t, "")}
                 for n in analysis.notes if m.start <= n.t <= m.end]
    return {
        "name": s.name,
        "status": s.status,
        "experiment": s.experiment or "?",
        "description": _words(plan, "description"),
        "words": _words(plan, "hypothesis"),
        "runbooks": _strings(plan, "runbooks"),
        "acts": _words(plan, "acts"),
        "fault": fault_text(s),
        "hypothesis": s.hypothesis,
        "steady_state_met_before": s.steady_state_met_before,
        "rows": [{**row_cells(result), "weighting": weighting_text(result).strip(),
                  "latency": latency_test_text(result).strip()} for result in s.slos],
        "warnings": s.warnings,
        "chart": chart,
        "markers": [{"number": i, "kind": mk.kind, "text": mk.label,
                     "offset": offset.get(mk.t, "")} for i, mk in enumerate(markers, 1)],
        "bars": _bars(s),
        "notes": notes,
        "detection": [{"slo": d.slo, "verdict": d.verdict or "–",
                       "detect": _secs(d.time_to_detect), "page": _secs(d.time_to_page),
                       "recover": _secs(d.time_to_recover), "reason": d.reason}
                      for d in s.detection],
        "noise": [f"{a.title} fired at {iso(a.firing)}, expected by no one" for a in s.noise],
        "coverage": [{"slo": r.slo.name, "text": coverage_text(r.coverage) + measured_beside(r)}
                     for r in s.slos if r.coverage is not None],
        "counts": [{"slo": r.slo.name, "baseline": r.baseline, "fault": r.fault,
                    "measurement": r.measurement, "seconds": r.measurement_data_seconds,
                    "test": r.latency_test} for r in s.slos],
    }


def _secs(value: float | None) -> str:
    return "–" if value is None else seconds_text(value)


def _context(analysis: RunAnalysis, samples: Sequence[Sample] = ()) -> dict[str, Any]:
    plan = analysis.plan
    outcome, code = headline(analysis)
    verdict = gameday_verdict(analysis)
    abort = None
    if analysis.abort:
        # the runner's own wording of a trip; its evidence (`detail`) is in report.json
        detail = analysis.abort.get("message")
        abort = str(analysis.abort.get("reason", "unknown reason"))
        abort += f" ({detail})" if detail else ""
    timeline = timeline_rows(analysis)
    offset = {entry.t: row[1] for entry, row in zip(analysis.timeline, timeline, strict=True)}
    grid = summary_rows(analysis)
    slo_names = [slo.name for slo in plan.slos]
    return {
        "run": {"gameday": plan.gameday, "service": plan.service, "id": plan.run_id},
        "headline": f"{outcome} {code}",
        "verdict": {"class": verdict.verdict, "text": verdict.text},
        "objectives": _strings(plan.record, "objectives"),
        "description": _words(plan.record, "description"),
        "facts": run_facts(analysis),
        "abort": abort,
        "weighting_note": WEIGHTING_NOTE,
        "grid": {
            "slos": slo_names,
            "rows": [{"scenario": s.name,
                      "cells": [c for c in grid if c["scenario"] == s.name]}
                     for s in analysis.scenarios],
            "detection": any(c["detection"] for c in grid),
        },
        "scenarios": [_scenario(analysis, s, samples, offset) for s in analysis.scenarios],
        "action_items": _action_items(analysis),
        "timeline": [{"clock": clock, "offset": off, "text": text}
                     for clock, off, text in timeline],
        "journals": analysis.journals,
        "warnings": analysis.warnings,
    }


def render_html(analysis: RunAnalysis, samples: Sequence[Sample] = ()) -> str:
    # jinja2 is imported here so that `chaos-suite report --format json` never pays for it.
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("chaos_suite.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return environment.get_template("report.html.j2").render(**_context(analysis, samples))
