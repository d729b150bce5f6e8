"""report.md: the human report of a run (headline, per-scenario tables, timeline)."""

from __future__ import annotations

from datetime import UTC, datetime

from chaos_suite.report.analysis import RunAnalysis, ScenarioResult, SLOResult
from chaos_suite.report.formatting import iso, percent, rate
from chaos_suite.report.record import Expectation, ScenarioPlan
from chaos_suite.report.render_json import action_item_rows
from chaos_suite.report.summary import (
    coverage_text,
    detection_of,
    gameday_verdict,
    measured_beside,
)
from chaos_suite.report.verdict import Verdict
from chaos_suite.slo import format_duration


def _cell(text: str) -> str:
    """Markdown table cells cannot hold pipes or line breaks."""
    return text.replace("|", "\\|").replace("\n", " ")


def headline(analysis: RunAnalysis) -> tuple[str, str]:
    """The overall outcome in a few words, and "(exit code N)"."""
    results = [r for s in analysis.scenarios for r in s.slos]
    if analysis.status in ("aborted", "failed"):
        reason = ""
        if analysis.abort:
            reason = f": {analysis.abort.get('reason', '')}".rstrip(": ")
        outcome = f"Run {analysis.status}{reason}"
    elif any(s.hypothesis_failed for s in analysis.scenarios) or any(
        r.verdict is Verdict.WORSE for r in results
    ):
        outcome = "Worse than expected"
    elif any(r.verdict is Verdict.INCONCLUSIVE and not r.expected.is_empty for r in results):
        outcome = "Inconclusive"
    elif any(r.verdict is Verdict.BETTER for r in results):
        outcome = "Better than expected (did every fault land?)"
    else:
        outcome = "As expected"
    return outcome, f"(exit code {analysis.exit_code})"


def expected_text(expected: Expectation) -> str:
    if expected.is_empty:
        return "none"
    low, high = expected.min_budget_consumed, expected.max_budget_consumed
    parts: list[str] = []
    if low is not None and high is not None:
        parts.append(f"{percent(low)} to {percent(high)} of budget")
    elif high is not None:
        parts.append(f"≤ {percent(high)} of budget")
    elif low is not None:
        parts.append(f"≥ {percent(low)} of budget")
    if expected.max_peak_burn_rate is not None:
        parts.append(f"peak BR ≤ {rate(expected.max_peak_burn_rate)}")
    if expected.recover_within_seconds is not None:
        parts.append(f"recovery ≤ {expected.recover_within_seconds:g} s")
    return "; ".join(parts)


def events_text(result: SLOResult) -> str:
    fault, base = result.fault, result.baseline
    text = f"fault: {fault.bad} bad / {fault.total}"
    if fault.total:
        text += f" ({percent(result.error_ratio)})"
    return f"{text}; baseline: {base.bad} bad / {base.total}"


WEIGHTING_NOTE = (
    "They are time-weighted (Σ BR·Δt / P: every second with data counts alike, "
    "whatever its traffic). Where the event-weighted figure (the bad events / (B · N_P), "
    "N_P = the baseline's events per second × P, as an Occurrences SLO counts them) differs by "
    "more than 20%, both are shown: a fault that changes the traffic (a closed-loop load "
    "under a latency fault) sets them apart."
)


def observed_text(result: SLOResult) -> str:
    """Consumed (attributed), time-weighted; the event-weighted pair too when they differ."""
    text = f"{percent(result.budget_consumed)} ({percent(result.budget_consumed_attributed)})"
    w = result.weighting
    if w is None or not w.differ:
        return text
    return (f"{text} time-weighted; {percent(w.budget_consumed_events)} "
            f"({percent(w.budget_consumed_attributed_events)}) event-weighted")


