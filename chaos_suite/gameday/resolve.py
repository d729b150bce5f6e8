"""From a resolved plan to what the parts of a run consume: the plan record (plan.json, the
report's only view of the plan), the load worker's config and the expected duration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chaos_suite.files.loader import ResolvedPlan
from chaos_suite.files.slo_file import LoadSource

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


def plan_record(resolved: ResolvedPlan, run_id: str) -> dict[str, Any]:
    plan = resolved.plan
    env = resolved.environment
    return {
        "run_id": run_id,
        "gameday": plan.name,
        "service": plan.service,
        "description": plan.description,
        "environment": env.name,
        "environment_tier": env.tier,
        "target": env.target.model_dump(mode="json"),
        "plan_file": str(resolved.path),
        "roles": plan.roles.model_dump(mode="json"),
        "load": {"locustfile": str(resolved.locustfile), **plan.load.model_dump(mode="json")},
        "slos": [
            {
                "name": spec.name,
                "description": spec.slo.description,
                "objective": spec.slo.objective,
                "window_seconds": spec.slo.window_seconds,
                "source": spec.source.type,
                "sli": {"kind": str(spec.slo.sli.kind), "threshold_ms": spec.slo.sli.threshold_ms},
            }
            for spec in resolved.used_slos
        ],
        "baseline_seconds": plan.baseline,
        "cooldown_seconds": plan.cooldown,
        "min_events": plan.min_events,
        "peak_window_seconds": plan.peak_window,
        "hypothesis": plan.hypothesis.model_dump(mode="json"),
        "abort": plan.abort.model_dump(mode="json") if plan.abort else None,
        "expected_duration_seconds": estimate_duration_s(resolved),
        "scenarios": [
            {
                "name": spec.name,
                "description": spec.description,
                "experiment": str(scenario.experiment_path),
                "title": scenario.experiment.get("title"),
                "cooldown_seconds": spec.cooldown if spec.cooldown is not None else plan.cooldown,
                "abort": _rule(spec.abort or plan.abort),
                "expectations": {
                    name: {
                        "min_budget_consumed": exp.min_budget_consumed,
                        "max_budget_consumed": exp.max_budget_consumed,
                        "max_peak_burn_rate": exp.max_peak_burn_rate,
                        "recover_within_seconds": exp.recover_within,
                    }
                    for name, exp in spec.expect.items()
                },
            }
            for spec, scenario in zip(plan.scenarios, resolved.scenarios, strict=True)
        ],
    }


def _rule(rule: Any) -> dict[str, Any] | None:
    return rule.model_dump(mode="json") if rule is not None else None


def load_config_for(resolved: ResolvedPlan, url: str, run_dir: Path) -> dict[str, Any]:
    plan = resolved.plan
    shape = plan.load.shape
    # the load outlives the planned phases by a margin; the runner stops it explicitly
    duration = estimate_duration_s(resolved) * 2 + 120
    params: dict[str, Any] = {"kind": shape.kind, "users": shape.users,
                              "spawn_rate": shape.spawn_rate, "duration_s": duration}
    if shape.kind == "ramp":
        params["start_users"] = shape.start_users or 1
        params["ramp_s"] = shape.ramp or plan.baseline
    elif shape.kind == "step":
        params["step_users"] = shape.step_users or max(1, shape.users // 4)
        params["step_s"] = shape.step or 10.0
    elif shape.kind == "spike":
        params["spike_users"] = shape.spike_users or shape.users * 3
        params["spike_at_s"] = shape.spike_at or plan.baseline
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
