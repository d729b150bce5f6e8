"""Run directories for review tests, written through the run record's types (support/synthetic's
SyntheticRun, whose writer is the record's), placed at any time, with several scenarios whose
verdicts follow from their traffic by construction:

- availability at 99.9% over 30 d (B = 0.001, P = 2,592,000 s); every scenario's fault lasts
  ``fault_s`` whole seconds with ``bad_per_s`` of ``rate`` requests failing, and nothing fails
  outside faults, so each scenario consumes fault_s · bad/rate / (B · P) of the budget, all of it
  attributed (the baseline burns nothing);
- ``5%`` errors (50 of 1000) over 20 s is 0.0386% of the budget: inside ≤ 0.1% (as-expected);
  50% errors is 0.386%, above it (worse-than-expected); no errors with a minimum of 0.01% is
  better-than-expected; 2 requests a second is under min_events (inconclusive).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support.synthetic import SyntheticRun, demo_plan

from chaos_suite.record import AbortEvent, RunEnded, RunStarted
from chaos_suite.record.writer import run_id_for
from chaos_suite.report import render_run

DAY = 86_400
BUDGET = 1 - 0.999
WINDOW_S = 2_592_000
COOLDOWN_S = 5
BASELINE_S = 10


@dataclass
class Scenario:
    name: str
    bad_per_s: int = 50
    max_budget: float | None = 0.001
    min_budget: float | None = None
    fault_s: int = 20
    status: str = "completed"  # "not-run": planned, never reached
    verdict: str = "as-expected"  # what the traffic makes it, checked against the report

    @property
    def ran(self) -> bool:
        return self.status != "not-run"

    def consumed(self, rate: int) -> float:
        return self.fault_s * (self.bad_per_s / rate) / (BUDGET * WINDOW_S)

    def expectation(self) -> dict[str, Any]:
        return {"min_budget_consumed": self.min_budget, "max_budget_consumed": self.max_budget}


@dataclass
class RunSpec:
    tag: str
    t0: int
    service: str
    scenarios: list[Scenario]
    gameday: str = "demo"
    status: str = "completed"  # completed | aborted | failed
    exit_code: int = 0
    rate: int = 1000
    abort_reason: str | None = None
    abort_message: str | None = None
    action_items: list[str] = field(default_factory=list)  # raw lines of action_items.jsonl
    report: str = "v1"  # v1 | none | v0 (a report.json of another schema)
    folder: str = ""

    @property
    def run_id(self) -> str:
        return f"{run_id_for(self.gameday, self.t0)}-{self.tag}"

    def consumed(self) -> float:
        return sum(s.consumed(self.rate) for s in self.scenarios if s.ran)


def build(spec: RunSpec) -> SyntheticRun:
    plan = demo_plan(run_id=spec.run_id, service=spec.service, gameday=spec.gameday,
                     scenarios=[{"name": s.name, "experiment": f"experiments/{s.name}.yaml",
                                 "expectations": {"availability": s.expectation()}}
                                for s in spec.scenarios])
    run = SyntheticRun(plan=plan)
    t0 = spec.t0
    run.event(RunStarted(t=t0, run_id=spec.run_id, gameday=spec.gameday))
    run.phase("baseline", t0, t0 + BASELINE_S)
    t = t0 + BASELINE_S
    faults: list[tuple[int, Scenario]] = []
    for scenario in spec.scenarios:
        if not scenario.ran:
            continue
        inject, clear = t + 2, t + 2 + scenario.fault_s
        end = clear + 2
        run.phase("scenario", t, end, scenario.name, status=scenario.status, deviated=False,
                  steady_state_met_before=True)
        run.fault(inject, scenario.name)
        run.cleared(clear, scenario.name)
        run.phase("cooldown", end, end + COOLDOWN_S, scenario.name)
        faults.append((inject, scenario))
        t = end + COOLDOWN_S
    # the whole traffic first: rate-0 traffic only turns existing requests bad
    run.traffic(t0, t - t0, spec.rate)
    for inject, scenario in faults:
        run.traffic(inject, scenario.fault_s, 0, {"availability": scenario.bad_per_s})
    if spec.status == "aborted":
        run.event(AbortEvent(t=t, reason=spec.abort_reason or "operator",
                             message=spec.abort_message))
    run.event(RunEnded(t=t, status=spec.status, exit_code=spec.exit_code))
    return run


def write(spec: RunSpec, root: Path) -> Path:
    """The run directory, its report.json as ``spec.report`` says, its action items."""
    run_dir = root / (spec.folder or spec.run_id)
    build(spec).write(run_dir)
    if spec.report != "none":
        render_run(run_dir, ("json",))
    if spec.report == "v0":
        path = run_dir / "report.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        data["schema"] = "chaos-suite/report/v0"
        path.write_text(json.dumps(data), encoding="utf-8")
    if spec.action_items:
        (run_dir / "action_items.jsonl").write_text("\n".join(spec.action_items) + "\n",
                                                    encoding="utf-8")
    return run_dir


def item(id: str, text: str, owner: str | None, due: str | None, done: bool = False,
         link: str | None = None) -> str:
    return json.dumps({"id": id, "text": text, "owner": owner, "due": due, "link": link,
                       "done": done})


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run")


def chromium(page: Path, profile: Path, *args: str, timeout: float = 90
             ) -> subprocess.CompletedProcess[str]:
    """Headless Chromium on a local file with a fresh profile; waits for it to exit."""
    return subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args,
                           page.as_uri()], capture_output=True, text=True, timeout=timeout,
                          check=False)
