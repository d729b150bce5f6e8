"""Kubernetes blast radius counted through the API: which pods or nodes each chaosk8s pod/node
action of an experiment would hit, read from the cluster before anything runs (list requests
only; nothing is mutated).

Pods (`terminate_pods`, `delete_pods`): selected as chaosk8s selects them: the pods of `ns`
(default "default") matching `label_selector`, then `name_pattern`, then `all` / `qty` (mode
fixed or percentage, rounded up) in name order (`order: oldest`: creation order); with `rand`
the names are a random draw of that many. The denominator of a fraction is the pods of `ns`
matching the step's `label_selector` (every pod of `ns` without one): the workload it aims at.

Nodes (`cordon_node`, `drain_nodes`, `delete_nodes`): by `name` and/or `label_selector`
(`count`: that many at random); the denominator is every node of the cluster.

kubernetes and chaosk8s are imported inside functions only."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

REQUEST_TIMEOUT_S = 10
POD_ACTIONS = frozenset({"chaosk8s.pod.actions.terminate_pods",
                         "chaosk8s.pod.actions.delete_pods"})
NODE_ACTIONS = frozenset({"chaosk8s.node.actions.cordon_node",
                          "chaosk8s.node.actions.drain_nodes",
                          "chaosk8s.node.actions.delete_nodes"})


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
            return (f"{self.count} {self.what} at random of {len(self.candidates)} "
                    f"({', '.join(self.candidates) or 'none'})")
        return f"{self.count} {self.what} ({', '.join(self.names) or 'none'})"


def countable(provider: dict[str, Any]) -> bool:
    """A chaosk8s pod or node action whose hits this module counts."""
    full = f"{provider.get('module', '')}.{provider.get('func', '')}"
    return provider.get("type") == "python" and full in POD_ACTIONS | NODE_ACTIONS


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


def step_hits(provider: dict[str, Any], arguments: dict[str, Any], api: Any) -> Hits:
    """What a countable step (`countable`) would hit, read through `api` (list requests)."""
    from kubernetes import client

    core = client.CoreV1Api(api)
    full = f"{provider.get('module', '')}.{provider.get('func', '')}"
    if full in POD_ACTIONS:
        return _pods(core, arguments, str(provider.get("func")))
    return _nodes(core, arguments)


def resolved_arguments(arguments: Any, experiment: dict[str, Any]) -> dict[str, Any]:
    """The step's arguments with `${name}` forms filled from the experiment's configuration
    (plain values only: an env or secret form stays a template)."""
    if not isinstance(arguments, dict):
        return {}
    from chaoslib import substitute

    config = {k: v for k, v in dict(experiment.get("configuration") or {}).items()
              if not isinstance(v, dict)}
    return dict(substitute(arguments, config, {}) or {})
