"""Build synthetic run directories (for tests, demos and re-render checks).

It writes exactly the run-record format the gameday runner produces (plan.json, events.jsonl,
samples.jsonl, notes.jsonl, journals/), with traffic given as per-second rates, so figures in
a report can be checked against hand-computed formulas.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

T0 = 1_764_000_000  # 2025-11-24T16:00:00Z, a whole second


def demo_plan(**overrides: Any) -> dict[str, Any]:
    """The plan of the brief's example: two SLOs over 30d, one scenario "errors-5pct"."""
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
    plan.update(copy.deepcopy(overrides))
    return plan


@dataclass
class SyntheticRun:
    """Accumulates events, samples and notes; :meth:`write` lays them out as a run directory."""

    plan: dict[str, Any] = field(default_factory=demo_plan)
    events: list[dict[str, Any]] = field(default_factory=list)
    samples: dict[tuple[int, str], dict[str, dict[str, int]]] = field(default_factory=dict)
    notes: list[dict[str, Any]] = field(default_factory=list)
    journals: dict[str, dict[str, Any]] = field(default_factory=dict)

    def event(self, t: float, type_: str, **data: Any) -> SyntheticRun:
        self.events.append({"t": t, "type": type_, **data})
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
        tag = {"scenario": scenario} if scenario else {}
        self.event(start, "phase_started", phase=phase, **tag)
        if end is not None:
            self.event(end, "phase_ended", phase=phase, **tag, **ended)
        return self

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
                counts = line.setdefault(slo["name"], {"good": 0, "total": 0})
                counts["total"] += rate
                counts["good"] += rate - bad.get(slo["name"], 0)
        return self

    def note(self, t: float, text: str, author: str = "") -> SyntheticRun:
        self.notes.append({"t": t, "text": text, "author": author})
        return self

    def write(self, run_dir: Path) -> Path:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "plan.json").write_text(json.dumps(self.plan, indent=2), encoding="utf-8")
        _write_jsonl(run_dir / "events.jsonl", self.events)
        _write_jsonl(
            run_dir / "samples.jsonl",
            [{"t": t, "source": src, "slis": slis} for (t, src), slis in sorted(self.samples.items())],
        )
        if self.notes:
            _write_jsonl(run_dir / "notes.jsonl", self.notes)
        if self.journals:
            (run_dir / "journals").mkdir(exist_ok=True)
            for name, journal in self.journals.items():
                (run_dir / "journals" / name).write_text(json.dumps(journal), encoding="utf-8")
        return run_dir


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


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
    run.event(T0, "run_started", run_id=run.plan["run_id"])
    run.phase("baseline", T0, b)
    base_bad = {"availability": baseline_bad_per_s}
    if not ended:
        run.traffic(T0, baseline_s + 2, rate, base_bad)
        run.traffic(inject, fault_s // 2, rate, {"availability": bad_per_s})
        run.phase("scenario", b, None, "errors-5pct")
        run.event(inject, "fault_injected", scenario="errors-5pct", fault="errors", detail="5%")
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
    run.event(inject, "fault_injected", scenario="errors-5pct", fault="errors", detail="5%")
    run.event(clear, "fault_cleared", scenario="errors-5pct", fault="errors", detail="reverted")
    run.phase("cooldown", scenario_end, total_end, "errors-5pct")
    run.event(total_end, "run_ended", status="completed", exit_code=1 if deviated else 0)
    return run
