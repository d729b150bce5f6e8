"""review.html: one self-contained page (inline CSS and SVG, no script, nothing fetched), with
per service a scatter of expected vs observed burn per scenario × SLO (the diagonal is "as
predicted"), the verdict history of each scenario by day, and the budget chaos spent per SLO
beside what the service actually spent."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from html import escape

from chaos_suite.report.formatting import percent
from chaos_suite.review.model import Review, ScenarioReview, ServiceReview, SLOReview
from chaos_suite.review.render_md import (
    counts_text,
    expected_text,
    observed_text,
    timing,
    verdict,
    verdict_cells,
)

COLOURS = {"as-expected": "#2ca02c", "worse-than-expected": "#d62728",
           "better-than-expected": "#1f77b4", "inconclusive": "#9a9a9a"}
WORST_FIRST = ("worse-than-expected", "inconclusive", "better-than-expected", "as-expected")
MAX_HISTORY_COLUMNS = 120

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;
max-width:1200px}
h1{font-size:1.6em}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:2em}
table{border-collapse:collapse;margin:8px 0 16px}th,td{border:1px solid #ddd;padding:4px 8px;
text-align:left;font-size:.9em;vertical-align:top}th{background:#f4f4f4}
.num{text-align:right}.worse{color:#d62728;font-weight:600}.changed{background:#fff4d6}
.overdue{color:#d62728;font-weight:600}.charts{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:0}figcaption{font-size:.85em;color:#555;max-width:560px}
.summary{background:#f7f7f7;padding:8px 12px;border-radius:4px}
"""


def _e(value: object) -> str:
    return escape("—" if value is None else str(value))


def _table(table_id: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Cells are HTML already (escaped by the caller)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table id="{escape(table_id)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)


# ---------------------------------------------------------------- charts


def _log_axis(values: Sequence[float]) -> tuple[float, float]:
    positive = [v for v in values if v > 0]
    if not positive:
        return 1e-6, 1e-2
    low, high = min(positive), max(positive)
    low = 10 ** math.floor(math.log10(low))
    high = 10 ** math.ceil(math.log10(high))
    return low, high if high > low else low * 10


def scatter_svg(service: ServiceReview, size: int = 360) -> str:
    """Expected (x: the expectation's upper bound, else its lower) vs observed median (y) of
    the attributed budget per scenario × SLO, log-log; the bar is the period's range. Points
    above the diagonal burned more than predicted. Values at or below 0 sit on the floor."""
    points = []
    for scenario in service.scenarios:
        for row in scenario.slos:
            spread = row.observed_budget_consumed_attributed
            expected = row.expected.max_budget_consumed
            if expected is None:
                expected = row.expected.min_budget_consumed
            if expected is None or spread.median is None:
                continue
            points.append((scenario.name, row.slo, expected, spread, row.latest_verdict))
    if not points:
        return ""
    values = [p[2] for p in points] + [v for p in points
                                       for v in (p[3].min, p[3].median, p[3].max) if v is not None]
    low, high = _log_axis(values)
    left, bottom, top, right = 56, 40, 12, 12
    inner = size - left - right
    height = size - top - bottom

    def pos(value: float) -> float:
        clamped = min(max(value, low), high)
        return (math.log10(clamped) - math.log10(low)) / (math.log10(high) - math.log10(low))

    def x(value: float) -> float:
        return left + inner * pos(value)

    def y(value: float) -> float:
        return top + height * (1 - pos(value))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" id="scatter-{_slug(service.service)}" '
             f'class="chart scatter" width="{size}" height="{size}" role="img" '
             f'aria-label="expected vs observed burn">',
             f'<rect x="{left}" y="{top}" width="{inner}" height="{height}" fill="#fafafa" '
             f'stroke="#ccc"/>']
    decade = low
    while decade <= high * 1.0001:
        parts.append(f'<line x1="{x(decade):.1f}" x2="{x(decade):.1f}" y1="{top}" '
                     f'y2="{top + height}" stroke="#eee"/><line x1="{left}" x2="{left + inner}" '
                     f'y1="{y(decade):.1f}" y2="{y(decade):.1f}" stroke="#eee"/>'
                     f'<text x="{x(decade):.1f}" y="{top + height + 14}" font-size="9" '
                     f'text-anchor="middle">{escape(percent(decade))}</text>'
                     f'<text x="{left - 4}" y="{y(decade) + 3:.1f}" font-size="9" '
                     f'text-anchor="end">{escape(percent(decade))}</text>')
        decade *= 10
    parts.append(f'<line class="diagonal" x1="{x(low):.1f}" y1="{y(low):.1f}" x2="{x(high):.1f}" '
                 f'y2="{y(high):.1f}" stroke="#555" stroke-dasharray="5 4"><title>observed = '
                 f'expected</title></line>')
    for name, slo, expected, spread, latest in points:
        colour = COLOURS.get(latest or "", "#555")
        cx = x(expected)
        if spread.min is not None and spread.max is not None:
            parts.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(spread.min):.1f}" '
                         f'y2="{y(spread.max):.1f}" stroke="{colour}" stroke-width="2" '
                         f'opacity="0.5"/>')
        label = (f"{name} / {slo}: expected {percent(expected)}, observed median "
                 f"{percent(spread.median)} (range {percent(spread.min)} – {percent(spread.max)}, "
                 f"{spread.count} runs), latest {latest or 'none'}")
        parts.append(f'<circle class="point" cx="{cx:.1f}" cy="{y(spread.median or 0):.1f}" '
                     f'r="5" fill="{colour}"><title>{escape(label)}</title></circle>')
    parts.append(f'<text x="{left + inner / 2}" y="{size - 6}" font-size="10" '
                 f'text-anchor="middle">expected (budget attributed)</text>'
                 f'<text x="12" y="{top + height / 2}" font-size="10" text-anchor="middle" '
                 f'transform="rotate(-90 12 {top + height / 2})">observed median</text></svg>')
    return "".join(parts)


