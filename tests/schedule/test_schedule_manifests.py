"""`chaos-suite schedule`: the generated manifests load into the kubernetes client's models
(nothing dropped), the fake API server accepts them, no RBAC rule has a `*`, the rules are the
ones the plan's chaosk8s steps need, and the ConfigMap's files resolve as a plan."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kmock
import pytest
import yaml
from click.testing import CliRunner
from support.fake_k8s import FakeK8s, start_fake_k8s

from chaos_suite.cli import cli
from chaos_suite.files.loader import resolve_plan

ROOT = Path(__file__).resolve().parents[2]


def _step(kind: str, label: str, module: str, func: str, **arguments: Any) -> dict[str, Any]:
    return {"type": kind, "name": label, "provider": {"type": "python", "module": module,
                                                     "func": func, "arguments": arguments}}


K8S_EXPERIMENT = {
    "title": "k8s faults", "description": "every family the table knows",
    "configuration": {"app_ns": {"type": "env", "key": "APP_NS", "default": "shop"}},
    "steady-state-hypothesis": {"title": "pods", "probes": [
        {**_step("probe", "pods", "chaosk8s.pod.probes", "count_pods",
                 label_selector="app=checkout", ns="shop"), "tolerance": 3}]},
    "method": [
        _step("action", "kill", "chaosk8s.pod.actions", "terminate_pods",
              label_selector="app=checkout", ns="${app_ns}"),
        _step("action", "scale", "chaosk8s.deployment.actions", "scale_deployment",
              name="checkout", replicas=1, ns="shop"),
        _step("action", "deny", "chaosk8s.networking.actions", "deny_all_ingress",
              ns="shop"),
        _step("action", "latency", "chaosk8s.chaosmesh.network.actions", "add_latency",
              name="lag", ns="shop", latency="100ms", label_selectors={"app": "checkout"}),
        _step("action", "engine", "chaosk8s.crd.actions", "create_custom_object",
              group="litmuschaos.io", version="v1alpha1", plural="chaosengines",
              ns="litmus", resource={}),
        _step("action", "cordon", "chaosk8s.node.actions", "cordon_node", name="node-1"),
    ],
    "rollbacks": [
        _step("action", "uncordon", "chaosk8s.node.actions", "uncordon_node", name="node-1"),
        _step("action", "allow", "chaosk8s.networking.actions", "remove_deny_all_ingress",
              ns="shop"),
    ],
}


def write_k8s_plan(folder: Path, experiment: dict[str, Any] | None = None) -> Path:
    (folder / "environments").mkdir(parents=True)
    (folder / "experiments").mkdir()
    shutil.copy(ROOT / "gamedays" / "environments" / "staging-k8s.yaml",
                folder / "environments" / "staging-k8s.yaml")
    shutil.copy(ROOT / "gamedays" / "slos" / "checkout.yaml", folder / "slos.yaml")
    shutil.copy(ROOT / "loadtests" / "checkout.py", folder / "checkout.py")
    shutil.copy(ROOT / "experiments" / "k8s-cordon-node.yaml",
                folder / "experiments" / "cordon.yaml")
    (folder / "experiments" / "faults.yaml").write_text(
        yaml.safe_dump(experiment or K8S_EXPERIMENT), encoding="utf-8")
    plan = {"kind": "Gameday", "name": "k8s_nightly", "service": "checkout",
            "environment": "staging-k8s", "slos": "slos.yaml",
            "load": {"locustfile": "checkout.py", "shape": {"kind": "steady", "users": 30}},
            "scenarios": [
                {"name": "cordon", "experiment": "experiments/cordon.yaml",
                 "expect": {"availability": {"max_budget_consumed": "0.01%"}}},
                {"name": "faults", "experiment": "experiments/faults.yaml",
                 "expect": {"availability": {"max_budget_consumed": "0.05%"}}}]}
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return path


def generate(*args: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["schedule", *args])
    assert result.exit_code == 0, result.output
    return [d for d in yaml.safe_load_all(result.output) if d]


def cronjob(plan: Path, *extra: str) -> list[dict[str, Any]]:
    return generate("cronjob", str(plan), "--schedule", "0 3 * * 1-5", "--image",
                    "registry.example.com/chaos-suite:1", *extra)


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    return write_k8s_plan(tmp_path / "plan")


# ------------------------------------------------------------ models and the fake API server

# kind → (emulator key, plural path part, namespaced)
PATHS = {
    "ServiceAccount": ("v1", "serviceaccounts", True),
    "ConfigMap": ("v1", "configmaps", True),
    "PersistentVolumeClaim": ("v1", "persistentvolumeclaims", True),
    "Service": ("v1", "services", True),
    "Deployment": ("apps/v1", "deployments", True),
    "CronJob": ("batch/v1", "cronjobs", True),
    "Role": ("rbac.authorization.k8s.io/v1", "roles", True),
    "RoleBinding": ("rbac.authorization.k8s.io/v1", "rolebindings", True),
    "ClusterRole": ("rbac.authorization.k8s.io/v1", "clusterroles", False),
    "ClusterRoleBinding": ("rbac.authorization.k8s.io/v1", "clusterrolebindings", False),
    "LocustTest": ("locust.io/v1", "locusttests", True),
}


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeK8s]:
    server = start_fake_k8s(tmp_path / "k8s")
    for kind, (version, plural, namespaced) in PATHS.items():
        server.emulator.resources[f"{version}/{plural}"] = kmock.ResourceInfo(
            kind=kind, namespaced=namespaced, verbs={"list", "get", "create", "delete"})
    try:
        yield server
    finally:
        server.stop()


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def assert_loads_into_model(doc: dict[str, Any]) -> None:
    """The kubernetes client's model of the kind holds every field we wrote (a misspelt or
    misplaced key would be dropped by the model and the round trip would differ)."""
    from kubernetes.client import ApiClient

    api = ApiClient()
    model = api._ApiClient__deserialize(doc, f"V1{doc['kind']}")  # type: ignore[attr-defined]
    assert type(model).__name__ == f"V1{doc['kind']}"
    assert _without_none(api.sanitize_for_serialization(model)) == doc  # type: ignore[no-untyped-call]


def post(fake: FakeK8s, doc: dict[str, Any]) -> int:
    version, plural, namespaced = PATHS[doc["kind"]]
    prefix = "/api/v1" if version == "v1" else f"/apis/{version}"
    ns = f"/namespaces/{doc['metadata']['namespace']}" if namespaced else ""
    status, body = fake.request("POST", f"{prefix}{ns}/{plural}", doc)
    assert body.get("metadata", {}).get("name") == doc["metadata"]["name"], body
    return int(status)


def test_cronjob_manifests_load_into_models_and_the_fake_accepts_them(
        plan: Path, fake: FakeK8s) -> None:
    docs = cronjob(plan)
    kinds = [d["kind"] for d in docs]
    for kind in ("ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding",
                 "ConfigMap", "PersistentVolumeClaim", "CronJob"):
        assert kind in kinds
    for doc in docs:
        assert_loads_into_model(doc)
        assert post(fake, doc) in (200, 201), doc["kind"]


def test_locust_manifests_load_into_models_and_the_fake_accepts_them(
        plan: Path, fake: FakeK8s) -> None:
    docs = generate("locust", str(plan), "--workers", "3")
    assert [d["kind"] for d in docs] == ["ConfigMap", "Deployment", "Service", "Deployment"]
    for doc in docs:
        assert_loads_into_model(doc)
        assert post(fake, doc) in (200, 201)
    master, service, worker = docs[1], docs[2], docs[3]
    assert sorted(p["port"] for p in service["spec"]["ports"]) == [5557, 8089]
    assert service["spec"]["selector"] == master["spec"]["template"]["metadata"]["labels"]
    assert worker["spec"]["replicas"] == 3
    args = worker["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--master-host") + 1] == service["metadata"]["name"]
    master_args = master["spec"]["template"]["spec"]["containers"][0]["args"]
    assert master_args[master_args.index("--expect-workers") + 1] == "3"
    assert master_args[master_args.index("--users") + 1] == "30"
    assert "checkout.py" in docs[0]["data"]


def test_locust_operator_gives_a_locusttest(plan: Path, fake: FakeK8s) -> None:
    docs = generate("locust", str(plan), "--operator", "--workers", "4")
    config, test = docs
    assert (test["apiVersion"], test["kind"]) == ("locust.io/v1", "LocustTest")
    assert test["spec"]["workerReplicas"] == 4
    assert test["spec"]["configMap"] == config["metadata"]["name"]
    assert "/lotest/src/checkout.py" in test["spec"]["masterCommandSeed"]
    assert_loads_into_model(config)
    for doc in docs:
        assert post(fake, doc) in (200, 201)


# ------------------------------------------------------------ RBAC


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


def rules_of(docs: list[dict[str, Any]], kind: str, ns: str | None = None
             ) -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    for doc in by_kind(docs, kind):
        if ns is not None and doc["metadata"].get("namespace") != ns:
            continue
        for rule in doc["rules"]:
            out[(rule["apiGroups"][0], rule["resources"][0])] = rule["verbs"]
    return out


def test_no_rbac_rule_has_a_wildcard(plan: Path) -> None:
    docs = cronjob(plan)
    for doc in by_kind(docs, "Role") + by_kind(docs, "ClusterRole"):
        for rule in doc.get("rules", []):
            assert not any("*" in s for s in _strings(rule)), rule
    assert not any(s == "*" for d in docs for s in _strings(d))


def test_rules_are_derived_from_the_steps(plan: Path) -> None:
    docs = cronjob(plan)
    assert rules_of(docs, "Role", "shop") == {
        ("", "pods"): ["delete", "get", "list"],  # ${app_ns} → the configuration's default
        ("apps", "deployments"): ["get", "patch"],
        ("chaos-mesh.org", "networkchaos"): ["create", "delete", "get", "list"],
        ("networking.k8s.io", "networkpolicies"): ["create", "delete", "get", "list"],
    }
    assert rules_of(docs, "Role", "litmus") == {
        ("litmuschaos.io", "chaosengines"): ["create", "delete", "get", "list"]}
    assert rules_of(docs, "ClusterRole") == {("", "nodes"): ["get", "list", "patch"]}
    sa = by_kind(docs, "ServiceAccount")[0]["metadata"]
    for binding in by_kind(docs, "RoleBinding") + by_kind(docs, "ClusterRoleBinding"):
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": sa["name"],
                                        "namespace": "shop"}]


def test_an_unknown_chaosk8s_function_is_exit_2_naming_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A real chaosk8s function the table does not map (secrets): refused, never guessed."""
    experiment = {"title": "t", "description": "t", "method": [
        _step("action", "secret", "chaosk8s.secret.actions", "create_secret",
              spec_path="secret.yaml", ns="shop")]}
    plan = write_k8s_plan(tmp_path / "plan", experiment)
    from chaos_suite.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["schedule", "cronjob", str(plan), "--schedule", "0 3 * * *", "--image", "x"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "chaosk8s.secret.actions.create_secret" in err and "no RBAC mapping" in err
    assert "scenario 'faults'" in err


# ------------------------------------------------------------ ConfigMap and CronJob


def test_configmap_files_resolve_as_the_same_plan(plan: Path, tmp_path: Path) -> None:
    docs = cronjob(plan)
    data = by_kind(docs, "ConfigMap")[0]["data"]
    assert all(re.fullmatch(r"[-._a-zA-Z0-9]+", key) for key in data)
    mounted = tmp_path / "mounted"
    mounted.mkdir()
    for key, text in data.items():
        (mounted / key).write_text(text, encoding="utf-8")
    job = by_kind(docs, "CronJob")[0]
    args = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
    plan_file = mounted / Path(args[2]).name
    original, copy = resolve_plan(plan), resolve_plan(plan_file)
    assert [s.experiment for s in copy.scenarios] == [s.experiment for s in original.scenarios]
    assert copy.environment == original.environment
    assert [s.name for s in copy.slos] == [s.name for s in original.slos]
    assert copy.locustfile.read_text() == original.locustfile.read_text()


def test_cronjob_runs_the_plan_forbidding_overlap(plan: Path) -> None:
    job = by_kind(cronjob(plan), "CronJob")[0]
    assert job["metadata"]["namespace"] == "shop"
    spec = job["spec"]
    assert (spec["schedule"], spec["concurrencyPolicy"]) == ("0 3 * * 1-5", "Forbid")
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    args = pod["containers"][0]["args"]
    assert args == ["gameday", "run", "/plan/plan.yaml", "--reports", "/reports"]
    assert "--confirm" not in args
    assert pod["serviceAccountName"] == job["metadata"]["name"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert {v["name"] for v in pod["volumes"]} == {"plan", "reports"}


def test_confirm_fail_on_and_emptydir_only_when_asked(plan: Path) -> None:
    docs = cronjob(plan, "--confirm", "staging", "--fail-on", "worse,aborted",
                   "--reports", "emptydir", "--namespace", "chaos")
    assert not by_kind(docs, "PersistentVolumeClaim")
    job = by_kind(docs, "CronJob")[0]
    pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["containers"][0]["args"][-4:] == ["--confirm", "staging", "--fail-on",
                                                 "worse,aborted"]
    assert {"name": "reports", "emptyDir": {}} in pod["volumes"]
    assert job["metadata"]["namespace"] == "chaos"


def test_a_local_environment_needs_a_namespace() -> None:
    result = CliRunner().invoke(cli, ["schedule", "cronjob", str(ROOT / "gamedays" / "demo.yaml"),
                                      "--schedule", "0 3 * * *", "--image", "x"])
    assert result.exit_code != 0
    assert "--namespace" in str(result.exception)


# ------------------------------------------------------------ Dockerfile


def test_dockerfile_copies_files_that_exist() -> None:
    """docker cannot run here: check the COPY sources exist and the image is as documented."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip()
             and not line.startswith("#")]
    assert lines[0] == "FROM python:3.11-slim"
    copies = [line.split()[1:-1] for line in lines if line.startswith("COPY")]
    assert copies
    for sources in copies:
        for source in sources:
            assert (ROOT / source).exists(), source
    assert any(line.startswith("RUN pip install .") for line in lines)
    assert "USER 10001" in lines
    assert 'ENTRYPOINT ["chaos-suite"]' in lines
