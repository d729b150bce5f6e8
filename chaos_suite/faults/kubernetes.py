"""Reverts of chaostoolkit-kubernetes (`chaosk8s`) actions, for the fault ledger.

The ledger control asks `revert_for` before a `chaosk8s` action runs; the answer is written
durably and replayed by `chaos-suite recover` after a crash as
`revert["func"](**revert["arguments"])` on `revert["module"]`. The reverts name chaosk8s
functions themselves, so an experiment rollback calling the same function clears the entry.

Revert arguments never carry credentials: chaosk8s functions take `secrets=None` and then read
the kubeconfig / KUBERNETES_* environment again when `recover` runs.

kubernetes and chaosk8s are imported inside functions only (no import-time side effects, and the
runner must not import them before Locust's gevent patching elsewhere)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chaos_suite.safety.redact import SECRET_NAME

_NODE = "chaosk8s.node.actions"
_NET = "chaosk8s.networking.actions"
_DEPLOY = "chaosk8s.deployment.actions"

# keys of a kubeconfig user entry whose values are credentials
_USER_SECRET_KEYS = ("token", "password", "client-key-data", "client-certificate-data")
# auth-provider config keys holding tokens (oidc, gcp, azure)
_PROVIDER_SECRET_KEYS = ("id-token", "refresh-token", "access-token", "client-secret",
                         "apiserver-secret")

Revert = dict[str, Any]


def _python(module: str, func: str, **arguments: Any) -> Revert:
    # None-valued arguments are dropped: chaosk8s defaults apply, and the ledger stays small
    return {"kind": "python", "module": module, "func": func,
            "arguments": {k: v for k, v in arguments.items() if v is not None}}


def _flat_secrets(secrets: dict[str, Any] | None) -> dict[str, Any]:
    """chaoslib hands controls the secrets of every scope ({"k8s": {"KUBERNETES_CONTEXT": ..}});
    create_k8s_api_client looks keys up flat, so merge the scopes (top-level values win)."""
    flat: dict[str, Any] = {}
    for value in (secrets or {}).values():
        if isinstance(value, dict):
            for inner_key, inner in value.items():
                flat.setdefault(str(inner_key), inner)
    for key, value in (secrets or {}).items():
        if not isinstance(value, dict):
            flat[str(key)] = value
    return flat


def schedulable_nodes(name: str | None, label_selector: str | None,
                      secrets: dict[str, Any] | None) -> list[str]:
    """Names of the nodes cordon_node/drain_nodes would select (by name, else label, else all,
    as chaosk8s selects) that are schedulable now."""
    from chaosk8s import create_k8s_api_client
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    api = client.CoreV1Api(create_k8s_api_client(_flat_secrets(secrets)))
    if name and not label_selector:
        try:
            nodes = [api.read_node(name)]
        except ApiException as exc:
            if exc.status == 404:
                return []
            raise
    else:
        nodes = api.list_node(label_selector=label_selector or "").items
        if name:
            nodes = [n for n in nodes if n.metadata is not None and n.metadata.name == name]
    return sorted(str(n.metadata.name) for n in nodes if n.metadata is not None
                  and not (n.spec is not None and n.spec.unschedulable))


def uncordon_nodes(names: list[str], secrets: dict[str, Any] | None = None) -> list[str]:
    """Revert of a cordon/drain that selected several nodes: mark exactly `names` schedulable
    again (a node gone meanwhile is skipped). Returns the names uncordoned."""
    from chaosk8s import create_k8s_api_client
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    api = client.CoreV1Api(create_k8s_api_client(_flat_secrets(secrets)))
    done: list[str] = []
    for name in names:
        try:
            api.patch_node(name, {"spec": {"unschedulable": False}})
        except ApiException as exc:
            if exc.status != 404:
                raise
            continue
        done.append(name)
    return done


def _uncordon(arguments: dict[str, Any], secrets: dict[str, Any] | None) -> Revert | None:
    """cordon_node / drain_nodes: uncordon only the selected nodes that were schedulable BEFORE
    the action (read now, before it runs); a node already cordoned stays cordoned. One node:
    chaosk8s' uncordon_node by name (an experiment rollback calling it clears the entry);
    several: `uncordon_nodes` with their names. If the nodes cannot be read, interrupt."""
    try:
        names = schedulable_nodes(arguments.get("name"), arguments.get("label_selector"),
                                  secrets)
    except Exception as exc:  # any API failure means: no known revert
        from chaoslib.exceptions import InterruptExecution

        raise InterruptExecution(
            f"cannot read the nodes to cordon ({type(exc).__name__}); refusing to inject a "
            "fault without a revert") from exc
    if not names:
        return None  # every selected node is cordoned already: nothing this run changes
    if len(names) == 1:
        return _python(_NODE, "uncordon_node", name=names[0])
    return _python(__name__, "uncordon_nodes", names=names)


def _load_spec(arguments: dict[str, Any], key: str = "spec") -> dict[str, Any] | None:
    """The object an action creates: inline `spec`, or the JSON/YAML file at `spec_path`."""
    spec = arguments.get(key)
    if isinstance(spec, dict):
        return spec
    path = arguments.get("spec_path")
    if not path or not os.path.isfile(str(path)):
        return None
    text = Path(str(path)).read_text(encoding="utf-8")
    loaded: Any = json.loads(text) if str(path).endswith(".json") else _one_yaml_document(text)
    return loaded if isinstance(loaded, dict) else None


def _one_yaml_document(text: str) -> Any:
    """yaml.safe_load's answer (None for no document, an error for several) through the bounded
    loader: a spec or kubeconfig whose aliases expand without bound is refused, not built."""
    import yaml

    from chaos_suite.files.common import load_yaml_text  # pydantic: only when a file is read

    docs = load_yaml_text(text)
    if len(docs) > 1:
        raise yaml.YAMLError("expected a single YAML document")
    return docs[0] if docs else None


def _spec_name(spec: dict[str, Any] | None) -> str | None:
    name = ((spec or {}).get("metadata") or {}).get("name")
    return str(name) if name else None


def _remove_policy(arguments: dict[str, Any]) -> Revert | None:
    name = _spec_name(_load_spec(arguments))
    if name is None:
        return None  # no name, nothing chaosk8s could create either
    return _python(_NET, "remove_network_policy", name=name, ns=arguments.get("ns", "default"))


def _remove_deny_all_ingress(arguments: dict[str, Any]) -> Revert:
    return _python(_NET, "remove_deny_all_ingress", ns=arguments.get("ns", "default"))


def _delete_deployment(arguments: dict[str, Any]) -> Revert | None:
    name = _spec_name(_load_spec(arguments))
    if name is None:
        return None  # the action fails on the same unreadable file
    return _python(_DEPLOY, "delete_deployment", name=name, ns=arguments.get("ns", "default"))


def current_replicas(name: str, ns: str, secrets: dict[str, Any] | None) -> int | None:
    """The deployment's spec.replicas as the API serves it now; None if it does not exist."""
    from chaosk8s import create_k8s_api_client
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    api = client.AppsV1Api(create_k8s_api_client(_flat_secrets(secrets)))
    try:
        deployment = api.read_namespaced_deployment(name=name, namespace=ns)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    replicas = deployment.spec.replicas if deployment.spec is not None else None
    return int(replicas) if replicas is not None else 1  # the API's default is 1


