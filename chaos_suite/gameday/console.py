"""Live progress in the terminal (rich): phases, a status line every few seconds with the current
burn rate per SLO, scenario results, and where the report is."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from chaos_suite.files.loader import ResolvedPlan
from chaos_suite.files.slo_file import SLOSpec
from chaos_suite.gameday.samples import SampleStore


class Console:
    def __init__(self, quiet: bool = False) -> None:
        from rich.console import Console as RichConsole

        self._c = RichConsole(stderr=False, highlight=False, quiet=quiet, soft_wrap=True)
        self._err = RichConsole(stderr=True, highlight=False, soft_wrap=True)
        self._t0 = time.monotonic()

    def _stamp(self) -> str:
        return f"[dim]{time.monotonic() - self._t0:6.1f}s[/dim]"

    def headline(self, resolved: ResolvedPlan, run_dir: Path) -> None:
        plan = resolved.plan
        self._c.print(f"[bold]gameday {plan.name}[/bold] · service {plan.service} · "
                      f"environment {resolved.environment.name} ({resolved.environment.tier})")
        self._c.print(f"run record: {run_dir}")

    def step(self, text: str) -> None:
        self._c.print(f"{self._stamp()} {text}")

    def phase(self, name: str, detail: str = "") -> None:
        self._c.print(f"{self._stamp()} [bold cyan]▶ {name}[/bold cyan] {detail}")

    def live(self, label: str, store: SampleStore, slos: list[SLOSpec], window_s: int = 5) -> None:
        last = store.last_second()
        if last is None:
            return
        parts = []
        for spec in slos:
            good, total = store.counts(spec.name, last - window_s + 1, last + 1)
            if total == 0:
                parts.append(f"{spec.name}: no data")
                continue
            burn = ((total - good) / total) / spec.slo.error_budget
            parts.append(f"{spec.name}: burn {burn:.2f}× ({total} req/{window_s}s)")
        self._c.print(f"{self._stamp()}   {label} · " + " · ".join(parts))

    def scenario_result(self, name: str, result: Any) -> None:
        held = "deviated" if result.deviated else "hypothesis held"
        colour = "red" if result.deviated or result.status != "completed" else "green"
        self._c.print(f"{self._stamp()}   [{colour}]{name}: {result.status}, {held}[/{colour}]")

    def error(self, text: str) -> None:
        self._err.print(f"[red]chaos-suite: {text}[/red]")

    def footer(self, run_dir: Path, written: dict[str, Path], code: int) -> None:
        import json

        path = written.get("json")
        if path is not None:
            data = json.loads(path.read_text(encoding="utf-8"))
            for scenario in data.get("scenarios", []):
                for row in scenario.get("slos", []):
                    obs = row.get("observed", {})
                    exp = row.get("expected", {})
                    consumed = obs.get("budget_consumed_attributed")
                    limit = exp.get("max_budget_consumed")
                    self._c.print(
                        f"  {scenario['name']:<24} {row['slo']:<14} "
                        f"burned {_pct(consumed)} of budget (expected ≤ {_pct(limit)}) → "
                        f"[bold]{row.get('verdict')}[/bold]"
                    )
        self._c.print(f"exit code {code}")
        for kind, file in written.items():
            if kind != "md":
                self._c.print(f"  {kind:<5} {file}")
        if "md" in written:
            self._c.print(f"report: {written['md']}")

    def print_plan(self, resolved: ResolvedPlan, duration_s: float,
                   gate_figures: list[str] | None = None) -> None:
        plan = resolved.plan
        env = resolved.environment
        self._c.print(f"[bold]dry run[/bold]: gameday {plan.name} · service {plan.service} · "
                      f"environment {env.name} ({env.tier}), target {env.target.type}")
        self._c.print(f"load: {resolved.locustfile} · shape {plan.load.shape.kind}, "
                      f"{plan.load.shape.users} users")
        self._c.print(f"baseline {plan.baseline:.0f} s")
        for spec, scenario in zip(plan.scenarios, resolved.scenarios, strict=True):
            self._c.print(f"scenario {spec.name}: {scenario.experiment_path} "
                          f"({scenario.experiment.get('title', '')})")
            for activity in scenario.experiment.get("method", []):
                provider = activity.get("provider", {})
                self._c.print(f"    {activity.get('type')} {activity.get('name')}: "
                              f"{provider.get('module', provider.get('url', ''))}."
                              f"{provider.get('func', '')} {provider.get('arguments', {})}")
            for slo_name, exp in spec.expect.items():
                self._c.print(f"    expect {slo_name}: budget ≤ {_pct(exp.max_budget_consumed)}"
                              + (f", ≥ {_pct(exp.min_budget_consumed)}"
                                 if exp.min_budget_consumed is not None else "")
                              + (f", peak burn ≤ {exp.max_peak_burn_rate:g}"
                                 if exp.max_peak_burn_rate else ""))
        for line in gate_figures or []:
            self._c.print(line if line.startswith("target:") else f"gate error-budget: {line}")
        self._c.print("safety gates: passed")
        self._c.print(f"expected duration ≈ {duration_s:.0f} s · nothing was injected")


def _pct(fraction: float | None) -> str:
    if fraction is None:
        return "n/a"
    return f"{fraction * 100:.4g}%"
