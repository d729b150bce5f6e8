"""Phase spans and per-scenario windows recovered from events.jsonl.

Windows (all ``[start, end)`` in epoch seconds; samples are assigned by the overlap rule of
:mod:`chaos_suite.report.series`):

- baseline: the baseline phase tagged with the scenario, else the last baseline phase that
  started before the scenario, else the first baseline phase;
- fault: first ``fault_injected`` to the ``fault_cleared`` that left no fault active (a clear
  with nothing active is ignored); if a fault was never cleared, up to the scenario's end;
  without fault events, the scenario phase itself;
- measurement: scenario start to the end of its cool-down (the cool-down tagged with the
  scenario, else the first one starting after the scenario and before the next scenario),
  or to the scenario's end when there is none.

A phase without its ``phase_ended`` (killed run) ends at the next phase's start or, for the
last one, at the end of the recorded data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from chaos_suite.record import FaultCleared, FaultInjected, PhaseEnded, PhaseStarted
from chaos_suite.report.record import Event


@dataclass(frozen=True)
class Window:
    start: float
    end: float

    @property
    def length(self) -> float:
        return max(0.0, self.end - self.start)


@dataclass(frozen=True)
class PhaseSpan:
    phase: str
    scenario: str | None
    start: float
    end: float
    ended: dict[str, Any] | None  # fields of the phase_ended event; None when it is missing


@dataclass(frozen=True)
class ScenarioWindows:
    phase: PhaseSpan
    baseline: Window | None
    fault: Window
    fault_from_events: bool
    measurement: Window
    faults: list[dict[str, Any]] = field(default_factory=list)


def _scenario_of(event: Event) -> str | None:
    return getattr(event, "scenario", None)


def phase_spans(events: Sequence[Event], data_end: float) -> list[PhaseSpan]:
    """Pair phase_started/phase_ended events; close unfinished phases sensibly."""
    opened: list[tuple[str, str | None, float]] = []
    closed: dict[int, tuple[float, dict[str, Any]]] = {}
    for event in events:
        if not isinstance(event, (PhaseStarted, PhaseEnded)):
            continue
        key = (event.phase, event.scenario)
        if isinstance(event, PhaseStarted):
            opened.append((*key, event.t))
        else:
            # Close the most recent open phase with the same name and scenario.
            for index in range(len(opened) - 1, -1, -1):
                if opened[index][:2] == key and index not in closed:
                    closed[index] = (event.t, dict(event.data))
                    break
    spans: list[PhaseSpan] = []
    for index, (phase, scenario, start) in enumerate(opened):
        if index in closed:
            end, ended = closed[index]
            spans.append(PhaseSpan(phase, scenario, start, max(start, end), ended))
            continue
        later = [s for _, _, s in opened[index + 1 :] if s > start]
        end = min(later) if later else max(start, data_end)
        spans.append(PhaseSpan(phase, scenario, start, end, None))
    return spans


def _baseline_for(spans: Sequence[PhaseSpan], scenario: PhaseSpan) -> Window | None:
    baselines = [s for s in spans if s.phase == "baseline"]
    tagged = [s for s in baselines if s.scenario == scenario.scenario]
    earlier = [s for s in baselines if s.start <= scenario.start]
    chosen = tagged[-1] if tagged else earlier[-1] if earlier else None
    if chosen is None and baselines:
        chosen = baselines[0]
    return None if chosen is None else Window(chosen.start, chosen.end)


def _cooldown_end(spans: Sequence[PhaseSpan], scenario: PhaseSpan) -> float | None:
    cooldowns = [s for s in spans if s.phase == "cooldown"]
    tagged = [s for s in cooldowns if s.scenario == scenario.scenario]
    if tagged:
        return tagged[-1].end
    next_starts = [s.start for s in spans if s.phase == "scenario" and s.start > scenario.start]
    limit = min(next_starts) if next_starts else float("inf")
    following = [s for s in cooldowns if scenario.end <= s.start < limit and s.scenario is None]
    return following[0].end if following else None


def _fault_window(
    events: Sequence[Event], scenario: PhaseSpan, end_limit: float
) -> tuple[Window | None, list[dict[str, Any]]]:
    """First injection to last clearance; open-ended faults run to the scenario's end."""
    mine = [
        e
        for e in events
        if isinstance(e, (FaultInjected, FaultCleared))
        and (
            _scenario_of(e) == scenario.scenario
            or (_scenario_of(e) is None and scenario.start <= e.t <= end_limit)
        )
    ]
    injected = [e for e in mine if isinstance(e, FaultInjected)]
    if not injected:
        return None, []
    # A clear ends every fault active at that moment (reverts such as clear_faults are
    # global and idempotent); a clear while nothing is active (a rollback repeating the
    # method's own clear) does not stretch the window.
    active = 0
    end: float | None = None
    for e in sorted(mine, key=lambda ev: ev.t):
        if isinstance(e, FaultInjected):
            active += 1
        elif active > 0:
            active = 0
            end = e.t
    if active > 0 or end is None:
        end = max(scenario.end, injected[-1].t)  # still active when the scenario ended
    faults = [
        {"t": e.t, "event": e.type, "fault": e.fault, "detail": e.data.get("detail")}
        for e in mine
    ]
    return Window(injected[0].t, end), faults


def scenario_windows(
    events: Sequence[Event], spans: Sequence[PhaseSpan], name: str
) -> ScenarioWindows | None:
    """The windows of scenario ``name``; None when it never started."""
    runs = [s for s in spans if s.phase == "scenario" and s.scenario == name]
    if not runs:
        return None
    phase = runs[0]
    cooldown_end = _cooldown_end(spans, phase)
    measurement_end = max(phase.end, cooldown_end) if cooldown_end is not None else phase.end
    fault, faults = _fault_window(events, phase, measurement_end)
    return ScenarioWindows(
        phase=phase,
        baseline=_baseline_for(spans, phase),
        fault=fault if fault is not None else Window(phase.start, phase.end),
        fault_from_events=fault is not None,
        measurement=Window(phase.start, max(measurement_end, fault.end if fault else 0.0)),
        faults=faults,
    )
