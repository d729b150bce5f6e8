"""RBAC of scheduled runs covers what the run reads and reverts besides its faults: the
blast-radius count (safety/k8s_radius.py lists the pods each workload action and Chaos Mesh
selector would hit, in the selector's own namespaces) and chaos_suite.faults.chaosmesh steps
with their reverts (delete_chaos_resource gets then deletes; the run-label sweep lists every
Chaos Mesh plural). The loop is closed against the fake API server: every request the count,
the Chaos Mesh faults and their reverts make there is granted by the rules derived for the plan."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kmock
import pytest
import yaml
from click.testing import CliRunner
from support.fake_k8s import FakeK8s, point_clients_at, start_fake_k8s

from chaos_suite.cli import cli
from chaos_suite.errors import InputError
from chaos_suite.files.loader import resolve_plan
from chaos_suite.schedule.rbac import Rules, derive_rules

ROOT = Path(__file__).resolve().parents[2]
MESH = "chaos_suite.faults.chaosmesh"
RUN_ID = "rbac-loop"


def step(title: str, module: str, func: str, /, **arguments: Any) -> dict[str, Any]:
    return {"type": "action", "name": title, "provider": {"type": "python", "module": module,
                                                         "func": func, "arguments": arguments}}


def mesh(title: str, func: str, /, **arguments: Any) -> dict[str, Any]:
    return step(title, MESH, func, **{"name": title, "ns": "shop", **arguments})


def write_plan(folder: Path, method: list[dict[str, Any]],
               rollbacks: list[dict[str, Any]] | None = None,
               configuration: dict[str, Any] | None = None) -> Path:
    """A one-scenario plan on a Kubernetes environment (namespace shop, the kubeconfig's
    current context) with a pod limit, so the count must succeed or refuse."""
    (folder / "environments").mkdir(parents=True)
    (folder / "experiments").mkdir()
    shutil.copy(ROOT / "gamedays" / "slos" / "checkout.yaml", folder / "slos.yaml")
    shutil.copy(ROOT / "loadtests" / "checkout.py", folder / "checkout.py")
    env = {"kind": "Environment", "name": "k8s", "tier": "staging",
           "safety": {"blast_radius": {"max_pods": 100}},
           "target": {"type": "kubernetes", "namespace": "shop",
                      "url": "http://127.0.0.1:9"}}
    (folder / "environments" / "k8s.yaml").write_text(yaml.safe_dump(env), encoding="utf-8")
    experiment: dict[str, Any] = {"title": "rbac", "description": "rbac", "method": method,
                                  "rollbacks": rollbacks or []}
    if configuration:
        experiment["configuration"] = configuration
    (folder / "experiments" / "faults.yaml").write_text(yaml.safe_dump(experiment),
                                                        encoding="utf-8")
    plan = {"kind": "Gameday", "name": "rbac", "service": "checkout", "environment": "k8s",
            "slos": "slos.yaml", "load": {"locustfile": "checkout.py",
                                          "shape": {"kind": "steady", "users": 5}},
            "scenarios": [{"name": "faults", "experiment": "experiments/faults.yaml",
                           "expect": {"availability": {"max_budget_consumed": "1%"}}}]}
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return path


def rules(plan: Path) -> Rules:
    return derive_rules(resolve_plan(plan), extra_namespaces=["shop"])


def as_map(rule_list: list[dict[str, Any]]) -> dict[tuple[str, str], list[str]]:
    return {(r["apiGroups"][0], r["resources"][0]): r["verbs"] for r in rule_list}


def namespaced(derived: Rules) -> dict[str, dict[tuple[str, str], list[str]]]:
    return {ns: as_map(r) for ns, r in derived.namespaced.items()}


# ---------------------------------------------------------------- exact rules


def test_scale_and_chaos_mesh_latency_over_two_namespaces_get_exactly_these_rules(
        tmp_path: Path) -> None:
    plan = write_plan(tmp_path, [
        step("scale", "chaosk8s.deployment.actions", "scale_deployment", name="checkout",
             replicas=1, ns="shop"),
        mesh("lag", "add_latency", latency="100ms", label_selectors={"app": "checkout"},
             namespaces=["shop", "payments"])])
    result = CliRunner().invoke(cli, ["schedule", "cronjob", str(plan), "--schedule",
                                      "0 3 * * *", "--image", "x"])
    assert result.exit_code == 0, result.output
    docs = [d for d in yaml.safe_load_all(result.output) if d]
    roles = {d["metadata"]["namespace"]: as_map(d["rules"]) for d in docs
             if d["kind"] == "Role"}
    assert roles == {
        "shop": {
            ("", "pods"): ["list"],  # the count: the deployment's pods, the selector's
            ("apps", "deployments"): ["get", "patch"],  # scale, its revert, the count's get
            # add_latency creates it; its revert (delete_chaos_resource) gets, then deletes it
            ("chaos-mesh.org", "networkchaos"): ["create", "delete", "get"],
        },
        "payments": {("", "pods"): ["list"]},  # the selector's second namespace: read only
    }
    bindings = {d["metadata"]["namespace"] for d in docs if d["kind"] == "RoleBinding"}
    assert bindings == {"shop", "payments"}
    assert not [d for d in docs if d["kind"] in ("ClusterRole", "ClusterRoleBinding")]


def test_chaos_mesh_resources_selectors_and_reverts(tmp_path: Path) -> None:
    pod_chaos = {"kind": "PodChaos", "metadata": {"name": "pc"}, "spec": {
        "action": "pod-kill", "mode": "one", "selector": {"pods": {"payments": ["db-0"]}}}}
    both = {"kind": "NetworkChaos", "metadata": {"name": "nc"}, "spec": {
        "action": "delay", "mode": "all", "direction": "both",
        "selector": {"namespaces": ["${front}"]},
        "target": {"mode": "all", "selector": {"namespaces": ["billing"]}}}}
    to_only = {"kind": "NetworkChaos", "metadata": {"name": "to"}, "spec": {
        "action": "delay", "mode": "all",  # direction "to": the target is not counted
        "target": {"mode": "all", "selector": {"namespaces": ["ignored"]}}}}
    plan = write_plan(tmp_path, [
        mesh("cpu", "stress_cpu", ns="ops", namespaces="web,api"),  # chaosk8s' comma form
        step("pc", MESH, "create_chaos_resource", ns="ops", resource=pod_chaos),
        step("nc", MESH, "create_chaos_resource", ns="ops", resource=both),
        step("to", MESH, "create_chaos_resource", ns="ops", resource=to_only),
        step("svc", "chaosk8s.actions", "remove_service_endpoint", name="cart", ns="shop"),
        step("rs", "chaosk8s.replicaset.actions", "delete_replica_set", ns="shop"),
    ], rollbacks=[
        step("one", MESH, "delete_chaos_resource", plural="iochaos", name="x", ns="ops"),
        step("sweep", MESH, "delete_chaos_resources", ns="ops"),
    ], configuration={"front": {"type": "env", "key": "FRONT", "default": "web"}})
    derived = rules(plan)
    every = ["dnschaos", "httpchaos", "iochaos", "networkchaos", "podchaos", "stresschaos",
             "timechaos"]
    ops = {("chaos-mesh.org", p): ["delete", "list"] for p in every}
    ops.update({
        ("", "pods"): ["list"],  # "to" selects pods of its own namespace
        ("chaos-mesh.org", "stresschaos"): ["create", "delete", "get", "list"],
        ("chaos-mesh.org", "podchaos"): ["create", "delete", "get", "list"],
        ("chaos-mesh.org", "networkchaos"): ["create", "delete", "get", "list"],
        ("chaos-mesh.org", "iochaos"): ["delete", "get", "list"],
    })
    assert namespaced(derived) == {
        "api": {("", "pods"): ["list"]},
        "billing": {("", "pods"): ["list"]},  # the target of a `both` NetworkChaos
        "ops": ops,
        "payments": {("", "pods"): ["list"]},  # the namespace of the named pods
        "shop": {("", "pods"): ["list"], ("", "services"): ["delete", "get"],
                 ("apps", "replicasets"): ["delete", "list"]},
        "web": {("", "pods"): ["list"]},  # stress_cpu's and the ${front} default
    }
    assert derived.cluster == []


def test_a_sweep_without_a_namespace_lists_and_deletes_across_the_cluster(
        tmp_path: Path) -> None:
    plan = write_plan(tmp_path, [mesh("lag", "set_loss", loss="5")],
                      rollbacks=[step("sweep", MESH, "delete_chaos_resources")])
    derived = rules(plan)
    assert as_map(derived.cluster) == {
        ("chaos-mesh.org", p): ["delete", "list"] for p in (
            "dnschaos", "httpchaos", "iochaos", "networkchaos", "podchaos", "stresschaos",
            "timechaos")}
    assert namespaced(derived)["shop"] == {
        ("", "pods"): ["list"], ("chaos-mesh.org", "networkchaos"): ["create", "delete", "get"]}


@pytest.mark.parametrize(("resource", "configuration", "message"), [
    ({"kind": "KernelChaos", "metadata": {"name": "k"}}, None, "'KernelChaos'"),
    ({"kind": "${kind}", "metadata": {"name": "k"}}, {"other": "x"},
     "${kind} has no value or default"),
    ({"kind": "PodChaos", "metadata": {}}, None, "needs a literal name"),
])
def test_a_chaos_mesh_resource_that_cannot_be_resolved_is_refused_naming_the_step(
        tmp_path: Path, resource: dict[str, Any], configuration: dict[str, Any] | None,
        message: str) -> None:
    plan = write_plan(tmp_path, [step("custom", MESH, "create_chaos_resource", ns="shop",
                                      resource=resource)], configuration=configuration)
    with pytest.raises(InputError) as raised:
        rules(plan)
    assert "scenario 'faults': action 'custom'" in str(raised.value)
    assert message in str(raised.value)


def test_a_templated_kind_with_a_value_resolves(tmp_path: Path) -> None:
    plan = write_plan(tmp_path, [step("custom", MESH, "create_chaos_resource", ns="shop",
                                      resource={"kind": "${kind}", "metadata": {"name": "t"}})],
                      configuration={"kind": "TimeChaos"})
    assert namespaced(rules(plan))["shop"] == {
        ("", "pods"): ["list"], ("chaos-mesh.org", "timechaos"): ["create", "delete", "get"]}


def test_an_unmapped_chaos_mesh_module_function_is_refused(tmp_path: Path) -> None:
    plan = write_plan(tmp_path, [step("sweep", MESH, "sweep", live_run_ids=[])])
    with pytest.raises(InputError, match="'sweep' has no RBAC mapping"):
        rules(plan)


# ---------------------------------------------------------------- the loop, on the fake API


def access(method: str, path: str) -> tuple[str, str, str, str | None]:
    """(apiGroup, resource, verb, namespace or None) an API request needs, as the API
    server's authorizer reads the request path."""
    parts = path.strip("/").split("/")
    if parts[0] == "api":
        group, rest = "", parts[2:]
    else:
        assert parts[0] == "apis", path
        group, rest = parts[1], parts[3:]
    ns = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        ns, rest = rest[1], rest[2:]
    resource = rest[0] + (f"/{rest[2]}" if len(rest) > 2 else "")
    named = len(rest) > 1
    verb = {"GET": "get" if named else "list", "POST": "create", "PUT": "update",
            "PATCH": "patch", "DELETE": "delete" if named else "deletecollection"}[method]
    return group, resource, verb, ns


