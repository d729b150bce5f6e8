"""Live progress in the terminal (rich): phases, a status line every few seconds with the current
burn rate per SLO, scenario results, and where the report is.

Titles, names, paths, reasons and errors come from the user's files or from the world: every line
goes through `_emit`, which prints its text parts literally and styles only parts chaos_suite
names, so a `[/]` in an experiment title is printed as written, never read as rich markup."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chaos_suite.files.loader import ResolvedPlan
from chaos_suite.files.slo_file import SLOSpec
from chaos_suite.gameday.resolve import shape_choice
from chaos_suite.gameday.samples import SampleStore
from chaos_suite.slo import budget_spend, pooled_burn_rate

if TYPE_CHECKING:
    from rich.console import Console as RichConsole

    from chaos_suite.report import RunAnalysis
    from chaos_suite.report.analysis import SLOResult
    from chaos_suite.safety.gates import Step

# a line part: text printed as it is, or (text printed as it is, a rich style of ours)
Part = str | tuple[str, str]



def _detection_words(row: SLOResult) -> str:
    """'; detected: fired 9.8 s, paged 10.8 s after onset' when detection was measured."""
    d = row.detection
    if d is None or d.verdict is None:
        return ""
    times = [f"{label} {value:.1f} s" for label, value in (
        ("fired", d.time_to_detect), ("paged", d.time_to_page)) if value is not None]
    return f"; {d.verdict}" + (f": {', '.join(times)} after onset" if times else "")

class Console:
    def __init__(self, quiet: bool = False) -> None:
        from rich.console import Console as RichConsole

        self._c = RichConsole(stderr=False, highlight=False, quiet=quiet, soft_wrap=True)
        self._err = RichConsole(stderr=True, highlight=False, soft_wrap=True)
        self._t0 = time.monotonic()
        self._quiet = quiet

    @property
    def rich(self) -> RichConsole:
        """The stdout console (the live view draws on it, so lines printed meanwhile go above)."""
        return self._c

    @property
    def is_terminal(self) -> bool:
        """stdout is a terminal that can redraw in place (else: plain lines, for CI logs)."""
        return not self._quiet and self._c.is_terminal and not self._c.is_dumb_terminal

    @staticmethod
    def _emit(console: RichConsole, *parts: Part) -> None:
        from rich.text import Text

        # Text.assemble never parses markup: user text stays literal; styles are only ours
        console.print(Text.assemble(*parts))

    def _say(self, *parts: Part) -> None:
        self._emit(self._c, *parts)

    def _stamp(self) -> tuple[str, str]:
        return f"{time.monotonic() - self._t0:6.1f}s", "dim"

    def headline(self, resolved: ResolvedPlan, run_dir: Path) -> None:
        plan = resolved.plan
        self._say((f"gameday {plan.name}", "bold"), f" · service {plan.service} · environment "
                  f"{resolved.environment.name} ({resolved.environment.tier})")
        self._say(f"run record: {run_dir}")

    def step(self, text: str) -> None:
        self._say(self._stamp(), f" {text}")

    def phase(self, name: str, detail: str = "") -> None:
        self._say(self._stamp(), " ", (f"▶ {name}", "bold cyan"), f" {detail}")

    def live(self, label: str, store: SampleStore, slos: list[SLOSpec], window_s: int = 5, *,
             since: int | None = None, baseline: tuple[int, int] | None = None) -> None:
        """One status line: per SLO the burn over the last `window_s` s and the budget spent by
        the samples since `since` (default: the first), beyond `baseline` when given; see
        :func:`live_burn`."""
        figures = live_burn(store, slos, window_s, since=since, baseline=baseline)
        if not figures:
            return
        parts = []
        for f in figures:
            part = (f"{f.slo}: no data" if f.burn_rate is None else
                    f"{f.slo}: burn {f.burn_rate:.2f}× ({f.requests} req/{f.window_s}s)")
            if f.consumed is not None:
                part += f", spent {_pct(f.consumed)} of budget"
                if f.baseline_burn_rate is not None:
                    part += f" ({_pct(f.attributed)} beyond baseline)"
            parts.append(part)
        self._say(self._stamp(), f"   {label} · " + " · ".join(parts))

    def scenario_result(self, name: str, result: Any) -> None:
        held = "deviated" if result.deviated else "hypothesis held"
        colour = "red" if result.deviated or result.status != "completed" else "green"
        self._say(self._stamp(), "   ", (f"{name}: {result.status}, {held}", colour))

    def error(self, text: str) -> None:
        self._emit(self._err, (f"chaos-suite: {text}", "red"))

    def footer(self, analysis: RunAnalysis, written: dict[str, Path]) -> None:
        """The verdicts and the exit code as the analysis decided them (not re-read from disk)."""
        for scenario in analysis.scenarios:
            for row in scenario.slos:
                self._say(f"  {scenario.name:<24} {row.slo.name:<14} "
                          f"burned {_pct(row.budget_consumed_attributed)} of budget "
                          f"(expected ≤ {_pct(row.expected.max_budget_consumed)}) → ",
                          (row.verdict.value, "bold"), _detection_words(row))
        self._say(f"exit code {analysis.exit_code}")
        for kind, file in written.items():
            if kind != "md":
                self._say(f"  {kind:<5} {file}")
        if "md" in written:
            self._say(f"report: {written['md']}")

    def print_plan(self, resolved: ResolvedPlan, duration_s: float,
                   gate_figures: list[str] | None = None) -> None:
        from chaos_suite.safety.gates import ALL_PODS, experiment_steps

        plan = resolved.plan
        env = resolved.environment
        self._say(("dry run", "bold"), f": gameday {plan.name} · service {plan.service} · "
                  f"environment {env.name} ({env.tier}), target {env.target.type}")
        self._say(f"load: {resolved.locustfile} · shape: {shape_choice(resolved).describe()}")
        self._say(f"baseline {plan.baseline:.0f} s")
        for spec, scenario in zip(plan.scenarios, resolved.scenarios, strict=True):
            self._say(f"scenario {spec.name}: {scenario.experiment_path} "
                      f"({scenario.experiment.get('title', '')})")
            phase = ""
            for step in experiment_steps(scenario.experiment):
                if step.phase != phase:
                    phase = step.phase
                    self._say(f"  {_PHASES[phase]}:")
                self._say(f"    {step.type} {step.name}: {step.call}",
                          *_step_marks(step, env.tier, env.safety.allow_steps, ALL_PODS))
            for slo_name, exp in spec.expect.items():
                self._say(f"  expect {slo_name}: budget ≤ {_pct(exp.max_budget_consumed)}"
                          + (f", ≥ {_pct(exp.min_budget_consumed)}"
                             if exp.min_budget_consumed is not None else "")
                          + (f", peak burn ≤ {exp.max_peak_burn_rate:g}"
                             if exp.max_peak_burn_rate else ""))
        for line in gate_figures or []:
            self._say(line if line.startswith("target:") else f"gate error-budget: {line}")
        self._say("safety gates: passed")
        self._say(f"expected duration ≈ {duration_s:.0f} s · nothing was injected")


@dataclass(frozen=True)
class LiveBurn:
    """One SLO's figures on the console's status line."""

    slo: str
    window_s: int
    requests: int  # events in the last `window_s` seconds
    burn_rate: float | None  # pooled over those seconds; None: no data
    consumed: float | None  # budget spent by the samples so far; None: no data yet
    baseline_burn_rate: float | None  # None: no baseline given, or no data in it
    attributed: float | None  # spent beyond the baseline burn rate (all of it without one)


def live_burn(store: SampleStore, slos: list[SLOSpec], window_s: int = 5, *,
              since: int | None = None, baseline: tuple[int, int] | None = None) -> list[LiveBurn]:
    """Per SLO, for the samples so far: the burn over the last `window_s` seconds, the budget
    consumed from second `since` on (default: the first sample) and what of it lies beyond the
    burn rate of the `baseline` seconds [first, stop). The same store windows and the same
    chaos_suite.slo functions as the safeguard and the report (docs/architecture.md §2), so the
    three agree on the same samples."""
    last = store.last_second()
    if last is None:
        return []
    first = since if since is not None else (store.first_second() or last)
    out = []
    for spec in slos:
        objective, window = spec.slo.objective, spec.slo.window_seconds
        good, total = store.trailing(spec.name, window_s, last)
        base_br = None if baseline is None else pooled_burn_rate(
            *store.counts(spec.name, *baseline), objective)
        spend = budget_spend(store.buckets(spec.name, first), objective, window, base_br)
        out.append(LiveBurn(spec.name, window_s, total, pooled_burn_rate(good, total, objective),
                            None if spend is None else spend.consumed, base_br,
                            None if spend is None else spend.attributed))
    return out


def _step_marks(step: Step, tier: str, allowed: list[str], all_pods: int) -> list[Part]:
    """What a step does to the target, when it is more than reading: replicas it takes down,
    an effect chaos_suite cannot know (and what lets it run)."""
    marks: list[Part] = []
    if step.replicas:
        count = "every matching pod" if step.replicas >= all_pods else \
            f"{step.replicas} replica{'s' if step.replicas > 1 else ''}"
        marks.append((f"  · takes down {count}" + (" per run, runs twice" if step.runs > 1
                                                    else ""), "yellow"))
    elif step.replicas is None:
        marks.append((f"  · takes down an uncounted number of pods ({step.uncountable})",
                       "yellow"))
    if step.effect == "unknown":
        allowance = step.allowance(allowed)
        why = (f"allowed by safety.allow_steps '{allowance}'" if allowance is not None
               else "allowed on the local tier" if tier == "local" else "not allowed")
        marks.append((f"  · unknown effect ({why})", "bold yellow"))
    return marks


_PHASES = {"steady-state": "steady-state hypothesis", "method": "method",
           "rollbacks": "rollbacks", "controls": "controls"}


def _pct(fraction: float | None) -> str:
    if fraction is None:
        return "n/a"
    return f"{fraction * 100:.4g}%"
