"""Chaos Mesh faults (and any chaos custom resource) as Chaos Toolkit python providers.

Use these instead of `chaosk8s.chaosmesh` / `chaosk8s.crd` (the gates refuse the raw ones: their
network actions set no duration, `set_bandwidth` sends the action `bandwdith`, a 409 conflict
silently returns the existing resource, and nothing is labelled)::

    {"type": "action", "name": "checkout-latency",
     "provider": {"type": "python", "module": "chaos_suite.faults.chaosmesh",
                  "func": "add_latency", "arguments": {"name": "checkout-latency", "ns": "shop",
                  "label_selectors": {"app": "checkout"}, "latency": "200ms",
                  "duration": "60s"}}}

Every resource created here carries the labels `app.kubernetes.io/managed-by: chaos-suite` and
`chaos-suite/run-id: <$CHAOS_SUITE_RUN_ID>` and always a `spec.duration` (default 60s, at most
1h): Chaos Mesh clears the fault by itself even if chaos_suite dies. Creating a resource that
already exists fails (409). The revert recorded in the ledger before the step runs names exactly
the resource the step creates (`revert_of`: `delete_chaos_resource` with its plural, namespace
and name, read from the step's arguments), and deletes it only if it carries the run's label (a
409 on another run's resource must not delete that one). When the step's arguments do not name
it, the revert is `REVERTS`' sweep: every resource labelled with the run id. `chaos-suite recover
--kube-namespace ...` also finds them by label when the ledger entry is lost (`sweep`).

kubernetes and chaosk8s are imported inside functions only."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, NoReturn

__all__ = ["KINDS", "REVERTS", "add_latency", "create_chaos_resource", "delete_chaos_resource",
           "delete_chaos_resources", "label_value", "revert_of", "reverted_by", "set_bandwidth",
           "set_loss", "stress_cpu", "stress_memory", "sweep"]

GROUP, VERSION = "chaos-mesh.org", "v1alpha1"
MANAGED_BY = "app.kubernetes.io/managed-by"
RUN_LABEL = "chaos-suite/run-id"
OWNER = "chaos-suite"
DEFAULT_DURATION = "60s"
MAX_DURATION_S = 3600
# Chaos Mesh kinds chaos_suite creates or sweeps: kind -> plural (the CRDs' plurals)
KINDS: Final[Mapping[str, str]] = MappingProxyType({
    "NetworkChaos": "networkchaos", "StressChaos": "stresschaos", "PodChaos": "podchaos",
    "IOChaos": "iochaos", "TimeChaos": "timechaos", "DNSChaos": "dnschaos",
    "HTTPChaos": "httpchaos",
})
# injecting function -> the function of this module that reverts it
REVERTS: Final[Mapping[str, str]] = MappingProxyType({
    f: "delete_chaos_resources" for f in ("add_latency", "set_loss", "set_bandwidth",
                                          "stress_cpu", "stress_memory",
                                          "create_chaos_resource")})
# the kind each injecting function other than create_chaos_resource creates
_KIND_OF: Final[Mapping[str, str]] = MappingProxyType({
    "add_latency": "NetworkChaos", "set_loss": "NetworkChaos", "set_bandwidth": "NetworkChaos",
    "stress_cpu": "StressChaos", "stress_memory": "StressChaos"})
EXACT_REVERT = "delete_chaos_resource"
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def _fail(message: str) -> NoReturn:
    from chaoslib.exceptions import ActivityFailed

    raise ActivityFailed(message)


def duration_seconds(duration: str) -> float:
    """A Chaos Mesh duration ("90s", "1m30s", "500ms") in seconds; ActivityFailed if malformed."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", str(duration))
    if not parts or "".join(n + u for n, u in parts) != str(duration):
        _fail(f"duration {duration!r} is not a Chaos Mesh duration (like 60s, 1m30s)")
    return sum(float(n) * _UNITS[u] for n, u in parts)


def _duration(duration: str | None) -> str:
    value = str(duration or DEFAULT_DURATION)
    seconds = duration_seconds(value)
    if not 0 < seconds <= MAX_DURATION_S:
        _fail(f"duration {value} must be above 0 and at most {MAX_DURATION_S}s")
    return value


def label_value(run_id: str) -> str:
    """`run_id` as a valid label value (63 characters of [A-Za-z0-9._-], alphanumeric ends)."""
    value = re.sub(r"[^A-Za-z0-9._-]", "-", run_id)[:63]
    return re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", value) or "unknown"


def _run_id(run_id: str | None = None) -> str:
    return label_value(run_id or os.environ.get("CHAOS_SUITE_RUN_ID") or "manual")


def _labels(run_id: str | None = None) -> dict[str, str]:
    return {MANAGED_BY: OWNER, RUN_LABEL: _run_id(run_id)}


