"""From a resolved plan to what the parts of a run consume: the plan record (plan.json, the
report's only view of the plan), the load worker's config and the expected duration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from chaos_suite.files.loader import ResolvedPlan
from chaos_suite.files.plan import AbortRule
from chaos_suite.files.slo_file import LoadSource
from chaos_suite.record.models import (
    AbortRuleRecord,
    Expectation,
    HttpTargetRecord,
    HypothesisRecord,
    KubernetesTargetRecord,
    LoadRecord,
    LocalTargetRecord,
    RolesRecord,
    RunPlan,
    ScenarioPlan,
    ShapeRecord,
    SLIRecord,
    SLORecord,
    TargetRecord,
)

# what the probes' look-ahead windows, the gap between activities and chaoslib itself add to a
# scenario beyond its declared pauses; used only to bound the load and to estimate durations
SCENARIO_OVERHEAD_S = 3.0


def _pauses(experiment: dict[str, Any]) -> float:
    total = 0.0
    for activity in [*experiment.get("method", []), *experiment.get("rollbacks", [])]:
        pauses = activity.get("pauses") or {}
        for key in ("before", "after"):
            value = pauses.get(key, 0)
            total += float(value) if isinstance(value, (int, float)) else 0.0
    return total


def estimate_duration_s(resolved: ResolvedPlan) -> float:
    plan = resolved.plan
    total = plan.baseline
    for spec, scenario in zip(plan.scenarios, resolved.scenarios, strict=True):
        hypothesis = 2 * plan.hypothesis.window
        cooldown = spec.cooldown if spec.cooldown is not None else plan.cooldown
        total += _pauses(scenario.experiment) + hypothesis + SCENARIO_OVERHEAD_S + cooldown
    return total


def plan_record(resolved: ResolvedPlan, run_id: str) -> RunPlan:
    """plan.json (docs/architecture.md §4): the plan as resolved for this run."""
    plan = resolved.plan
    env = resolved.environment
    return RunPlan(
        run_id=run_id,
        gameday=plan.name,
        service=plan.service,
        description=plan.description,
        environment=env.name,
        environment_tier=env.tier,
        target=_TARGET.validate_python(env.target.model_dump(mode="json")),
        plan_file=str(resolved.path),
        roles=RolesRecord.model_validate(plan.roles.model_dump(mode="json")),
        load=LoadRecord(locustfile=str(resolved.locustfile),
                        shape=ShapeRecord.model_validate(plan.load.shape.model_dump(mode="json")),
                        host=plan.load.host),
        slos=tuple(
            SLORecord(name=spec.name, description=spec.slo.description,
                      objective=spec.slo.objective, window_seconds=spec.slo.window_seconds,
                      source=spec.source.type,
                      sli=SLIRecord(kind=spec.slo.sli.kind.value,
                                    threshold_ms=spec.slo.sli.threshold_ms))
            for spec in resolved.used_slos),
        baseline_seconds=plan.baseline,
        cooldown_seconds=plan.cooldown,
        min_events=plan.min_events,
        peak_window_seconds=plan.peak_window,
        hypothesis=HypothesisRecord(window=plan.hypothesis.window,
                                    max_burn_rate=plan.hypothesis.max_burn_rate),
        abort=_rule(plan.abort),
        expected_duration_seconds=estimate_duration_s(resolved),
        scenarios=tuple(
            ScenarioPlan(
                name=spec.name,
                description=spec.description,
                experiment=str(scenario.experiment_path),
                title=_title(scenario.experiment),
                cooldown_seconds=spec.cooldown if spec.cooldown is not None else plan.cooldown,
                abort=_rule(spec.abort or plan.abort),
                expectations={
                    name: Expectation(min_budget_consumed=exp.min_budget_consumed,
                                      max_budget_consumed=exp.max_budget_consumed,
                                      max_peak_burn_rate=exp.max_peak_burn_rate,
                                      recover_within_seconds=exp.recover_within)
                    for name, exp in spec.expect.items()
                },
            )
            for spec, scenario in zip(plan.scenarios, resolved.scenarios, strict=True)),
    )


_TARGET: TypeAdapter[LocalTargetRecord | KubernetesTargetRecord | HttpTargetRecord] = \
    TypeAdapter(TargetRecord)


def _rule(rule: AbortRule | None) -> AbortRuleRecord | None:
    if rule is None:
        return None
    return AbortRuleRecord(burn_rate=rule.burn_rate, long_window=rule.long_window,
                           short_window=rule.short_window,
                           max_budget_consumed=rule.max_budget_consumed)


def _title(experiment: dict[str, Any]) -> str | None:
    title = experiment.get("title")
    return title if isinstance(title, str) else None


def _given(value: int | float | None, default: int | float) -> int | float:
    """The plan's value when it gives one: 0 is a value (a ramp from 0 users, a spike at 0 s)."""
    return default if value is None else value


def load_config_for(resolved: ResolvedPlan, url: str, run_dir: Path) -> dict[str, Any]:
    plan = resolved.plan
    shape = plan.load.shape
    # the load outlives the planned phases by a margin; the runner stops it explicitly
    duration = estimate_duration_s(resolved) * 2 + 120
    params: dict[str, Any] = {"kind": shape.kind, "users": shape.users,
                              "spawn_rate": shape.spawn_rate, "duration_s": duration}
    # durations the shape divides by or spans (ramp, step, spike length) must be > 0 for the
    # worker (load/profile.py), so a 0 there takes the default like a missing one
    if shape.kind == "ramp":
        params["start_users"] = _given(shape.start_users, 1)
        params["ramp_s"] = shape.ramp or plan.baseline
    elif shape.kind == "step":
        params["step_users"] = _given(shape.step_users, max(1, shape.users // 4))
        params["step_s"] = shape.step or 10.0
    elif shape.kind == "spike":
        params["spike_users"] = _given(shape.spike_users, shape.users * 3)
        params["spike_at_s"] = _given(shape.spike_at, plan.baseline)
        params["spike_s"] = shape.spike_for or 10.0
    slis: list[dict[str, Any]] = []
    for spec in resolved.used_slos:
        if spec.source.type != "load":
            continue
        sli: dict[str, Any] = {"name": spec.name, "kind": str(spec.slo.sli.kind)}
        if spec.slo.sli.threshold_ms is not None:
            sli["threshold_ms"] = spec.slo.sli.threshold_ms
        if isinstance(spec.source, LoadSource) and spec.source.match:
            sli["match"] = spec.source.match
        slis.append(sli)
    return {
        "locustfile": str(resolved.locustfile.resolve()),
        "host": plan.load.host or url,
        "shape": params,
        "slis": slis,
        "max_duration_s": duration + 60,
        "log_file": str(run_dir / "locust.log"),
    }
