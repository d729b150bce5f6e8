"""report.html: the Markdown report's content as a standalone page (jinja2, autoescaped)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chaos_suite.report.analysis import RunAnalysis
from chaos_suite.report.render_markdown import (
    WEIGHTING_NOTE,
    fault_text,
    headline,
    row_cells,
    run_facts,
    timeline_rows,
    weighting_text,
)
from chaos_suite.report.series import Sample


def _charts(analysis: RunAnalysis, samples: Sequence[Sample]) -> dict[str, str]:
    from chaos_suite.report.chart import burn_chart_svg

    out: dict[str, str] = {}
    width = int(analysis.plan.peak_window_seconds or 5)
    for s in analysis.scenarios:
        if s.windows is None or not s.slos:
            continue
        m, f = s.windows.measurement, s.windows.fault
        out[s.name] = burn_chart_svg(samples, [r.slo for r in s.slos], (m.start, m.end),
                                     (f.start, f.end), width)
    return out


def _context(analysis: RunAnalysis, samples: Sequence[Sample] = ()) -> dict[str, Any]:
    charts = _charts(analysis, samples) if samples else {}
    plan = analysis.plan
    outcome, code = headline(analysis)
    abort = None
    if analysis.abort:
        # the runner's own wording of a trip; its evidence (`detail`) is in report.json
        detail = analysis.abort.get("message")
        abort = str(analysis.abort.get("reason", "unknown reason"))
        abort += f" ({detail})" if detail else ""
    return {
        "run": {"gameday": plan.gameday, "service": plan.service, "id": plan.run_id},
        "headline": f"{outcome} {code}",
        "facts": run_facts(analysis),
        "abort": abort,
        "weighting_note": WEIGHTING_NOTE,
        "scenarios": [
            {
                "name": s.name,
                "status": s.status,
                "experiment": s.experiment or "?",
                "fault": fault_text(s),
                "hypothesis": s.hypothesis,
                "rows": [{**row_cells(result), "weighting": weighting_text(result).strip()}
                         for result in s.slos],
                "warnings": s.warnings,
                "chart": charts.get(s.name, ""),
            }
            for s in analysis.scenarios
        ],
        "timeline": [
            {"clock": clock, "offset": offset, "text": text}
            for clock, offset, text in timeline_rows(analysis)
        ],
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
