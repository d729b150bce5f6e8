"""RBAC rules a scheduled run needs, derived from the plan's chaosk8s and
chaos_suite.faults.chaosmesh steps: each function maps onto exact API groups, resources and
verbs (never `*`), plus what its revert needs to undo it (get/list/delete of what was created,
patch of what was changed), plus the reads the blast-radius count (safety/k8s_radius.py) makes
before anything runs: the pods each workload action would take down, and the pods every Chaos
Mesh selector picks, listed in the selector's own namespaces (a Role in each of them, granting
`pods list` only). An unknown function is refused: granting it something guessed would be
either too little or too much."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from chaos_suite.errors import InputError
from chaos_suite.faults import chaosmesh
from chaos_suite.files.loader import ResolvedPlan
from chaos_suite.safety import k8s_radius
from chaos_suite.safety.gates import experiment_steps, quoted

CORE, APPS, NET, MESH = "", "apps", "networking.k8s.io", "chaos-mesh.org"
READ: Final = ("get", "list")
WATCH: Final = ("get", "list", "watch")

# (apiGroup, resource, verbs, cluster-scoped)
Grant = tuple[str, str, tuple[str, ...], bool]


def _ns(group: str, resource: str, *verbs: str) -> Grant:
    return (group, resource, verbs, False)


def _cluster(group: str, resource: str, *verbs: str) -> Grant:
    return (group, resource, verbs, True)


_NODES_PATCH = _cluster(CORE, "nodes", "get", "list", "patch")  # cordon and its uncordon
_DEPLOY_SCALE = _ns(APPS, "deployments", "get", "patch")  # the revert reads replicas first
# the blast-radius count lists the pods a workload action would take down (k8s_radius._pods_of)
_PODS_COUNT = _ns(CORE, "pods", "list")
_POLICY = _ns(NET, "networkpolicies", "get", "list", "create", "delete")

# chaosk8s function ("module.func") → what it calls, with what its revert calls
TABLE: Final[dict[str, tuple[Grant, ...]]] = {
    # pods
    "chaosk8s.pod.actions.terminate_pods": (_ns(CORE, "pods", "list", "delete"),),
    "chaosk8s.pod.actions.delete_pods": (_ns(CORE, "pods", "list", "delete"),),
    "chaosk8s.pod.actions.exec_in_pods": (_ns(CORE, "pods", *READ),
                                          _ns(CORE, "pods/exec", "create", "get")),
    **{f"chaosk8s.pod.probes.{f}": (_ns(CORE, "pods", *READ),) for f in (
        "all_pods_healthy", "count_min_pods", "count_pods", "pod_is_not_available",
        "pods_in_conditions", "pods_in_phase", "pods_not_in_phase")},
    "chaosk8s.pod.probes.read_pod_logs": (_ns(CORE, "pods", *READ), _ns(CORE, "pods/log", "get")),
    "chaosk8s.pod.probes.should_be_found_in_logs": (),  # reads the value another probe returned
    # nodes
    "chaosk8s.node.actions.cordon_node": (_NODES_PATCH,),
    "chaosk8s.node.actions.uncordon_node": (_NODES_PATCH,),
    "chaosk8s.node.actions.drain_nodes": (_NODES_PATCH, _cluster(CORE, "pods", *READ),
                                          _cluster(CORE, "pods/eviction", "create")),
    "chaosk8s.node.actions.delete_nodes": (_cluster(CORE, "nodes", "list", "delete"),
                                           _cluster(CORE, "pods", *READ)),
    "chaosk8s.node.actions.create_node": (_cluster(CORE, "nodes", "get", "create", "delete"),),
    **{f"chaosk8s.node.probes.{f}": (_cluster(CORE, "nodes", *READ),) for f in (
        "all_nodes_must_be_ready_to_schedule", "get_all_node_status_conditions", "get_nodes",
        "nodes_must_be_healthy", "verify_nodes_condition")},
    # deployments
    "chaosk8s.deployment.actions.create_deployment": (
        _ns(APPS, "deployments", "get", "list", "create", "delete"),),
    # count: deployments list (by name, label or all), then the pods of each one
    "chaosk8s.deployment.actions.delete_deployment": (
        _ns(APPS, "deployments", "list", "delete"), _PODS_COUNT),
    # count: get the deployment (its selector), list its pods
    "chaosk8s.deployment.actions.scale_deployment": (_DEPLOY_SCALE, _PODS_COUNT),
    "chaosk8s.deployment.actions.rollout_deployment": (_ns(APPS, "deployments", "get", "patch"),),
    **{f"chaosk8s.deployment.probes.{f}": (_ns(APPS, "deployments", *WATCH),) for f in (
        "deployment_available_and_healthy", "deployment_fully_available",
        "deployment_not_fully_available", "deployment_partially_available")},
    # the older top-level module
    "chaosk8s.actions.kill_microservice": (_ns(APPS, "deployments", "list", "delete"),
                                           _ns(APPS, "replicasets", "list", "delete"),
                                           _ns(CORE, "pods", "list", "delete")),
    "chaosk8s.actions.scale_microservice": (_DEPLOY_SCALE, _PODS_COUNT),
    "chaosk8s.actions.start_microservice": (
        _ns(APPS, "deployments", "get", "list", "create", "delete"),),
    # count: get the service (its selector), list the pods it selects
    "chaosk8s.actions.remove_service_endpoint": (_ns(CORE, "services", "get", "delete"),
                                                 _PODS_COUNT),
    "chaosk8s.probes.all_microservices_healthy": (_ns(CORE, "pods", *READ),),
    "chaosk8s.probes.microservice_available_and_healthy": (_ns(APPS, "deployments", *READ),),
    "chaosk8s.probes.microservice_is_not_available": (_ns(CORE, "pods", *READ),),
    "chaosk8s.probes.service_endpoint_is_initialized": (_ns(CORE, "services", *READ),),
    "chaosk8s.probes.deployment_is_fully_available": (_ns(APPS, "deployments", *WATCH),),
    "chaosk8s.probes.deployment_is_not_fully_available": (_ns(APPS, "deployments", *WATCH),),
    # statefulsets, replicasets, daemonsets, services
    "chaosk8s.statefulset.actions.scale_statefulset": (
        _ns(APPS, "statefulsets", "get", "patch"),),
    "chaosk8s.statefulset.actions.remove_statefulset": (
        _ns(APPS, "statefulsets", "list", "delete"),),
    "chaosk8s.statefulset.actions.create_statefulset": (
        _ns(APPS, "statefulsets", "get", "list", "create", "delete"),),
    "chaosk8s.statefulset.probes.statefulset_fully_available": (
        _ns(APPS, "statefulsets", *WATCH),),
    "chaosk8s.statefulset.probes.statefulset_not_fully_available": (
        _ns(APPS, "statefulsets", *WATCH),),
    "chaosk8s.replicaset.actions.delete_replica_set": (
        _ns(APPS, "replicasets", "list", "delete"), _PODS_COUNT),
    "chaosk8s.daemonset.actions.create_daemon_set": (
        _ns(APPS, "daemonsets", "get", "list", "create", "delete"),),
    "chaosk8s.daemonset.actions.delete_daemon_set": (_ns(APPS, "daemonsets", "list", "delete"),),
    "chaosk8s.daemonset.actions.update_daemon_set": (_ns(APPS, "daemonsets", "get", "patch"),),
    "chaosk8s.service.actions.create_service_endpoint": (
        _ns(CORE, "services", "get", "list", "create", "delete"),),
    "chaosk8s.service.actions.delete_service": (_ns(CORE, "services", "get", "list", "delete"),
                                                _PODS_COUNT),
    "chaosk8s.service.probes.service_is_initialized": (_ns(CORE, "services", *READ),),
    "chaosk8s.event.probes.get_events": (_ns(CORE, "events", *READ),),
    # network policies and ingresses
    **{f"chaosk8s.networking.actions.{f}": (_POLICY,) for f in (
        "create_network_policy", "remove_network_policy", "deny_all_ingress",
        "remove_deny_all_ingress", "deny_all_egress", "remove_deny_all_egress",
        "allow_dns_access", "remove_allow_dns_access")},
    "chaosk8s.networking.actions.create_ingress": (
        _ns(NET, "ingresses", "get", "list", "create", "delete"),),
    "chaosk8s.networking.actions.delete_ingress": (_ns(NET, "ingresses", "list", "delete"),),
    "chaosk8s.networking.actions.update_ingress": (_ns(NET, "ingresses", "get", "patch"),),
    "chaosk8s.networking.probes.ingress_exists": (_ns(NET, "ingresses", *READ),),
    # Chaos Mesh (through the CRD actions; deleting the resource is the revert); the count's
    # pods list in the selector's namespaces is added per step (_mesh_pod_namespaces)
    **{f"chaosk8s.chaosmesh.network.actions.{f}": (
        _ns(MESH, "networkchaos", "get", "list", "create", "delete"),) for f in (
        "add_latency", "set_loss", "duplicate_packets", "corrupt_packets", "reorder_packets",
        "set_bandwidth", "delete_network_fault")},
    "chaosk8s.chaosmesh.network.probes.get_network_fault": (_ns(MESH, "networkchaos", *READ),),
    "chaosk8s.chaosmesh.network.probes.get_network_faults": (_ns(MESH, "networkchaos", *READ),),
    **{f"chaosk8s.chaosmesh.stress.actions.{f}": (
        _ns(MESH, "stresschaos", "get", "list", "create", "delete"),) for f in (
        "stress_cpu", "stress_memory", "delete_stressor")},
    "chaosk8s.chaosmesh.stress.probes.get_stressor": (_ns(MESH, "stresschaos", *READ),),
    "chaosk8s.chaosmesh.stress.probes.get_stressors": (_ns(MESH, "stresschaos", *READ),),
}

# generic custom-object functions: the group and plural come from the step's own arguments
CRD_VERBS: Final[dict[str, tuple[tuple[str, ...], bool]]] = {
    "create_custom_object": (("get", "list", "create", "delete"), False),
    "delete_custom_object": (("get", "list", "delete"), False),
    "patch_custom_object": (("get", "patch"), False),
    "replace_custom_object": (("get", "update"), False),
    "get_custom_object": (READ, False),
    "list_custom_objects": (READ, False),
    "create_cluster_custom_object": (("get", "list", "create", "delete"), True),
    "delete_cluster_custom_object": (("get", "list", "delete"), True),
    "patch_cluster_custom_object": (("get", "patch"), True),
    "replace_cluster_custom_object": (("get", "update"), True),
    "get_cluster_custom_object": (READ, True),
    "list_cluster_custom_objects": (READ, True),
}
_TEMPLATE = re.compile(r"\$\{([^}]+)\}")
DEFAULT_NS = "default"  # chaosk8s's own default for `ns`


@dataclass(frozen=True)
class Rules:
    """Namespaced rules by namespace, and cluster-scoped rules (nodes, cluster objects)."""

    namespaced: dict[str, list[dict[str, Any]]]
    cluster: list[dict[str, Any]]

    def all_rules(self) -> list[dict[str, Any]]:
        return [r for rules in self.namespaced.values() for r in rules] + self.cluster


def _configured(experiment: dict[str, Any], value: Any, where: str) -> Any:
    """A `${key}` argument filled from the experiment's configuration (a value, or an env
    entry's default): the permission must name what the step will really touch."""
    if not isinstance(value, str) or "${" not in value:
        return value
    config = experiment.get("configuration")
    config = config if isinstance(config, dict) else {}

    def fill(match: re.Match[str]) -> str:
        entry = config.get(match.group(1))
        if isinstance(entry, dict):
            entry = entry.get("default")
        if entry is None or isinstance(entry, (dict, list)):
            raise InputError(f"{where}: cannot derive RBAC rules: {match.group(0)} has no "
                             "value or default in the experiment's configuration")
        return str(entry)

    return _TEMPLATE.sub(fill, value)


