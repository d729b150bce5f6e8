"""Safety gates, checked before anything is started or injected. Each refusal names the gate and
the figure that failed it. Production always needs explicit confirmation; the other gates apply
to any environment whose safety policy configures them (staging included). Above the local tier
a step whose effect chaos_suite cannot know runs only if the policy allows it, and no run starts
on a target with pending reverts or an active fault."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from chaos_suite.errors import GateRefused
from chaos_suite.faults.chaosmesh import REVERTS as MESH_REVERTS
from chaos_suite.faults.local import REVERTS
from chaos_suite.files.environment import KubernetesTarget, LocalTarget, TimeWindow
from chaos_suite.files.loader import ResolvedPlan

CONFIRM_ENV = "CHAOS_SUITE_CONFIRM"
ALL_PODS = 10**6  # `all: true`: every matching pod
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def check_confirmation(resolved: ResolvedPlan, confirm: str | None) -> None:
    env = resolved.environment
    if not (env.safety.require_confirmation or env.tier == "production"):
        return
    given = confirm or os.environ.get(CONFIRM_ENV)
    # the tier, not the name: a production environment named "staging" must not pass
    # with --confirm staging
    if given != env.tier:
        raise GateRefused(
            "confirmation",
            f"environment '{env.name}' ({env.tier}) needs --confirm {env.tier} "
            f"(or {CONFIRM_ENV}={env.tier}); got {given or 'none'}",
        )


# ---------------------------------------------------------------- time windows


def _minutes(hhmm: str) -> int:
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return hours * 60 + minutes


def in_window(window: TimeWindow, now: datetime) -> bool:
    """Whether `now` falls in the window, read in the window's time zone. A window whose start is
    after its end crosses midnight; the days listed are the days it starts on (`fri 23:00-05:00`
    covers Friday night and the first five hours of Saturday)."""
    local = now.astimezone(ZoneInfo(window.timezone))
    day = DAYS[local.weekday()]
    minutes = local.hour * 60 + local.minute
    start, end = _minutes(window.start), _minutes(window.end)
    if start < end:
        return day in window.days and start <= minutes < end
    yesterday = DAYS[(local.weekday() - 1) % 7]
    return (day in window.days and minutes >= start) or \
        (yesterday in window.days and minutes < end)


def check_windows(resolved: ResolvedPlan, now: datetime | None = None) -> None:
    windows = resolved.environment.safety.allowed_windows
    if not windows:
        return
    moment = now or datetime.now().astimezone()
    if any(in_window(w, moment) for w in windows):
        return
    allowed = "; ".join(f"{','.join(w.days)} {w.start}-{w.end} {w.timezone}" for w in windows)
    raise GateRefused("time-window", f"now is {moment.isoformat(timespec='minutes')}, outside "
                                     f"every allowed window ({allowed})")


# ---------------------------------------------------------------- what each step does

FAULTS_MODULE = "chaos_suite.faults.local"
MESH_MODULE = "chaos_suite.faults.chaosmesh"
# chaos_suite's own functions that inject nothing: probes, and the reverts of its faults
NO_FAULT: Final = frozenset(
    [f"{FAULTS_MODULE}.{f}" for f in ("replicas_alive", *REVERTS.values())]
    + [f"{MESH_MODULE}.{f}" for f in (*MESH_REVERTS.values(), "delete_chaos_resource")]
    + ["chaos_suite.faults.kubernetes.uncordon_nodes"])
NO_FAULT_MODULES: Final = ("chaos_suite.experiment.probes",)
OWN_CONTROL = "chaos_suite.experiment.control"

# chaosk8s functions that take pods down, by how their arguments say how many
_PODS_BY_QTY: Final = frozenset({
    "chaosk8s.pod.actions.terminate_pods",
    "chaosk8s.pod.actions.exec_in_pods",  # the command it runs can take the pod down
})
_EVERY_POD: Final = frozenset({
    "chaosk8s.pod.actions.delete_pods",
    "chaosk8s.actions.kill_microservice",
    "chaosk8s.deployment.actions.delete_deployment",
    "chaosk8s.statefulset.actions.remove_statefulset",
    "chaosk8s.replicaset.actions.delete_replica_set",
})
_UNCOUNTABLE: Final = frozenset({  # how many depends on the cluster at run time
    "chaosk8s.node.actions.drain_nodes",
    "chaosk8s.node.actions.delete_nodes",
    "chaosk8s.actions.scale_microservice",
    "chaosk8s.deployment.actions.scale_deployment",
    "chaosk8s.statefulset.actions.scale_statefulset",
})

# fault: injects (chaos_suite's faults, chaosk8s actions); no-fault: probes and reverts it knows;
# unknown: anything else (a process, an http request, another module's function)
Effect = Literal["fault", "no-fault", "unknown"]


@dataclass(frozen=True)
class Step:
    """One thing an experiment runs (an activity or a control), as the gates and the dry run see
    it."""

    phase: Literal["steady-state", "method", "rollbacks", "controls"]
    type: str  # action | probe | control
    name: str
    provider: dict[str, Any]
    effect: Effect
    runs: int = 1  # steady-state probes run twice: before and after the method
    replicas: int | None = 0  # taken down per run; None: cannot be counted from the file
    uncountable: str = ""  # why not

    @property
    def label(self) -> str:
        """How messages name it: "probe 'x'", "steady-state probe 'x'", "rollback action 'x'"."""
        prefix = {"steady-state": "steady-state ", "rollbacks": "rollback "}.get(self.phase, "")
        return f"{prefix}{self.type} {quoted(self.name)}"

    @property
    def call(self) -> str:
        """What the step runs, as the experiment says it: the command line of a process, the
        request of an http provider, the call of a python function."""
        provider = self.provider
        kind = provider.get("type")
        if kind == "process":
            return f"process {process_command(provider)}"
        if kind == "http":
            text = f"http {str(provider.get('method') or 'GET').upper()} {provider.get('url', '')}"
            arguments = provider.get("arguments")
            return f"{text} {arguments!r}" if arguments else text
        if kind == "python":
            args = provider.get("arguments") or {}
            listed = (", ".join(f"{k}={v!r}" for k, v in args.items())
                      if isinstance(args, dict) else repr(args))
            func = provider.get("func")
            if not func:  # a control: chaoslib calls the hooks its module defines
                return f"python {provider.get('module', '')}" + (f" ({listed})" if listed else "")
            return f"python {provider.get('module', '')}.{func}({listed})"
        return f"{kind or 'no'} provider"

    def allowance(self, allowed: list[str]) -> str | None:
        """The `safety.allow_steps` entry that allows this step, if any."""
        keys = [self.name]
        if self.provider.get("type") == "process":
            keys.append(f"process:{self.provider.get('path', '')}")
        return next((k for k in keys if k in allowed), None)


def quoted(text: object) -> str:
    """A user's name in a one-line message: quoted, and a newline or quote cannot break it."""
    value = str(text)
    return f"'{value}'" if value.isprintable() and "'" not in value else repr(value)


