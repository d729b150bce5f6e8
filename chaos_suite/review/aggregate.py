"""From run summaries to the review (pure: no I/O, no clock; `now` and the Prometheus figures
come in as arguments). Runs are folded in one at a time (:meth:`Aggregator.add`), so only
per-scenario tallies and lists of figures are kept, never the runs.

Rules:

- A run belongs to the period its report's ``run.started`` falls in ([start, end)).
- A scenario's verdict in a run is the worst of its SLO rows that state an expectation, in the
  order worse-than-expected, inconclusive, better-than-expected, as-expected; a scenario with no
  expectation is inconclusive. A scenario that did not run (``not-run``) has no verdict and does
  not count as a run of it.
- ``previous_verdict`` is the scenario's latest verdict in the previous period; ``changed``
  when both exist and differ. A *recurring deviation* is worse-than-expected in two or more of
  the period's runs (per scenario, and per scenario × SLO).
- Chaos budget per SLO: the sums over the period's runs and scenarios of ``budget_consumed``
  and ``budget_consumed_attributed`` (fractions of the SLO window's budget, as in report.json).
  ``chaos_share`` = chaos budget consumed / the budget the service actually spent over the
  period (from Prometheus), when that is known and positive.
- Coverage: the service's SLOs (from the plans of both periods' runs and any SLO files given)
  that no scenario run in the period stated an expectation for; the plans' scenarios that did not
  run in the period.
- Action items: the open ones of every run up to the period's end, and the closed ones of the
  period's runs; overdue when open and the due day ended before ``as_of``.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from chaos_suite.review.collect import RowFigures, RunSummary, ScenarioFigures, SkippedDir
from chaos_suite.review.model import (
    VERDICTS,
    AbortedRun,
    ActionItemOut,
    ActualSpend,
    ChangedVerdict,
    Coverage,
    ExpectedBudget,
    HistoryDay,
    PeriodOut,
    RecurringDeviation,
    Review,
    RunCounts,
    ScenarioReview,
    ScenarioSLOReview,
    ServiceReview,
    Skipped,
    SLOReview,
    Spread,
    Timing,
    Trend,
    VerdictCounts,
    VerdictName,
)
from chaos_suite.review.period import Period, Periods

WORSE, INCONCLUSIVE, BETTER, AS_EXPECTED = VERDICTS[1], VERDICTS[3], VERDICTS[2], VERDICTS[0]
# worst first: the scenario's verdict is the first of these any of its rows has
SEVERITY: tuple[str, ...] = (WORSE, INCONCLUSIVE, BETTER, AS_EXPECTED)
STATUSES: tuple[str, ...] = ("completed", "aborted", "failed")


def iso(t: float) -> str:
    stamp = datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def day_of(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d")


def scenario_verdict(scenario: ScenarioFigures) -> str:
    judged = {row.verdict for row in _judged(scenario)}
    return next((v for v in SEVERITY if v in judged), INCONCLUSIVE)


def _judged(scenario: ScenarioFigures) -> list[RowFigures]:
    """The rows a scenario is judged on: a row without an expectation is inconclusive by
    definition and says nothing about the fault."""
    return [row for row in scenario.rows if row.has_expectation]


def _verdict_name(value: str | None) -> VerdictName | None:
    for name in VERDICTS:
        if value == name:
            return name
    return None


def _counts(counter: Counter[str]) -> VerdictCounts:
    return VerdictCounts.model_validate({name: counter.get(name, 0) for name in VERDICTS})


def _spread(values: Sequence[float]) -> Spread:
    if not values:
        return Spread(median=None, min=None, max=None, count=0)
    return Spread(median=statistics.median(values), min=min(values), max=max(values),
                  count=len(values))


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _timing(now: Sequence[float], before: Sequence[float]) -> Timing:
    median, previous = _median(now), _median(before)
    trend: Trend | None = None
    if median is not None and previous is not None:
        trend = "faster" if median < previous else "slower" if median > previous else "unchanged"
    return Timing(median=median, previous_median=previous, trend=trend, runs=len(now))


# ---------------------------------------------------------------- accumulators


@dataclass
class _Latest:
    """The newest (time, value, run) seen; ties keep the first seen."""

    t: float = float("-inf")
    value: str | None = None
    run: str | None = None

    def offer(self, t: float, value: str, run: str) -> None:
        if t > self.t:
            self.t, self.value, self.run = t, value, run


@dataclass
class _Figures:
    """Per-run figures of a scenario × SLO, in the period and in the previous one."""

    recovery: list[float] = field(default_factory=list)
    detect: list[float] = field(default_factory=list)
    page: list[float] = field(default_factory=list)

    def add(self, row: RowFigures) -> None:
        for values, value in ((self.recovery, row.recovery_s), (self.detect, row.detect_s),
                              (self.page, row.page_s)):
            if value is not None:
                values.append(value)


@dataclass
class _ScenarioSLO:
    runs: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    latest: _Latest = field(default_factory=_Latest)
    expected: tuple[float, float | None, float | None] = (float("-inf"), None, None)
    observed: list[float] = field(default_factory=list)
    now: _Figures = field(default_factory=_Figures)
    before: _Figures = field(default_factory=_Figures)
    detection_runs: int = 0
    gaps: int = 0

    def add(self, row: RowFigures, t: float, run: str) -> None:
        self.runs += 1
        self.verdicts[row.verdict] += 1
        self.latest.offer(t, row.verdict, run)
        if row.has_expectation and t > self.expected[0]:
            self.expected = (t, row.expected_min, row.expected_max)
        if row.attributed is not None:
            self.observed.append(row.attributed)
        self.now.add(row)
        if row.detection_recorded:
            self.detection_runs += 1
            self.gaps += row.detect_s is None

    def review(self, name: str) -> ScenarioSLOReview:
        worse = self.verdicts.get(WORSE, 0)
        return ScenarioSLOReview(
            slo=name, runs=self.runs, verdicts=_counts(self.verdicts),
            latest_verdict=_verdict_name(self.latest.value), worse_runs=worse,
            recurring_deviation=worse >= 2,
            expected=ExpectedBudget(min_budget_consumed=self.expected[1],
                                    max_budget_consumed=self.expected[2]),
            observed_budget_consumed_attributed=_spread(self.observed),
            recovery_seconds=_timing(self.now.recovery, self.before.recovery),
            time_to_detect_seconds=_timing(self.now.detect, self.before.detect),
            time_to_page_seconds=_timing(self.now.page, self.before.page),
            detection_gaps=self.gaps if self.detection_runs else None,
        )


@dataclass
class _Scenario:
    runs: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    latest: _Latest = field(default_factory=_Latest)
    previous: _Latest = field(default_factory=_Latest)
    deviated: int = 0
    slos: dict[str, _ScenarioSLO] = field(default_factory=dict)
    history: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, scenario: ScenarioFigures, t: float, run: str, current: bool) -> None:
        verdict = scenario_verdict(scenario)
        self.history.setdefault(day_of(t), Counter())[verdict] += 1
        if not current:
            self.previous.offer(t, verdict, run)
            for row in _judged(scenario):
                self.slos.setdefault(row.slo, _ScenarioSLO()).before.add(row)
            return
        self.runs += 1
        self.verdicts[verdict] += 1
        self.latest.offer(t, verdict, run)
        self.deviated += scenario.deviated
        for row in _judged(scenario):
            self.slos.setdefault(row.slo, _ScenarioSLO()).add(row, t, run)

    def review(self, name: str) -> ScenarioReview:
        latest, previous = _verdict_name(self.latest.value), _verdict_name(self.previous.value)
        worse = self.verdicts.get(WORSE, 0)
        return ScenarioReview(
            name=name, runs=self.runs, verdicts=_counts(self.verdicts), latest_verdict=latest,
            latest_run=self.latest.run, previous_verdict=previous,
            changed=latest is not None and previous is not None and latest != previous,
            worse_runs=worse, hypothesis_deviated_runs=self.deviated,
            recurring_deviation=worse >= 2,
            slos=[acc.review(slo) for slo, acc in sorted(self.slos.items()) if acc.runs],
            history=[HistoryDay(date=day, verdicts=_counts(counts))
                     for day, counts in sorted(self.history.items())],
        )


@dataclass
class _SLO:
    runs: int = 0
    consumed: float = 0.0
    attributed: float = 0.0
    objective: float | None = None
    window_seconds: float | None = None
    source: str | None = None
    seen_at: float = float("-inf")


@dataclass(frozen=True)
class ActualResult:
    """The service's real spend over the period for one SLO, or a note saying why not."""

    consumed: float | None = None
    spend: ActualSpend | None = None
    note: str | None = None


