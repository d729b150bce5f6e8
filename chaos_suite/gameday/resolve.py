"""From a resolved plan to what the parts of a run consume: the plan record (plan.json, the
report's only view of the plan), the load worker's config and the expected duration."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import TypeAdapter

from chaos_suite.detection.coverage import alerting_record
from chaos_suite.detection.rules import ALERT_NAME
from chaos_suite.files.loader import ResolvedPlan
from chaos_suite.files.plan import AbortRule, GamedayModel, Shape
from chaos_suite.files.plan import AlertExpectation as PlanAlert
from chaos_suite.files.slo_file import LoadSource, SLOSpec
from chaos_suite.record.models import (
    AbortRuleRecord,
    AlertExpectation,
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


@dataclass(frozen=True)
class ShapeChoice:
    """Which load shape a run uses: the plan's; else the locustfile's own LoadTestShape (the
    worker runs it untouched); else the default steady shape."""

    origin: Literal["plan", "locustfile", "default"]
    shape: Shape | None  # the plan's or the default; None when the locustfile's runs
    shape_class: str | None = None  # the locustfile's LoadTestShape

    def describe(self) -> str:
        if self.shape is None:
            return f"{self.shape_class} from the locustfile"
        if self.shape.kind == "arrival":
            text = f"arrival {self.shape.rate:g} requests/s (open-loop"
            text += f", up to {self.shape.max_users} users)" if self.shape.max_users else ")"
        else:
            text = f"{self.shape.kind}, {self.shape.users} users"
        return text + (" (default: neither the plan nor the locustfile names a shape)"
                       if self.origin == "default" else "")


@functools.lru_cache(maxsize=8)
def _locustfile_shapes(path: str, _mtime_ns: int) -> tuple[str, ...]:
    from chaos_suite.files.locustfile import inspect_locustfile

    return inspect_locustfile(Path(path)).shapes


def shape_choice(resolved: ResolvedPlan) -> ShapeChoice:
    """The shape this plan runs. Without one in the plan the locustfile is imported (in a child
    process, cached while the file is unchanged) to see whether it defines a LoadTestShape;
    one that cannot be imported is a ValidationError (exit 2), as the worker could not run it."""
    shape = resolved.plan.load.shape
    if shape is not None:
        return ShapeChoice("plan", shape)
    path = resolved.locustfile.resolve()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        mtime = 0  # inspect_locustfile says what is wrong with the path
    shapes = _locustfile_shapes(str(path), mtime)
    if shapes:  # the worker, like Locust, runs the first one
        return ShapeChoice("locustfile", None, shapes[0])
    return ShapeChoice("default", Shape())


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
        load=_load_record(resolved),
        slos=tuple(
            SLORecord(name=spec.name, description=spec.slo.description,
                      objective=spec.slo.objective, window_seconds=spec.slo.window_seconds,
                      source=spec.source.type,
                      sli=SLIRecord(kind=spec.slo.sli.kind.value,
                                    threshold_ms=spec.slo.sli.threshold_ms),
                      alerting=alerting_record(spec, env, resolved.environment_path))
            for spec in resolved.used_slos),
        baseline_seconds=plan.baseline,
        cooldown_seconds=plan.cooldown,
        min_events=plan.min_events,
        peak_window_seconds=plan.peak_window,
        hypothesis=HypothesisRecord(window=plan.hypothesis.window,
                                    max_burn_rate=plan.hypothesis.max_burn_rate),
        abort=_rule(plan.abort),
        expected_duration_seconds=estimate_duration_s(resolved),
        objectives=tuple(plan.objectives),
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
                                      recover_within_seconds=exp.recover_within,
                                      alert=_alert(exp.alert, resolved.slo(name)),
                                      no_alert=exp.no_alert)
                    for name, exp in spec.expect.items()
                },
                hypothesis=spec.hypothesis,
                runbooks=tuple(spec.runbooks),
                acts=spec.acts,
            )
            for spec, scenario in zip(plan.scenarios, resolved.scenarios, strict=True)),
    )


def _alert(alert: PlanAlert | None, spec: SLOSpec) -> AlertExpectation | None:
    """The plan's alert expectation as the record states it: an OpenSLO policy becomes the
    alert ``slo rules`` writes for it (its alertname and policy label; it pages when the
    policy has notification targets). The policy's existence was checked at resolution."""
    if alert is None:
        return None
    if alert.policy is not None:
        policy = next(p for p in spec.alert_policies if p.name == alert.policy)
        return AlertExpectation(
            name=ALERT_NAME, labels={"sloth_slo": spec.name, "openslo_alert_policy": policy.name,
                                     **alert.labels},
            within_seconds=alert.within,
            page=alert.page if alert.page is not None else bool(policy.targets))
    assert alert.name is not None
    return AlertExpectation(name=alert.name, labels=dict(alert.labels),
                            within_seconds=alert.within, page=bool(alert.page))


def _load_record(resolved: ResolvedPlan) -> LoadRecord:
    choice = shape_choice(resolved)
    shape = None if choice.shape is None else ShapeRecord.model_validate(
        choice.shape.model_dump(mode="json", exclude_none=True))
    return LoadRecord(locustfile=str(resolved.locustfile), shape=shape,
                      host=resolved.plan.load.host, shape_from=choice.origin,
                      shape_class=choice.shape_class, workers=resolved.plan.load.workers,
                      min_workers=resolved.plan.load.min_workers,
                      local_workers=resolved.plan.load.local_workers,
                      master_bind=resolved.plan.load.master_bind,
                      master_port=resolved.plan.load.master_port)


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


def shape_params(shape: Shape, plan: GamedayModel, duration_s: float) -> dict[str, Any]:
    """The worker's shape config (load/profile.py) for a plan's shape lasting ``duration_s``."""
    if shape.kind == "arrival":
        params: dict[str, Any] = {"kind": "arrival", "rate": shape.rate, "duration_s": duration_s}
        # what the plan leaves out takes the worker's defaults, which follow the rate (a
        # starting user count of rate / per_user_rate, a spawn rate of max_users a second)
        for key in ("per_user_rate", "max_users"):
            if getattr(shape, key) is not None:
                params[key] = getattr(shape, key)
        for key in ("users", "spawn_rate"):
            if key in shape.model_fields_set:
                params[key] = getattr(shape, key)
        return params
    params = {"kind": shape.kind, "users": shape.users, "spawn_rate": shape.spawn_rate,
              "duration_s": duration_s}
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
    return params


def load_config_for(resolved: ResolvedPlan, url: str, run_dir: Path) -> dict[str, Any]:
    plan = resolved.plan
    # the load outlives the planned phases by a margin; the runner stops it explicitly
    duration = estimate_duration_s(resolved) * 2 + 120
    shape = plan.load.shape
    # without a shape in the plan the worker runs the locustfile's own, untouched, and only
    # when it defines none the default (the worker decides, having imported the locustfile)
    params = None if shape is None else shape_params(shape, plan, duration)
    default = shape_params(Shape(), plan, duration) if shape is None else None
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
        "default_shape": default,
        "slis": slis,
        "max_duration_s": duration + 60,
        "log_file": str(run_dir / "locust.log"),
        "workers": plan.load.workers,
        **plan.load.distributed_config(),  # local_workers, master_bind/port: only if given
    }