def process_command(provider: dict[str, Any]) -> str:
    """A process provider's command line the way chaoslib builds it: a string of arguments goes
    to the shell after the path; a list (or mapping) becomes separate arguments."""
    path = str(provider.get("path", ""))
    arguments = provider.get("arguments")
    if arguments is None or arguments == "" or arguments == []:
        return shlex.quote(path)
    if isinstance(arguments, str):
        return f"{path} {arguments}"
    if isinstance(arguments, dict):
        arguments = [x for pair in arguments.items() for x in pair]
    items = arguments if isinstance(arguments, list) else [arguments]
    return shlex.join([path, *(str(a) for a in items if a not in (None, ""))])


def _pods_by_qty(args: dict[str, Any]) -> tuple[int | None, str]:
    if args.get("all") is True:
        return ALL_PODS, ""
    mode, qty = args.get("mode", "fixed"), args.get("qty", 1)
    if mode != "fixed":
        return None, f"mode={mode!r}, qty={qty!r}"
    if isinstance(qty, bool) or not isinstance(qty, int) or qty < 0:
        return None, f"qty={qty!r}"
    return qty or 1, ""  # qty 0 is counted as one: it is surely a mistake, not a safe step


def _classify(provider: dict[str, Any]) -> tuple[Effect, int | None, str]:
    """(effect, replicas taken down per run or None if uncountable, why uncountable)."""
    if provider.get("type") != "python":
        return "unknown", 0, ""  # a process or a request can do anything, the admin API too
    module, func = str(provider.get("module", "")), str(provider.get("func", ""))
    args = provider.get("arguments") or {}
    args = args if isinstance(args, dict) else {}
    full = f"{module}.{func}"
    if module == FAULTS_MODULE and func in REVERTS:
        return "fault", (1 if func == "kill_replica" else 0), ""
    if module == MESH_MODULE and func in MESH_REVERTS:
        return "fault", 0, ""  # takes no pod down; its resource is deleted as the revert
    if full in NO_FAULT or module in NO_FAULT_MODULES:
        return "no-fault", 0, ""
    if module.startswith("chaosk8s.") and module.endswith(".actions"):
        if full in _PODS_BY_QTY or func in ("terminate_pods", "kill_pods"):
            count, why = _pods_by_qty(args)
            return "fault", count, why
        if full in _EVERY_POD or func == "delete_pods":
            return "fault", ALL_PODS, ""
        if full in _UNCOUNTABLE:
            return "fault", None, "it depends on the cluster at run time"
        return "fault", 0, ""  # cordons, network policies, ...: no pod taken down
    if module.startswith("chaosk8s") and module.endswith("probes"):
        return "no-fault", 0, ""  # the extension's probes modules only read
    return "unknown", 0, ""


