"""The budget a service actually spent over the review's period, beside what chaos spent.

The one place the review talks to anything: for each SLO measured by Prometheus, the good and
total events over the period (from its start to its end, or to now if sooner) are read with
the SLO's own queries through ``sources.prometheus.budget_status``, slice by slice, and turned
into a fraction of the SLO window's budget, the unit of report.json (:func:`spend_over`).

Where the queries and the URL come from: ``--slos`` files and ``--prometheus`` when given; else
the plan file of the service's latest run (its SLO files, its environment's
``sources.prometheus.url``). Whatever is missing or unreachable becomes a note on the SLO, never
a failure of the review.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chaos_suite.errors import ChaosSuiteError
from chaos_suite.files.slo_file import PrometheusSource, SLOSpec
from chaos_suite.review.aggregate import ActualResult, ServiceSources, iso
from chaos_suite.review.model import ActualSpend
from chaos_suite.review.period import Period

DEFAULT_TIMEOUT_S = 5.0
SLICES = 60  # a month in 12 h slices; each slice is two to four instant queries


@dataclass(frozen=True)
class PlanSources:
    """The SLO specs and Prometheus URL a plan file leads to."""

    specs: tuple[SLOSpec, ...]
    url: str | None
    timeout_s: float


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def load_slo_files(paths: Sequence[Path]) -> list[SLOSpec]:
    """`--slos` files, any SLO format; a bad file is an InputError (exit 2): it was asked for."""
    if not paths:
        return []
    from chaos_suite.files.loader import load_slos

    return load_slos(list(paths))


def plan_sources(plan_file: str) -> PlanSources:
    """The plan's SLO files and environment, read as a run would resolve them (paths
    relative to the plan), without its experiments or load. Raises ChaosSuiteError."""
    from chaos_suite.errors import InputError
    from chaos_suite.files.documents import load_documents
    from chaos_suite.files.loader import load_slos, resolve_environment
    from chaos_suite.files.plan import parse_gameday

    path = Path(plan_file)
    if not plan_file or not path.is_file():
        raise InputError(f"plan file '{plan_file}' not found from here")
    docs = load_documents(path)
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise InputError(f"{path}: expected exactly one YAML mapping")
    plan = parse_gameday(docs[0], path)
    slo_paths = [p if p.is_absolute() else path.parent / p for p in map(Path, plan.slo_files)]
    specs = load_slos(slo_paths, count_from_load=plan.count_from_load)
    environment, _ = resolve_environment(plan.environment, path.parent, str(path), "environment")
    prom = environment.sources.prometheus
    return PlanSources(tuple(specs), str(prom.url) if prom else None,
                       float(prom.timeout) if prom else DEFAULT_TIMEOUT_S)


def spend_over(spec: SLOSpec, url: str, timeout_s: float, period: Period, now: float
               ) -> ActualResult:
    """One SLO's spend over the period, from Prometheus at ``url``: the span (the period up
    to now) in up to ``SLICES`` slices of at least a second, each read with ``budget_status``
    and adding BR · slice / window when it had events. This is the run figures' arithmetic
    (docs/architecture.md §2: Σ BR·Δt / P over the time with data) at a coarser Δt, so time
    without traffic spends nothing, as in a run."""
    from chaos_suite.sources.prometheus import PrometheusClient, budget_status

    at = min(period.end, now)
    span = at - period.start
    if span <= 0:
        return ActualResult(note="the period has not started yet")
    count = max(1, min(SLICES, math.floor(span)))
    width = span / count
    # budget_status reads an SLO over its window ending at `at`: with the slice as the window
    # it reads one slice, and its `consumed` is the burn rate over that slice
    sliced = dataclasses.replace(spec, slo=dataclasses.replace(spec.slo, window_seconds=width))
    consumed = good = total = with_data = 0.0
    try:
        with PrometheusClient(url, timeout_s) as client:
            for index in range(count):
                end = at if index == count - 1 else period.start + width * (index + 1)
                status = budget_status(sliced, client, at=end)
                if status.consumed is None:
                    continue
                consumed += status.consumed * width / spec.slo.window_seconds
                good, total, with_data = good + status.good, total + status.total, \
                    with_data + width
    except ChaosSuiteError as exc:
        return ActualResult(note=_first_line(exc))
    if not with_data:
        return ActualResult(note=f"prometheus at {url} has no events for the period")
    return ActualResult(
        consumed=consumed,
        spend=ActualSpend(url=url, at=iso(at), seconds=span, slices=count,
                          seconds_with_data=with_data, good=good, total=total))


def _reachable(url: str, timeout_s: float) -> str | None:
    """None when Prometheus answers; else the note to put on its SLOs."""
    from chaos_suite.sources.prometheus import PrometheusClient

    try:
        with PrometheusClient(url, timeout_s) as client:
            if client.ready():
                return None
    except ChaosSuiteError as exc:
        return _first_line(exc)
    return f"prometheus at {url} unreachable now: the actual spend is unknown"


def actual_spend(services: Sequence[ServiceSources], period: Period, now: float, *,
                 slo_specs: Sequence[SLOSpec] = (), prometheus_url: str | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S
                 ) -> tuple[dict[tuple[str, str], ActualResult], list[str]]:
    """(per (service, SLO) the actual spend or a note, general notes)."""
    results: dict[tuple[str, str], ActualResult] = {}
    notes: list[str] = []
    reachable: dict[str, str | None] = {}
    for service in services:
        specs: list[SLOSpec] = [s for s in slo_specs if s.service == service.service]
        url, timeout = prometheus_url, timeout_s
        if not specs and service.prometheus_slos:
            try:
                found = plan_sources(service.plan_file or "")
            except ChaosSuiteError as exc:
                for name in service.prometheus_slos:
                    results[(service.service, name)] = ActualResult(
                        note=f"the SLO's Prometheus queries are unknown: {_first_line(exc)} "
                             "(give --slos and --prometheus)")
                continue
            specs = list(found.specs)
            if url is None:
                url, timeout = found.url, found.timeout_s
        wanted = set(service.all_slos)
        for spec in specs:
            if spec.name not in wanted or not isinstance(spec.source, PrometheusSource):
                continue
            key = (service.service, spec.name)
            if url is None:
                results[key] = ActualResult(note="no Prometheus URL (the environment has no "
                                                 "sources.prometheus; give --prometheus)")
                continue
            if url not in reachable:
                reachable[url] = _reachable(url, timeout)
                if reachable[url] is not None:
                    notes.append(f"{reachable[url]}")
            problem = reachable[url]
            results[key] = (ActualResult(note=problem) if problem is not None
                            else spend_over(spec, url, timeout, period, now))
    return results, notes
