"""Kubernetes manifests, as plain dicts, to run a plan in the cluster: `cronjob_manifests` (a
CronJob running `chaos-suite gameday run` on a schedule with least-privilege RBAC and the plan's
files in a ConfigMap) and `locust_manifests` (the plan's load: Locust master and workers, or a
`LocustTest` resource of the Locust Kubernetes operator). `to_yaml` prints them."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from chaos_suite.errors import InputError
from chaos_suite.files.common import read_text_file
from chaos_suite.files.documents import load_documents
from chaos_suite.files.environment import KubernetesTarget
from chaos_suite.files.loader import ResolvedPlan
from chaos_suite.schedule.rbac import derive_rules

PLAN_MOUNT: Final = "/plan"
REPORTS_MOUNT: Final = "/reports"
LOCUST_MOUNT: Final = "/locust"
OPERATOR_MOUNT: Final = "/lotest/src"  # where the operator mounts spec.configMap
MASTER_PORT, WEB_PORT = 5557, 8089
CONFIGMAP_LIMIT = 1024 * 1024  # the API server refuses a bigger object
RUN_AS = 10001  # the Dockerfile's non-root user
Manifest = dict[str, Any]


def dns_name(text: str, limit: int = 52) -> str:
    """A DNS-1123 label (CronJob names stay within 52 characters: its Jobs add a suffix)."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:limit].rstrip("-")
    return name or "gameday"


def _key(text: str) -> str:
    return re.sub(r"[^-._a-zA-Z0-9]", "-", text)


@dataclass(frozen=True)
class PlanFiles:
    """The ConfigMap's data (key → file text) and the plan's key in it."""

    data: dict[str, str]
    plan_key: str


def plan_files(resolved: ResolvedPlan) -> PlanFiles:
    """Every file the plan references, flat under one folder, and the plan with its paths
    rewritten to those keys (relative to the plan, as the loader reads them)."""
    data: dict[str, str] = {}
    keys: dict[Path, str] = {}

    def add(path: Path, prefix: str) -> str:
        if path not in keys:
            key = _key(f"{prefix}-{path.name}")
            while key in data:
                key = _key(f"{prefix}-{len(data)}-{path.name}")
            keys[path] = key
            data[key] = read_text_file(path)
        return keys[path]

    plan = copy.deepcopy(load_documents(resolved.path)[0])
    base = resolved.path.parent
    slo_keys = [add(_under(base, value), f"slo-{i}") for i, value in
                enumerate(resolved.plan.slo_files)]
    plan["slos"] = slo_keys[0] if isinstance(plan.get("slos"), str) else slo_keys
    if resolved.environment_path is not None:
        plan["environment"] = add(resolved.environment_path, "environment")
    plan.setdefault("load", {})["locustfile"] = add(resolved.locustfile, "locustfile")
    for raw, scenario in zip(plan["scenarios"], resolved.scenarios, strict=True):
        raw["experiment"] = add(scenario.experiment_path, "experiment")
    plan_key = _key(f"{resolved.path.stem}.yaml")
    while plan_key in data:
        plan_key = "_" + plan_key
    data[plan_key] = yaml.safe_dump(plan, sort_keys=False)
    size = sum(len(k) + len(v.encode()) for k, v in data.items())
    if size > CONFIGMAP_LIMIT:
        raise InputError(f"{resolved.path}: the plan's files take {size} bytes; a ConfigMap "
                         f"holds at most {CONFIGMAP_LIMIT}")
    return PlanFiles(data, plan_key)


def _under(base: Path, value: str) -> Path:
    import os

    path = Path(value)
    return Path(os.path.normpath(path if path.is_absolute() else base / path))


def job_namespace(resolved: ResolvedPlan, namespace: str | None) -> str:
    if namespace:
        return namespace
    target = resolved.environment.target
    if isinstance(target, KubernetesTarget):
        return target.namespace
    raise InputError(f"environment '{resolved.environment.name}' has a {target.type} target: "
                     "give --namespace for the job")


