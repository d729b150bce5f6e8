"""Kubernetes blast radius counted through the API, as a user runs it (`gameday run --dry-run`
against the fake API server): the dry run lists the exact pods and nodes each chaosk8s action
would hit and sends no mutating request; max_pods, max_fraction, protected namespaces and raw
Chaos Mesh actions are refused before anything is injected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from gameday_helpers import experiment, run_cli, write_plan
from support.fake_k8s import FakeK8s

EXPECT = {"availability": {"max_budget_consumed": "1%"}}


def action(title: str, module: str, func: str, **arguments: Any) -> dict[str, Any]:
    return {"type": "action", "name": title, "provider": {
        "type": "python", "module": module, "func": func, "arguments": arguments}}


def terminate(title: str = "kill", **arguments: Any) -> dict[str, Any]:
    return action(title, "chaosk8s.pod.actions", "terminate_pods", **{"ns": "shop", **arguments})


def dry_run(folder: Path, method: list[dict[str, Any]], safety: dict[str, Any] | None = None,
            ) -> tuple[int, str, str]:
    plan = write_plan(folder, [{"name": "k8s", "experiment": experiment("k8s", method),
                                "expect": EXPECT}], tier="staging")
    env = {"kind": "Environment", "name": "test", "tier": "staging", "safety": safety or {},
           "target": {"type": "kubernetes", "namespace": "shop", "url": "http://127.0.0.1:9"}}
    (folder / "environments" / "test.yaml").write_text(yaml.safe_dump(env), encoding="utf-8")
    done = run_cli("gameday", "run", str(plan), "--dry-run", "--reports",
                   str(folder / "reports"), timeout=60)
    return done.returncode, done.stdout, done.stderr


def test_dry_run_lists_exact_targets_and_sends_no_mutating_request(fake: FakeK8s,
                                                                   tmp_path: Path) -> None:
    fake.add_node("node-2", {"pool": "default"}, unschedulable=True)
    method = [terminate(label_selector="app=checkout", qty=2),
              action("cordon", "chaosk8s.node.actions", "cordon_node",
                     label_selector="pool=default"),
              terminate("random", label_selector="app=checkout", rand=True)]
    rc, out, err = dry_run(tmp_path, method, {"blast_radius": {"max_pods": 3}})
    assert rc == 0, (out, err)
    flat = " ".join(out.split())
    assert "action 'kill' would hit 2 pods (shop/checkout-0, shop/checkout-1)" in flat, out
    assert "action 'cordon' would hit 2 nodes (node-1, node-2)" in flat, out
    assert ("action 'random' would hit 1 pods at random of 3 (shop/checkout-0, "
            "shop/checkout-1, shop/checkout-2)") in flat, out
    assert fake.mutations() == []
    assert any(m == "GET" and p == "/api/v1/namespaces/shop/pods" for m, p, _ in
               fake.emulator.seen)  # counted through the API
    assert not fake.node_unschedulable("node-1")


def test_selector_matching_too_many_pods_is_refused(fake: FakeK8s, tmp_path: Path) -> None:
    # no label selector: every pod of the namespace (3 checkout + cart-0)
    rc, _, err = dry_run(tmp_path, [terminate(all=True)], {"blast_radius": {"max_pods": 2}})
    assert rc == 2, err
    assert "refused by gate 'blast-radius'" in err and "hits 4 pods" in err, err
    assert "allows max_pods 2" in err
    assert fake.mutations() == []


def test_max_fraction_is_of_the_pods_the_selector_aims_at(fake: FakeK8s, tmp_path: Path) -> None:
    policy = {"blast_radius": {"max_fraction": "50%"}}
    rc, _, err = dry_run(tmp_path / "a", [terminate(label_selector="app=checkout",
                                                    mode="percentage", qty=34)], policy)
    assert rc == 2 and "hits 2 of 3 pods (67%)" in err, err  # ceil(34% of 3) = 2
    rc, out, err = dry_run(tmp_path / "b", [terminate(label_selector="app=checkout",
                                                      qty=1)], policy)
    assert rc == 0, err
    assert "safety gates: passed" in out
    assert fake.mutations() == []


def test_protected_namespaces_are_refused(fake: FakeK8s, tmp_path: Path) -> None:
    rc, _, err = dry_run(tmp_path / "a", [action("x", "chaosk8s.pod.actions", "terminate_pods",
                                                 ns="kube-system")])
    assert rc == 2 and "refused by gate 'protected-namespace'" in err, err
    assert "'kube-system'" in err
    rc, _, err = dry_run(tmp_path / "b", [terminate(qty=1)], {"protected_namespaces": ["shop"]})
    assert rc == 2 and "protected namespace 'shop'" in err, err
    rc, _, err = dry_run(tmp_path / "c", [action(
        "mesh", "chaos_suite.faults.chaosmesh", "add_latency", name="l", latency="1ms",
        ns="shop", namespaces=["kube-system"])])
    assert rc == 2 and "protected namespace 'kube-system'" in err, err
    templated = experiment("k8s", [terminate(ns="${where}")])
    templated["configuration"] = {"where": "kube-system"}
    plan = write_plan(tmp_path / "d", [{"name": "k8s", "experiment": templated,
                                        "expect": EXPECT}])
    done = run_cli("gameday", "run", str(plan), "--dry-run", timeout=60)
    assert done.returncode == 2 and "protected namespace 'kube-system'" in done.stderr


def test_raw_chaosk8s_chaosmesh_actions_are_refused(fake: FakeK8s, tmp_path: Path) -> None:
    rc, _, err = dry_run(tmp_path, [action("raw", "chaosk8s.chaosmesh.network.actions",
                                           "add_latency", name="l", ns="shop", latency="1ms")])
    assert rc == 2 and "refused by gate 'unsafe-chaos-resource'" in err, err
    assert "chaos_suite.faults.chaosmesh" in err


def test_limit_refused_when_the_api_cannot_count(fake: FakeK8s, tmp_path: Path) -> None:
    fake.stop()
    rc, _, err = dry_run(tmp_path, [terminate(qty=1)], {"blast_radius": {"max_pods": 5}})
    assert rc == 2 and "cannot count what it hits through the Kubernetes API" in err, err


# ---------------------------------------------------------------- Chaos Mesh selectors

MESH = "chaos_suite.faults.chaosmesh"


def mesh(title: str, func: str, **arguments: Any) -> dict[str, Any]:
    return action(title, MESH, func, **{"name": title, "ns": "shop", **arguments})


def flat(text: str) -> str:
    return " ".join(text.split())


def test_chaos_mesh_selectors_are_listed_as_chaos_mesh_picks_them(fake: FakeK8s,
                                                                  tmp_path: Path) -> None:
    pod_chaos = {"kind": "PodChaos", "metadata": {"name": "pc"}, "spec": {
        "action": "pod-failure", "mode": "one", "selector": {"pods": {"shop": ["cart-0"]}}}}
    method = [
        mesh("all", "add_latency", latency="1ms", mode="all"),  # no labels: every pod of shop
        mesh("half", "stress_cpu", label_selectors={"app": "checkout"}, mode="fixed-percent",
             mode_value="50"),  # floor(50% of 3) = 1, at random
        mesh("two", "set_loss", loss="5", label_selectors="app=checkout", mode="fixed",
             mode_value="2"),
        mesh("upto", "set_bandwidth", rate="1mbps", limit=1, buffer=1,
             label_selectors={"app": "checkout"}, mode="random-max-percent", mode_value="100"),
        action("pods", MESH, "create_chaos_resource", ns="shop", resource=pod_chaos),
    ]
    rc, out, err = dry_run(tmp_path, method, {"blast_radius": {"max_pods": 10}})
    assert rc == 0, (out, err)
    text = flat(out)
    assert ("action 'all' would hit 4 pods (shop/cart-0, shop/checkout-0, shop/checkout-1, "
            "shop/checkout-2)") in text, out
    assert ("action 'half' would hit 1 pods at random of 3 (shop/checkout-0, shop/checkout-1, "
            "shop/checkout-2)") in text, out
    assert "action 'two' would hit 2 pods at random of 3" in text, out
    assert ("action 'upto' would hit 3 pods at random of 3 (shop/checkout-0, shop/checkout-1, "
            "shop/checkout-2); random-max-percent 100: at most 3") in text, out
    assert "action 'pods' would hit 1 pods (shop/cart-0)" in text, out
    assert fake.mutations() == []  # listed through the API, nothing created
    assert fake.chaos() == [] and fake.chaos("stresschaos") == []


def test_chaos_mesh_selector_matching_too_many_pods_is_refused(fake: FakeK8s,
                                                               tmp_path: Path) -> None:
    rc, _, err = dry_run(tmp_path / "a", [mesh("wide", "add_latency", latency="1ms",
                                               mode="all")], {"blast_radius": {"max_pods": 2}})
    assert rc == 2, err
    assert "refused by gate 'blast-radius'" in err and "hits 4 pods" in err, err
    assert "allows max_pods 2" in err
    # fixed-percent rounds down as Chaos Mesh does: 67% of 3 is 2 (67%), 66% of 3 is 1 (33%)
    policy = {"blast_radius": {"max_fraction": "50%"}}
    rc, _, err = dry_run(tmp_path / "b", [mesh("p67", "stress_memory", mode="fixed-percent",
                                               mode_value="67", label_selectors="app=checkout")],
                         policy)
    assert rc == 2 and "hits 2 of 3 pods (67%)" in err, err
    rc, out, err = dry_run(tmp_path / "c", [mesh("p66", "stress_memory", mode="fixed-percent",
                                                 mode_value="66",
                                                 label_selectors="app=checkout")], policy)
    assert rc == 0 and "would hit 1 pods at random of 3" in flat(out), (out, err)
    assert fake.mutations() == []


def test_chaos_mesh_selector_in_a_protected_namespace_is_refused(fake: FakeK8s,
                                                                  tmp_path: Path) -> None:
    in_selector = {"kind": "NetworkChaos", "metadata": {"name": "n"}, "spec": {
        "action": "delay", "delay": {"latency": "1ms"}, "mode": "all",
        "selector": {"namespaces": ["kube-system"]}}}
    rc, _, err = dry_run(tmp_path / "a", [action("cr", MESH, "create_chaos_resource", ns="shop",
                                                 resource=in_selector)])
    assert rc == 2 and "refused by gate 'protected-namespace'" in err, err
    assert "'kube-system'" in err
    by_pods = {"kind": "PodChaos", "metadata": {"name": "p"}, "spec": {
        "action": "pod-kill", "mode": "one", "selector": {"pods": {"payments": ["db-0"]}}}}
    rc, _, err = dry_run(tmp_path / "b", [action("cr", MESH, "create_chaos_resource", ns="shop",
                                                 resource=by_pods)],
                         {"protected_namespaces": ["payments"]})
    assert rc == 2 and "protected namespace 'payments'" in err, err
    # chaosk8s' comma-separated namespaces_selectors (refused as raw anyway, but first here)
    rc, _, err = dry_run(tmp_path / "c", [action(
        "raw", "chaosk8s.chaosmesh.network.actions", "add_latency", name="s", ns="shop",
        namespaces_selectors="shop,kube-system")])
    assert rc == 2 and "protected namespace 'kube-system'" in err, err
    assert fake.mutations() == []


def test_raw_chaosk8s_chaos_mesh_and_crd_selections_are_counted(fake: FakeK8s) -> None:
    # the gates refuse these before counting; counted all the same (a user's allowance later)
    from chaos_suite.safety.k8s_radius import api_client, countable, mode_count, step_hits

    api = api_client()
    raw = {"type": "python", "module": "chaosk8s.chaosmesh.network.actions",
           "func": "add_latency"}
    hits = step_hits(raw, {"name": "l", "ns": "shop", "label_selectors": "app=checkout",
                           "mode": "fixed-percent", "mode_value": "34",
                           "direction": "both", "target_label_selectors": "app=cart",
                           "target_mode": "all"}, api)
    assert (hits.count, hits.random) == (2, True)  # 1 of checkout (floor 1.02) + cart-0
    assert "shop/cart-0" in hits.candidates
    crd: dict[str, Any] = {
        "type": "python", "module": "chaosk8s.crd.actions", "func": "apply_from_yaml",
        "arguments": {"resource": yaml.safe_dump({
            "apiVersion": "chaos-mesh.org/v1alpha1", "kind": "StressChaos",
            "metadata": {"name": "s", "namespace": "shop"},
            "spec": {"mode": "all", "selector": {"labelSelectors": {"app": "cart"}}}})}}
    assert countable(crd)
    assert step_hits(crd, crd["arguments"], api).names == ["shop/cart-0"]
    not_mesh = {"type": "python", "module": "chaosk8s.crd.actions",
                "func": "create_custom_object",
                "arguments": {"group": "example.com", "version": "v1", "plural": "things"}}
    assert not countable(not_mesh)
    assert mode_count("fixed-percent", "50", 3) == (1, True)
    assert mode_count("fixed", "5", 3) == (3, False)
    assert mode_count("one", None, 1) == (1, False)
    assert fake.mutations() == []


# ---------------------------------------------------------------- workloads

def serve(fake: FakeK8s, key: str, kind: str) -> None:
    """Let the fake serve a resource its preload does not (kmock's emulator)."""
    import kmock

    fake.emulator.resources[key] = kmock.ResourceInfo(kind=kind, namespaced=True,
                                                      verbs={"list", "get", "delete"})


def test_scale_deployment_counts_the_replicas_it_removes(fake: FakeK8s, tmp_path: Path) -> None:
    def scale(replicas: int) -> dict[str, Any]:
        return action("scale", "chaosk8s.deployment.actions", "scale_deployment",
                      name="checkout", ns="shop", replicas=replicas)

    rc, out, err = dry_run(tmp_path / "a", [scale(1)], {"blast_radius": {"max_pods": 2}})
    assert rc == 0, (out, err)
    assert ("action 'scale' would hit 2 pods at random of 3 (shop/checkout-0, shop/checkout-1, "
            "shop/checkout-2)") in flat(out), out
    rc, _, err = dry_run(tmp_path / "b", [scale(0)], {"blast_radius": {"max_fraction": "50%"}})
    assert rc == 2 and "hits 3 of 3 pods (100%)" in err, err
    rc, _, err = dry_run(tmp_path / "c", [scale(1)], {"blast_radius": {"max_pods": 1}})
    assert rc == 2 and "hits 2 pods" in err and "allows max_pods 1" in err, err
    assert fake.mutations() == [] and fake.replicas() == 3


def test_kill_microservice_and_deletes_count_the_pods_they_own(fake: FakeK8s,
                                                               tmp_path: Path) -> None:
    serve(fake, "apps/v1/replicasets", "ReplicaSet")
    serve(fake, "v1/services", "Service")
    fake.emulator.objects["apps/v1/replicasets", "shop", "cart-rs"] = {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "cart-rs", "namespace": "shop", "labels": {"app": "cart"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "cart"}}}}
    fake.emulator.objects["v1/services", "shop", "cart"] = {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "cart", "namespace": "shop"},
        "spec": {"selector": {"app": "cart"}}}
    method = [
        action("kill", "chaosk8s.actions", "kill_microservice", name="checkout", ns="shop"),
        action("rs", "chaosk8s.replicaset.actions", "delete_replica_set", ns="shop",
               label_selector="app=cart"),
        action("svc", "chaosk8s.actions", "remove_service_endpoint", name="cart", ns="shop"),
    ]
    rc, out, err = dry_run(tmp_path / "a", method, {"blast_radius": {"max_pods": 4}})
    assert rc == 0, (out, err)
    text = flat(out)
    assert ("action 'kill' would hit 3 pods (shop/checkout-0, shop/checkout-1, "
            "shop/checkout-2)") in text, out
    assert "action 'rs' would hit 1 pods (shop/cart-0)" in text, out
    assert "action 'svc' would hit 1 pods (shop/cart-0); cut off from their service" in text
    rc, _, err = dry_run(tmp_path / "b", method[:1], {"blast_radius": {"max_pods": 2}})
    assert rc == 2 and "hits 3 pods" in err, err
    delete = action("del", "chaosk8s.deployment.actions", "delete_deployment", ns="shop",
                    label_selector="app=checkout")
    rc, _, err = dry_run(tmp_path / "c", [delete], {"blast_radius": {"max_fraction": "90%"}})
    assert rc == 2 and "hits 3 of 3 pods (100%)" in err, err
    assert fake.mutations() == []