def _crd_grant(func: str, args: dict[str, Any], experiment: dict[str, Any], where: str
               ) -> Grant:
    verbs, cluster = CRD_VERBS[func]
    group = _configured(experiment, args.get("group"), where)
    plural = _configured(experiment, args.get("plural"), where)
    if not (isinstance(group, str) and group and isinstance(plural, str) and plural):
        raise InputError(f"{where}: cannot derive RBAC rules: {func} needs literal 'group' and "
                         "'plural' arguments")
    return (group, plural, verbs, cluster)


def _grants(full: str, args: dict[str, Any], experiment: dict[str, Any], where: str
            ) -> tuple[Grant, ...]:
    if full in TABLE:
        return TABLE[full]
    module, _, func = full.rpartition(".")
    if module in ("chaosk8s.crd.actions", "chaosk8s.crd.probes") and func in CRD_VERBS:
        return (_crd_grant(func, args, experiment, where),)
    raise InputError(f"{where}: chaosk8s function {quoted(full)} has no RBAC mapping; "
                     "chaos-suite schedule cannot derive its permissions")


# ---------------------------------------------------------------- Chaos Mesh

MESH_MODULE: Final = chaosmesh.__name__  # chaos_suite.faults.chaosmesh
_SWEEP, _EXACT = "delete_chaos_resources", chaosmesh.EXACT_REVERT
# arguments of a Chaos Mesh step that decide where it acts and what it lists (the rest, like a
# latency, is filled only at run time and does not change the permissions)
_PLACE_ARGS: Final = ("ns", "namespaces", "direction", "namespaces_selectors",
                      "target_namespaces_selectors", "group", "plural")