def granted(derived: Rules, group: str, resource: str, verb: str, ns: str | None) -> bool:
    scopes = [derived.cluster] + ([derived.namespaced.get(ns, [])] if ns else [])
    return any(group in r["apiGroups"] and resource in r["resources"] and verb in r["verbs"]
               for rule_list in scopes for r in rule_list)


def uncovered(derived: Rules, seen: list[tuple[str, str, Any]]
              ) -> list[tuple[str, str, str, str | None]]:
    needed = {access(method.upper(), path) for method, path, _ in seen}
    return sorted((n for n in needed if not granted(derived, *n)), key=str)


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeK8s]:
    server = start_fake_k8s(tmp_path / "k8s")
    point_clients_at(server.kubeconfig, monkeypatch.setenv, monkeypatch.setattr)
    monkeypatch.setenv("CHAOS_SUITE_RUN_ID", RUN_ID)
    for key, kind in (("apps/v1/replicasets", "ReplicaSet"), ("v1/services", "Service")):
        server.emulator.resources[key] = kmock.ResourceInfo(
            kind=kind, namespaced=True, verbs={"list", "get", "delete"})
    objects = server.emulator.objects
    objects["apps/v1/replicasets", "shop", "cart-rs"] = {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "cart-rs", "namespace": "shop", "labels": {"app": "cart"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "cart"}}}}
    objects["v1/services", "shop", "cart"] = {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "cart", "namespace": "shop"},
        "spec": {"selector": {"app": "cart"}}}
    for ns, name in (("payments", "db-0"), ("billing", "ledger-0")):
        objects["v1/pods", ns, name] = {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": name[:-2]}},
            "spec": {"containers": [{"name": "app", "image": "x"}]},
            "status": {"phase": "Running"}}
    try:
        yield server
    finally:
        server.stop()