def test_refused_real_run_sends_nothing_mutating(fake: FakeK8s, tmp_path: Path,
                                                 isolated_state: Path) -> None:
    """Not a dry run: a Chaos Mesh selector over max_pods stops the run before anything."""
    wide = {"kind": "PodChaos", "metadata": {"name": "wide"}, "spec": {
        "action": "pod-kill", "selector": {"labelSelectors": {"app": "checkout"}}}}
    plan = write_plan(tmp_path, [{"name": "k8s", "expect": EXPECT, "experiment": experiment(
        "k8s", [action("wide", MESH, "create_chaos_resource", ns="shop", resource=wide)])}],
        tier="staging")
    env = {"kind": "Environment", "name": "test", "tier": "staging",
           "safety": {"blast_radius": {"max_pods": 2}},
           "target": {"type": "kubernetes", "namespace": "shop", "url": "http://127.0.0.1:9"}}
    (tmp_path / "environments" / "test.yaml").write_text(yaml.safe_dump(env), encoding="utf-8")
    done = run_cli("gameday", "run", str(plan), "--reports", str(tmp_path / "reports"),
                   timeout=60)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "refused by gate 'blast-radius'" in done.stderr and "hits 3 pods" in done.stderr
    assert fake.mutations() == []  # no resource created, nothing listed but pods
    assert not (tmp_path / "reports").exists()