def _scale_back(arguments: dict[str, Any], secrets: dict[str, Any] | None) -> Revert | None:
    """Scale back to the replica count read BEFORE the action. If it cannot be read, the fault
    must not go in without a revert: interrupt the experiment (only InterruptExecution leaves a
    control; anything else chaoslib swallows and the action would run unrecorded)."""
    name = arguments.get("name")
    ns = str(arguments.get("ns", "default"))
    if not name:
        return None
    try:
        replicas = current_replicas(str(name), ns, secrets)
    except Exception as exc:  # any API failure means: no known revert
        from chaoslib.exceptions import InterruptExecution

        raise InterruptExecution(
            f"cannot read replicas of deployment {ns}/{name} before scaling it "
            f"({type(exc).__name__}); refusing to inject a fault without a revert") from exc
    if replicas is None:
        return None  # no such deployment: scale_deployment fails, nothing to revert
    return _python(_DEPLOY, "scale_deployment", name=str(name), replicas=replicas, ns=ns)


def _no_revert(arguments: dict[str, Any]) -> None:
    """pod.actions.terminate_pods: deleted pods come back through their controller (ReplicaSet,
    StatefulSet, ...); there is nothing a revert could restore."""
    return None


_SIMPLE: dict[str, Callable[[dict[str, Any]], Revert | None]] = {
    f"{_NET}.create_network_policy": _remove_policy,
    f"{_NET}.deny_all_ingress": _remove_deny_all_ingress,
    f"{_DEPLOY}.create_deployment": _delete_deployment,
    "chaosk8s.pod.actions.terminate_pods": _no_revert,
}


