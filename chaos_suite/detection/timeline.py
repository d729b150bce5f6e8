"""Measured detection per scenario and SLO, pure: from the run record's events (fault
injected/cleared, ``alert_state``, ``alert_notified``) and the SLI's recovery, the detection
timeline and its verdict against the plan's alert expectation.

All times are measured from fault onset (the scenario's first ``fault_injected``):

- time to detect: the expected alert's first firing (Prometheus's fired_at, activeAt + ``for``;
  the poll's time when absent; the first firing step of Prometheus's ``ALERTS`` series, read
  after the run, when the poll never saw it fire) − onset; ``pending`` (activeAt) is kept
  beside it, and the ``ALERTS`` firing time too, as a cross-check;
- time to page: the first webhook notification of that alert received − onset;
- time to recover: fault cleared + the SLI's recovery − onset; ``resolved`` is kept beside it.

Verdicts: ``detected`` (fired, and paged when a page was expected, within ``within``),
``late`` (fired or paged after ``within``), ``gap`` (expected, never fired; or a page expected
and none came), ``noise`` (``no_alert`` and an alert of the SLO fired), ``quiet-as-expected``.
Alerts of the scenario's window no expectation named are listed as the scenario's noise."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from chaos_suite.record.models import (
    AlertExpectation,
    AlertHistory,
    AlertNotified,
    AlertState,
    Event,
    FaultCleared,
    FaultInjected,
)

VERDICTS = ("detected", "late", "gap", "noise", "quiet-as-expected")


@dataclass(frozen=True)
class FiredAlert:
    name: str
    labels: Mapping[str, str]
    firing: float  # Prometheus's firing time (or when the poll saw it)
    seen_by: str = "rules API"  # or "ALERTS": only the series read after the run had it

    @property
    def title(self) -> str:
        slo = self.labels.get("sloth_slo") or self.labels.get("slo")
        key = self.labels.get("chaos_suite_alert")
        return self.name + "".join(f" {v}" for v in (slo, key) if v)


@dataclass(frozen=True)
class Detection:
    """One scenario and SLO's measured detection (times epoch seconds, durations seconds)."""

    slo: str
    expected: AlertExpectation | None
    no_alert: bool
    onset: float | None
    pending: float | None
    firing: float | None
    notified: float | None
    resolved: float | None
    cleared: float | None
    recovered: float | None
    time_to_detect: float | None
    time_to_page: float | None
    time_to_recover: float | None
    verdict: str | None  # None: the plan expects nothing of detection for this SLO
    reason: str
    # Prometheus's ALERTS series read after the run: the first firing step of the expected
    # alert (a cross-check of ``firing``; its source when the poll missed it)
    firing_in_alerts: float | None = None
    seen_by: str | None = None  # "rules API" or "ALERTS": where ``firing`` came from

    @property
    def failed(self) -> bool:
        """A detection gap (or a page that never came) fails the scenario's test case."""
        return self.verdict == "gap"


def matches(expected: AlertExpectation, name: str, labels: Mapping[str, str]) -> bool:
    return name == expected.name and all(labels.get(k) == v for k, v in expected.labels.items())


def fired_alerts(events: Iterable[Event], start: float, end: float) -> list[FiredAlert]:
    """Prometheus alerts first seen firing within [start, end], one per series, in order: as
    the poll saw them (Prometheus's own fired_at), and from the ALERTS series read after the
    run for those the poll missed."""
    seen: dict[tuple[str, tuple[tuple[str, str], ...]], FiredAlert] = {}
    history: list[AlertHistory] = []
    for event in events:
        if isinstance(event, AlertHistory):
            history.append(event)
            continue
        if not (isinstance(event, AlertState) and event.source == "prometheus"
                and event.state == "firing" and start <= event.t <= end):
            continue
        key = (event.name, tuple(sorted(event.labels.items())))
        if key not in seen:
            firing = event.fired_at if event.fired_at is not None else event.t
            seen[key] = FiredAlert(event.name, dict(event.labels), firing)
    for event in history:
        key = (event.name, tuple(sorted(event.labels.items())))
        first = history_start(event, "firing", start, end)
        if key not in seen and first is not None:
            seen[key] = FiredAlert(event.name, dict(event.labels), first, "ALERTS")
    return sorted(seen.values(), key=lambda a: a.firing)


def history_start(event: AlertHistory, state: str, start: float, end: float) -> float | None:
    """The first span of ``event`` in ``state`` that begins within [start, end]."""
    if event.state != state:
        return None
    return next((a for a, _ in event.spans if start <= a <= end), None)


def _history_first(events: Sequence[Event], expected: AlertExpectation, state: str,
                   start: float, end: float) -> float | None:
    found = [t for e in events if isinstance(e, AlertHistory) and matches(expected, e.name, e.labels)
             and (t := history_start(e, state, start, end)) is not None]
    return min(found, default=None)


def scenario_onset(events: Sequence[Event], scenario: str, start: float, end: float
                   ) -> tuple[float | None, float | None]:
    """(first fault_injected, first fault_cleared after it) of the scenario in [start, end]."""
    onset = next((e.t for e in events if isinstance(e, FaultInjected)
                  and (e.scenario in (None, scenario)) and start <= e.t <= end), None)
    cleared = None
    if onset is not None:
        cleared = next((e.t for e in events if isinstance(e, FaultCleared)
                        and (e.scenario in (None, scenario)) and onset <= e.t <= end), None)
    return onset, cleared