def _dicts(value: Any) -> list[dict[str, Any]]:
    # chaoslib validated the file; still, a gate must not crash on a shape it did not expect
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _step(phase: Any, item: dict[str, Any], runs: int = 1) -> Step:
    raw = item.get("provider")
    provider: dict[str, Any] = raw if isinstance(raw, dict) else {}
    effect, replicas, why = _classify(provider)
    return Step(phase, str(item.get("type", "action")), str(item.get("name", item.get("ref", ""))),
                provider, effect, runs, replicas, why)


def experiment_steps(experiment: dict[str, Any]) -> list[Step]:
    """Every step of a user's experiment that runs code, in the order chaoslib runs them:
    steady-state probes (and their probe tolerances), the method, the rollbacks, then the
    controls it declares (they run around all of these)."""
    hypothesis = experiment.get("steady-state-hypothesis")
    sections: list[tuple[Any, list[dict[str, Any]]]] = [
        ("steady-state", _dicts(hypothesis.get("probes") if isinstance(hypothesis, dict) else [])),
        ("method", _dicts(experiment.get("method"))),
        ("rollbacks", _dicts(experiment.get("rollbacks"))),
    ]
    declared: dict[str, dict[str, Any]] = {}
    for _, activities in sections:
        for activity in activities:
            if activity.get("name") and "ref" not in activity:
                declared.setdefault(str(activity["name"]), activity)
    steps: list[Step] = []
    controls = _dicts(experiment.get("controls"))
    for phase, activities in sections:
        runs = 2 if phase == "steady-state" else 1
        for activity in activities:
            if "ref" in activity:  # chaoslib runs the activity of that name again
                activity = declared.get(str(activity["ref"]), activity)
            steps.append(_step(phase, activity, runs))
            tolerance = activity.get("tolerance")
            if isinstance(tolerance, dict) and "provider" in tolerance:  # a probe as tolerance
                steps.append(_step(phase, tolerance, runs))
            controls += _dicts(activity.get("controls"))
    for control in controls:
        step = _step("controls", {**control, "type": "control"})
        provider = step.provider
        own = provider.get("type") == "python" and provider.get("module") == OWN_CONTROL
        steps.append(replace(step, effect="no-fault" if own else "unknown", replicas=0))
    return steps