def _selector(ns: str, label_selectors: dict[str, str] | str | None,
              namespaces: list[str] | None) -> dict[str, Any]:
    selector: dict[str, Any] = {"namespaces": list(namespaces or [ns])}
    if isinstance(label_selectors, str):  # "a=b,c=d", as chaosk8s accepts
        label_selectors = dict(p.split("=", 1) for p in label_selectors.split(",") if "=" in p)
    if label_selectors:
        selector["labelSelectors"] = dict(label_selectors)
    return selector


def _mode(spec: dict[str, Any], mode: str, mode_value: str | None) -> None:
    spec["mode"] = mode
    if mode_value is not None:  # upstream sets it only for fixed-percent
        spec["value"] = str(mode_value)
    elif mode in ("fixed", "fixed-percent", "random-max-percent"):
        _fail(f"mode {mode!r} needs mode_value")


def _api(secrets: dict[str, Any] | None = None, kubeconfig: str | None = None,
         context: str | None = None) -> Any:
    from kubernetes import client

    if kubeconfig or context:
        from kubernetes import config

        return client.CustomObjectsApi(config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, context=context))
    from chaosk8s import create_k8s_api_client

    return client.CustomObjectsApi(create_k8s_api_client(secrets))


def create_chaos_resource(resource: dict[str, Any], ns: str = "default",
                          duration: str | None = None, secrets: dict[str, Any] | None = None,
                          configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Create a chaos-mesh.org/v1alpha1 resource (any kind in `KINDS`) in `ns`, labelled with
    the run id and with `spec.duration` (the argument, else the resource's, else 60s)."""
    body = dict(resource)
    kind = str(body.get("kind", ""))
    if kind not in KINDS:
        _fail(f"kind {kind!r} is not a Chaos Mesh kind chaos_suite knows ({', '.join(KINDS)})")
    api_version = str(body.get("apiVersion") or f"{GROUP}/{VERSION}")
    if api_version != f"{GROUP}/{VERSION}":
        _fail(f"apiVersion {api_version!r}: only {GROUP}/{VERSION} is supported")
    metadata = dict(body.get("metadata") or {})
    if not metadata.get("name"):
        _fail("the resource needs metadata.name")
    metadata["namespace"] = ns
    metadata["labels"] = {**dict(metadata.get("labels") or {}), **_labels()}
    spec = dict(body.get("spec") or {})
    spec["duration"] = _duration(duration or spec.get("duration"))
    body.update(apiVersion=api_version, metadata=metadata, spec=spec)
    from kubernetes.client.exceptions import ApiException

    try:
        created: Any = _api(secrets).create_namespaced_custom_object(
            GROUP, VERSION, ns, KINDS[kind], body)
    except ApiException as exc:
        if exc.status == 409:  # upstream returns the existing resource here, as if created
            _fail(f"{kind} {ns}/{metadata['name']} already exists (409): not created, and not "
                  "this run's to revert; delete it or choose another name")
        _fail(f"cannot create {kind} {ns}/{metadata['name']}: {exc.status} {exc.reason}")
    return created if isinstance(created, dict) and created else body  # a terse server: ours


def _network(name: str, ns: str, action: str, extra: dict[str, Any], *,
             label_selectors: dict[str, str] | str | None, namespaces: list[str] | None,
             mode: str, mode_value: str | None, direction: str, duration: str | None,
             secrets: dict[str, Any] | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"action": action, "direction": direction,
                            "selector": _selector(ns, label_selectors, namespaces), **extra}
    _mode(spec, mode, mode_value)
    return create_chaos_resource({"kind": "NetworkChaos", "metadata": {"name": name},
                                  "spec": spec}, ns=ns, duration=duration, secrets=secrets)


def add_latency(name: str, latency: str, ns: str = "default",
                label_selectors: dict[str, str] | str | None = None,
                namespaces: list[str] | None = None, mode: str = "one",
                mode_value: str | None = None, direction: str = "to", jitter: str | None = None,
                correlation: str | None = None, duration: str = DEFAULT_DURATION,
                secrets: dict[str, Any] | None = None,
                configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """NetworkChaos `delay` on the selected pods for `duration`."""
    delay = {k: v for k, v in (("latency", latency), ("jitter", jitter),
                               ("correlation", correlation)) if v is not None}
    return _network(name, ns, "delay", {"delay": delay}, label_selectors=label_selectors,
                    namespaces=namespaces, mode=mode, mode_value=mode_value,
                    direction=direction, duration=duration, secrets=secrets)


def set_loss(name: str, loss: str, ns: str = "default",
             label_selectors: dict[str, str] | str | None = None,
             namespaces: list[str] | None = None, mode: str = "one",
             mode_value: str | None = None, direction: str = "to",
             correlation: str | None = None, duration: str = DEFAULT_DURATION,
             secrets: dict[str, Any] | None = None,
             configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """NetworkChaos `loss` (percent, "25") on the selected pods for `duration`."""
    lost = {k: str(v) for k, v in (("loss", loss), ("correlation", correlation))
            if v is not None}
    return _network(name, ns, "loss", {"loss": lost}, label_selectors=label_selectors,
                    namespaces=namespaces, mode=mode, mode_value=mode_value,
                    direction=direction, duration=duration, secrets=secrets)


def set_bandwidth(name: str, rate: str, limit: int, buffer: int, ns: str = "default",
                  label_selectors: dict[str, str] | str | None = None,
                  namespaces: list[str] | None = None, mode: str = "one",
                  mode_value: str | None = None, direction: str = "to",
                  duration: str = DEFAULT_DURATION, secrets: dict[str, Any] | None = None,
                  configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """NetworkChaos `bandwidth` (rate "1mbps", limit and buffer in bytes) for `duration`."""
    band = {"rate": rate, "limit": int(limit), "buffer": int(buffer)}
    return _network(name, ns, "bandwidth", {"bandwidth": band},
                    label_selectors=label_selectors, namespaces=namespaces, mode=mode,
                    mode_value=mode_value, direction=direction, duration=duration,
                    secrets=secrets)


def _stress(name: str, ns: str, stressors: dict[str, Any], *,
            label_selectors: dict[str, str] | str | None, namespaces: list[str] | None,
            mode: str, mode_value: str | None, duration: str | None,
            secrets: dict[str, Any] | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"selector": _selector(ns, label_selectors, namespaces),
                            "stressors": stressors}
    _mode(spec, mode, mode_value)
    return create_chaos_resource({"kind": "StressChaos", "metadata": {"name": name},
                                  "spec": spec}, ns=ns, duration=duration, secrets=secrets)


def stress_cpu(name: str, workers: int = 1, load: int = 50, ns: str = "default",
               label_selectors: dict[str, str] | str | None = None,
               namespaces: list[str] | None = None, mode: str = "one",
               mode_value: str | None = None, duration: str = DEFAULT_DURATION,
               secrets: dict[str, Any] | None = None,
               configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """StressChaos: `workers` CPU stressors at `load` percent each, for `duration`."""
    return _stress(name, ns, {"cpu": {"workers": int(workers), "load": int(load)}},
                   label_selectors=label_selectors, namespaces=namespaces, mode=mode,
                   mode_value=mode_value, duration=duration, secrets=secrets)


def stress_memory(name: str, size: str = "256MB", workers: int = 1, ns: str = "default",
                  label_selectors: dict[str, str] | str | None = None,
                  namespaces: list[str] | None = None, mode: str = "one",
                  mode_value: str | None = None, duration: str = DEFAULT_DURATION,
                  secrets: dict[str, Any] | None = None,
                  configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """StressChaos: `workers` memory stressors of `size` each, for `duration`."""
    return _stress(name, ns, {"memory": {"workers": int(workers), "size": size}},
                   label_selectors=label_selectors, namespaces=namespaces, mode=mode,
                   mode_value=mode_value, duration=duration, secrets=secrets)


def _labelled(api: Any, selector: str, namespaces: list[str] | None
              ) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(plural, namespace, name, labels) of every chaos resource matching `selector`, in
    `namespaces` (None: across the cluster). A kind whose CRD is not installed has none."""
    from kubernetes.client.exceptions import ApiException

    found: list[tuple[str, str, str, dict[str, Any]]] = []
    for plural in KINDS.values():
        scopes: list[str | None] = list(namespaces) if namespaces else [None]
        for ns in scopes:
            try:
                listing = (api.list_namespaced_custom_object(GROUP, VERSION, ns, plural,
                                                             label_selector=selector)
                           if ns else api.list_cluster_custom_object(
                               GROUP, VERSION, plural, label_selector=selector))
            except ApiException as exc:
                if exc.status == 404:
                    continue
                raise
            for item in listing.get("items") or []:
                meta = item.get("metadata") or {}
                found.append((plural, str(meta.get("namespace") or ns), str(meta.get("name")),
                               dict(meta.get("labels") or {})))
    return found


def _delete(api: Any, plural: str, ns: str, name: str) -> bool:
    from kubernetes.client.exceptions import ApiException

    try:
        api.delete_namespaced_custom_object(GROUP, VERSION, ns, plural, name)
    except ApiException as exc:
        if exc.status == 404:  # already gone (its duration ended, or deleted meanwhile)
            return False
        raise
    return True


def delete_chaos_resources(run_id: str | None = None, ns: str | None = None,
                           admin_url: str | None = None, secrets: dict[str, Any] | None = None,
                           configuration: dict[str, Any] | None = None) -> list[str]:
    """Revert: delete every chaos resource labelled with `run_id` (default $CHAOS_SUITE_RUN_ID)
    in `ns` (default: across the cluster). Chaos Mesh's finalizer restores the targets. Returns
    "kind/ns/name" of what it deleted; none left is not an error."""
    api = _api(secrets)
    selector = f"{MANAGED_BY}={OWNER},{RUN_LABEL}={_run_id(run_id)}"
    return [f"{plural}/{res_ns}/{name}"
            for plural, res_ns, name, _ in _labelled(api, selector, [ns] if ns else None)
            if _delete(api, plural, res_ns, name)]


def delete_chaos_resource(plural: str, name: str, ns: str = "default",
                          run_id: str | None = None, secrets: dict[str, Any] | None = None,
                          configuration: dict[str, Any] | None = None) -> list[str]:
    """Revert of one step: delete exactly the chaos resource `plural` `ns`/`name`, if it
    carries chaos_suite's label with `run_id` (default $CHAOS_SUITE_RUN_ID). One of another run
    (the step failed on a 409) or made by hand is left alone; none there is not an error.
    Returns "plural/ns/name" of what it deleted."""
    from kubernetes.client.exceptions import ApiException

    if plural not in KINDS.values():
        _fail(f"{plural!r} is not the plural of a Chaos Mesh kind chaos_suite knows")
    api = _api(secrets)
    try:
        found: Any = api.get_namespaced_custom_object(GROUP, VERSION, ns, plural, name)
    except ApiException as exc:
        if exc.status == 404:  # its duration ended and it was removed, or never created
            return []
        raise
    labels = dict(((found or {}).get("metadata") or {}).get("labels") or {})
    if labels.get(MANAGED_BY) != OWNER or labels.get(RUN_LABEL) != _run_id(run_id):
        return []
    return [f"{plural}/{ns}/{name}"] if _delete(api, plural, ns, name) else []


def revert_of(func: str, arguments: dict[str, Any]) -> dict[str, Any] | None:
    """The exact revert of calling `func` with `arguments` (already substituted):
    {"func": "delete_chaos_resource", "arguments": {"plural", "ns", "name"}} for the resource it
    creates; None if the arguments do not name it (the sweep of `REVERTS` stays the revert)."""
    if func not in REVERTS:
        return None
    ns = arguments.get("ns") or "default"
    if func == "create_chaos_resource":
        resource = arguments.get("resource")
        body: dict[str, Any] = resource if isinstance(resource, dict) else {}
        kind = str(body.get("kind", ""))
        meta = body.get("metadata")
        name = meta.get("name") if isinstance(meta, dict) else None
    else:
        kind, name = _KIND_OF[func], arguments.get("name")
    if kind not in KINDS or not isinstance(name, str) or not name or "${" in name \
            or not isinstance(ns, str) or "${" in ns:
        return None
    return {"func": EXACT_REVERT, "arguments": {"plural": KINDS[kind], "ns": ns, "name": name}}


def reverted_by(revert: dict[str, Any], func: str, arguments: dict[str, Any]) -> bool:
    """Whether calling this module's `func` with `arguments` (a rollback) undoes the ledger's
    `revert` of this module: the sweep of the run clears every one (in its `ns`, if given);
    delete_chaos_resource clears the revert naming the same resource."""
    named = dict(revert.get("arguments") or {})
    if func == "delete_chaos_resources":
        return not arguments.get("ns") or revert.get("func") != EXACT_REVERT \
            or arguments.get("ns") == named.get("ns")
    if func == EXACT_REVERT and revert.get("func") == EXACT_REVERT:
        return all(str(arguments.get(k, "default" if k == "ns" else "")) == str(named.get(k))
                   for k in ("plural", "ns", "name"))
    return False


def sweep(live_run_ids: set[str], namespaces: list[str] | None = None,
          kubeconfig: str | None = None, context: str | None = None) -> list[str]:
    """For `chaos-suite recover`: delete chaos resources chaos_suite created whose run is not
    live, found by label in `namespaces` (default: the context's namespace). One line each."""
    from kubernetes import config

    api = _api(kubeconfig=kubeconfig, context=context)
    if not namespaces:
        contexts, active = config.list_kube_config_contexts(  # type: ignore[no-untyped-call]
            config_file=kubeconfig)
        if context:
            active = next((c for c in contexts if c.get("name") == context), active)
        namespaces = [str((active.get("context") or {}).get("namespace") or "default")]
    live = {label_value(r) for r in live_run_ids}
    actions: list[str] = []
    for plural, ns, name, labels in _labelled(api, f"{MANAGED_BY}={OWNER}", namespaces):
        run = labels.get(RUN_LABEL, "")
        if run in live:
            actions.append(f"{plural} {ns}/{name} of run {run}: run still active; left alone")
        elif _delete(api, plural, ns, name):
            actions.append(f"deleted {plural} {ns}/{name} of run {run} (found by label)")
    return actions
