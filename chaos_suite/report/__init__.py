"""Reports from a run directory alone: verdicts recomputed from samples, then rendered.

``report/`` reads only the run record (docs/architecture.md §4) and never talks to a target, so a report
can be re-rendered at any time: ``render_run(run_dir)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaos_suite import durable
from chaos_suite.errors import InputError
from chaos_suite.report.analysis import (
    RunAnalysis,
    ScenarioResult,
    SLOResult,
    analyze_run,
    consumed_in_window,
    window_counts,
)
from chaos_suite.report.record import RecordView, load_run
from chaos_suite.report.series import Counts, Sample
from chaos_suite.report.verdict import Verdict

__all__ = [
    "FORMATS",
    "Counts",
    "RecordView",
    "Rendered",
    "RunAnalysis",
    "SLOResult",
    "Sample",
    "ScenarioResult",
    "Verdict",
    "analyze_run",
    "consumed_in_window",
    "load_run",
    "render_run",
    "report_run",
    "window_counts",
]

# format -> file name written into the run directory
FORMATS: dict[str, str] = {
    "json": "report.json",
    "md": "report.md",
    "junit": "junit.xml",
    "html": "report.html",
}
_ALIASES = {"markdown": "md", "xml": "junit"}


def _renderer(fmt: str) -> Callable[[RunAnalysis], str]:
    # Imported per format so that e.g. JSON-only re-renders never import jinja2.
    if fmt == "json":
        from chaos_suite.report.render_json import render_json

        return render_json
    if fmt == "md":
        from chaos_suite.report.render_markdown import render_markdown

        return render_markdown
    if fmt == "junit":
        from chaos_suite.report.render_junit import render_junit

        return render_junit
    from chaos_suite.report.render_html import render_html

    return render_html


def _server_side(record: RecordView, report: dict[str, Any]) -> list[dict[str, Any]]:
    """Client vs server comparison when the run saved the local target's counters."""
    from chaos_suite.report.truth import compare

    rows = record.record.server_counters
    if rows is None:
        return []
    return compare(report, [row.model_dump(mode="json") for row in rows])


@dataclass(frozen=True)
class Rendered:
    """The analysis a set of reports was rendered from (its verdicts and the run's exit code,
    decided once) and where each report went."""

    analysis: RunAnalysis
    written: dict[str, Path]


def render_run(run_dir: Path, formats: Sequence[str] = ("json", "md", "junit")) -> dict[str, Path]:
    """Analyse ``run_dir`` and write the requested reports into it; returns format -> path."""
    return report_run(run_dir, formats).written


def report_run(run_dir: Path, formats: Sequence[str] = ("json", "md", "junit")) -> Rendered:
    """Analyse ``run_dir`` and write the requested reports into it.

    Raises InputError for an unknown format, an unusable run directory (see load_run) or a
    run directory the reports cannot be written into.
    """
    wanted: list[str] = []
    for fmt in formats:
        name = _ALIASES.get(fmt.lower(), fmt.lower())
        if name not in FORMATS:
            choices = ", ".join(FORMATS)
            raise InputError(f"unknown report format {fmt!r}; choose from {choices}")
        if name not in wanted:
            wanted.append(name)
    run_dir = Path(run_dir)
    record = load_run(run_dir)
    analysis = analyze_run(record)
    from chaos_suite.report.render_json import report_dict

    report = report_dict(analysis)
    server = _server_side(record, report)
    written: dict[str, Path] = {}
    for name in wanted:
        path = run_dir / FORMATS[name]
        if name == "html":  # the HTML page also charts the samples
            from chaos_suite.report.render_html import render_html

            text = render_html(analysis, record.samples)
        elif name == "json":  # the dict built above, not a second rendering of the analysis
            data = {**report, "server_side": server} if server else report
            text = json.dumps(data, indent=2, allow_nan=False) + "\n"
        else:
            text = _renderer(name)(analysis)
        if server and name == "md":
            from chaos_suite.report.truth import markdown_section

            text = text.rstrip("\n") + "\n" + markdown_section(server)
        try:
            durable.write_text(path, text)
        except OSError as exc:
            raise InputError(f"{path}: cannot write the report ({exc.strerror or exc})") from exc
        written[name] = path
    return Rendered(analysis, written)