_PLACE_SPEC: Final = ("selector", "target", "direction")
# chaosk8s modules whose steps may create a Chaos Mesh resource the blast-radius count reads
_CREATES_MESH: Final = ("chaosk8s.chaosmesh.", "chaosk8s.crd.")


def _filled(experiment: dict[str, Any], value: Any, where: str) -> Any:
    """`value` with every `${key}` string (mapping keys too) filled as `_configured` does."""
    if isinstance(value, dict):
        return {_configured(experiment, k, where): _filled(experiment, v, where)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(experiment, v, where) for v in value]
    return _configured(experiment, value, where)


def _placed(args: dict[str, Any], experiment: dict[str, Any], where: str, *names: str
            ) -> dict[str, Any]:
    """The step's arguments with those that place it (and `names`) filled from the
    configuration; of an inline `resource`, its kind, metadata and spec's selector, target and
    direction."""
    out = dict(args)
    for key in (*_PLACE_ARGS, *names):
        if key in out:
            out[key] = _filled(experiment, out[key], where)
    resource = out.get("resource")
    if isinstance(resource, dict):
        resource = dict(resource)
        for key in ("kind", "apiVersion", "metadata"):
            if key in resource:
                resource[key] = _filled(experiment, resource[key], where)
        spec = resource.get("spec")
        if isinstance(spec, dict):
            resource["spec"] = {k: _filled(experiment, v, where) if k in _PLACE_SPEC else v
                                for k, v in spec.items()}
        out["resource"] = resource
    return out