def _substituted(arguments: dict[str, Any], configuration: dict[str, Any] | None
                 ) -> dict[str, Any]:
    from chaoslib import substitute

    return dict(substitute(arguments, dict(configuration or {}), {}) or {})


def revert_for(activity: str, arguments: dict[str, Any], configuration: dict[str, Any] | None,
               secrets: dict[str, Any] | None) -> Revert | None:
    """How to undo the chaosk8s action `activity` ("module.func") called with `arguments`.

    Returns {"kind": "python", "module", "func", "arguments"} or None when the action has no
    revert (unknown action, terminate_pods, an object without a name). Controls see the
    activity's arguments before chaoslib substitutes them, so `${name}` forms are resolved here
    from `configuration` only: a `${secret}` form stays a template, never a secret value."""
    arguments = _substituted(arguments, configuration)
    if activity == f"{_DEPLOY}.scale_deployment":
        return _scale_back(arguments, secrets)
    if activity in (f"{_NODE}.cordon_node", f"{_NODE}.drain_nodes"):
        return _uncordon(arguments, secrets)
    handler = _SIMPLE.get(activity)
    return handler(arguments) if handler is not None else None


def _kubeconfig_path(path: str | None) -> Path:
    if path:
        return Path(path).expanduser()
    # KUBECONFIG may list several files; chaosk8s (and kubernetes' loader) use the first
    env = os.environ.get("KUBECONFIG", "")
    first = env.split(os.pathsep)[0] if env else "~/.kube/config"
    return Path(first).expanduser()


def _user_secrets(user: dict[str, Any]) -> list[str]:
    values = [user.get(key) for key in _USER_SECRET_KEYS]
    provider = (user.get("auth-provider") or {}).get("config") or {}
    values += [provider.get(key) for key in _PROVIDER_SECRET_KEYS]
    # exec plugins take credentials through env entries; mask those named like credentials
    for item in (user.get("exec") or {}).get("env") or []:
        if isinstance(item, dict) and SECRET_NAME.search(str(item.get("name", ""))):
            values.append(item.get("value"))
    return [str(v) for v in values if isinstance(v, str) and v]


def kubeconfig_secrets(path: str | None = None) -> list[str]:
    """Credential values in the kubeconfig (`path`, else $KUBECONFIG, else ~/.kube/config), for
    the redactor: tokens, passwords, client keys/certificates, auth-provider and exec tokens.
    A missing or unreadable file has none."""
    import yaml

    config_path = _kubeconfig_path(path)
    try:
        data = _one_yaml_document(config_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return []
    if not isinstance(data, dict):
        return []
    found: list[str] = []
    for entry in data.get("users") or []:
        user = entry.get("user") if isinstance(entry, dict) else None
        if isinstance(user, dict):
            found.extend(v for v in _user_secrets(user) if v not in found)
    return found