LOOP_METHOD = [
    step("kill", "chaosk8s.pod.actions", "terminate_pods", ns="shop",
         label_selector="app=checkout"),
    step("scale", "chaosk8s.deployment.actions", "scale_deployment", name="checkout",
         replicas=1, ns="shop"),
    step("deploy", "chaosk8s.deployment.actions", "delete_deployment", ns="shop",
         label_selector="app=checkout"),
    step("rs", "chaosk8s.replicaset.actions", "delete_replica_set", ns="shop",
         label_selector="app=cart"),
    step("micro", "chaosk8s.actions", "kill_microservice", name="checkout", ns="shop"),
    step("endpoint", "chaosk8s.actions", "remove_service_endpoint", name="cart", ns="shop"),
    step("service", "chaosk8s.service.actions", "delete_service", name="cart", ns="shop"),
    step("cordon", "chaosk8s.node.actions", "cordon_node", name="node-1"),
    mesh("lag", "add_latency", ns="${app_ns}", latency="10ms", mode="all",
         label_selectors={"app": "checkout"}, namespaces=["${app_ns}", "payments"]),
    mesh("cpu", "stress_cpu", label_selectors="app=cart"),
    step("pods", MESH, "create_chaos_resource", ns="shop", resource={
        "kind": "PodChaos", "metadata": {"name": "pc"}, "spec": {
            "action": "pod-kill", "mode": "one", "selector": {"pods": {"payments": ["db-0"]}}}}),
    step("both", MESH, "create_chaos_resource", ns="shop", resource={
        "kind": "NetworkChaos", "metadata": {"name": "both"}, "spec": {
            "action": "delay", "delay": {"latency": "5ms"}, "mode": "all", "direction": "both",
            "selector": {"labelSelectors": {"app": "checkout"}},
            "target": {"mode": "all", "selector": {"namespaces": ["billing"]}}}}),
]
LOOP_ROLLBACKS = [
    step("uncordon", "chaosk8s.node.actions", "uncordon_node", name="node-1"),
    step("sweep", MESH, "delete_chaos_resources", ns="shop"),
]


