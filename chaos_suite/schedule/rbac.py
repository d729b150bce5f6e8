"""RBAC rules a scheduled run needs, derived from the plan's chaosk8s steps: each function maps
onto exact API groups, resources and verbs (never `*`), plus what `recover` needs to undo it
(get/list/delete of what was created, patch of what was changed). An unknown chaosk8s function
is refused: granting it something guessed would be either too little or too much."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from chaos_suite.errors import InputError
from chaos_suite.files.loader import ResolvedPlan
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
    "chaosk8s.deployment.actions.delete_deployment": (
        _ns(APPS, "deployments", "list", "delete"),),
    "chaosk8s.deployment.actions.scale_deployment": (_DEPLOY_SCALE,),
    "chaosk8s.deployment.actions.rollout_deployment": (_ns(APPS, "deployments", "get", "patch"),),
    **{f"chaosk8s.deployment.probes.{f}": (_ns(APPS, "deployments", *WATCH),) for f in (
        "deployment_available_and_healthy", "deployment_fully_available",
        "deployment_not_fully_available", "deployment_partially_available")},
    # the older top-level module
    "chaosk8s.actions.kill_microservice": (_ns(APPS, "deployments", "list", "delete"),
                                           _ns(APPS, "replicasets", "list", "delete"),
                                           _ns(CORE, "pods", "list", "delete")),
    "chaosk8s.actions.scale_microservice": (_DEPLOY_SCALE,),
    "chaosk8s.actions.start_microservice": (
        _ns(APPS, "deployments", "get", "list", "create", "delete"),),
    "chaosk8s.actions.remove_service_endpoint": (_ns(CORE, "services", "delete"),),
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
        _ns(APPS, "replicasets", "list", "delete"),),
    "chaosk8s.daemonset.actions.create_daemon_set": (
        _ns(APPS, "daemonsets", "get", "list", "create", "delete"),),
    "chaosk8s.daemonset.actions.delete_daemon_set": (_ns(APPS, "daemonsets", "list", "delete"),),
    "chaosk8s.daemonset.actions.update_daemon_set": (_ns(APPS, "daemonsets", "get", "patch"),),
    "chaosk8s.service.actions.create_service_endpoint": (
        _ns(CORE, "services", "get", "list", "create", "delete"),),
    "chaosk8s.service.actions.delete_service": (_ns(CORE, "services", "list", "delete"),),
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
    # Chaos Mesh (through the CRD actions; deleting the resource is the revert)
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


def _merge(rules: dict[tuple[str, str], set[str]], grant: Grant) -> None:
    group, resource, verbs, _ = grant
    rules.setdefault((group, resource), set()).update(verbs)


def _as_rules(merged: dict[tuple[str, str], set[str]]) -> list[dict[str, Any]]:
    return [{"apiGroups": [group], "resources": [resource], "verbs": sorted(verbs)}
            for (group, resource), verbs in sorted(merged.items())]


def derive_rules(resolved: ResolvedPlan, extra_namespaces: Iterable[str] = ()) -> Rules:
    """The rules of every chaosk8s step of every scenario (actions, probes, rollbacks)."""
    by_ns: dict[str, dict[tuple[str, str], set[str]]] = {ns: {} for ns in extra_namespaces}
    cluster: dict[tuple[str, str], set[str]] = {}
    for scenario in resolved.scenarios:
        for step in experiment_steps(scenario.experiment):
            provider = step.provider
            module = str(provider.get("module", ""))
            if provider.get("type") != "python" or not module.startswith("chaosk8s"):
                continue
            full = f"{module}.{provider.get('func', '')}"
            args = provider.get("arguments") or {}
            args = args if isinstance(args, dict) else {}
            where = f"scenario {quoted(scenario.name)}: {step.label}"
            for grant in _grants(full, args, scenario.experiment, where):
                if grant[3]:
                    _merge(cluster, grant)
                    continue
                ns = _configured(scenario.experiment, args.get("ns", DEFAULT_NS), where)
                _merge(by_ns.setdefault(str(ns), {}), grant)
    return Rules({ns: _as_rules(rules) for ns, rules in sorted(by_ns.items())},
                 _as_rules(cluster))