def _mesh_pod_namespaces(ns: str, spec: dict[str, Any]) -> list[str]:
    """The namespaces whose pods the blast-radius count lists for a Chaos Mesh spec, as
    k8s_radius._mesh / _selected_pods read them: of the selector (and of the target when the
    direction is from/both), the namespaces of `pods` if given, else `namespaces`, else `ns`."""
    parts = [spec]
    target = spec.get("target")
    if isinstance(target, dict) and str(spec.get("direction") or "to") in ("from", "both"):
        parts.append(target)
    found: list[str] = []
    for part in parts:
        selector = part.get("selector")
        selector = selector if isinstance(selector, dict) else {}
        pods = selector.get("pods")
        if isinstance(pods, dict) and pods:
            found += [str(k) for k in pods]
        else:
            found += k8s_radius._listed(selector.get("namespaces")) or [ns]
    return found


def _counted(provider: dict[str, Any], args: dict[str, Any], where: str
             ) -> list[tuple[str, Grant]]:
    """pods list in every namespace the blast-radius count reads for a step creating a Chaos
    Mesh resource (none for any other step)."""
    try:
        found = k8s_radius.chaos_mesh_resource(provider, args)
    except Exception as exc:  # noqa: BLE001 - an unreadable resource file, a bad selector
        raise InputError(f"{where}: cannot derive RBAC rules: cannot read the Chaos Mesh "
                         f"resource it creates ({type(exc).__name__}: {exc})") from None
    if found is None:
        return []
    ns, spec = found
    return [(pod_ns, _PODS_COUNT) for pod_ns in _mesh_pod_namespaces(ns, spec)]


def _mesh_plural(value: Any, what: str, where: str) -> str:
    if not isinstance(value, str) or value not in chaosmesh.KINDS.values():
        raise InputError(f"{where}: cannot derive RBAC rules: {what} {value!r} is not the "
                         "plural of a Chaos Mesh kind chaos_suite knows "
                         f"({', '.join(chaosmesh.KINDS.values())})")
    return value


