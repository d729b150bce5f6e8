"""report.json: the machine-readable contract (docs/architecture.md §8, schema chaos-suite/report/v1).

Keys of that contract are never renamed; extra keys (reasons, recovery, windows, timeline, notes...) are
added alongside. Fractions are plain numbers, times ISO 8601 UTC, durations seconds; unknown
figures are null (never NaN or infinity, which are not JSON).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from chaos_suite.detection.predict import Coverage
from chaos_suite.detection.windows import SEVERITIES
from chaos_suite.report.analysis import (
    LatencyTest,
    RunAnalysis,
    ScenarioResult,
    SLOResult,
    Window,
)
from chaos_suite.report.formatting import iso
from chaos_suite.report.record import ScenarioPlan
from chaos_suite.report.series import Counts
from chaos_suite.report.summary import coverage_text, detection_of, gameday_verdict
from chaos_suite.slo import SLO

SCHEMA = "chaos-suite/report/v1"


def _number(value: float) -> float | int:
    """Whole numbers print as integers (2592000, not 2592000.0)."""
    return int(value) if float(value).is_integer() else value


def _counts(counts: Counts) -> dict[str, int]:
    return {"good": counts.good, "total": counts.total}


def _pair(pair: tuple[float, float] | None) -> list[float] | None:
    return None if pair is None else [pair[0], pair[1]]


def _window(window: Window | None) -> dict[str, Any] | None:
    if window is None:
        return None
    return {"start": iso(window.start), "end": iso(window.end), "seconds": window.length}


def _slo(slo: SLO) -> dict[str, Any]:
    return {
        "name": slo.name,
        "objective": slo.objective,
        "window_seconds": _number(slo.window_seconds),
        "source": slo.source,
        "sli": {"kind": slo.sli.kind.value, "threshold_ms": slo.sli.threshold_ms},
        "error_budget": slo.error_budget,
        "description": slo.description,
    }


def _weighting(result: SLOResult) -> dict[str, Any]:
    """Which weighting the observed budget figures use (time: every second with data alike),
    and the event-weighted ones beside them (bad events against the baseline's traffic)."""
    w = result.weighting
    return {
        "observed_budget": "time",
        "events": {
            "budget_consumed": w.budget_consumed_events if w else None,
            "budget_consumed_attributed": w.budget_consumed_attributed_events if w else None,
        },
        "differ": w.differ if w else False,
        "events_per_second": {
            "baseline": w.baseline_events_per_second if w else None,
            "fault": w.fault_events_per_second if w else None,
        },
    }


def _latency_test(test: LatencyTest | None) -> dict[str, Any] | None:
    """Mann-Whitney U of per-second latency, fault window (x) against baseline (y); null for
    SLOs that are not latency SLOs."""
    if test is None:
        return None
    r = test.result
    return {
        "test": "mann-whitney-u",
        "metric": test.metric,
        "n_baseline": r.n_y if r else None,
        "n_fault": r.n_x if r else None,
        "baseline_median_ms": test.baseline_median_ms,
        "fault_median_ms": test.fault_median_ms,
        "u": r.u if r else None,
        "z": r.z if r else None,
        "p_value": r.p_value if r else None,
        "rank_biserial": r.rank_biserial if r else None,
        "common_language": r.common_language if r else None,
        "alpha": test.alpha,
        "significant": test.significant,
        "min_shift_ms": test.min_shift_ms,
    }


def _summary(analysis: RunAnalysis) -> dict[str, Any]:
    """The gameday verdict and the scenario × SLO grid the reports open with."""
    verdict = gameday_verdict(analysis)
    return {
        "verdict": verdict.verdict,
        "text": verdict.text,
        "scenarios": verdict.scenarios,
        "deviated_scenarios": verdict.deviated,
        "inconclusive_scenarios": verdict.inconclusive,
        "exit_code": verdict.exit_code,
        "exit_meaning": verdict.exit_meaning,
        "grid": [
            {
                "scenario": scenario.name,
                "slo": result.slo.name,
                "expected": {
                    "min_budget_consumed": result.expected.min_budget_consumed,
                    "max_budget_consumed": result.expected.max_budget_consumed,
                },
                "observed": result.budget_consumed_attributed,
                "observed_ci": _pair(result.budget_consumed_attributed_ci),
                "verdict": result.verdict.value,
                "detection": detection_of(result),
                "latency_significant": (result.latency_test.significant
                                        if result.latency_test else None),
            }
            for scenario in analysis.scenarios
            for result in scenario.slos
        ],
    }


def _slo_result(result: SLOResult) -> dict[str, Any]:
    expected = result.expected
    return {
        "slo": result.slo.name,
        "counts": {
            "baseline": _counts(result.baseline),
            "fault": _counts(result.fault),
            "measurement": _counts(result.measurement),
        },
        "observed": {
            "error_ratio": result.error_ratio,
            "error_ratio_ci": _pair(result.error_ratio_ci),
            "budget_consumed": result.budget_consumed,
            "budget_consumed_attributed": result.budget_consumed_attributed,
            "peak_burn_rate": result.peak_burn_rate,
            "budget_consumed_ci": _pair(result.budget_consumed_ci),
            "budget_consumed_attributed_ci": _pair(result.budget_consumed_attributed_ci),
            "baseline_burn_rate": result.baseline_burn_rate,
            "recovery_seconds": result.recovery_seconds,
            "measurement_seconds_with_data": result.measurement_data_seconds,
        },
        "weighting": _weighting(result),
        "latency_test": _latency_test(result.latency_test),
        "expected": {
            "min_budget_consumed": expected.min_budget_consumed,
            "max_budget_consumed": expected.max_budget_consumed,
            "max_peak_burn_rate": expected.max_peak_burn_rate,
            "recover_within_seconds": expected.recover_within_seconds,
        },
        "verdict": result.verdict.value,
        "reason": result.reason,
        "predicted_coverage": _coverage(result.coverage),
    }


def _coverage(coverage: Coverage | None) -> dict[str, Any] | None:
    """Predicted coverage (detection/predict.py) at the fault window's burn rate."""
    if coverage is None:
        return None
    first = {severity: coverage.first(severity) for severity in SEVERITIES}
    return {
        "window_set": coverage.window_set,
        "burn_rate": coverage.burn_rate,
        "baseline_burn_rate": coverage.baseline_burn_rate,
        "evaluation_interval_seconds": coverage.evaluation_interval_s,
        "scrape_interval_seconds": coverage.scrape_interval_s,
        "resolution_seconds": coverage.resolution_s,
        **{f"{severity}_after_seconds": p.after_s if p else None
           for severity, p in first.items()},
        "alerts": [{
            "alert": p.alert.key, "severity": p.alert.severity,
            "long_seconds": p.alert.long_s, "short_seconds": p.alert.short_s,
            "factor": p.alert.factor, "for_seconds": p.alert.for_s,
            "fires": p.fires, "after_seconds": p.after_s,
            "pending_after_seconds": p.pending_after_s, "before_onset": p.before_onset,
            "budget_consumed": p.budget_consumed, "reason": p.reason,
        } for p in coverage.alerts],
        "text": coverage_text(coverage),
    }


def _scenario(scenario: ScenarioResult) -> dict[str, Any]:
    windows = scenario.windows
    # Same shape for a scenario that never ran, so readers can index without checks.
    fault: dict[str, Any] = {"start": None, "end": None, "seconds": None, "from": None}
    if windows is not None:
        fault = {
            "start": iso(windows.fault.start),
            "end": iso(windows.fault.end),
            "seconds": windows.fault.length,
            "from": "fault-events" if windows.fault_from_events else "scenario-phase",
        }
    return {
        "name": scenario.name,
        "experiment": scenario.experiment,
        "status": scenario.status,
        "deviated": scenario.deviated,
        "fault": fault,
        "slos": [_slo_result(result) for result in scenario.slos],
        "hypothesis": scenario.hypothesis,
        "steady_state_met_before": scenario.steady_state_met_before,
        "phase": _window(Window(windows.phase.start, windows.phase.end)) if windows else None,
        "baseline": _window(windows.baseline) if windows else None,
        "measurement": _window(windows.measurement) if windows else None,
        "faults": [{**entry, "t": iso(entry["t"])} for entry in (windows.faults if windows else [])],
        "warnings": list(scenario.warnings),
        "detection": _detection(scenario),
    }


def _detection(scenario: ScenarioResult) -> dict[str, Any] | None:
    """Measured detection (times from fault onset, seconds); None when neither the plan nor
    the run had anything to do with alerts."""
    if not scenario.detection and not scenario.noise:
        return None
    return {
        "slos": [{
            "slo": d.slo,
            "expected": None if d.expected is None and not d.no_alert else {
                "alert": d.expected.model_dump(mode="json") if d.expected else None,
                "no_alert": d.no_alert},
            "onset": iso(d.onset), "pending": iso(d.pending), "firing": iso(d.firing),
            "notified": iso(d.notified), "resolved": iso(d.resolved),
            "firing_in_alerts_series": iso(d.firing_in_alerts), "firing_seen_by": d.seen_by,
            "cleared": iso(d.cleared), "recovered": iso(d.recovered),
            "time_to_detect_seconds": d.time_to_detect,
            "time_to_page_seconds": d.time_to_page,
            "time_to_recover_seconds": d.time_to_recover,
            "verdict": d.verdict, "reason": d.reason,
        } for d in scenario.detection],
        "noise": [{"alert": a.name, "labels": dict(a.labels), "firing": iso(a.firing),
                   "seen_by": a.seen_by}
                  for a in scenario.noise],
    }


def _plan_words(scenario: ScenarioPlan | None) -> dict[str, Any]:
    """The scenario in the team's words (plan.json); `hypothesis` is taken by the outcome of
    the generated steady-state hypothesis, so the words are `hypothesis_text`."""
    return {
        "hypothesis_text": scenario.hypothesis if scenario else None,
        "runbooks": list(scenario.runbooks) if scenario else [],
        "acts": scenario.acts if scenario else None,
    }


def action_item_rows(analysis: RunAnalysis, today: date | None = None) -> list[dict[str, Any]]:
    """Action items as of ``today`` (UTC): overdue when open and past their due date."""
    day = (today or datetime.now(UTC).date()).isoformat()
    return [{"id": item.id, "text": item.text, "owner": item.owner, "due": item.due,
             "link": item.link, "done": item.done, "overdue": not item.done and item.due < day,
             "created": iso(item.t), "done_at": iso(item.done_t)}
            for item in analysis.action_items]


def report_dict(analysis: RunAnalysis) -> dict[str, Any]:
    """The report as plain JSON-ready data."""
    plan = analysis.plan
    words = {s.name: s for s in plan.scenarios}
    return {
        "schema": SCHEMA,
        "run": {
            "id": plan.run_id,
            "gameday": plan.gameday,
            "service": plan.service,
            "environment": plan.environment,
            "status": analysis.status,
            "exit_code": analysis.exit_code,
            "started": iso(analysis.started),
            "ended": iso(analysis.ended),
            "abort": analysis.abort,
            "min_events": plan.min_events,
            "peak_window_seconds": plan.peak_window_seconds,
        },
        "slos": [_slo(slo) for slo in plan.slos],
        "scenarios": [{**_scenario(scenario), **_plan_words(words.get(scenario.name))}
                      for scenario in analysis.scenarios],
        "objectives": list(plan.record.objectives),
        "action_items": action_item_rows(analysis),
        "timeline": [
            {"t": iso(entry.t), "type": entry.kind, "text": entry.text} for entry in analysis.timeline
        ],
        "notes": [{"t": iso(note.t), "text": note.text, "author": note.author} for note in analysis.notes],
        "journals": list(analysis.journals),
        "warnings": list(analysis.warnings),
        "summary": _summary(analysis),
    }


def render_json(analysis: RunAnalysis) -> str:
    """report.json text; raises ValueError rather than writing NaN or infinity."""
    return json.dumps(report_dict(analysis), indent=2, allow_nan=False) + "\n"