def weighting_text(result: SLOResult) -> str:
    """A sentence on the event-weighted figure when it differs from the time-weighted one."""
    w = result.weighting
    if w is None or not w.differ or w.baseline_events_per_second is None:
        return ""
    time_c, events_c = result.budget_consumed, w.budget_consumed_events
    factor = ""
    if time_c and events_c and time_c > 0 and events_c > 0:
        ratio = time_c / events_c
        factor = (f", {ratio:.1f}× less than time-weighted" if ratio > 1 else
                  f", {1 / ratio:.1f}× more than time-weighted")
    return (f" Counted in events against the baseline's {w.baseline_events_per_second:.0f} "
            f"events/s it spent {percent(events_c)} "
            f"({percent(w.budget_consumed_attributed_events)} attributed){factor}.")


def latency_test_text(result: SLOResult) -> str:
    """The Mann-Whitney sentence of a latency SLO ("" for the others)."""
    test = result.latency_test
    if test is None:
        return ""
    r = test.result
    if r is None:
        return (f" Latency test: not run (per-second {test.metric} latency missing in the "
                "baseline or the fault window).")
    word = ("significantly different" if test.significant else
            f"not significantly different (p < {test.alpha:g} and a median shift of at least "
            f"{test.min_shift_ms:g} ms are both needed)")
    medians = ""
    if test.baseline_median_ms is not None and test.fault_median_ms is not None:
        medians = (f", median {test.fault_median_ms:.1f} ms in the fault window vs "
                   f"{test.baseline_median_ms:.1f} ms in the baseline")
    return (f" Latency test (Mann-Whitney U, per-second {test.metric}, {r.n_x} fault s vs "
            f"{r.n_y} baseline s): {word} at α = {test.alpha:g}, U = {r.u:g}, "
            f"p = {r.p_value:.3g}, rank-biserial r = {r.rank_biserial:+.2f}{medians}.")


def summary_rows(analysis: RunAnalysis) -> list[dict[str, str]]:
    """The summary grid, one row per scenario × SLO, shared by the Markdown and HTML."""
    rows: list[dict[str, str]] = []
    for scenario in analysis.scenarios:
        for result in scenario.slos:
            ci = result.budget_consumed_attributed_ci
            test = result.latency_test
            rows.append({
                "scenario": scenario.name,
                "slo": result.slo.name,
                "expected": expected_text(result.expected),
                "observed": percent(result.budget_consumed_attributed),
                "ci": "n/a" if ci is None else f"{percent(ci[0])} to {percent(ci[1])}",
                "verdict": result.verdict.value,
                "detection": detection_of(result) or "",
                "latency": "" if test is None or test.result is None else
                f"p = {test.result.p_value:.3g}"
                + (" (slower)" if test.significant and test.result.z > 0 else
                   " (faster)" if test.significant else ""),
            })
    return rows


def _summary(analysis: RunAnalysis) -> list[str]:
    rows = summary_rows(analysis)
    lines = [f"**Verdict:** {gameday_verdict(analysis).text}", "", "## Summary", ""]
    detection = any(r["detection"] for r in rows)
    head = ["scenario", "SLO", "expected", "observed (attributed)", "95% CI", "verdict",
            "latency test"] + (["detection"] if detection else [])
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["scenario"], r["slo"], r["expected"], r["observed"], r["ci"],
                 f"**{r['verdict']}**", r["latency"] or "n/a"]
        cells += [r["detection"] or "n/a"] if detection else []
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return [*lines, ""]


def row_cells(result: SLOResult) -> dict[str, str]:
    """The cells of one SLO row, shared by the Markdown and HTML tables."""
    ci = result.budget_consumed_attributed_ci
    return {
        "slo": result.slo.name,
        "expected": expected_text(result.expected),
        "observed": observed_text(result),
        "ci": "n/a" if ci is None else f"{percent(ci[0])} to {percent(ci[1])}",
        "peak": rate(result.peak_burn_rate),
        "events": events_text(result),
        "verdict": result.verdict.value,
        "reason": result.reason,
    }


