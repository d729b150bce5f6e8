"""review.md: the review as Markdown tables, for pasting into the review document."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from chaos_suite.report.formatting import percent
from chaos_suite.review.model import (
    Review,
    ScenarioSLOReview,
    ServiceReview,
    Timing,
    VerdictCounts,
)

SHORT = {"as-expected": "as expected", "worse-than-expected": "WORSE",
         "better-than-expected": "better", "inconclusive": "inconclusive"}


def cell(value: object) -> str:
    """A table cell: one line, pipes escaped (a scenario name or reason may hold either)."""
    text = "—" if value is None else str(value)
    return " ".join(text.split()).replace("|", "\\|")


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return [*lines, ""]


def verdict(value: str | None) -> str:
    return SHORT.get(value, "—") if value else "—"


def seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def timing(value: Timing) -> str:
    if value.median is None:
        return "—"
    text = seconds(value.median)
    if value.trend is not None and value.previous_median is not None:
        text += f" ({value.trend}; was {seconds(value.previous_median)})"
    return text


def counts_text(counts: dict[str, int]) -> str:
    return " · ".join(f"{key}: {value}" for key, value in counts.items() if value) or "none"


def verdict_cells(counts: VerdictCounts) -> list[int]:
    return [counts.as_expected, counts.worse_than_expected, counts.better_than_expected,
            counts.inconclusive]


def expected_text(row: ScenarioSLOReview) -> str:
    low, high = row.expected.min_budget_consumed, row.expected.max_budget_consumed
    if low is not None and high is not None:
        return f"{percent(low)} – {percent(high)}"
    if high is not None:
        return f"≤ {percent(high)}"
    return f"≥ {percent(low)}" if low is not None else "—"


def observed_text(row: ScenarioSLOReview) -> tuple[str, str]:
    spread = row.observed_budget_consumed_attributed
    if spread.median is None:
        return "—", "—"
    return percent(spread.median), f"{percent(spread.min)} – {percent(spread.max)}"


def _service(service: ServiceReview) -> list[str]:
    out = [f"## {service.service}", "",
           f"**{service.runs} runs** — {counts_text(service.by_status)}; exit codes "
           f"{counts_text(service.by_exit_code)}", ""]
    if service.aborted:
        out += ["### Aborted runs", ""]
        out += table(["run", "started", "reason"],
                     [(a.run, a.started, a.reason + (f": {a.message}" if a.message else ""))
                      for a in service.aborted])
    out += ["### Budget spent by chaos, per SLO", "",
            "Fractions of each SLO's error budget over its window. *Actual* is what the service "
            "spent over the whole period (Prometheus), so chaos's share shows.", ""]
    out += table(["SLO", "objective", "runs", "chaos consumed", "chaos attributed",
                  "actual spent", "chaos share"],
                 [(s.slo, percent(s.objective, 4) if s.objective is not None else None, s.runs,
                   percent(s.chaos_budget_consumed), percent(s.chaos_budget_consumed_attributed),
                   percent(s.actual_budget_consumed) if s.actual_budget_consumed is not None
                   else (s.note and "n/a") or "—",
                   percent(s.chaos_share) if s.chaos_share is not None else "—")
                  for s in service.slos])
    notes = [f"- {s.slo}: {s.note}" for s in service.slos if s.note]
    if notes:
        out += [*notes, ""]
    out += ["### Scenarios", ""]
    out += table(["scenario", "runs", "as expected", "worse", "better", "inconclusive", "latest",
                  "previous period", "changed"],
                 [(s.name, s.runs, *verdict_cells(s.verdicts), verdict(s.latest_verdict),
                   verdict(s.previous_verdict), "**yes**" if s.changed else "no")
                  for s in service.scenarios])
    rows = [(s.name, r) for s in service.scenarios for r in s.slos]
    if rows:
        out += ["### Observed vs expected burn", "",
                "Budget attributed to the fault, as a fraction of the SLO's budget; times are "
                "medians over the period's runs, against the previous period's.", ""]
        out += table(["scenario", "SLO", "expected", "observed median", "range", "worse runs",
                      "recovery", "detect", "page", "detection gaps"],
                     [(name, r.slo, expected_text(r), *observed_text(r),
                       f"{r.worse_runs} of {r.runs}" + (" (recurring)" if r.recurring_deviation
                                                          else ""),
                       timing(r.recovery_seconds), timing(r.time_to_detect_seconds),
                       timing(r.time_to_page_seconds),
                       "not recorded" if r.detection_gaps is None else r.detection_gaps)
                      for name, r in rows])
    coverage = service.coverage
    out += ["### Coverage", "",
            "- SLOs no scenario touched this period: "
            + (", ".join(coverage.slos_untouched) or "none"),
            "- Planned scenarios that did not run: "
            + (", ".join(coverage.scenarios_not_run) or "none"), ""]
    return out


def render_md(review: Review) -> str:
    runs = review.runs
    items = [i for i in review.action_items if not i.done]
    overdue = sum(i.overdue for i in items)
    out = [f"# Chaos review {review.period.label}", "",
           f"Period {review.period.start} to {review.period.end} (UTC, end excluded), compared "
           f"with {review.previous_period.label}. Generated {review.generated}"
           + (f"; service {review.service_filter}" if review.service_filter else "") + ".", "",
           f"**{runs.total} runs** — {counts_text(runs.by_status)}. "
           f"{len(review.changed_verdicts)} changed verdicts, "
           f"{len(review.recurring_deviations)} recurring deviations, {len(items)} open action "
           f"items ({overdue} overdue), {len(review.skipped)} directories skipped.", ""]
    for service in review.services:
        out += _service(service)
    out += ["## Changed verdicts", ""]
    out += table(["service", "scenario", "previous period", "latest"],
                 [(c.service, c.scenario, verdict(c.previous_verdict), verdict(c.latest_verdict))
                  for c in review.changed_verdicts]) if review.changed_verdicts else ["None.", ""]
    out += ["## Recurring deviations", "",
            "Worse than expected in two or more of the period's runs.", ""]
    out += table(["service", "scenario", "SLO", "worse runs"],
                 [(d.service, d.scenario, d.slo, f"{d.worse_runs} of {d.runs}")
                  for d in review.recurring_deviations]) if review.recurring_deviations \
        else ["None.", ""]
    out += ["## Action items", "", f"As of {review.as_of}.", ""]
    out += table(["status", "due", "owner", "item", "run", "link"],
                 [("done" if i.done else "**overdue**" if i.overdue else "open", i.due,
                   i.owner or "unassigned", i.text, i.run, i.link)
                  for i in review.action_items]) if review.action_items else ["None.", ""]
    if review.skipped:
        out += ["## Skipped", ""]
        out += table(["path", "reason"], [(s.path, s.reason) for s in review.skipped])
    if review.reanalysed:
        out += ["## Analysed from the run record", ""]
        out += table(["path", "why"], [(s.path, s.reason) for s in review.reanalysed])
    if review.notes:
        out += ["## Notes", "", *[f"- {cell(note)}" for note in review.notes], ""]
    return "\n".join(out).rstrip("\n") + "\n"