# ---------------------------------------------------------------- blast radius


def _blast(scenario: str, steps: list[Step], replicas: int | None = None
           ) -> tuple[int, list[Step]]:
    """Replicas the scenario takes down at most (every kill of every step adds up, capped at the
    target's replica count when known), and the steps that do."""
    killers = [s for s in steps if s.replicas != 0]
    for step in killers:
        if step.replicas is None:
            raise GateRefused("blast-radius", f"scenario {quoted(scenario)}: {step.label} "
                              f"({step.call}): cannot count the pods it takes down "
                              f"({step.uncountable})")
    total = sum((s.replicas or 0) * s.runs for s in killers)
    return min(total, replicas or ALL_PODS), killers


def check_blast_radius(resolved: ResolvedPlan) -> list[str]:
    """Refuse steps in protected namespaces and raw Chaos Mesh / CRD creations (always), then the
    policy's limits. Returns what each counted Kubernetes action would hit (for --dry-run)."""
    check_kubernetes_steps(resolved)
    policy = resolved.environment.safety.blast_radius
    lines, counted = _kubernetes_radius(resolved)
    if policy is None:
        return lines
    target = resolved.environment.target
    replicas = target.replicas if isinstance(target, LocalTarget) else None
    for index, scenario in enumerate(resolved.scenarios):
        steps = experiment_steps(scenario.experiment)
        # a step that takes pods down and was counted through the API: that count, not the
        # file's guess (a scale_deployment, a kill_microservice's "every matching pod")
        steps = [replace(s, replicas=counted[index, i]) if s.replicas != 0
                 and (index, i) in counted else s for i, s in enumerate(steps)]
        affected, killers = _blast(scenario.name, steps, replicas)
        if affected == 0:
            continue
        name = quoted(scenario.name)
        by = "with " + ", ".join(s.label + (" (runs twice)" if s.runs > 1 else "")
                                 for s in killers)
        count = "every matching pod" if affected >= ALL_PODS else f"{affected} replicas"
        if policy.max_replicas is not None and affected > policy.max_replicas:
            raise GateRefused("blast-radius", f"scenario {name} takes down {count} {by}; "
                                              f"the policy allows {policy.max_replicas}")
        if (policy.max_fraction is not None and not replicas
                and not isinstance(target, KubernetesTarget)):
            # the pod count is only known once the target is resolved: refuse rather than skip
            raise GateRefused("blast-radius", f"scenario {name} takes down {count} {by}; "
                              "max_fraction cannot be checked without the replica count of a "
                              f"{target.type} target")
        if policy.max_fraction is not None and replicas:
            fraction = affected / replicas
            if fraction > policy.max_fraction:
                raise GateRefused(
                    "blast-radius", f"scenario {name} takes down {affected} of {replicas} "
                    f"replicas ({fraction:.0%}) {by}; the policy allows "
                    f"{policy.max_fraction:.0%}")
    return lines


# ---------------------------------------------------------------- kubernetes, through the API

# raw chaosk8s functions that create chaos resources without a duration, labels or a revert
_RAW_MESH = "chaosk8s.chaosmesh."
_RAW_CRD = "chaosk8s.crd.actions"


