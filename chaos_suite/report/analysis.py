"""From a run record to verdicts (pure: no I/O, no clock).

Per scenario and SLO (windows: :mod:`chaos_suite.report.phases`; bucketing: the overlap rule of
:mod:`chaos_suite.report.series`):

- counts in the baseline and fault windows; the fault window's error ratio and its 95% Wilson
  interval;
- ``budget_consumed`` over the measurement window: sum of per-second BR * 1 s / P over the
  seconds with data;
- ``budget_consumed_attributed`` = consumed - BR_baseline * n / P, where BR_baseline pools the
  baseline window's counts and n is the number of measurement seconds with data (the same
  seconds the sum ran over). Without a baseline, BR_baseline is taken as 0 and the reason says so;
- the 95% intervals of both: the Wilson interval of the measurement window's pooled error ratio,
  turned into budget with n / (B * P) and placed around the point estimate (at constant traffic
  this is exactly the Wilson bounds converted to budget); the baseline is treated as known;
- ``peak_burn_rate`` over rolling ``peak_window_seconds`` windows, and ``recovery_seconds``
  (see :func:`chaos_suite.report.series.recovery_seconds`);
- the same budget *event-weighted* (``budget_consumed_events``: the measurement window's bad
  events / (B * N_P), N_P = the baseline's events per second * P, as an Occurrences SLO counts;
  attributed less the same background BR_baseline * n / P). The figures above are
  *time-weighted* (every second with data counts alike): the two differ when the fault changed
  the traffic, as a closed-loop load does under a latency fault; the report shows both when
  they differ by more than ``WEIGHTING_TOLERANCE`` and warns when the fault window's
  throughput fell below ``THROUGHPUT_WARNING_RATIO`` of the baseline's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from chaos_suite.detection.coverage import coverage_of
from chaos_suite.detection.predict import Coverage
from chaos_suite.detection.timeline import Detection, FiredAlert, scenario_detection
from chaos_suite.load.buckets import path_may_match
from chaos_suite.record import Sample as RecordSample
from chaos_suite.record.models import ActionItem
from chaos_suite.report.phases import PhaseSpan, ScenarioWindows, Window, phase_spans
from chaos_suite.report.phases import scenario_windows as _scenario_windows
from chaos_suite.report.record import Event, Expectation, Note, Plan, RecordView, ScenarioPlan
from chaos_suite.report.series import (
    Counts,
    Series,
    build_series,
    consumed_in_window,
    counts_in,
    peak_burn_rate,
    recovery_seconds,
    seconds_of,
    spend_in,
    window_counts,
)
from chaos_suite.report.timeline import TimelineEntry, build_timeline
from chaos_suite.report.verdict import Evidence, Verdict, decide
from chaos_suite.slo import SLO, attributed_consumption, pooled_burn_rate, wilson_interval
from chaos_suite.slo.budget import budget_consumed_events, event_rate
from chaos_suite.slo.model import SLIKind
from chaos_suite.slo.stats import ALPHA, MannWhitney, mann_whitney_u

__all__ = [
    "RunAnalysis",
    "SLOResult",
    "ScenarioResult",
    "Window",
    "analyze_run",
    "consumed_in_window",
    "window_counts",
]


@dataclass(frozen=True)
class SLOResult:
    slo: SLO
    expected: Expectation
    baseline: Counts
    fault: Counts
    measurement: Counts
    measurement_data_seconds: int
    error_ratio: float | None
    error_ratio_ci: tuple[float, float]
    baseline_burn_rate: float | None
    budget_consumed: float | None
    budget_consumed_ci: tuple[float, float] | None
    budget_consumed_attributed: float | None
    budget_consumed_attributed_ci: tuple[float, float] | None
    peak_burn_rate: float | None
    recovery_seconds: float | None
    verdict: Verdict
    reason: str
    # event-weighted budget beside the time-weighted one above (module docstring)
    weighting: Weighting | None = None
    # measured detection when the plan expects an alert (or none) of this SLO
    detection: Detection | None = None
    # latency SLOs: the fault window's per-second latency tested against the baseline's
    latency_test: LatencyTest | None = None
    # predicted coverage (detection/predict.py): would the SLO's alerts fire if the fault's
    # burn, pooled over the fault window, lasted
    coverage: Coverage | None = None


@dataclass(frozen=True)
class LatencyTest:
    """Mann-Whitney U of per-second latency (``metric``: the load's p50, else its mean),
    fault-window seconds (x) against baseline seconds (y): a tested "the fault made it
    slower" even when no request crossed the SLO's threshold. ``result`` is None when a
    side has no seconds with a latency summary."""

    metric: str
    result: MannWhitney | None
    baseline_median_ms: float | None
    fault_median_ms: float | None
    alpha: float = ALPHA
    # Like Kayenta's judge, a shift must also matter: sub-millisecond drifts of a busy host
    # are statistically real over enough seconds but say nothing about the fault.
    min_shift_ms: float = 1.0

    @property
    def shift_ms(self) -> float | None:
        if self.baseline_median_ms is None or self.fault_median_ms is None:
            return None
        return self.fault_median_ms - self.baseline_median_ms

    @property
    def significant(self) -> bool:
        shift = self.shift_ms
        return (self.result is not None and self.result.significant(self.alpha)
                and shift is not None and abs(shift) >= self.min_shift_ms)


@dataclass(frozen=True)
class Weighting:
    """One SLO's budget counted in events against the baseline's traffic, the traffic itself,
    and whether the two weightings disagree (then the report shows both)."""

    budget_consumed_events: float | None
    budget_consumed_attributed_events: float | None
    baseline_events_per_second: float | None
    fault_events_per_second: float | None
    differ: bool
    throughput_warning: str | None


# the weightings "differ" beyond this relative difference; the throughput "fell" below this
# share of the baseline's
WEIGHTING_TOLERANCE = 0.2
THROUGHPUT_WARNING_RATIO = 0.5


@dataclass(frozen=True)
class ScenarioResult:
    name: str
    experiment: str
    status: str  # completed | aborted | failed | not-run
    deviated: bool
    steady_state_met_before: bool | None
    hypothesis: str  # held | deviated | not-met-before | unknown | not-run
    windows: ScenarioWindows | None
    slos: tuple[SLOResult, ...]
    # measured detection (detection/timeline.py): per SLO with an alert expectation, and the
    # alerts of the scenario's window nobody expected
    detection: tuple[Detection, ...] = ()
    noise: tuple[FiredAlert, ...] = ()

    @property
    def hypothesis_failed(self) -> bool:
        return self.hypothesis in ("deviated", "not-met-before")

    @property
    def warnings(self) -> tuple[str, ...]:
        """Throughput warnings, one per source: the SLOs counted from one source share its
        traffic, so the first SLO's figures speak for them."""
        out: dict[str, str] = {}
        for result in self.slos:
            text = result.weighting.throughput_warning if result.weighting else None
            if text is not None:
                out.setdefault(result.slo.source, text)
        return tuple(out.values())


@dataclass(frozen=True)
class RunAnalysis:
    plan: Plan
    status: str
    exit_code: int
    started: float | None
    ended: float | None
    abort: dict[str, object] | None
    scenarios: tuple[ScenarioResult, ...]
    timeline: tuple[TimelineEntry, ...]
    notes: tuple[Note, ...]
    journals: tuple[str, ...]
    warnings: tuple[str, ...]
    # action items (`gameday action`), their state as of this analysis
    action_items: tuple[ActionItem, ...] = ()


def _last(events: Sequence[Event], kind: str) -> Event | None:
    matching = [e for e in events if e.type == kind]
    return matching[-1] if matching else None


def _data_end(record: RecordView) -> float:
    """Where a truncated run stops: the end of the last sample second or the last event."""
    ends = [s.t + 1.0 for s in record.samples[-1:]] + [e.t for e in record.events[-1:]]
    return max(ends, default=0.0)


def _budget_ci(slo: SLO, counts: Counts, point: float, data_seconds: int) -> tuple[float, float] | None:
    """Wilson interval of the pooled ratio, in budget units, around the time-form point."""
    pooled = counts.error_ratio()
    if pooled is None:
        return None
    low, high = wilson_interval(counts.bad, counts.total)
    scale = data_seconds / (slo.error_budget * slo.window_seconds)
    return (max(0.0, point - (pooled - low) * scale), point + (high - pooled) * scale)


@dataclass(frozen=True)
class Caveat:
    """Something that makes a scenario's figures doubtful. Any caveat turns as-expected and
    better-than-expected into inconclusive (they claim the fault was measured as it was);
    one that ``voids_worse`` also does so with worse-than-expected."""

    text: str
    voids_worse: bool


def _qualify(verdict: Verdict, reason: str, caveats: Sequence[Caveat]) -> tuple[Verdict, str]:
    if not caveats:
        return verdict, reason
    text = "; ".join(c.text for c in caveats)
    voided = verdict in (Verdict.AS_EXPECTED, Verdict.BETTER) or (
        verdict is Verdict.WORSE and any(c.voids_worse for c in caveats))
    if voided:
        return Verdict.INCONCLUSIVE, f"{text} (the figures alone said {verdict.value}: {reason})"
    return verdict, f"{reason}; {text}"


def _scenario_caveats(events: Sequence[Event], windows: ScenarioWindows, status: str) -> list[Caveat]:
    out: list[Caveat] = []
    if status == "aborted":
        out.append(Caveat("the scenario was aborted, so its fault did not run as planned", False))
    m = windows.measurement
    for event in events:
        if event.type == "fault_interference" and m.start <= event.t <= m.end:
            by = event.data.get("changed_by")
            who = f"run {by}" if by else "something outside this run"
            out.append(Caveat(f"the target's fault was changed by {who} during the scenario", True))
            break
    return out


def _gap_caveats(series: Series, windows: ScenarioWindows) -> list[Caveat]:
    """Fault-window seconds without a measured request (no sample: a lost source; an empty
    one: a stalled load generator catching up) are left out of every sum; the verdict says
    so, and more than half of them missing voids it."""
    seconds = seconds_of(windows.fault.start, windows.fault.end)
    missing = sum(1 for s in seconds if (c := series.get(s)) is None or c.total == 0)
    if not missing:
        return []
    text = (f"{missing} of {len(seconds)} s of the fault window have no measured requests "
            "and are left out")
    if missing * 2 > len(seconds):
        return [Caveat(text, True)]
    return [Caveat(text, False)] if missing >= 2 else []


def _reach_caveats(samples: Sequence[RecordSample], windows: ScenarioWindows) -> list[Caveat]:
    """Whether the load reached what the fault hit, from the load samples of the fault window
    (their status_4xx and paths; records without them get no caveat):

    - more than half of the requests answered 4xx: a 4xx is good for availability, so the
      load measured a service that was not serving it (wrong paths, host or credentials), and
      a fault on the real routes would burn nothing;
    - a fault limited to path prefixes (its detail's ``paths``) that no request may have had:
      the fault landed where the load never went. Path keys are coarse (load/buckets.py), so
      this is said only when no key may match, never on a guess."""
    seconds = seconds_of(windows.fault.start, windows.fault.end)
    load = [s for s in samples if s.source == "load" and s.t in seconds]
    out: list[Caveat] = []
    counted = [s for s in load if s.status_4xx is not None and s.requests is not None]
    requests = sum(s.requests or 0 for s in counted)
    client_errors = sum(s.status_4xx or 0 for s in counted)
    if requests and client_errors * 2 > requests:
        out.append(Caveat(f"{client_errors} of {requests} requests in the fault window got a "
                          "4xx answer: the load was not exercising the service (wrong paths, "
                          "host or credentials?)", True))
    reached: dict[str, int] = {}
    for sample in load:
        for key, count in (sample.paths or {}).items():
            reached[key] = reached.get(key, 0) + count
    if not reached:
        return out  # no path counts in this record: nothing to say either way
    for fault in windows.faults:
        detail = fault.get("detail")
        paths = detail.get("paths") if fault.get("event") == "fault_injected" and \
            isinstance(detail, dict) else None
        prefixes = [p for p in paths or [] if isinstance(p, str)]
        if not prefixes or any(path_may_match(key, p) for key in reached for p in prefixes):
            continue
        seen = sorted(reached, key=lambda k: -reached[k])[:5]
        text = (f"{fault.get('fault')} applied only to {', '.join(prefixes)}, which no "
                f"request of the load reached (it requested {', '.join(seen)}"
                f"{', ...' if len(reached) > len(seen) else ''})")
        if all(c.text != text for c in out):  # a fault injected twice is said once
            out.append(Caveat(text, True))
    return out


def _rate_in(series: Series, window: Window | None) -> float | None:
    """Events per second over the window's seconds that have a sample (an empty sample is a
    second with no traffic; a missing one is no data)."""
    if window is None:
        return None
    seconds = [s for s in seconds_of(window.start, window.end) if s in series]
    return event_rate(sum(series[s].total for s in seconds), len(seconds))


def _differ(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return False
    scale = max(abs(a), abs(b))
    return scale > 0 and abs(a - b) > WEIGHTING_TOLERANCE * scale


def _weighting(slo: SLO, series: Series, windows: ScenarioWindows, measured: Counts,
               consumed: float | None, base_br: float | None, n: int) -> Weighting:
    base_rate = _rate_in(series, windows.baseline)
    fault_rate = _rate_in(series, windows.fault)
    events = None if base_rate is None else budget_consumed_events(
        measured.bad, base_rate, slo.objective, slo.window_seconds)
    attributed = None if events is None else attributed_consumption(
        events, base_br or 0.0, n, slo.window_seconds)
    warning = None
    if base_rate and fault_rate is not None and fault_rate < THROUGHPUT_WARNING_RATIO * base_rate:
        warning = (f"throughput during the fault fell to {fault_rate:.0f} events/s, below half "
                   f"the baseline's {base_rate:.0f}/s (SLO {slo.name}, {slo.source}): a "
                   "closed-loop load waits for each answer, so the fault also cut the load; "
                   "the time-weighted budget counts every second alike, the event-weighted one "
                   "counts bad events against the baseline's traffic (an arrival shape holds "
                   "the rate)")
    return Weighting(events, attributed, base_rate, fault_rate, _differ(consumed, events),
                     warning)


def _slo_result(
    slo: SLO,
    series: Series,
    windows: ScenarioWindows,
    plan: Plan,
    expected: Expectation,
    caveats: Sequence[Caveat] = (),
) -> SLOResult:
    base_counts = (
        counts_in(series, windows.baseline.start, windows.baseline.end) if windows.baseline else Counts()
    )
    base_br = pooled_burn_rate(base_counts.good, base_counts.total, slo.objective)
    fault = counts_in(series, windows.fault.start, windows.fault.end)
    m = windows.measurement
    measured = counts_in(series, m.start, m.end)
    # consumed and attributed come from slo.budget_spend, as for the safeguard, the console
    # and the server-side truth (docs/architecture.md §2)
    spend = spend_in(series, slo, m.start, m.end, base_br)
    consumed = consumed_ci = attributed = attributed_ci = None
    n = 0
    if spend is not None:
        consumed, attributed = spend.consumed, spend.attributed
        n = round(spend.data_seconds)  # one-second buckets: a whole number of seconds
        consumed_ci = _budget_ci(slo, measured, consumed, n)
        if consumed_ci is not None:  # the bounds less the same background as the point
            attributed_ci = (spend.attributed_of(consumed_ci[0]), spend.attributed_of(consumed_ci[1]))
    width = plan.peak_window_seconds
    recovery = recovery_seconds(series, slo, windows.fault.end, m.end, width)
    peak = peak_burn_rate(series, slo, m.start, m.end, width)
    verdict, reason = decide(
        expected,
        Evidence(
            fault_total=fault.total,
            min_events=plan.min_events,
            attributed_ci=attributed_ci,
            peak_burn_rate=peak,
            recovery_seconds=recovery,
            observed_after_fault_s=max(0.0, math.ceil(m.end) - math.ceil(windows.fault.end)),
        ),
    )
    if base_br is None and verdict is not Verdict.INCONCLUSIVE:
        reason += "; no baseline data, so all spend is attributed to the fault"
    verdict, reason = _qualify(verdict, reason, [*caveats, *_gap_caveats(series, windows)])
    return SLOResult(
        slo=slo,
        expected=expected,
        baseline=base_counts,
        fault=fault,
        measurement=measured,
        measurement_data_seconds=n,
        error_ratio=fault.error_ratio(),
        error_ratio_ci=wilson_interval(fault.bad, fault.total),
        baseline_burn_rate=base_br,
        budget_consumed=consumed,
        budget_consumed_ci=consumed_ci,
        budget_consumed_attributed=attributed,
        budget_consumed_attributed_ci=attributed_ci,
        peak_burn_rate=peak,
        recovery_seconds=recovery,
        verdict=verdict,
        reason=reason,
        weighting=_weighting(slo, series, windows, measured, consumed, base_br, n),
    )


def _coverage(plan: Plan, result: SLOResult) -> Coverage | None:
    """The prediction at the fault window's pooled burn rate, over the baseline's."""
    burn = pooled_burn_rate(result.fault.good, result.fault.total, result.slo.objective)
    return coverage_of(result.slo, plan.alerting(result.slo.name), burn,
                       result.baseline_burn_rate)


def _per_second_latency(samples: Sequence[RecordSample], source: str, window: Window | None
                        ) -> list[float]:
    """One latency per sample second of the window (p50, else mean); seconds without a
    summary (no requests) are left out."""
    if window is None:
        return []
    seconds = seconds_of(window.start, window.end)
    out: list[float] = []
    for sample in samples:
        summary = sample.latency_ms
        if sample.source != source or sample.t not in seconds or summary is None:
            continue
        value = summary.p50 if summary.p50 is not None else summary.mean
        if value is not None and math.isfinite(value):
            out.append(value)
    return out


def _median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _latency_test(samples: Sequence[RecordSample], slo: SLO, windows: ScenarioWindows
                  ) -> LatencyTest:
    baseline = _per_second_latency(samples, slo.source, windows.baseline)
    fault = _per_second_latency(samples, slo.source, windows.fault)
    # the load's summaries carry p50 and mean alike; name the one the seconds mostly had
    summaries = [s.latency_ms for s in samples if s.latency_ms is not None]
    metric = "mean" if summaries and all(x.p50 is None for x in summaries) else "p50"
    return LatencyTest(metric, mann_whitney_u(fault, baseline), _median(baseline),
                       _median(fault))


def _not_run(plan: Plan, scenario: ScenarioPlan) -> ScenarioResult:
    """A planned scenario the run never reached (aborted earlier): no figures, no verdict."""
    results = tuple(
        SLOResult(
            slo=slo,
            expected=scenario.expectations.get(slo.name, Expectation()),
            baseline=Counts(),
            fault=Counts(),
            measurement=Counts(),
            measurement_data_seconds=0,
            error_ratio=None,
            error_ratio_ci=(0.0, 1.0),
            baseline_burn_rate=None,
            budget_consumed=None,
            budget_consumed_ci=None,
            budget_consumed_attributed=None,
            budget_consumed_attributed_ci=None,
            peak_burn_rate=None,
            recovery_seconds=None,
            verdict=Verdict.INCONCLUSIVE,
            reason="the scenario did not run",
        )
        for slo in plan.slos
    )
    return ScenarioResult(
        scenario.name, scenario.experiment, "not-run", False, None, "not-run", None, results
    )


def _hypothesis(phase: PhaseSpan) -> tuple[bool, bool | None, str]:
    ended = phase.ended or {}
    deviated = ended.get("deviated") is True
    met_before = ended.get("steady_state_met_before")
    met = met_before if isinstance(met_before, bool) else None
    # CTK reports deviated=false when the steady state already failed before the method.
    if met is False:
        return deviated, met, "not-met-before"
    if deviated:
        return deviated, met, "deviated"
    return deviated, met, "held" if "deviated" in ended else "unknown"


def _scenario_status(phase: PhaseSpan, run_status: str) -> str:
    status = (phase.ended or {}).get("status")
    if isinstance(status, str) and status:
        return status
    return "aborted" if run_status == "aborted" else "failed"


def _run_status(events: Sequence[Event]) -> tuple[str, int | None]:
    ended = _last(events, "run_ended")
    if ended is None:
        # Killed without a run_ended line: an abort event tells the two cases apart.
        return ("aborted", None) if _last(events, "abort") else ("failed", None)
    status = ended.data.get("status")
    code = ended.data.get("exit_code")
    return (
        status if isinstance(status, str) else "completed",
        code if isinstance(code, int) and not isinstance(code, bool) else None,
    )


def _exit_code(status: str, runner_code: int | None, scenarios: Sequence[ScenarioResult]) -> int:
    """Exit codes as in docs/architecture.md §5; the runner's own 2/3/4 stand, 0/1 are recomputed
    from the evidence."""
    if runner_code is not None and runner_code not in (0, 1):
        return runner_code
    if status == "aborted":
        return 3
    if status == "failed":
        return 4
    failed = any(s.hypothesis_failed or any(r.verdict is Verdict.WORSE for r in s.slos) for s in scenarios)
    return 1 if failed else 0


def analyze_run(record: RecordView) -> RunAnalysis:
    """Every figure and verdict of the report, recomputed from the run record."""
    plan, events = record.plan, record.events
    data_end = _data_end(record)
    spans = phase_spans(events, data_end)
    status, runner_code = _run_status(events)
    series = {slo.name: build_series(record.samples, slo.name, slo.source) for slo in plan.slos}
    scenarios: list[ScenarioResult] = []
    for scenario in plan.scenarios:
        windows = _scenario_windows(events, spans, scenario.name)
        if windows is None:
            scenarios.append(_not_run(plan, scenario))
            continue
        deviated, met_before, hypothesis = _hypothesis(windows.phase)
        scenario_status = _scenario_status(windows.phase, status)
        caveats = [*_scenario_caveats(events, windows, scenario_status),
                   *_reach_caveats(record.record.samples, windows)]
        results = tuple(
            _slo_result(
                slo,
                series[slo.name],
                windows,
                plan,
                scenario.expectations.get(slo.name, Expectation()),
                caveats,
            )
            for slo in plan.slos
        )
        results = tuple(
            replace(r, latency_test=_latency_test(record.record.samples, r.slo, windows))
            if r.slo.sli.kind is SLIKind.LATENCY else r
            for r in results
        )
        detection, noise = scenario_detection(
            events, scenario.name, windows.measurement.start, windows.measurement.end,
            {n: (e.alert, e.no_alert) for n, e in scenario.expectations.items()},
            {r.slo.name: r.recovery_seconds for r in results})
        by_slo = {d.slo: d for d in detection}
        results = tuple(replace(r, detection=by_slo.get(r.slo.name),
                                coverage=_coverage(plan, r)) for r in results)
        scenarios.append(
            ScenarioResult(
                scenario.name,
                scenario.experiment,
                scenario_status,
                deviated,
                met_before,
                hypothesis,
                windows,
                results,
                detection,
                noise,
            )
        )
    started_event = _last(events, "run_started")
    first = [e.t for e in events[:1]] + [float(s.t) for s in record.samples[:1]]
    ended_event = _last(events, "run_ended")
    abort = _last(events, "abort")
    return RunAnalysis(
        plan=plan,
        status=status,
        exit_code=_exit_code(status, runner_code, scenarios),
        started=started_event.t if started_event else min(first, default=None),
        ended=ended_event.t if ended_event else (data_end or None),
        abort=dict(abort.data) if abort else None,
        scenarios=tuple(scenarios),
        timeline=tuple(build_timeline(events, record.notes)),
        notes=record.notes,
        journals=record.journals,
        warnings=record.warnings,
        action_items=record.record.action_items,
    )