def _meta(name: str, namespace: str | None, plan: str, component: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {
        "app.kubernetes.io/name": "chaos-suite", "app.kubernetes.io/instance": plan,
        "app.kubernetes.io/component": component}}
    if namespace is not None:
        meta["namespace"] = namespace
    return meta


def _rbac(resolved: ResolvedPlan, name: str, namespace: str, plan: str) -> list[Manifest]:
    rules = derive_rules(resolved, extra_namespaces=[namespace])
    subject = [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]
    docs: list[Manifest] = []
    for ns, ns_rules in rules.namespaced.items():
        docs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                     "metadata": _meta(name, ns, plan, "rbac"), "rules": ns_rules})
        docs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                     "metadata": _meta(name, ns, plan, "rbac"), "subjects": subject,
                     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                 "name": name}})
    if rules.cluster:  # nodes and cluster-scoped objects: a Role cannot grant them
        cluster_name = dns_name(f"{namespace}-{name}", 253)
        docs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                     "metadata": _meta(cluster_name, None, plan, "rbac"),
                     "rules": rules.cluster})
        docs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                     "metadata": _meta(cluster_name, None, plan, "rbac"), "subjects": subject,
                     "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                                 "kind": "ClusterRole", "name": cluster_name}})
    return docs


def cronjob_manifests(resolved: ResolvedPlan, *, schedule: str, image: str,
                      namespace: str | None = None, confirm: str | None = None,
                      fail_on: str | None = None, reports: str = "pvc",
                      reports_size: str = "1Gi") -> list[Manifest]:
    """ServiceAccount, RBAC, ConfigMap, reports PVC (unless emptyDir) and the CronJob."""
    if len(schedule.split()) != 5:
        raise InputError(f"--schedule: {schedule!r} is not a five-field cron expression")
    plan = resolved.plan.name
    name = dns_name(f"chaos-{plan}")
    ns = job_namespace(resolved, namespace)
    files = plan_files(resolved)
    args = ["gameday", "run", f"{PLAN_MOUNT}/{files.plan_key}", "--reports", REPORTS_MOUNT]
    if confirm is not None:  # only when given: production stays refused otherwise
        args += ["--confirm", confirm]
    if fail_on:
        args += ["--fail-on", fail_on]
    docs: list[Manifest] = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(name, ns, plan, "job")},
        *_rbac(resolved, name, ns, plan),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(name, ns, plan, "plan"),
         "data": files.data},
    ]
    reports_volume: dict[str, Any] = {"name": "reports", "emptyDir": {}}
    if reports == "pvc":
        claim = dns_name(f"{name}-reports", 253)
        docs.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                     "metadata": _meta(claim, ns, plan, "reports"),
                     "spec": {"accessModes": ["ReadWriteOnce"],
                              "resources": {"requests": {"storage": reports_size}}}})
        reports_volume = {"name": "reports", "persistentVolumeClaim": {"claimName": claim}}
    container = {
        "name": "chaos-suite", "image": image, "args": args,
        # the ledger lives beside the run records, so `recover` finds it after a crash
        "env": [{"name": "CHAOS_SUITE_STATE_DIR", "value": f"{REPORTS_MOUNT}/.state"},
                {"name": "CHAOSTOOLKIT_IN_POD", "value": "true"}],
        "volumeMounts": [{"name": "plan", "mountPath": PLAN_MOUNT, "readOnly": True},
                         {"name": "reports", "mountPath": REPORTS_MOUNT}],
        "securityContext": {"allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]}},
    }
    pod = {
        "metadata": {"labels": _meta(name, None, plan, "job")["labels"]},
        "spec": {"serviceAccountName": name, "restartPolicy": "Never",
                 "securityContext": {"runAsNonRoot": True, "runAsUser": RUN_AS,
                                     "fsGroup": RUN_AS},
                 "containers": [container],
                 "volumes": [{"name": "plan", "configMap": {"name": name}}, reports_volume]},
    }
    docs.append({"apiVersion": "batch/v1", "kind": "CronJob",
                 "metadata": _meta(name, ns, plan, "job"),
                 "spec": {"schedule": schedule, "concurrencyPolicy": "Forbid",
                          "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 3,
                          # a gameday is not retried on its own: a failure is a finding
                          "jobTemplate": {"spec": {"backoffLimit": 0, "template": pod}}}})
    return docs


def _load_args(resolved: ResolvedPlan) -> list[str]:
    """Host and users of the plan's load (none for the locustfile's own LoadTestShape)."""
    load = resolved.plan.load
    host = load.host or getattr(resolved.environment.target, "url", None)
    args = ["--host", str(host)] if host else []
    shape = load.shape
    if shape is not None:
        users = (shape.max_users or shape.users) if shape.kind == "arrival" else max(
            shape.users, shape.spike_users or 0, shape.step_users or 0)
        args += ["--users", str(users), "--spawn-rate", f"{shape.spawn_rate:g}"]
    return args


def locust_manifests(resolved: ResolvedPlan, *, workers: int, image: str,
                     namespace: str | None = None, operator: bool = False) -> list[Manifest]:
    """The plan's load in the cluster: the locustfile in a ConfigMap, then either a master
    Deployment and Service (5557 for workers, 8089 for the web UI) and a worker Deployment, or
    one `LocustTest` (locust.io/v1) for the Locust operator."""
    plan = resolved.plan.name
    name = dns_name(f"locust-{plan}", 40)
    ns = job_namespace(resolved, namespace)
    filename = resolved.locustfile.name
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(name, ns, plan, "load"),
              "data": {filename: read_text_file(resolved.locustfile)}}
    load = _load_args(resolved)
    if operator:
        seed = ["--locustfile", f"{OPERATOR_MOUNT}/{filename}", *load]
        return [config, {
            "apiVersion": "locust.io/v1", "kind": "LocustTest",
            "metadata": _meta(name, ns, plan, "load"),
            "spec": {"image": image, "masterCommandSeed": " ".join(seed),
                     "workerCommandSeed": f"--locustfile {OPERATOR_MOUNT}/{filename}",
                     "workerReplicas": workers, "configMap": name}}]
    locustfile = f"{LOCUST_MOUNT}/{filename}"
    master_labels = {**_meta(name, None, plan, "master")["labels"]}
    worker_labels = {**_meta(name, None, plan, "worker")["labels"]}
    volume = [{"name": "locustfile", "configMap": {"name": name}}]
    mount = [{"name": "locustfile", "mountPath": LOCUST_MOUNT, "readOnly": True}]

    def deployment(role: str, labels: dict[str, str], replicas: int, args: list[str],
                   ports: list[dict[str, Any]]) -> Manifest:
        container: dict[str, Any] = {"name": "locust", "image": image, "args": args,
                                     "volumeMounts": mount}
        if ports:
            container["ports"] = ports
        return {"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": _meta(f"{name}-{role}", ns, plan, role),
                "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                         "template": {"metadata": {"labels": labels},
                                      "spec": {"containers": [container], "volumes": volume}}}}

    master_args = ["-f", locustfile, "--master", "--master-bind-port", str(MASTER_PORT),
                   "--expect-workers", str(workers), *load]
    if "--users" in load:
        master_args.append("--autostart")  # starts at once; the web UI stays up
    return [
        config,
        deployment("master", master_labels, 1, master_args, [
            {"name": "master", "containerPort": MASTER_PORT},
            {"name": "web", "containerPort": WEB_PORT}]),
        {"apiVersion": "v1", "kind": "Service", "metadata": _meta(f"{name}-master", ns, plan,
                                                                   "master"),
         "spec": {"selector": master_labels, "ports": [
             {"name": "master", "port": MASTER_PORT, "targetPort": MASTER_PORT},
             {"name": "web", "port": WEB_PORT, "targetPort": WEB_PORT}]}},
        deployment("worker", worker_labels, workers, [
            "-f", locustfile, "--worker", "--master-host", f"{name}-master",
            "--master-port", str(MASTER_PORT)], []),
    ]


class _Dumper(yaml.SafeDumper):
    """File texts (the ConfigMap's) as literal blocks, readable in review."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(docs: list[Manifest]) -> str:
    return yaml.dump_all(docs, Dumper=_Dumper, sort_keys=False, explicit_start=True,
                         allow_unicode=True)