def _namespaces(provider: dict[str, Any], experiment: dict[str, Any]) -> list[str]:
    """The namespaces a chaosk8s action or chaos_suite Chaos Mesh fault acts in (`${name}`
    forms filled from the experiment's configuration)."""
    from chaos_suite.safety.k8s_radius import mesh_namespaces, resolved_arguments

    module = str(provider.get("module", ""))
    if not (module.startswith("chaosk8s") or module == MESH_MODULE):
        return []
    args = resolved_arguments(provider.get("arguments"), experiment)
    found = [str(args.get("ns") or "default")]
    for key in ("pod_namespace", "namespaces", "namespaces_selectors"):
        value = args.get(key)
        found += [str(v) for v in (value if isinstance(value, list) else [value]) if v]
    # a Chaos Mesh resource's own namespace and its selector's (and target's) namespaces
    return found + mesh_namespaces(provider, args)


def check_kubernetes_steps(resolved: ResolvedPlan) -> None:
    """Refuse any Kubernetes step in a protected namespace (kube-system and
    safety.protected_namespaces), and raw chaosk8s Chaos Mesh / CRD creations: they set no
    duration, no labels, and hide a 409; chaos_suite.faults.chaosmesh does it safely."""
    safety = resolved.environment.safety
    protected = {"kube-system", *safety.protected_namespaces}
    for scenario in resolved.scenarios:
        for step in experiment_steps(scenario.experiment):
            provider = step.provider
            if provider.get("type") != "python":
                continue
            module, func = str(provider.get("module", "")), str(provider.get("func", ""))
            hit = sorted(set(_namespaces(provider, scenario.experiment)) & protected)
            if hit:
                raise GateRefused("protected-namespace", f"scenario {quoted(scenario.name)}: "
                                  f"{step.label} ({step.call}) acts in protected namespace "
                                  f"{quoted(hit[0])}")
            raw_mesh = module.startswith(_RAW_MESH) and not func.startswith("delete_")
            raw_crd = module == _RAW_CRD and func.startswith(("create_", "apply_", "replace_"))
            if raw_mesh or raw_crd:
                raise GateRefused("unsafe-chaos-resource", f"scenario {quoted(scenario.name)}: "
                                  f"{step.label} calls {module}.{func}, which sets no duration "
                                  "or run labels and reports an existing resource as created; "
                                  f"use {MESH_MODULE} (add_latency, set_loss, set_bandwidth, "
                                  "stress_cpu, stress_memory, create_chaos_resource)")


def kubernetes_radius(resolved: ResolvedPlan) -> list[str]:
    """Count, through the API (list/read requests only), the pods and nodes every Kubernetes
    action k8s_radius knows would hit (chaosk8s pod, node and workload actions, Chaos Mesh
    selectors); enforce blast_radius.max_pods (pods hit by a scenario) and max_fraction (of the
    pods its selectors aim at: the pods of each step's namespace matching its label_selector,
    a Chaos Mesh selector's candidates, a deployment's pods; of every node for node actions).
    One line per step for --dry-run. Without a limit to enforce, a cluster that cannot be read
    is a line, not a refusal."""
    return _kubernetes_radius(resolved)[0]


def _kubernetes_radius(resolved: ResolvedPlan
                       ) -> tuple[list[str], dict[tuple[int, int], int]]:
    """`kubernetes_radius`'s lines, and the pods each counted step hits by (scenario index,
    step index in experiment_steps)."""
    from chaos_suite.safety.k8s_radius import countable, resolved_arguments, step_hits

    policy = resolved.environment.safety.blast_radius
    limits = policy is not None and (policy.max_pods is not None
                                     or policy.max_fraction is not None)
    target = resolved.environment.target
    context = target.context if isinstance(target, KubernetesTarget) else None
    lines: list[str] = []
    counted: dict[tuple[int, int], int] = {}
    api: Any = None
    for s_index, scenario in enumerate(resolved.scenarios):
        name = quoted(scenario.name)
        hit: dict[str, set[str]] = {"pods": set(), "nodes": set()}
        drawn = {"pods": 0, "nodes": 0}  # random draws: a count, not names
        aimed: dict[str, set[str]] = {"pods": set(), "nodes": set()}
        for index, step in enumerate(experiment_steps(scenario.experiment)):
            if not countable(step.provider):
                continue
            arguments = resolved_arguments(step.provider.get("arguments"), scenario.experiment)
            try:
                if api is None:
                    from chaos_suite.safety.k8s_radius import api_client

                    api = api_client(context)
                hits = step_hits(step.provider, arguments, api)
            except Exception as exc:  # noqa: BLE001 - no cluster, no rights, a bad selector
                why = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                if limits:
                    raise GateRefused("blast-radius", f"scenario {name}: {step.label} "
                                      f"({step.call}): cannot count what it hits through the "
                                      f"Kubernetes API ({why})") from None
                lines.append(f"scenario {name}: {step.label} would hit: cannot list ({why})")
                continue
            lines.append(f"scenario {name}: {step.label} would hit {hits.describe()}")
            if hits.what == "pods":
                counted[s_index, index] = hits.count
            for _ in range(step.runs):
                if hits.random:
                    drawn[hits.what] += hits.count
                hit[hits.what].update(hits.names)
            aimed[hits.what].update(hits.denominator)
        if policy is not None:
            _enforce_k8s(name, policy, hit, drawn, aimed)
    return lines, counted