@dataclass
class _Service:
    runs: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    by_exit: Counter[str] = field(default_factory=Counter)
    aborted: list[tuple[float, AbortedRun]] = field(default_factory=list)
    slos: dict[str, _SLO] = field(default_factory=dict)
    scenarios: dict[str, _Scenario] = field(default_factory=dict)
    planned: set[str] = field(default_factory=set)
    touched_slos: set[str] = field(default_factory=set)
    ran_scenarios: set[str] = field(default_factory=set)
    latest_plan: _Latest = field(default_factory=_Latest)


@dataclass(frozen=True)
class ServiceSources:
    """What the Prometheus look-up needs to know of a service: its SLOs measured by
    Prometheus in the runs, and the plan file of its latest run."""

    service: str
    prometheus_slos: tuple[str, ...]
    all_slos: tuple[str, ...]
    plan_file: str | None


class Aggregator:
    def __init__(self, periods: Periods) -> None:
        self.periods = periods
        self._services: dict[str, _Service] = {}
        self._items: list[tuple[float, ActionItemOut]] = []
        self._by_status: Counter[str] = Counter()

    def add(self, run: RunSummary) -> None:
        current = run.started in self.periods.current
        service = self._services.setdefault(run.service, _Service()) if run.figures else None
        self._items_of(run, current)
        if service is None:
            return
        service.planned.update(run.planned_scenarios)
        service.latest_plan.offer(run.started, run.plan_file, run.run_id)
        for info in run.slos:
            slo = service.slos.setdefault(info.name, _SLO())
            if run.started >= slo.seen_at:  # the newest run's objective and window
                slo.seen_at = run.started
                slo.objective, slo.window_seconds = info.objective, info.window_seconds
                slo.source = info.source
            slo.runs += current
        for scenario in run.scenarios:
            if not scenario.ran:
                continue
            service.scenarios.setdefault(scenario.name, _Scenario()).add(
                scenario, run.started, run.run_id, current)
            if not current:
                continue
            service.ran_scenarios.add(scenario.name)
            for row in scenario.rows:
                slo = service.slos.setdefault(row.slo, _SLO())
                slo.consumed += row.consumed or 0.0
                slo.attributed += row.attributed or 0.0
                if row.has_expectation:
                    service.touched_slos.add(row.slo)
        if not current:
            return
        service.runs += 1
        service.by_status[run.status] += 1
        self._by_status[run.status] += 1
        service.by_exit["unknown" if run.exit_code is None else str(run.exit_code)] += 1
        if run.status == "aborted":
            service.aborted.append((run.started, AbortedRun(
                run=run.run_id, started=iso(run.started),
                reason=run.abort_reason or "no reason recorded", message=run.abort_message)))

    def _items_of(self, run: RunSummary, current: bool) -> None:
        for item in run.action_items:
            if item.done and not current:
                continue
            self._items.append((run.started, ActionItemOut(
                run=run.run_id, service=run.service, id=item.id, text=item.text,
                owner=item.owner, due=item.due.isoformat() if item.due else None,
                link=item.link, done=item.done, overdue=False)))

    def sources(self, extra_slos: Mapping[str, Sequence[str]] | None = None
                ) -> list[ServiceSources]:
        out = []
        for name, service in sorted(self._services.items()):
            names = {*service.slos, *(extra_slos or {}).get(name, ())}
            out.append(ServiceSources(
                service=name,
                prometheus_slos=tuple(sorted(s for s, acc in service.slos.items()
                                             if acc.source == "prometheus")),
                all_slos=tuple(sorted(names)),
                plan_file=service.latest_plan.value or None))
        return out

    def finish(self, *, generated: float, as_of: float, service_filter: str | None = None,
               extra_slos: Mapping[str, Sequence[str]] | None = None,
               actual: Mapping[tuple[str, str], ActualResult] | None = None,
               skipped: Iterable[SkippedDir] = (), reanalysed: Iterable[SkippedDir] = (),
               notes: Iterable[str] = ()) -> Review:
        actual = actual or {}
        extra = extra_slos or {}
        services = [self._service(name, acc, actual, extra.get(name, ()))
                    for name, acc in sorted(self._services.items())]
        changed = [ChangedVerdict(service=s.service, scenario=c.name,
                                  previous_verdict=c.previous_verdict,
                                  latest_verdict=c.latest_verdict)
                   for s in services for c in s.scenarios
                   if c.changed and c.previous_verdict and c.latest_verdict]
        recurring = [RecurringDeviation(service=s.service, scenario=c.name, slo=r.slo,
                                        worse_runs=r.worse_runs, runs=r.runs)
                     for s in services for c in s.scenarios for r in c.slos
                     if r.recurring_deviation]
        by_status = {status: self._by_status.get(status, 0) for status in STATUSES}
        by_status.update(sorted(self._by_status.items()))
        by_exit: Counter[str] = Counter()
        for acc in self._services.values():
            by_exit.update(acc.by_exit)
        return Review(
            generated=iso(generated), period=_period(self.periods.current),
            previous_period=_period(self.periods.previous), as_of=iso(as_of),
            service_filter=service_filter,
            runs=RunCounts(total=sum(self._by_status.values()), by_status=by_status,
                           by_exit_code=dict(sorted(by_exit.items()))),
            services=services, changed_verdicts=changed, recurring_deviations=recurring,
            action_items=self._action_items(as_of),
            reanalysed=[Skipped(path=s.path, reason=s.reason) for s in reanalysed],
            skipped=[Skipped(path=s.path, reason=s.reason) for s in skipped],
            notes=list(notes))

    def _action_items(self, as_of: float) -> list[ActionItemOut]:
        out = []
        for _started, item in sorted(self._items, key=lambda pair: pair[0]):
            overdue = False
            if not item.done and item.due is not None:
                due_end = datetime.fromisoformat(item.due).replace(tzinfo=UTC) + timedelta(days=1)
                overdue = due_end.timestamp() <= as_of
            out.append(item.model_copy(update={"overdue": overdue}))
        # open before closed, the overdue first among the open, then by due day
        return sorted(out, key=lambda i: (i.done, not i.overdue, i.due or "9999-99-99"))

    def _service(self, name: str, acc: _Service, actual: Mapping[tuple[str, str], ActualResult],
                 extra_slos: Sequence[str]) -> ServiceReview:
        by_status = {status: acc.by_status.get(status, 0) for status in STATUSES}
        by_status.update(sorted(acc.by_status.items()))
        slo_names = sorted({*acc.slos, *extra_slos})
        slos = []
        for slo_name in slo_names:
            slo = acc.slos.get(slo_name, _SLO())
            result = actual.get((name, slo_name), ActualResult())
            share = (slo.consumed / result.consumed
                     if result.consumed is not None and result.consumed > 0 else None)
            slos.append(SLOReview(
                slo=slo_name, objective=slo.objective, window_seconds=slo.window_seconds,
                source=slo.source, runs=slo.runs, chaos_budget_consumed=slo.consumed,
                chaos_budget_consumed_attributed=slo.attributed,
                actual_budget_consumed=result.consumed, chaos_share=share, actual=result.spend,
                note=result.note))
        return ServiceReview(
            service=name, runs=acc.runs, by_status=by_status,
            by_exit_code=dict(sorted(acc.by_exit.items())),
            aborted=[run for _t, run in sorted(acc.aborted, key=lambda pair: pair[0])],
            slos=slos,
            scenarios=[s.review(n) for n, s in sorted(acc.scenarios.items())],
            coverage=Coverage(
                slos_untouched=[s for s in slo_names if s not in acc.touched_slos],
                scenarios_not_run=sorted(acc.planned - acc.ran_scenarios)))


def _period(period: Period) -> PeriodOut:
    return PeriodOut(start=iso(period.start), end=iso(period.end), label=period.label)