def detection_for(events: Sequence[Event], *, slo: str, expected: AlertExpectation | None,
                  no_alert: bool, onset: float | None, cleared: float | None, start: float,
                  end: float, recovery_seconds: float | None) -> Detection:
    """The detection timeline of one SLO in a scenario whose window is [start, end]."""
    recovered = cleared + recovery_seconds if (cleared is not None and
                                               recovery_seconds is not None) else None
    since = onset if onset is not None else start
    base = Detection(slo=slo, expected=expected, no_alert=no_alert, onset=onset, pending=None,
                     firing=None, notified=None, resolved=None, cleared=cleared,
                     recovered=recovered, time_to_detect=None, time_to_page=None,
                     time_to_recover=_since(recovered, onset), verdict=None, reason="")
    fired = fired_alerts(events, start, end)
    if expected is None:
        if not no_alert:
            return base
        own = [a for a in fired if _of_slo(a.labels, slo) and a.firing >= since]
        if own:
            return _with(base, verdict="noise", firing=own[0].firing,
                         time_to_detect=_since(own[0].firing, onset),
                         reason=f"no alert expected; {', '.join(a.title for a in own)} fired")
        return _with(base, verdict="quiet-as-expected", reason="no alert expected; none fired")
    pending = next((e.active_at or e.t for e in events if isinstance(e, AlertState)
                    and e.source == "prometheus" and e.state in ("pending", "firing")
                    and start <= e.t <= end and matches(expected, e.name, e.labels)), None)
    if pending is None:
        pending = _history_first(events, expected, "pending", start, end)
    first = next((a for a in fired if matches(expected, a.name, a.labels)), None)
    firing = first.firing if first is not None else None
    notified = next((e.t for e in events if isinstance(e, AlertNotified)
                     and e.status == "firing" and start <= e.t <= end
                     and matches(expected, e.name, e.labels)), None)
    resolved = next((e.t for e in events if isinstance(e, AlertState)
                     and e.source == "prometheus" and e.state == "resolved"
                     and firing is not None and e.t >= firing and e.t <= end
                     and matches(expected, e.name, e.labels)), None)
    timed = _with(base, pending=pending, firing=firing, notified=notified, resolved=resolved,
                  time_to_detect=_since(firing, onset), time_to_page=_since(notified, onset),
                  firing_in_alerts=_history_first(events, expected, "firing", start, end),
                  seen_by=first.seen_by if first is not None else None)
    label = expected.name + "".join(f" {k}={v}" for k, v in sorted(expected.labels.items()))
    if onset is None:
        return _with(timed, verdict=None, reason="no fault was injected: nothing to detect")
    if firing is None:
        return _with(timed, verdict="gap", reason=f"{label} never fired (detection gap)")
    if expected.page and notified is None:
        return _with(timed, verdict="gap", reason=f"{label} fired but no page was received")
    within = expected.within_seconds
    slowest = max(t for t in (timed.time_to_detect, timed.time_to_page if expected.page
                              else None) if t is not None)
    if within is not None and slowest > within:
        return _with(timed, verdict="late", reason=f"{label} {'paged' if expected.page else 'fired'}"
                     f" {slowest:.1f} s after onset, expected within {within:g} s")
    return _with(timed, verdict="detected",
                 reason=f"{label} fired {timed.time_to_detect:.1f} s after onset"
                 + (f", paged after {timed.time_to_page:.1f} s" if timed.time_to_page is not None
                    else ""))


def unexpected_alerts(events: Sequence[Event], expected: Iterable[AlertExpectation],
                      start: float, end: float) -> list[FiredAlert]:
    """The scenario's noise: alerts firing in its window that no expectation named."""
    wanted = list(expected)
    return [a for a in fired_alerts(events, start, end)
            if not any(matches(e, a.name, a.labels) for e in wanted)]


def _of_slo(labels: Mapping[str, str], slo: str) -> bool:
    return slo in (labels.get("sloth_slo"), labels.get("slo"))


def _since(t: float | None, onset: float | None) -> float | None:
    return None if t is None or onset is None else round(t - onset, 3)


def _with(d: Detection, **changes: object) -> Detection:
    from dataclasses import replace

    return replace(d, **changes)  # type: ignore[arg-type]


def scenario_detection(events: Sequence[Event], scenario: str, start: float, end: float,
                       expectations: Mapping[str, tuple[AlertExpectation | None, bool]],
                       recovery: Mapping[str, float | None]
                       ) -> tuple[tuple[Detection, ...], tuple[FiredAlert, ...]]:
    """Per SLO with an alert expectation (``expectations``: SLO → (alert, no_alert)), its
    detection; and the scenario's noise. Nothing when the run recorded no alert events and the
    plan expects nothing of detection."""
    wanted = {slo: e for slo, e in expectations.items() if e[0] is not None or e[1]}
    watched = any(isinstance(e, (AlertState, AlertHistory, AlertNotified)) for e in events)
    if not wanted and not watched:
        return (), ()
    onset, cleared = scenario_onset(events, scenario, start, end)
    detections = tuple(
        detection_for(events, slo=slo, expected=alert, no_alert=no_alert, onset=onset,
                      cleared=cleared, start=start, end=end, recovery_seconds=recovery.get(slo))
        for slo, (alert, no_alert) in wanted.items())
    noise = unexpected_alerts(events, (a for a, _ in wanted.values() if a is not None),
                              start, end) if watched else []
    return detections, tuple(noise)