def _enforce_k8s(name: str, policy: Any, hit: dict[str, set[str]], drawn: dict[str, int],
                 aimed: dict[str, set[str]]) -> None:
    for what in ("pods", "nodes"):
        count = len(hit[what]) + drawn[what]
        if count == 0:
            continue
        if what == "pods" and policy.max_pods is not None and count > policy.max_pods:
            raise GateRefused("blast-radius", f"scenario {name} hits {count} pods "
                              f"({', '.join(sorted(hit[what])) or 'drawn at random'}); the "
                              f"policy allows max_pods {policy.max_pods}")
        total = max(len(aimed[what]), count)
        if policy.max_fraction is not None and count / total > policy.max_fraction:
            raise GateRefused("blast-radius", f"scenario {name} hits {count} of {total} {what} "
                              f"({count / total:.0%}); the policy allows "
                              f"{policy.max_fraction:.0%}")


# ---------------------------------------------------------------- steps of unknown effect


def unknown_steps(resolved: ResolvedPlan) -> list[tuple[str, Step, str | None]]:
    """(scenario, step, the allow_steps entry allowing it or None) for every step whose effect
    chaos_suite cannot know: a process, an http request, a python function it does not know."""
    allowed = resolved.environment.safety.allow_steps
    return [(s.name, step, step.allowance(allowed)) for s in resolved.scenarios
            for step in experiment_steps(s.experiment) if step.effect == "unknown"]


def check_unknown_steps(resolved: ResolvedPlan) -> None:
    """Above the local tier a step of unknown effect runs only if the environment's
    safety.allow_steps names it: it could inject anything, past every other gate."""
    env = resolved.environment
    if env.tier == "local":
        return
    for scenario, step, allowance in unknown_steps(resolved):
        if allowance is not None:
            continue
        provider = step.provider
        kind = provider.get("type")
        if kind == "process":
            what = (f"runs executable {quoted(provider.get('path', ''))} with arguments "
                    f"{provider.get('arguments')!r}")
            entries = f"{quoted(step.name)} or {quoted('process:' + str(provider.get('path')))}"
        else:
            what = f"runs {step.call!r}"
            entries = quoted(step.name)
        raise GateRefused("unknown-step", f"scenario {quoted(scenario)}: {step.label} {what}, "
                          f"whose effect chaos_suite cannot know; the {env.tier} environment "
                          f"{quoted(env.name)} runs it only if safety.allow_steps lists {entries}")


# ---------------------------------------------------------------- a clean target


