"""chaos_suite.faults.chaosmesh against the fake API server: Chaos Mesh resources are created with
chaos_suite's labels and a duration, a name that exists is an error (not upstream's silent
success), and the revert the ledger records deletes them."""

from __future__ import annotations

from typing import Any

import pytest
from support.fake_k8s import FakeK8s

from chaos_suite.faults import chaosmesh
from chaos_suite.safety import ledger
from chaos_suite.safety.recover import revert


def test_latency_is_labelled_has_a_duration_and_the_revert_deletes_it(
        fake: FakeK8s, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAOS_SUITE_RUN_ID", "run-a")
    chaosmesh.add_latency("slow", "200ms", ns="shop", label_selectors={"app": "checkout"})
    [res] = fake.chaos()
    assert res["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "chaos-suite",
                                         "chaos-suite/run-id": "run-a"}
    assert res["spec"]["duration"] == "60s"  # upstream's network actions set none
    assert res["spec"]["action"] == "delay" and res["spec"]["delay"] == {"latency": "200ms"}
    assert res["spec"]["selector"] == {"namespaces": ["shop"],
                                       "labelSelectors": {"app": "checkout"}}
    assert chaosmesh.REVERTS["add_latency"] == "delete_chaos_resources"
    # the revert as recover replays it: recover passes the entry's run id
    entry = ledger.new_entry(run_id="run-a", scenario="s", fault="add_latency",
                             target="kubernetes:/shop",
                             revert={"kind": "python", "module": "chaos_suite.faults.chaosmesh",
                                     "func": "delete_chaos_resources", "arguments": {}})
    monkeypatch.delenv("CHAOS_SUITE_RUN_ID")
    revert(entry)
    assert fake.chaos() == []
    assert chaosmesh.delete_chaos_resources(run_id="run-a") == []  # 404/none: not an error


def test_bandwidth_action_name_loss_and_stress(fake: FakeK8s,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAOS_SUITE_RUN_ID", "run-b")
    chaosmesh.set_bandwidth("narrow", "1mbps", 10000, 1000, ns="shop", duration="30s")
    chaosmesh.set_loss("lossy", "25", ns="shop", mode="fixed-percent", mode_value="50")
    chaosmesh.stress_cpu("hot", workers=2, load=80, ns="shop", duration="2m")
    by_name = {r["metadata"]["name"]: r for r in fake.chaos()}
    assert by_name["narrow"]["spec"]["action"] == "bandwidth"  # upstream sends "bandwdith"
    assert by_name["narrow"]["spec"]["duration"] == "30s"
    assert by_name["lossy"]["spec"]["value"] == "50"
    [stress] = fake.chaos("stresschaos")
    assert stress["spec"]["stressors"] == {"cpu": {"workers": 2, "load": 80}}
    assert stress["spec"]["duration"] == "2m"
    assert stress["metadata"]["labels"]["chaos-suite/run-id"] == "run-b"
    assert len(chaosmesh.delete_chaos_resources()) == 3
    assert fake.chaos() == [] and fake.chaos("stresschaos") == []


def test_conflict_is_an_error_and_duration_is_bounded(fake: FakeK8s) -> None:
    from chaoslib.exceptions import ActivityFailed

    body: dict[str, Any] = {"kind": "NetworkChaos", "metadata": {"name": "dup"},
                            "spec": {"action": "loss", "mode": "all", "loss": {"loss": "5"}}}
    chaosmesh.create_chaos_resource(body, ns="shop")
    with pytest.raises(ActivityFailed, match="already exists"):
        chaosmesh.create_chaos_resource(body, ns="shop")
    for bad in ("2h", "0s", "forever"):
        with pytest.raises(ActivityFailed, match="duration"):
            chaosmesh.add_latency("x", "1ms", ns="shop", duration=bad)
    with pytest.raises(ActivityFailed, match="not a Chaos Mesh kind"):
        chaosmesh.create_chaos_resource({"kind": "Pod", "metadata": {"name": "p"}}, ns="shop")


def test_sweep_deletes_resources_of_dead_runs_only(fake: FakeK8s,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    for run in ("dead", "alive"):
        monkeypatch.setenv("CHAOS_SUITE_RUN_ID", run)
        chaosmesh.stress_memory(f"mem-{run}", ns="shop")
    lines = chaosmesh.sweep({"alive"}, kubeconfig=str(fake.kubeconfig))  # context ns: shop
    assert any("deleted stresschaos shop/mem-dead" in line for line in lines), lines
    assert [r["metadata"]["name"] for r in fake.chaos("stresschaos")] == ["mem-alive"]