def history_svg(service: ServiceReview, first_day: str, current_day: str, end_day: str) -> str:
    """Per scenario a row of day cells from the previous period's start to the period's end,
    coloured by the day's worst verdict (days merge into columns beyond 120 days); a line marks
    where the period starts."""
    scenarios = [s for s in service.scenarios if s.history]
    if not scenarios:
        return ""
    start = datetime.fromisoformat(first_day).replace(tzinfo=UTC)
    days = max(1, (datetime.fromisoformat(end_day).replace(tzinfo=UTC) - start).days)
    per_column = max(1, math.ceil(days / MAX_HISTORY_COLUMNS))
    columns = math.ceil(days / per_column)
    label_w, cell, gap, top = 170, max(4, min(14, 600 // columns)), 1, 18
    width = label_w + columns * (cell + gap) + 10
    height = top + len(scenarios) * (cell + 6) + 22

    def column(day: str) -> int:
        offset = (datetime.fromisoformat(day).replace(tzinfo=UTC) - start).days
        return min(columns - 1, max(0, offset // per_column))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" id="history-{_slug(service.service)}" '
             f'class="chart history" width="{width}" height="{height}" role="img" '
             f'aria-label="verdict history per scenario">']
    for index, scenario in enumerate(scenarios):
        row_y = top + index * (cell + 6)
        parts.append(f'<text x="{label_w - 6}" y="{row_y + cell - 2}" font-size="11" '
                     f'text-anchor="end">{escape(scenario.name[:28])}</text>')
        for col in range(columns):
            parts.append(f'<rect x="{label_w + col * (cell + gap)}" y="{row_y}" width="{cell}" '
                         f'height="{cell}" fill="#f2f2f2"/>')
        merged: dict[int, dict[str, int]] = {}
        for day in scenario.history:
            tally = merged.setdefault(column(day.date), {})
            for name, value in zip(("as-expected", "worse-than-expected", "better-than-expected",
                                    "inconclusive"), verdict_cells(day.verdicts), strict=True):
                tally[name] = tally.get(name, 0) + value
        for col, tally in sorted(merged.items()):
            worst = next((n for n in WORST_FIRST if tally.get(n)), None)
            if worst is None:
                continue
            first = start + timedelta(days=col * per_column)
            title = (f"{scenario.name}, {first:%Y-%m-%d}"
                     + (f" (+{per_column - 1} d)" if per_column > 1 else "") + ": "
                     + ", ".join(f"{v} {k}" for k, v in tally.items() if v))
            parts.append(f'<rect class="cell" data-verdict="{worst}" '
                         f'x="{label_w + col * (cell + gap)}" y="{row_y}" width="{cell}" '
                         f'height="{cell}" fill="{COLOURS[worst]}"><title>{escape(title)}'
                         f'</title></rect>')
    split = column(current_day) * (cell + gap) + label_w - 1
    parts.append(f'<line x1="{split}" x2="{split}" y1="4" y2="{height - 18}" stroke="#333" '
                 f'stroke-dasharray="3 2"/><text x="{split + 3}" y="12" font-size="10">'
                 f'this period →</text>')
    legend_x = label_w
    for name in ("as-expected", "worse-than-expected", "better-than-expected", "inconclusive"):
        parts.append(f'<rect x="{legend_x}" y="{height - 14}" width="10" height="10" '
                     f'fill="{COLOURS[name]}"/><text x="{legend_x + 13}" y="{height - 5}" '
                     f'font-size="10">{name}</text>')
        legend_x += 20 + 6 * len(name)
    parts.append("</svg>")
    return "".join(parts)


def budget_svg(service: ServiceReview) -> str:
    """Per SLO, bars of the budget chaos consumed and attributed over the period, and the
    service's actual spend when Prometheus told it; one linear scale."""
    slos = service.slos
    if not slos:
        return ""
    bars: list[tuple[SLOReview, str, float | None, str]] = []
    for slo in slos:
        bars += [(slo, "chaos consumed", slo.chaos_budget_consumed, "#d62728"),
                 (slo, "chaos attributed", slo.chaos_budget_consumed_attributed, "#ff9896"),
                 (slo, "actual spent", slo.actual_budget_consumed, "#7f7f7f")]
    top_value = max((v for _, _, v, _ in bars if v is not None and v > 0), default=0.0) or 1e-6
    label_w, bar_h, plot_w = 170, 12, 420
    row_h = 3 * bar_h + 14
    height = 10 + len(slos) * row_h + 10
    width = label_w + plot_w + 190  # room for the figure after the longest bar
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" id="budget-{_slug(service.service)}" '
             f'class="chart budget" width="{width}" height="{height}" role="img" '
             f'aria-label="budget spent by chaos per SLO">']
    for index, slo in enumerate(slos):
        row_y = 10 + index * row_h
        parts.append(f'<text x="{label_w - 6}" y="{row_y + bar_h * 1.5 + 4}" font-size="11" '
                     f'text-anchor="end">{escape(slo.slo[:28])}</text>')
        for k, (_, what, value, colour) in enumerate(b for b in bars if b[0] is slo):
            y = row_y + k * bar_h
            if value is None:
                text = f"{what}: {slo.note or 'unknown'}" if what == "actual spent" else what
                parts.append(f'<text x="{label_w + 2}" y="{y + bar_h - 2}" font-size="9" '
                             f'fill="#777">{escape(text[:90])}</text>')
                continue
            w = max(0.0, value) / top_value * plot_w
            parts.append(f'<rect class="bar" data-kind="{what}" x="{label_w}" y="{y}" '
                         f'width="{max(w, 1):.1f}" height="{bar_h - 2}" fill="{colour}"><title>'
                         f'{escape(slo.slo)}: {what} {escape(percent(value))} of the budget'
                         f'</title></rect><text x="{label_w + max(w, 1) + 4:.1f}" '
                         f'y="{y + bar_h - 3}" font-size="9">{escape(what)} '
                         f'{escape(percent(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------- page


def _verdict_html(value: str | None) -> str:
    text = _e(verdict(value))
    return f'<span class="worse">{text}</span>' if value == "worse-than-expected" else text


def _scenario_rows(scenarios: Sequence[ScenarioReview]) -> list[list[str]]:
    return [[_e(s.name), _e(s.runs), *(_e(n) for n in verdict_cells(s.verdicts)),
             _verdict_html(s.latest_verdict), _verdict_html(s.previous_verdict),
             '<span class="worse">yes</span>' if s.changed else "no"] for s in scenarios]


def _service_html(service: ServiceReview, review: Review) -> str:
    slug = _slug(service.service)
    parts = [f'<section class="service" id="service-{slug}"><h2>{_e(service.service)}</h2>',
             f'<p><b>{service.runs} runs</b> — {_e(counts_text(service.by_status))}; exit codes '
             f'{_e(counts_text(service.by_exit_code))}</p>']
    first_day = review.previous_period.start[:10]
    charts = [(scatter_svg(service), "Expected vs observed budget attributed per scenario × "
               "SLO (log scale, median and range over the period); above the diagonal: worse "
               "than predicted."),
              (history_svg(service, first_day, review.period.start[:10],
                           _end_day(review.period.end)),
               "Verdict history per scenario by day, previous period and this one."),
              (budget_svg(service), "Budget spent by chaos per SLO over the period, beside "
               "what the service actually spent (Prometheus), as fractions of the budget.")]
    parts.append('<div class="charts">' + "".join(
        f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"
        for svg, caption in charts if svg) + "</div>")
    if service.aborted:
        parts.append("<h3>Aborted runs</h3>" + _table(
            f"aborted-{slug}", ["run", "started", "reason"],
            [[_e(a.run), _e(a.started), _e(a.reason + (f": {a.message}" if a.message else ""))]
             for a in service.aborted]))
    parts.append("<h3>Budget spent by chaos, per SLO</h3>" + _table(
        f"slos-{slug}", ["SLO", "runs", "chaos consumed", "chaos attributed", "actual spent",
                         "chaos share", "note"],
        [[_e(s.slo), _e(s.runs), _e(percent(s.chaos_budget_consumed)),
          _e(percent(s.chaos_budget_consumed_attributed)),
          _e(percent(s.actual_budget_consumed) if s.actual_budget_consumed is not None else None),
          _e(percent(s.chaos_share) if s.chaos_share is not None else None), _e(s.note or "")]
         for s in service.slos]))
    parts.append("<h3>Scenarios</h3>" + _table(
        f"scenarios-{slug}", ["scenario", "runs", "as expected", "worse", "better",
                              "inconclusive", "latest", "previous period", "changed"],
        _scenario_rows(service.scenarios)))
    rows = [(s.name, r) for s in service.scenarios for r in s.slos]
    if rows:
        parts.append("<h3>Observed vs expected burn</h3>" + _table(
            f"burn-{slug}", ["scenario", "SLO", "expected", "observed median", "range",
                             "worse runs", "recovery", "detect", "page", "detection gaps"],
            [[_e(name), _e(r.slo), _e(expected_text(r)), *(_e(v) for v in observed_text(r)),
              (f'<span class="worse">{r.worse_runs} of {r.runs} (recurring)</span>'
               if r.recurring_deviation else f"{r.worse_runs} of {r.runs}"),
              _e(timing(r.recovery_seconds)), _e(timing(r.time_to_detect_seconds)),
              _e(timing(r.time_to_page_seconds)),
              _e("not recorded" if r.detection_gaps is None else r.detection_gaps)]
             for name, r in rows]))
    coverage = service.coverage
    parts.append(f'<h3>Coverage</h3><ul id="coverage-{slug}"><li>SLOs no scenario touched this '
                 f'period: {_e(", ".join(coverage.slos_untouched) or "none")}</li><li>Planned '
                 f'scenarios that did not run: {_e(", ".join(coverage.scenarios_not_run) or "none")}'
                 f"</li></ul></section>")
    return "".join(parts)


def _end_day(end: str) -> str:
    """The first day after the period (its end is excluded; a partial last day counts)."""
    moment = datetime.fromisoformat(end)
    day = moment.date()
    if moment.time() != datetime.min.time():
        day += timedelta(days=1)
    return day.isoformat()


def render_html(review: Review) -> str:
    runs = review.runs
    open_items = [i for i in review.action_items if not i.done]
    parts = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
             f"<title>Chaos review {_e(review.period.label)}</title><style>{CSS}</style></head>"
             "<body>",
             f"<h1>Chaos review {_e(review.period.label)}</h1>",
             f'<p class="summary" id="summary">Period {_e(review.period.start)} to '
             f"{_e(review.period.end)} (UTC, end excluded), compared with "
             f"{_e(review.previous_period.label)}. <b>{runs.total} runs</b> — "
             f"{_e(counts_text(runs.by_status))}. {len(review.changed_verdicts)} changed "
             f"verdicts, {len(review.recurring_deviations)} recurring deviations, "
             f"{len(open_items)} open action items "
             f"({sum(i.overdue for i in open_items)} overdue), {len(review.skipped)} "
             f"directories skipped. Generated {_e(review.generated)}.</p>"]
    parts += [_service_html(service, review) for service in review.services]
    parts.append("<h2>Changed verdicts</h2>" + (_table(
        "changed", ["service", "scenario", "previous period", "latest"],
        [[_e(c.service), _e(c.scenario), _verdict_html(c.previous_verdict),
          _verdict_html(c.latest_verdict)] for c in review.changed_verdicts])
        if review.changed_verdicts else "<p>None.</p>"))
    parts.append("<h2>Recurring deviations</h2>" + (_table(
        "recurring", ["service", "scenario", "SLO", "worse runs"],
        [[_e(d.service), _e(d.scenario), _e(d.slo), _e(f"{d.worse_runs} of {d.runs}")]
         for d in review.recurring_deviations]) if review.recurring_deviations
        else "<p>None.</p>"))
    parts.append(f"<h2>Action items</h2><p>As of {_e(review.as_of)}.</p>" + (_table(
        "action-items", ["status", "due", "owner", "item", "run"],
        [["done" if i.done else '<span class="overdue">overdue</span>' if i.overdue else "open",
          _e(i.due), _e(i.owner or "unassigned"),
          (f'<a href="{escape(i.link)}">{_e(i.text)}</a>' if i.link and
           i.link.startswith(("http://", "https://")) else _e(i.text)), _e(i.run)]
         for i in review.action_items]) if review.action_items else "<p>None.</p>"))
    if review.skipped:
        parts.append("<h2>Skipped</h2>" + _table(
            "skipped", ["path", "reason"], [[_e(s.path), _e(s.reason)] for s in review.skipped]))
    if review.reanalysed:
        parts.append("<h2>Analysed from the run record</h2>" + _table(
            "reanalysed", ["path", "why"],
            [[_e(s.path), _e(s.reason)] for s in review.reanalysed]))
    if review.notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{_e(n)}</li>" for n in review.notes)
                     + "</ul>")
    parts.append("</body></html>\n")
    return "".join(parts)