def check_target_clean(resolved: ResolvedPlan) -> None:
    """Refuse a target that is not clean: reverts a crashed run left pending on it, or (a
    standing local target) a fault active right now. The dry run and the real run both call
    this, so a dry run never passes what the real run then refuses."""
    from chaos_suite.gameday.targets import _standing_target, target_key_before_start
    from chaos_suite.safety.recover import pending_for_target

    key = target_key_before_start(resolved)
    pending = pending_for_target(key) if key else []
    if pending:
        listed = ", ".join(f"{e.fault} (run {e.run_id}, scenario {e.scenario}, entry {e.id})"
                           for e in pending)
        raise GateRefused("pending-reverts", f"target {key} has pending reverts from a crashed "
                          f"run: {listed}; run `chaos-suite recover` or pass --recover")
    target = resolved.environment.target
    if not (isinstance(target, LocalTarget) and not target.managed):
        return
    info, client, status = _standing_target()
    client.close()
    fault = status.get("fault") or {}
    if fault.get("active"):
        raise GateRefused("active-fault", f"the standing local target at {info.admin_url} has a "
                          f"fault active now (error_ratio {fault.get('error_ratio')}, latency_ms "
                          f"{fault.get('latency_ms')}) that no pending revert accounts for: "
                          "another run may be injecting, or it was set by hand; clear it "
                          f"(DELETE {info.admin_url}/admin/faults) or let it expire")


# ---------------------------------------------------------------- error-budget policy


def _gated_specs(resolved: ResolvedPlan) -> list[Any]:
    from chaos_suite.files.loader import load_slos

    policy = resolved.environment.safety.budget_policy
    assert policy is not None
    specs = resolved.slos
    if policy.slo_file:
        base = resolved.environment_path.parent if resolved.environment_path else Path()
        specs = load_slos(base / policy.slo_file)
    if policy.slos:
        known = {s.name: s for s in specs}
        missing = [n for n in policy.slos if n not in known]
        if missing:
            raise GateRefused("error-budget", f"policy names unknown SLO '{missing[0]}'")
        specs = [known[n] for n in policy.slos]
    return specs


def check_budget_policy(resolved: ResolvedPlan) -> list[str]:
    """Refuse when any gated SLO has less budget left than the policy's minimum. Returns the
    figures it read (for the dry run's printout)."""
    policy = resolved.environment.safety.budget_policy
    if policy is None:
        return []
    from chaos_suite.files.slo_file import PrometheusSource
    from chaos_suite.sources.prometheus import PrometheusClient, budget_status

    prom = resolved.environment.sources.prometheus
    figures: list[str] = []
    for spec in _gated_specs(resolved):
        if not isinstance(spec.source, PrometheusSource):
            raise GateRefused("error-budget", f"SLO '{spec.name}' has source "
                              f"'{spec.source.type}', which keeps no history; the policy needs "
                              "a prometheus source to read the remaining budget")
        if prom is None:
            raise GateRefused("error-budget", "the environment has no sources.prometheus.url")
        with PrometheusClient(prom.url, prom.timeout) as client:
            status = budget_status(spec, client)
        if status.remaining is None:
            raise GateRefused("error-budget", f"SLO '{spec.name}': no data over its window "
                              "(no events); refusing rather than assuming a full budget")
        line = (f"SLO '{spec.name}': {status.remaining:.1%} of the budget left "
                f"({status.total - status.good:.0f} bad of {status.total:.0f} events)")
        if status.remaining < policy.min_remaining:
            raise GateRefused("error-budget", f"{line}; the policy needs at least "
                                              f"{policy.min_remaining:.0%}")
        figures.append(line)
    return figures


def check_gates(resolved: ResolvedPlan, confirm: str | None,
                recover_first: bool = False) -> list[str]:
    """All gates, cheapest first. Returns the budget figures read (for --dry-run). With
    `recover_first` (--recover) pending reverts are the run's to replay, so the target is not
    checked here: the caller checks it with `check_target_clean` once they are replayed."""
    check_confirmation(resolved, confirm)
    check_windows(resolved)
    radius = check_blast_radius(resolved)
    check_unknown_steps(resolved)
    if not recover_first:
        check_target_clean(resolved)
    return radius + check_budget_policy(resolved)
