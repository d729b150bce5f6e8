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


CHAOSMESH = "chaos_suite.faults.chaosmesh"


def _step(name: str, func: str, **arguments: Any) -> dict[str, Any]:
    return {"type": "action", "name": name, "provider": {
        "type": "python", "module": CHAOSMESH, "func": func,
        "arguments": {"name": name, "ns": "shop", **arguments}}}


def _before(step: dict[str, Any], run_id: str, folder: Any,
            configuration: dict[str, Any] | None = None) -> ledger.LedgerEntry:
    """What the run's control does before the step: its revert goes to the ledger."""
    from chaos_suite.experiment import control

    experiment = {"method": [step], "rollbacks": [],
                  "extensions": [control.run_extension(run_id)]}
    before = {e.id for e in ledger.pending(folder)}
    control.before_activity_control(step, str(folder / "events.jsonl"), "s",
                                    experiment=experiment, configuration=configuration,
                                    run_id=run_id, ledger_dirs=[str(folder)],
                                    target_key="kubernetes:/shop")
    [entry] = [e for e in ledger.pending(folder) if e.id not in before]
    return entry


def _deletes(fake: FakeK8s) -> list[str]:
    return [path for method, path, _ in fake.mutations() if method == "DELETE"]


def test_ledger_revert_deletes_exactly_the_resource_its_step_created(
        fake: FakeK8s, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    folder = tmp_path / "ledger"
    folder.mkdir()
    steps = {"lat-a": ("run-a", _step("lat-a", "add_latency", latency="5ms")),
             "cpu-a": ("run-a", _step("cpu-a", "stress_cpu")),
             "lat-b": ("run-b", _step("lat-b", "set_loss", loss="5"))}
    entries = {}
    for name, (run_id, step) in steps.items():
        entries[name] = _before(step, run_id, folder)
        monkeypatch.setenv("CHAOS_SUITE_RUN_ID", run_id)
        provider = step["provider"]
        getattr(chaosmesh, provider["func"])(**provider["arguments"])
    assert entries["lat-a"].revert == {
        "kind": "python", "module": CHAOSMESH, "func": "delete_chaos_resource",
        "arguments": {"plural": "networkchaos", "ns": "shop", "name": "lat-a"}}
    assert entries["cpu-a"].revert["arguments"]["plural"] == "stresschaos"
    monkeypatch.delenv("CHAOS_SUITE_RUN_ID")
    revert(entries["lat-a"])  # as recover replays it (with the entry's run id)
    assert _deletes(fake) == ["/apis/chaos-mesh.org/v1alpha1/namespaces/shop/networkchaos/lat-a"]
    assert [r["metadata"]["name"] for r in fake.chaos()] == ["lat-b"]  # run-b's: untouched
    assert [r["metadata"]["name"] for r in fake.chaos("stresschaos")] == ["cpu-a"]  # same run
    revert(entries["lat-a"])  # gone already: not an error, nothing deleted
    assert len(_deletes(fake)) == 1


def test_exact_revert_leaves_another_runs_resource_of_that_name(
        fake: FakeK8s, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from chaoslib.exceptions import ActivityFailed

    folder = tmp_path / "ledger"
    folder.mkdir()
    monkeypatch.setenv("CHAOS_SUITE_RUN_ID", "run-b")
    chaosmesh.add_latency("taken", "1ms", ns="shop")
    step = _step("taken", "add_latency", latency="1ms")
    entry = _before(step, "run-a", folder)  # run-a's step: its create gets a 409
    monkeypatch.setenv("CHAOS_SUITE_RUN_ID", "run-a")
    with pytest.raises(ActivityFailed, match="already exists"):
        chaosmesh.add_latency("taken", "1ms", ns="shop")
    revert(entry)
    assert _deletes(fake) == [] and len(fake.chaos()) == 1


def test_step_arguments_that_do_not_name_the_resource_keep_the_label_sweep(
        fake: FakeK8s, tmp_path: Any) -> None:
    folder = tmp_path / "ledger"
    folder.mkdir()
    entry = _before(_step("${secret_name}", "stress_memory"), "run-a", folder)
    assert entry.revert["func"] == "delete_chaos_resources"
    # a ${configuration} form is filled: the exact resource
    templated = _before(_step("${which}", "stress_memory"), "run-a", folder,
                        configuration={"which": "mem-1"})
    assert templated.revert["arguments"] == {"plural": "stresschaos", "ns": "shop",
                                             "name": "mem-1"}


def test_a_rollback_deleting_one_resource_clears_only_its_entry(fake: FakeK8s,
                                                                tmp_path: Any) -> None:
    from chaos_suite.experiment import control

    folder = tmp_path / "ledger"
    folder.mkdir()
    for name in ("one", "two"):
        _before(_step(name, "add_latency", latency="1ms"), "run-a", folder)
    rollback = {"type": "action", "name": "undo-one", "provider": {
        "type": "python", "module": CHAOSMESH, "func": "delete_chaos_resource",
        "arguments": {"plural": "networkchaos", "ns": "shop", "name": "one"}}}
    experiment = {"method": [], "rollbacks": [rollback]}
    control.after_activity_control(rollback, str(tmp_path / "events.jsonl"), "s",
                                   state={"status": "succeeded"}, experiment=experiment,
                                   run_id="run-a", ledger_dirs=[str(folder)])
    assert [e.revert["arguments"]["name"] for e in ledger.pending(folder)] == ["two"]
    sweep_all = {**rollback, "name": "undo-all", "provider": {
        "type": "python", "module": CHAOSMESH, "func": "delete_chaos_resources"}}
    experiment["rollbacks"] = [sweep_all]
    control.after_activity_control(sweep_all, str(tmp_path / "events.jsonl"), "s",
                                   state={"status": "succeeded"}, experiment=experiment,
                                   run_id="run-a", ledger_dirs=[str(folder)])
    assert ledger.pending(folder) == []