def _row(result: SLOResult) -> str:
    cells = row_cells(result)
    cells["verdict"] = f"**{cells['verdict']}**"
    del cells["reason"]
    return "| " + " | ".join(_cell(c) for c in cells.values()) + " |"


def fault_text(scenario: ScenarioResult) -> str | None:
    windows = scenario.windows
    if windows is None:
        return None
    origin = "fault events" if windows.fault_from_events else "scenario phase (no fault events)"
    return (
        f"{iso(windows.fault.start)} to {iso(windows.fault.end)} "
        f"({windows.fault.length:.1f} s, from {origin})"
    )


def _plan_words(plan: ScenarioPlan | None) -> list[str]:
    """The scenario in the team's words, as the plan gave them."""
    if plan is None:
        return []
    lines: list[str] = []
    if plan.hypothesis:
        lines.append(f"- Hypothesis: {_cell(plan.hypothesis)}")
    if plan.acts:
        lines.append(f"- Who acts: {_cell(plan.acts)}")
    if plan.runbooks:
        lines.append("- Runbooks: " + ", ".join(f"<{url}>" for url in plan.runbooks))
    return lines


def _scenario(scenario: ScenarioResult, plan: ScenarioPlan | None = None) -> list[str]:
    lines = [f"## Scenario `{scenario.name}`: {scenario.status}", ""]
    lines += _plan_words(plan)
    lines.append(f"- Experiment: `{scenario.experiment or '?'}`")
    if scenario.windows is not None:
        lines.append(f"- Fault window: {fault_text(scenario)}")
        lines.append(f"- Measured until {iso(scenario.windows.measurement.end)}")
    lines.append(f"- Steady-state hypothesis: {scenario.hypothesis}")
    lines += [
        "",
        "| SLO | expected | observed (attributed) | 95% CI | peak BR | events | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [_row(result) for result in scenario.slos]
    lines.append("")
    for result in scenario.slos:
        recovery = ""
        if result.recovery_seconds is not None and "recover" not in result.reason:
            recovery = f" Recovered (BR ≤ 1) {result.recovery_seconds:.0f} s after the fault."
        lines.append(f"- **{result.slo.name}**: {result.reason}.{recovery}"
                     f"{weighting_text(result)}{latency_test_text(result)}")
    lines += [f"- **Warning:** {warning}." for warning in scenario.warnings]
    lines += _detection(scenario)
    lines += _coverage(scenario)
    lines.append("")
    return lines


def _detection(scenario: ScenarioResult) -> list[str]:
    """Measured detection: per SLO the verdict and times from fault onset; then the noise."""
    if not scenario.detection and not scenario.noise:
        return []
    lines = ["", "| SLO | detection | to detect | to page | to recover | why |",
             "|---|---|---|---|---|---|"]

    def secs(value: float | None) -> str:
        return "–" if value is None else f"{value:.1f} s"

    lines += [f"| {_cell(d.slo)} | {d.verdict or '–'} | {secs(d.time_to_detect)} | "
              f"{secs(d.time_to_page)} | {secs(d.time_to_recover)} | {_cell(d.reason)} |"
              for d in scenario.detection]
    lines += [f"- **Noise:** {_cell(a.title)} fired at {iso(a.firing)}, expected by no one."
              for a in scenario.noise]
    return lines


def _coverage(scenario: ScenarioResult) -> list[str]:
    """Predicted coverage per SLO: would its alerts fire if the fault lasted (and, beside it,
    what was measured when detection was)."""
    lines = [f"- **{result.slo.name}** predicted coverage: {_cell(coverage_text(result.coverage))}"
             f"{measured_beside(result)}"
             for result in scenario.slos if result.coverage is not None]
    return ["", *lines] if lines else []


def _action_items(analysis: RunAnalysis) -> list[str]:
    rows = action_item_rows(analysis)
    if not rows:
        return []
    lines = ["## Action items", "", "| id | action | owner | due | state | created | link |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        state = "done" if row["done"] else ("**overdue**" if row["overdue"] else "open")
        link = f"<{row['link']}>" if row["link"] else ""
        lines.append(f"| {row['id']} | {_cell(row['text'])} | {_cell(row['owner'])} | "
                     f"{row['due']} | {state} | {row['created']} | {link} |")
    return [*lines, ""]


def timeline_rows(analysis: RunAnalysis) -> list[tuple[str, str, str]]:
    """(clock time UTC, offset from the run start, text) per timeline entry."""
    if not analysis.timeline:
        return []
    start = analysis.started if analysis.started is not None else analysis.timeline[0].t
    return [
        (
            datetime.fromtimestamp(entry.t, tz=UTC).strftime("%H:%M:%S.%f")[:-3],
            f"+{entry.t - start:.1f} s",
            entry.text,
        )
        for entry in analysis.timeline
    ]


def _timeline(analysis: RunAnalysis) -> list[str]:
    rows = timeline_rows(analysis)
    if not rows:
        return []
    lines = ["## Timeline", "", "| time (UTC) | offset | event |", "|---|---|---|"]
    lines += [f"| {clock} | {offset} | {_cell(text)} |" for clock, offset, text in rows]
    return [*lines, ""]


def run_facts(analysis: RunAnalysis) -> list[tuple[str, str]]:
    """Key facts of the run as (label, value) pairs."""
    plan = analysis.plan
    duration = ""
    if analysis.started is not None and analysis.ended is not None:
        seconds = max(0.0, analysis.ended - analysis.started)
        duration = format_duration(seconds) if seconds > 0 else "0s"
    rows = [
        ("run", plan.run_id),
        ("environment", plan.environment),
        ("status", f"{analysis.status} (exit code {analysis.exit_code})"),
        ("started", iso(analysis.started) or "?"),
        ("ended", iso(analysis.ended) or "?"),
        ("duration", duration or "?"),
        (
            "SLOs",
            ", ".join(
                f"{s.name} {round(s.objective * 100, 6):g}% over {format_duration(s.window_seconds)}"
                for s in plan.slos
            ),
        ),
    ]
    return rows


def _run_table(analysis: RunAnalysis) -> list[str]:
    rows = run_facts(analysis)
    return ["| | |", "|---|---|", *(f"| {k} | {_cell(v)} |" for k, v in rows), ""]


def render_markdown(analysis: RunAnalysis) -> str:
    plan = analysis.plan
    outcome, code = headline(analysis)
    lines = [f"# Gameday `{plan.gameday}`: {plan.service}", "", f"**{outcome}** {code}", ""]
    lines += _summary(analysis)
    lines += _run_table(analysis)
    if plan.record.objectives:
        lines += ["## Objectives", "", *(f"- {_cell(o)}" for o in plan.record.objectives), ""]
    if analysis.abort:
        # the runner's own wording of a trip; its evidence (`detail`) is in report.json
        detail = analysis.abort.get("message")
        lines += [
            f"> **Aborted:** {analysis.abort.get('reason', 'unknown reason')}"
            + (f" ({detail})" if detail else ""),
            "",
        ]
    lines += [
        (
            "Budget figures are fractions of each SLO's error budget over its window; "
            '"attributed" subtracts what the baseline burn rate would have spent anyway. '
            "The 95% CI is that of the attributed figure."
        ),
        "",
        WEIGHTING_NOTE,
        "",
    ]
    words = {s.name: s for s in plan.scenarios}
    for scenario in analysis.scenarios:
        lines += _scenario(scenario, words.get(scenario.name))
    lines += _action_items(analysis)
    lines += _timeline(analysis)
    if analysis.journals:
        lines += ["## Chaos Toolkit journals", ""]
        lines += [f"- `journals/{name}`" for name in analysis.journals] + [""]
    if analysis.warnings:
        lines += ["## Warnings while reading the run record", ""]
        lines += [f"- {warning}" for warning in analysis.warnings] + [""]
    return "\n".join(lines)