def _mesh_grants(func: str, args: dict[str, Any], where: str) -> list[tuple[str, Grant]]:
    """(namespace, grant) of a chaos_suite.faults.chaosmesh step (`args` placed): a creation
    creates its plural in `ns` and its exact revert (delete_chaos_resource) gets and deletes
    it; delete_chaos_resource gets and deletes; the run-label sweep (delete_chaos_resources)
    lists every plural of KINDS (a 403 on one fails it) and deletes what it finds, in `ns` or,
    without one, across the cluster."""
    ns = str(args.get("ns") or DEFAULT_NS)
    if func in chaosmesh.REVERTS:
        if func == "create_chaos_resource":
            resource = args.get("resource")
            kind = resource.get("kind") if isinstance(resource, dict) else None
            if kind not in chaosmesh.KINDS:
                raise InputError(f"{where}: cannot derive RBAC rules: create_chaos_resource "
                                 f"needs a resource whose kind is a Chaos Mesh kind "
                                 f"chaos_suite knows ({', '.join(chaosmesh.KINDS)}), not "
                                 f"{kind!r}")
        exact = chaosmesh.revert_of(func, {**args, "ns": ns})
        if exact is None:  # the revert would be the sweep across the cluster: name it
            raise InputError(f"{where}: cannot derive RBAC rules: {func} needs a literal "
                             "name (metadata.name of create_chaos_resource's resource): its "
                             "revert deletes exactly that resource")
        plural = str(exact["arguments"]["plural"])
        return [(ns, _ns(MESH, plural, "create")), *_mesh_grants(_EXACT, exact["arguments"],
                                                                 where)]
    if func == _EXACT:
        return [(ns, _ns(MESH, _mesh_plural(args.get("plural"), "plural", where),
                         "get", "delete"))]
    if func == _SWEEP:
        if args.get("ns"):
            return [(ns, _ns(MESH, plural, "list", "delete"))
                    for plural in chaosmesh.KINDS.values()]
        return [(ns, _cluster(MESH, plural, "list", "delete"))
                for plural in chaosmesh.KINDS.values()]
    raise InputError(f"{where}: {MESH_MODULE} function {quoted(func)} has no RBAC mapping; "
                     "chaos-suite schedule cannot derive its permissions")


def step_grants(provider: dict[str, Any], experiment: dict[str, Any], where: str
                ) -> list[tuple[str, Grant]]:
    """(namespace, grant) of one step (the namespace is ignored for a cluster-scoped grant):
    a chaosk8s or chaos_suite.faults.chaosmesh python step, with what its revert and the
    blast-radius count need; nothing for any other step."""
    module = str(provider.get("module", ""))
    if provider.get("type") != "python" or not (module.startswith("chaosk8s")
                                                or module == MESH_MODULE):
        return []
    func = str(provider.get("func", ""))
    raw = provider.get("arguments") or {}
    args: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if module == MESH_MODULE:
        placed = _placed(args, experiment, where, "name")  # the exact revert names it
        return _mesh_grants(func, placed, where) + _counted(provider, placed, where)
    grants = _grants(f"{module}.{func}", args, experiment, where)
    ns = str(_configured(experiment, args.get("ns", DEFAULT_NS), where)) \
        if any(not g[3] for g in grants) else DEFAULT_NS
    placed_grants = [(ns, g) for g in grants]
    if module.startswith(_CREATES_MESH):  # raw chaosk8s Chaos Mesh or CRD creations
        placed_grants += _counted(provider, _placed(args, experiment, where), where)
    return placed_grants


def _merge(rules: dict[tuple[str, str], set[str]], grant: Grant) -> None:
    group, resource, verbs, _ = grant
    rules.setdefault((group, resource), set()).update(verbs)


def _as_rules(merged: dict[tuple[str, str], set[str]]) -> list[dict[str, Any]]:
    return [{"apiGroups": [group], "resources": [resource], "verbs": sorted(verbs)}
            for (group, resource), verbs in sorted(merged.items())]


def derive_rules(resolved: ResolvedPlan, extra_namespaces: Iterable[str] = ()) -> Rules:
    """The rules of every chaosk8s and chaos_suite.faults.chaosmesh step of every scenario
    (actions, probes, rollbacks), with the reads of the blast-radius count."""
    by_ns: dict[str, dict[tuple[str, str], set[str]]] = {ns: {} for ns in extra_namespaces}
    cluster: dict[tuple[str, str], set[str]] = {}
    for scenario in resolved.scenarios:
        for step in experiment_steps(scenario.experiment):
            where = f"scenario {quoted(scenario.name)}: {step.label}"
            for ns, grant in step_grants(step.provider, scenario.experiment, where):
                _merge(cluster if grant[3] else by_ns.setdefault(ns, {}), grant)
    return Rules({ns: _as_rules(rules) for ns, rules in sorted(by_ns.items())},
                 _as_rules(cluster))
