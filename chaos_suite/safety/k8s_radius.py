"""Kubernetes blast radius counted through the API: which pods or nodes each Kubernetes action
of an experiment would hit, read from the cluster before anything runs (list and read requests
only; nothing is mutated).

Pods (`terminate_pods`, `delete_pods`): selected as chaosk8s selects them: the pods of `ns`
(default "default") matching `label_selector`, then `name_pattern`, then `all` / `qty` (mode
fixed or percentage, rounded up) in name order (`order: oldest`: creation order); with `rand`
the names are a random draw of that many. The denominator of a fraction is the pods of `ns`
matching the step's `label_selector` (every pod of `ns` without one): the workload it aims at.

Chaos Mesh (chaos_suite.faults.chaosmesh, chaosk8s.chaosmesh network/stress actions, and
chaosk8s.crd creations of a Chaos Mesh kind): the pods its `selector` picks as Chaos Mesh picks
them (`pods`, else `namespaces` (default: the resource's namespace), `labelSelectors`,
`expressionSelectors`, `fieldSelectors`, `annotationSelectors`, `podPhaseSelectors`; a
selector this module does not read, like `nodeSelectors`, is not narrowed by: more pods, not
fewer), then `mode` as Chaos Mesh's FilterObjectsByMode (pkg/selector/generic/mode.go): one: 1
at random; all; fixed N: N at random (all if N >= candidates); fixed-percent P: floor(P% of the
candidates) at random; random-max-percent P: at most floor(P% of the candidates), at random. A
NetworkChaos whose direction is `from` or `both` acts on its `target` pods too: they count.
The denominator is the candidates.

Workloads: `scale_deployment` / `scale_microservice` to N removes (pods of the deployment - N)
of the deployment's pods (the pods its spec.selector matches), at random: the ReplicaSet
controller picks them; denominator: the deployment's pods. `delete_deployment` /
`delete_replica_set` (by name, else label_selector, else every one of `ns`) hit every pod of
what they delete; `kill_microservice` adds the deployments, replica sets and pods named `name`
(its default label_selector, the unformatted "name in ({name})", is read as meant:
name in (<name>), more pods rather than fewer); `remove_service_endpoint` / `delete_service`:
the pods the service selects lose their endpoint.

Nodes (`cordon_node`, `drain_nodes`, `delete_nodes`): by `name` and/or `label_selector`
(`count`: that many at random); the denominator is every node of the cluster.

kubernetes and chaosk8s are imported inside functions only."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from chaos_suite.faults.chaosmesh import GROUP as MESH_GROUP
from chaos_suite.faults.chaosmesh import KINDS as MESH_KINDS

REQUEST_TIMEOUT_S = 10
POD_ACTIONS = frozenset({"chaosk8s.pod.actions.terminate_pods",
                         "chaosk8s.pod.actions.delete_pods"})
NODE_ACTIONS = frozenset({"chaosk8s.node.actions.cordon_node",
                          "chaosk8s.node.actions.drain_nodes",
                          "chaosk8s.node.actions.delete_nodes"})
SCALE_ACTIONS = frozenset({"chaosk8s.deployment.actions.scale_deployment",
                           "chaosk8s.actions.scale_microservice"})
WORKLOAD_ACTIONS = SCALE_ACTIONS | frozenset({
    "chaosk8s.deployment.actions.delete_deployment",
    "chaosk8s.replicaset.actions.delete_replica_set",
    "chaosk8s.actions.kill_microservice",
    "chaosk8s.actions.remove_service_endpoint",
    "chaosk8s.service.actions.delete_service",
})
MESH_MODULE = "chaos_suite.faults.chaosmesh"
MESH_FUNCS = frozenset({"add_latency", "set_loss", "set_bandwidth", "stress_cpu",
                        "stress_memory", "create_chaos_resource"})
_MESH_KIND = {"add_latency": "NetworkChaos", "set_loss": "NetworkChaos",
              "set_bandwidth": "NetworkChaos", "stress_cpu": "StressChaos",
              "stress_memory": "StressChaos"}
RAW_MESH = {"chaosk8s.chaosmesh.network.actions": "NetworkChaos",
            "chaosk8s.chaosmesh.stress.actions": "StressChaos"}
CRD_CREATES = frozenset({"chaosk8s.crd.actions.create_custom_object",
                         "chaosk8s.crd.actions.apply_from_json",
                         "chaosk8s.crd.actions.apply_from_yaml"})


@dataclass
class Hits:
    """What one step would hit: `names` exactly, or (`random`) `count` of `candidates`."""

    what: Literal["pods", "nodes"]
    count: int
    names: list[str]  # "ns/name" for pods
    candidates: list[str]  # those the selection draws from
    denominator: list[str]  # the workload (pods) or the cluster (nodes)
    random: bool = False
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.random:
            text = (f"{self.count} {self.what} at random of {len(self.candidates)} "
                    f"({', '.join(self.candidates) or 'none'})")
        else:
            text = f"{self.count} {self.what} ({', '.join(self.names) or 'none'})"
        return text + "".join(f"; {n}" for n in self.notes)


def _full(provider: dict[str, Any]) -> str:
    return f"{provider.get('module', '')}.{provider.get('func', '')}"


def countable(provider: dict[str, Any]) -> bool:
    """A Kubernetes action whose hits this module counts: chaosk8s pod, node and workload
    actions, and every step creating a Chaos Mesh resource."""
    if provider.get("type") != "python":
        return False
    full = _full(provider)
    if full in POD_ACTIONS | NODE_ACTIONS | WORKLOAD_ACTIONS:
        return True
    args = provider.get("arguments")
    return chaos_mesh_resource(provider, args if isinstance(args, dict) else {}) is not None


def api_client(context: str | None = None) -> Any:
    """A client for `context` of the kubeconfig ($KUBECONFIG or ~/.kube/config), else the way
    chaosk8s builds its own (in-cluster, then the kubeconfig's current context)."""
    if context:
        from kubernetes import config

        return config.new_client_from_config(context=context)  # type: ignore[no-untyped-call]
    from chaosk8s import create_k8s_api_client

    return create_k8s_api_client()


def _name(obj: Any) -> str:
    return str(obj.metadata.name) if obj.metadata is not None else ""


def _created(obj: Any) -> Any:
    return obj.metadata.creation_timestamp if obj.metadata is not None else None


def _pods(core: Any, args: dict[str, Any], func: str) -> Hits:
    ns = str(args.get("ns") or "default")
    if func == "delete_pods":  # chaosk8s: terminate_pods(name_pattern=name, ...) defaults
        args = {"name_pattern": args.get("name"), "label_selector": args.get("label_selector")}
    selector = str(args.get("label_selector") or "")
    listed = core.list_namespaced_pod(ns, label_selector=selector,
                                      _request_timeout=REQUEST_TIMEOUT_S).items
    pods = sorted(listed, key=_name)
    if args.get("order") == "oldest":
        pods.sort(key=lambda p: (_created(p) is None, _created(p) or 0))
    denominator = [f"{ns}/{_name(p)}" for p in pods]
    if args.get("name_pattern"):
        pattern = re.compile(str(args["name_pattern"]))
        pods = [p for p in pods if pattern.search(_name(p))]
    candidates = [f"{ns}/{_name(p)}" for p in pods]
    if args.get("all") is True:
        return Hits("pods", len(candidates), candidates, candidates, denominator)
    qty = int(args.get("qty", 1))
    if args.get("mode", "fixed") == "percentage":
        qty = math.ceil(qty * len(candidates) / 100)
    qty = max(0, min(qty, len(candidates)))
    if args.get("rand"):
        return Hits("pods", qty, [], candidates, denominator, random=True)
    return Hits("pods", qty, candidates[:qty], candidates, denominator)


def _nodes(core: Any, args: dict[str, Any]) -> Hits:
    every = sorted((n for n in core.list_node(_request_timeout=REQUEST_TIMEOUT_S).items),
                   key=_name)
    selector = str(args.get("label_selector") or "")
    chosen = (core.list_node(label_selector=selector, _request_timeout=REQUEST_TIMEOUT_S).items
              if selector else every)
    names = sorted(_name(n) for n in chosen
                   if not args.get("name") or _name(n) == str(args["name"]))
    denominator = [_name(n) for n in every]
    count = args.get("count")
    if count is not None and int(count) < len(names):
        return Hits("nodes", int(count), [], names, denominator, random=True)
    return Hits("nodes", len(names), names, names, denominator)


# ---------------------------------------------------------------- Chaos Mesh


def _pairs(value: Any) -> dict[str, str]:
    """A "k=v,k2=v2" string (as chaosk8s accepts) or a mapping, as a mapping."""
    if isinstance(value, str):
        return dict(p.split("=", 1) for p in value.split(",") if "=" in p)
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _listed(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value] if isinstance(value, list) else []


def _raw_selector(args: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The selector chaosk8s.chaosmesh builds from its *_selectors arguments."""
    selector: dict[str, Any] = {}
    if args.get(f"{prefix}namespaces_selectors"):
        selector["namespaces"] = _listed(args[f"{prefix}namespaces_selectors"])
    if args.get(f"{prefix}label_selectors"):
        selector["labelSelectors"] = _pairs(args[f"{prefix}label_selectors"])
    if args.get(f"{prefix}annotations_selectors"):
        selector["annotationSelectors"] = _pairs(args[f"{prefix}annotations_selectors"])
    return selector


def _crd_body(func: str, args: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(namespace, body) of a chaosk8s.crd creation of a Chaos Mesh kind, else None."""
    body: Any = None
    if func == "create_custom_object":
        if str(args.get("group", "")) != MESH_GROUP or \
                str(args.get("plural", "")) not in MESH_KINDS.values():
            return None
        body = args.get("resource")
        path = args.get("resource_as_yaml_file")
        if body is None and path:
            from chaos_suite.faults.kubernetes import _load_spec

            body = _load_spec({"spec_path": path}, key="resource")
        return str(args.get("ns") or "default"), body if isinstance(body, dict) else {}
    text = args.get("resource")
    if not isinstance(text, str):
        return None
    try:
        if func == "apply_from_json":
            body = json.loads(text)
        else:
            from chaos_suite.faults.kubernetes import _one_yaml_document

            body = _one_yaml_document(text)
    except Exception:  # noqa: BLE001 - not readable: the action fails on it the same way
        return None
    if not isinstance(body, dict) or str(body.get("kind")) not in MESH_KINDS or \
            not str(body.get("apiVersion", "")).startswith(f"{MESH_GROUP}/"):
        return None
    meta = body.get("metadata")
    ns = meta.get("namespace") if isinstance(meta, dict) else None
    return str(ns or "default"), body


def chaos_mesh_resource(provider: dict[str, Any], args: dict[str, Any]
                        ) -> tuple[str, dict[str, Any]] | None:
    """(namespace, spec) of the Chaos Mesh resource a step creates, as the function it calls
    builds it from `args`; None if the step creates none."""
    if provider.get("type") != "python":
        return None
    module, func = str(provider.get("module", "")), str(provider.get("func", ""))
    ns = str(args.get("ns") or "default")
    if module == MESH_MODULE and func in MESH_FUNCS:
        if func == "create_chaos_resource":
            resource = args.get("resource")
            body = resource.get("spec") if isinstance(resource, dict) else None
            return ns, dict(body) if isinstance(body, dict) else {}
        from chaos_suite.faults.chaosmesh import _selector

        labels = args.get("label_selectors")
        namespaces = args.get("namespaces")
        return ns, {"selector": _selector(ns, labels if isinstance(labels, (dict, str)) else None,
                                          _listed(namespaces) or None),
                    "mode": args.get("mode") or "one", "value": args.get("mode_value"),
                    "direction": args.get("direction") or "to"}
    if module in RAW_MESH and not func.startswith("delete_"):
        spec: dict[str, Any] = {"selector": _raw_selector(args),
                                "mode": args.get("mode") or "one",
                                "value": args.get("mode_value"),
                                "direction": args.get("direction") or "to"}
        target = _raw_selector(args, "target_")
        if target:
            spec["target"] = {"selector": target, "mode": args.get("target_mode") or "one",
                              "value": args.get("target_mode_value")}
        return ns, spec
    if f"{module}.{func}" in CRD_CREATES:
        found = _crd_body(func, args)
        if found is None:
            return None
        res_ns, crd = found
        crd_spec = crd.get("spec")
        return res_ns, dict(crd_spec) if isinstance(crd_spec, dict) else {}
    return None


def mesh_namespaces(provider: dict[str, Any], args: dict[str, Any]) -> list[str]:
    """The namespaces a Chaos Mesh creating step acts in: the resource's, its selector's (and
    its target's) `namespaces` and the namespaces of its `pods` (none for any other step)."""
    found = chaos_mesh_resource(provider, args)
    if found is None:
        return []
    ns, spec = found
    names = [ns]
    target = spec.get("target")
    for part in (spec.get("selector"), target.get("selector") if isinstance(target, dict)
                 else None):
        if isinstance(part, dict):
            names += _listed(part.get("namespaces"))
            pods = part.get("pods")
            names += [str(k) for k in pods] if isinstance(pods, dict) else []
    return names


def _expressions(value: Any) -> list[str]:
    terms = []
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, dict):
            continue
        key, op, values = str(item.get("key")), str(item.get("operator")), item.get("values")
        listed = ",".join(str(v) for v in values or [])
        terms.append({"In": f"{key} in ({listed})", "NotIn": f"{key} notin ({listed})",
                      "Exists": key, "DoesNotExist": f"!{key}"}.get(op, key))
    return terms


def _selected_pods(core: Any, ns: str, selector: dict[str, Any]) -> list[str]:
    """"ns/name" of the pods a Chaos Mesh PodSelectorSpec matches, in name order."""
    pods = selector.get("pods")
    if isinstance(pods, dict) and pods:
        found = []
        for pod_ns, names in pods.items():
            listed = core.list_namespaced_pod(str(pod_ns), _request_timeout=REQUEST_TIMEOUT_S)
            wanted = {str(n) for n in names or []}
            found += [f"{pod_ns}/{_name(p)}" for p in listed.items if _name(p) in wanted]
        return sorted(found)
    labels = [f"{k}={v}" for k, v in _pairs(selector.get("labelSelectors")).items()]
    labels += _expressions(selector.get("expressionSelectors"))
    fields = ",".join(f"{k}={v}" for k, v in _pairs(selector.get("fieldSelectors")).items())
    annotations = _pairs(selector.get("annotationSelectors"))
    phases = set(_listed(selector.get("podPhaseSelectors")))
    found = []
    for pod_ns in _listed(selector.get("namespaces")) or [ns]:
        listed = core.list_namespaced_pod(pod_ns, label_selector=",".join(labels),
                                          field_selector=fields,
                                          _request_timeout=REQUEST_TIMEOUT_S)
        for pod in listed.items:
            meta_annotations = dict((pod.metadata.annotations if pod.metadata else None) or {})
            phase = pod.status.phase if pod.status is not None else None
            if any(meta_annotations.get(k) != v for k, v in annotations.items()):
                continue
            if phases and phase not in phases:
                continue
            found.append(f"{pod_ns}/{_name(pod)}")
    return sorted(set(found))


def _percent(value: Any, mode: str) -> int:
    percent = int(str(value))
    if not 0 < percent <= 100:
        raise ValueError(f"mode {mode} needs a value in (0, 100], not {value!r}")
    return percent


def mode_count(mode: str, value: Any, candidates: int) -> tuple[int, bool]:
    """(how many of `candidates` Chaos Mesh picks, whether at random), as its
    FilterObjectsByMode does; random-max-percent: the most it can pick. ValueError for a mode
    or value Chaos Mesh refuses."""
    if candidates == 0:
        return 0, False
    if mode == "all":
        return candidates, False
    if mode == "one":
        return 1, candidates > 1
    if mode == "fixed":
        wanted = int(str(value))
        if wanted <= 0:
            raise ValueError(f"mode fixed needs a value above 0, not {value!r}")
        count = min(wanted, candidates)
    elif mode in ("fixed-percent", "random-max-percent"):
        count = math.floor(candidates * _percent(value, mode) / 100)  # Chaos Mesh: floor
    else:
        raise ValueError(f"mode {mode!r} is not a Chaos Mesh selector mode")
    return count, mode == "random-max-percent" or count < candidates


def _mesh_pick(core: Any, ns: str, part: dict[str, Any]) -> Hits:
    selector = part.get("selector")
    candidates = _selected_pods(core, ns, selector if isinstance(selector, dict) else {})
    if not part.get("mode"):  # Chaos Mesh refuses a resource without one: count every pod
        return Hits("pods", len(candidates), candidates, candidates, candidates,
                    notes=["no mode: counted as all"])
    mode = str(part.get("mode"))
    count, random = mode_count(mode, part.get("value"), len(candidates))
    if random:
        hits = Hits("pods", count, [], candidates, candidates, random=True)
        if mode == "random-max-percent":
            hits.notes.append(f"random-max-percent {part.get('value')}: at most {count}")
        return hits
    return Hits("pods", count, candidates[:count], candidates, candidates)


def _union(parts: list[Hits]) -> Hits:
    """Several selections one step makes (deleted together): exact names, and draws added."""
    exact = sorted({n for h in parts if not h.random for n in h.names})
    drawn = sum(h.count for h in parts if h.random)
    candidates = sorted({n for h in parts for n in h.candidates})
    denominator = sorted({n for h in parts for n in h.denominator})
    notes = [n for h in parts for n in h.notes]
    if drawn:
        pool = sorted({n for h in parts if h.random for n in h.candidates} | set(exact))
        return Hits("pods", min(len(exact) + drawn, len(pool)), [], pool, denominator,
                    random=True, notes=notes)
    return Hits("pods", len(exact), exact, candidates or exact, denominator, notes=notes)


def _mesh(core: Any, ns: str, spec: dict[str, Any]) -> Hits:
    parts = [_mesh_pick(core, ns, spec)]
    target = spec.get("target")
    if isinstance(target, dict) and str(spec.get("direction") or "to") in ("from", "both"):
        parts.append(_mesh_pick(core, ns, target))
    return parts[0] if len(parts) == 1 else _union(parts)


# ---------------------------------------------------------------- workloads


def _label_selector(selector: Any) -> str:
    """A V1LabelSelector (matchLabels, matchExpressions) as a label selector string."""
    if selector is None:
        return ""
    terms = [f"{k}={v}" for k, v in sorted((selector.match_labels or {}).items())]
    terms += _expressions([{"key": e.key, "operator": e.operator, "values": e.values}
                           for e in selector.match_expressions or []])
    return ",".join(terms)


def _pods_of(core: Any, ns: str, selector: str) -> list[str]:
    if not selector:  # an owner without a selector selects nothing (the API refuses it)
        return []
    listed = core.list_namespaced_pod(ns, label_selector=selector,
                                      _request_timeout=REQUEST_TIMEOUT_S).items
    return sorted(f"{ns}/{_name(p)}" for p in listed)


def _owners(list_func: Any, ns: str, name: Any, label_selector: Any) -> list[Any]:
    """Deployments / replica sets chaosk8s' delete_* select: by name, else label, else all."""
    from kubernetes.client.exceptions import ApiException

    try:
        if name:
            return list(list_func(ns, field_selector=f"metadata.name={name}",
                                  _request_timeout=REQUEST_TIMEOUT_S).items)
        if label_selector:
            return list(list_func(ns, label_selector=str(label_selector),
                                  _request_timeout=REQUEST_TIMEOUT_S).items)
        return list(list_func(ns, _request_timeout=REQUEST_TIMEOUT_S).items)
    except ApiException as exc:
        if exc.status == 404:  # the API serves no such resource: nothing to delete either
            return []
        raise


def _owned(core: Any, owners: list[Any], ns: str) -> Hits:
    pods = sorted({p for o in owners
                   for p in _pods_of(core, ns, _label_selector(o.spec.selector if o.spec
                                                               else None))})
    return Hits("pods", len(pods), pods, pods, pods)


def _scale(core: Any, apps: Any, args: dict[str, Any]) -> Hits:
    from kubernetes.client.exceptions import ApiException

    ns, name = str(args.get("ns") or "default"), str(args.get("name") or "")
    try:
        deployment = apps.read_namespaced_deployment(name, ns,
                                                     _request_timeout=REQUEST_TIMEOUT_S)
    except ApiException as exc:
        if exc.status == 404:
            return Hits("pods", 0, [], [], [], notes=[f"no deployment {ns}/{name}"])
        raise
    pods = _pods_of(core, ns, _label_selector(deployment.spec.selector
                                              if deployment.spec else None))
    removed = max(0, len(pods) - max(0, int(args.get("replicas", 0))))
    if 0 < removed < len(pods):
        return Hits("pods", removed, [], pods, pods, random=True)
    return Hits("pods", removed, pods[:removed], pods, pods)


def _service(core: Any, args: dict[str, Any]) -> Hits:
    from kubernetes.client.exceptions import ApiException

    ns, name = str(args.get("ns") or "default"), str(args.get("name") or "")
    try:
        service = core.read_namespaced_service(name, ns, _request_timeout=REQUEST_TIMEOUT_S)
    except ApiException as exc:
        if exc.status == 404:
            return Hits("pods", 0, [], [], [], notes=[f"no service {ns}/{name}"])
        raise
    selector = ",".join(f"{k}={v}" for k, v in sorted(
        ((service.spec.selector if service.spec else None) or {}).items()))
    pods = _pods_of(core, ns, selector)
    return Hits("pods", len(pods), pods, pods, pods, notes=["cut off from their service"])


def _workload(core: Any, apps: Any, full: str, args: dict[str, Any]) -> Hits:
    ns = str(args.get("ns") or "default")
    func = full.rsplit(".", 1)[1]
    if full in SCALE_ACTIONS:
        return _scale(core, apps, args)
    if func in ("remove_service_endpoint", "delete_service"):
        return _service(core, args)
    name, selector = args.get("name"), args.get("label_selector")
    if func == "delete_deployment":
        return _owned(core, _owners(apps.list_namespaced_deployment, ns, name, selector), ns)
    if func == "delete_replica_set":
        return _owned(core, _owners(apps.list_namespaced_replica_set, ns, name, selector), ns)
    # kill_microservice: delete_deployment, delete_replica_set, delete_pods with these args
    selector = str(selector or "name in ({name})").replace("{name}", str(name))
    parts = [_owned(core, _owners(apps.list_namespaced_deployment, ns, name, selector), ns),
             _owned(core, _owners(apps.list_namespaced_replica_set, ns, name, selector), ns),
             _pods(core, {"ns": ns, "name": name, "label_selector": selector}, "delete_pods")]
    return _union(parts)


def step_hits(provider: dict[str, Any], arguments: dict[str, Any], api: Any) -> Hits:
    """What a countable step (`countable`) would hit, read through `api` (list/read requests).
    ValueError for a Chaos Mesh mode or value Chaos Mesh would refuse."""
    from kubernetes import client

    core = client.CoreV1Api(api)
    full = _full(provider)
    if full in POD_ACTIONS:
        return _pods(core, arguments, str(provider.get("func")))
    if full in NODE_ACTIONS:
        return _nodes(core, arguments)
    if full in WORKLOAD_ACTIONS:
        return _workload(core, client.AppsV1Api(api), full, arguments)
    found = chaos_mesh_resource(provider, arguments)
    if found is None:
        raise ValueError(f"{full} is not an action this module counts")
    return _mesh(core, *found)


def resolved_arguments(arguments: Any, experiment: dict[str, Any]) -> dict[str, Any]:
    """The step's arguments with `${name}` forms filled from the experiment's configuration
    (plain values only: an env or secret form stays a template)."""
    if not isinstance(arguments, dict):
        return {}
    from chaoslib import substitute

    config = {k: v for k, v in dict(experiment.get("configuration") or {}).items()
              if not isinstance(v, dict)}
    return dict(substitute(arguments, config, {}) or {})
