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