def test_rules_cover_every_request_of_the_count_the_faults_and_their_reverts(
        fake: FakeK8s, tmp_path: Path) -> None:
    from chaos_suite.faults import chaosmesh
    from chaos_suite.safety.gates import kubernetes_radius
    from chaos_suite.safety.k8s_radius import resolved_arguments

    plan = write_plan(tmp_path, LOOP_METHOD, LOOP_ROLLBACKS, configuration={"app_ns": "shop"})
    resolved = resolve_plan(plan)
    derived = derive_rules(resolved, extra_namespaces=["shop"])

    lines = kubernetes_radius(resolved)  # max_pods is set: a failed read would refuse
    assert len(lines) == len(LOOP_METHOD), lines
    assert not [line for line in lines if "cannot" in line], lines
    text = " ".join(lines)
    assert "'pods' would hit 1 pods (payments/db-0)" in text, lines
    assert "billing/ledger-0" in text, lines  # the target of the `both` NetworkChaos
    counted = list(fake.emulator.seen)
    assert fake.mutations() == []
    needed = {access(m, p) for m, p, _ in counted}
    # what this rule set adds, really read by the count
    for read in [("", "pods", "list", "payments"), ("", "pods", "list", "billing"),
                 ("", "services", "get", "shop"), ("apps", "deployments", "get", "shop"),
                 ("apps", "replicasets", "list", "shop"), ("", "nodes", "list", None)]:
        assert read in needed, (read, sorted(needed, key=str))

    # the Chaos Mesh faults a run makes (those the fake serves), each with its exact revert as
    # the ledger records it, then the rollbacks' run-label sweep
    for item in LOOP_METHOD[8:10]:
        provider = item["provider"]
        arguments = resolved_arguments(provider["arguments"], resolved.scenarios[0].experiment)
        getattr(chaosmesh, provider["func"])(**arguments)
        revert = chaosmesh.revert_of(provider["func"], arguments)
        assert revert is not None and revert["func"] == "delete_chaos_resource"
        assert chaosmesh.delete_chaos_resource(**revert["arguments"]) != []
    chaosmesh.stress_memory("mem", ns="shop")
    assert chaosmesh.delete_chaos_resources(ns="shop") == ["stresschaos/shop/mem"]
    methods = {m.upper() for m, _, _ in fake.emulator.seen}
    assert {"POST", "DELETE"} <= methods  # the faults and reverts did reach the fake

    assert uncovered(derived, list(fake.emulator.seen)) == []
    # and the check is not vacuous: without the rules added for the count, reads are missing
    without_reads = Rules({ns: [r for r in rs if r["resources"] != ["pods"]]
                           for ns, rs in derived.namespaced.items()}, derived.cluster)
    missing = uncovered(without_reads, counted)
    assert ("", "pods", "list", "payments") in missing and ("", "pods", "list", "shop") in missing
