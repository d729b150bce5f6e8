"""Synthetic run directories for report tests, written through the run record's own writer and
types (chaos_suite/record), with traffic given as per-second rates, so figures in a report can
be checked against hand-computed formulas."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaos_suite.record import (
    ErrorsFault,
    Event,
    FaultCleared,
    FaultInjected,
    FaultsCleared,
    Note,
    PhaseEnded,
    PhaseStarted,
    RunEnded,
    RunPlan,
    RunRecordWriter,
    RunStarted,
    Sample,
    SLICounts,
)

T0 = 1_764_000_000  # 2025-11-24T16:00:00Z, a whole second


def demo_plan(**overrides: Any) -> dict[str, Any]:
    """plan.json of the brief's example as JSON (tests edit it): two SLOs over 30d, one
    scenario "errors-5pct"."""
    plan: dict[str, Any] = {
        "gameday": "demo",
        "service": "checkout",
        "environment": "local",
        "run_id": "20251124T160000Z-demo",
        "slos": [
            {
                "name": "availability",
                "objective": 0.999,
                "window_seconds": 2_592_000,
                "source": "load",
                "sli": {"kind": "availability", "threshold_ms": None},
            },
            {
                "name": "latency",
                "objective": 0.99,
                "window_seconds": 2_592_000,
                "source": "load",
                "sli": {"kind": "latency", "threshold_ms": 250},
            },
        ],
        "baseline_seconds": 10,
        "cooldown_seconds": 5,
        "min_events": 100,
        "peak_window_seconds": 5,
        "scenarios": [
            {
                "name": "errors-5pct",
                "experiment": "experiments/local-errors.yaml",
                "expectations": {
                    "availability": {
                        "min_budget_consumed": None,
                        "max_budget_consumed": 0.001,
                        "max_peak_burn_rate": 80.0,
                        "recover_within_seconds": 10,
                    }
                },
            },
        ],
    }
    # every field as the writer writes it; overrides (even invalid ones) go in as given
    full = RunPlan.model_validate(plan).model_dump(mode="json")
    full.update(copy.deepcopy(overrides))
    return full


@dataclass
class SyntheticRun:
    """Accumulates typed events, samples and notes; :meth:`write` writes them as a run."""

    plan: dict[str, Any] = field(default_factory=demo_plan)
    events: list[Event] = field(default_factory=list)
    samples: dict[tuple[int, str], dict[str, list[int]]] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    journals: dict[str, dict[str, Any]] = field(default_factory=dict)

    def event(self, event: Event) -> SyntheticRun:
        self.events.append(event)
        return self

    def phase(
        self,
        phase: str,
        start: float,
        end: float | None,
        scenario: str | None = None,
        **ended: Any,
    ) -> SyntheticRun:
        """phase_started at ``start`` and, unless ``end`` is None, phase_ended with ``ended``."""
        self.event(PhaseStarted.model_validate({"t": start, "phase": phase, "scenario": scenario}))
        if end is not None:
            self.event(PhaseEnded.model_validate(
                {"t": end, "phase": phase, "scenario": scenario, **ended}))
        return self

    def fault(self, t: float, scenario: str = "errors-5pct", ratio: float = 0.05) -> SyntheticRun:
        """inject_errors took effect at ``t``."""
        return self.event(FaultInjected(t=t, fault="inject_errors", scenario=scenario,
                                        detail=ErrorsFault(error_ratio=ratio, ttl_s=None)))

    def cleared(self, t: float, scenario: str = "errors-5pct", active: bool = True
                ) -> SyntheticRun:
        """clear_faults took effect at ``t``."""
        return self.event(FaultCleared(t=t, fault="clear_faults", scenario=scenario,
                                       detail=FaultsCleared(was_active=active)))

    def traffic(
        self,
        start: int,
        seconds: int,
        rate: int,
        bad: dict[str, int] | None = None,
        source: str = "load",
    ) -> SyntheticRun:
        """``rate`` events per second for each SLO of the plan, ``bad[slo]`` of them bad."""
        bad = bad or {}
        for second in range(start, start + seconds):
            line = self.samples.setdefault((second, source), {})
            for slo in self.plan["slos"]:
                counts = line.setdefault(slo["name"], [0, 0])
                counts[1] += rate
                # only events that exist can turn bad (a tail past the data adds none)
                counts[0] += rate - min(bad.get(slo["name"], 0), counts[0] + rate)
        return self

    def note(self, t: float, text: str, author: str = "") -> SyntheticRun:
        self.notes.append(Note(t=t, text=text, author=author))
        return self

    def write(self, run_dir: Path) -> Path:
        writer = RunRecordWriter(run_dir)
        try:
            writer.plan(RunPlan.model_validate(self.plan))
            for event in self.events:
                writer.event(event)
            for (t, source), slis in sorted(self.samples.items()):
                writer.sample(Sample.model_validate({
                    "t": t, "source": source,
                    "slis": {name: SLICounts(good=good, total=total)
                             for name, (good, total) in slis.items()}}))
            for note in self.notes:
                writer.note(note)
            for name, journal in self.journals.items():
                writer.write_json(f"journals/{name}", journal)
        finally:
            writer.close()
        return run_dir


def standard_run(
    *,
    rate: int = 1000,
    bad_per_s: int = 50,
    baseline_bad_per_s: int = 0,
    fault_s: int = 20,
    baseline_s: int = 10,
    cooldown_s: int = 5,
    recovery_tail_s: int = 0,
    deviated: bool = False,
    plan: dict[str, Any] | None = None,
    ended: bool = True,
) -> SyntheticRun:
    """One gameday: baseline, scenario "errors-5pct" with a fault, cool-down.

    Timeline (seconds after T0): baseline [0, b); scenario [b, b + 2 + fault_s + 2) with the
    fault injected at b + 2 and cleared fault_s later; cool-down for ``cooldown_s``. Errors
    (``bad_per_s`` of ``rate`` for availability) last exactly the fault seconds plus
    ``recovery_tail_s`` seconds after it. With ``ended=False`` the run stops mid-fault.
    """
    run = SyntheticRun(plan=plan or demo_plan())
    b = T0 + baseline_s
    inject, clear = b + 2, b + 2 + fault_s
    scenario_end = clear + 2
    total_end = scenario_end + cooldown_s
    run.event(RunStarted(t=T0, run_id=run.plan["run_id"]))
    run.phase("baseline", T0, b)
    base_bad = {"availability": baseline_bad_per_s}
    if not ended:
        run.traffic(T0, baseline_s + 2, rate, base_bad)
        run.traffic(inject, fault_s // 2, rate, {"availability": bad_per_s})
        run.phase("scenario", b, None, "errors-5pct")
        run.fault(inject)
        return run
    run.traffic(T0, total_end - T0, rate, base_bad)
    # rate 0 adds no events; it turns that many more of the existing ones bad.
    extra_bad = {"availability": bad_per_s - baseline_bad_per_s}
    run.traffic(inject, fault_s + recovery_tail_s, 0, extra_bad)
    run.phase(
        "scenario",
        b,
        scenario_end,
        "errors-5pct",
        status="completed",
        deviated=deviated,
        steady_state_met_before=True,
    )
    run.fault(inject)
    run.cleared(clear)
    run.phase("cooldown", scenario_end, total_end, "errors-5pct")
    run.event(RunEnded(t=total_end, status="completed", exit_code=1 if deviated else 0))
    return run
