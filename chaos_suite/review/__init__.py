"""The monthly service review: what chaos found in a period, in SLO terms, from the run
directories alone (``chaos-suite review``).

``collect`` finds run directories and reads from each only plan.json, report.json and
action_items.jsonl, one run at a time; ``aggregate`` folds them into the review (pure);
``actual`` asks Prometheus, when an SLO has a source there, what the service really spent over
the period; ``render_md`` and ``render_html`` render it; ``model`` is the review.json contract
(``chaos-suite/review/v1``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chaos_suite import durable
from chaos_suite.errors import InputError
from chaos_suite.review.aggregate import ActualResult, Aggregator
from chaos_suite.review.collect import Collector
from chaos_suite.review.model import REVIEW_SCHEMA, Review
from chaos_suite.review.period import Period, Periods, choose_periods

__all__ = [
    "FORMATS",
    "REVIEW_SCHEMA",
    "Period",
    "Periods",
    "Review",
    "ReviewResult",
    "build_review",
    "choose_periods",
    "parse_formats",
    "run_review",
    "write_review",
]

# format -> file name written into --out
FORMATS: dict[str, str] = {"html": "review.html", "md": "review.md", "json": "review.json"}
_ALIASES = {"markdown": "md"}


@dataclass(frozen=True)
class ReviewResult:
    review: Review
    written: dict[str, Path]


def parse_formats(value: str | Sequence[str]) -> list[str]:
    """`html,md,json` (or several options) into known format names; InputError otherwise."""
    items = [value] if isinstance(value, str) else list(value)
    wanted: list[str] = []
    for item in items:
        for part in item.split(","):
            name = _ALIASES.get(part.strip().lower(), part.strip().lower())
            if not name:
                continue
            if name not in FORMATS:
                raise InputError(f"--format: unknown format {part.strip()!r}; choose from "
                                 f"{', '.join(FORMATS)}")
            if name not in wanted:
                wanted.append(name)
    if not wanted:
        raise InputError("--format: no format given")
    return wanted


def build_review(paths: Sequence[Path], periods: Periods, *, service: str | None = None,
                 slo_files: Sequence[Path] = (), prometheus_url: str | None = None,
                 offline: bool = False, now: float | None = None) -> Review:
    """Read the run directories under ``paths`` and build the review. InputError (exit 2)
    when not one run directory could be read, or for unusable ``slo_files``."""
    from chaos_suite.review.actual import actual_spend, load_slo_files

    moment = time.time() if now is None else now
    specs = load_slo_files(slo_files)  # before the runs: a bad file fails at once
    collector = Collector(paths, periods, service)
    aggregator = Aggregator(periods)
    for run in collector.runs():
        aggregator.add(run)
    if collector.readable == 0:
        where = ", ".join(map(str, paths))
        first = f" ({collector.skipped[0].path}: {collector.skipped[0].reason})" \
            if collector.skipped else ""
        raise InputError(f"nothing readable under {where}: no run directory with a usable "
                         f"plan.json; {len(collector.skipped)} skipped{first}")
    extra: dict[str, list[str]] = {}
    for spec in specs:
        if service is None or spec.service == service:
            extra.setdefault(spec.service, []).append(spec.name)
    notes: list[str] = []
    actual: dict[tuple[str, str], ActualResult] = {}
    sources = aggregator.sources(extra)
    if offline:
        if any(s.prometheus_slos for s in sources):
            notes.append("--offline: the actual spend of Prometheus-measured SLOs was not "
                         "looked up")
    else:
        actual, notes = actual_spend(sources, periods.current, moment, slo_specs=specs,
                                     prometheus_url=prometheus_url)
    if collector.reanalysed:
        notes.append(f"{len(collector.reanalysed)} runs had no usable report.json and were "
                     "analysed from their run record")
    return aggregator.finish(
        generated=moment, as_of=min(periods.current.end, moment), service_filter=service,
        extra_slos=extra, actual=actual, skipped=collector.skipped,
        reanalysed=collector.reanalysed, notes=notes)


def write_review(review: Review, out: Path, formats: Sequence[str]) -> dict[str, Path]:
    """Render ``formats`` into ``out`` (created); InputError when it cannot be written."""
    written: dict[str, Path] = {}
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name in formats:
            if name == "json":
                text = review.to_json()
            elif name == "md":
                from chaos_suite.review.render_md import render_md

                text = render_md(review)
            else:
                from chaos_suite.review.render_html import render_html

                text = render_html(review)
            path = out / FORMATS[name]
            durable.write_text(path, text)
            written[name] = path
    except (OSError, ValueError) as exc:  # read-only, a parent that is a file, a NUL byte
        problem = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(f"--out: cannot write into '{out}': {problem}") from None
    return written


def run_review(paths: Sequence[Path], periods: Periods, out: Path, formats: Sequence[str], *,
               service: str | None = None, slo_files: Sequence[Path] = (),
               prometheus_url: str | None = None, offline: bool = False,
               now: float | None = None) -> ReviewResult:
    review = build_review(paths, periods, service=service, slo_files=slo_files,
                          prometheus_url=prometheus_url, offline=offline, now=now)
    return ReviewResult(review, write_review(review, out, formats))
