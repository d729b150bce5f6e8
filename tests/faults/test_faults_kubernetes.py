"""chaos_suite.faults.kubernetes against the fake API server (real HTTP on 127.0.0.1): each mapped
chaosk8s action gets the revert the ledger will replay, and applying the action and then the
revert (the way `chaos-suite recover` does) restores the server's state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.fake_k8s import FakeK8s, point_clients_at, start_fake_k8s

from chaos_suite.faults.kubernetes import kubeconfig_secrets, revert_for
from chaos_suite.safety import ledger
from chaos_suite.safety.recover import revert

NODE = "chaosk8s.node.actions"
NET = "chaosk8s.networking.actions"
DEPLOY = "chaosk8s.deployment.actions"


def apply(activity: str, arguments: dict[str, Any]) -> Any:
    """Run a chaosk8s action as chaoslib would: module function with the experiment arguments."""
    import importlib

    module, func = activity.rsplit(".", 1)
    return getattr(importlib.import_module(module), func)(**arguments)


def replay(spec: dict[str, Any]) -> None:
    """Replay a revert through recover's own code path (a ledger entry, then `revert`)."""
    entry = ledger.new_entry(run_id="t", scenario="s", fault="f", target="k8s:shop", revert=spec)
    revert(entry)


def test_cordon_reverts_to_uncordon_of_the_same_node(fake: FakeK8s) -> None:
    arguments = {"name": "node-1"}
    spec = revert_for(f"{NODE}.cordon_node", arguments, None, None)
    assert spec == {"kind": "python", "module": NODE, "func": "uncordon_node",
                    "arguments": {"name": "node-1"}}
    apply(f"{NODE}.cordon_node", arguments)
    assert fake.node_unschedulable()
    replay(spec)
    assert not fake.node_unschedulable()


def test_configuration_templates_are_resolved_secrets_are_not(fake: FakeK8s) -> None:
    spec = revert_for(f"{NODE}.cordon_node", {"name": "${node}"}, {"node": "node-1"},
                      {"k8s": {"sel": "planted-secret"}})
    assert spec is not None and spec["arguments"] == {"name": "node-1"}
    path = f"{NET}.deny_all_ingress"  # a ${secret} form stays a template
    spec = revert_for(path, {"ns": "${sel}"}, None, {"k8s": {"sel": "planted-secret"}})
    assert spec is not None and spec["arguments"] == {"ns": "${sel}"}


def test_cordon_by_label_reverts_only_the_nodes_it_cordons(fake: FakeK8s) -> None:
    # node-2 was cordoned before the run: the revert must leave it cordoned
    fake.add_node("node-2", {"pool": "default"}, unschedulable=True)
    fake.add_node("node-3", {"pool": "default"})
    fake.add_node("other", {"pool": "gpu"})
    arguments = {"label_selector": "pool=default"}
    spec = revert_for(f"{NODE}.cordon_node", arguments, None, None)
    assert spec == {"kind": "python", "module": "chaos_suite.faults.kubernetes",
                    "func": "uncordon_nodes", "arguments": {"names": ["node-1", "node-3"]}}
    apply(f"{NODE}.cordon_node", arguments)
    assert all(fake.node_unschedulable(n) for n in ("node-1", "node-2", "node-3"))
    replay(spec)
    assert not fake.node_unschedulable("node-1") and not fake.node_unschedulable("node-3")
    assert fake.node_unschedulable("node-2")
    assert not fake.node_unschedulable("other")
    uncordoned = [p for m, p, _ in fake.mutations() if m == "PATCH"]
    assert "/api/v1/nodes/node-2" not in uncordoned[-2:]


def test_cordon_by_label_of_one_schedulable_node_uses_uncordon_by_name(fake: FakeK8s) -> None:
    fake.add_node("node-2", {"pool": "default"}, unschedulable=True)
    spec = revert_for(f"{NODE}.cordon_node", {"label_selector": "pool=default"}, None, None)
    assert spec is not None and (spec["func"], spec["arguments"]) == ("uncordon_node",
                                                                      {"name": "node-1"})
    apply(f"{NODE}.cordon_node", {"label_selector": "pool=default"})
    replay(spec)
    assert not fake.node_unschedulable("node-1") and fake.node_unschedulable("node-2")


def test_cordon_of_an_already_cordoned_node_has_no_revert(fake: FakeK8s) -> None:
    apply(f"{NODE}.cordon_node", {"name": "node-1"})
    assert revert_for(f"{NODE}.cordon_node", {"name": "node-1"}, None, None) is None
    assert revert_for(f"{NODE}.cordon_node", {"name": "missing"}, None, None) is None


def test_drain_reverts_to_uncordon(fake: FakeK8s) -> None:
    spec = revert_for(f"{NODE}.drain_nodes", {"name": "node-1", "timeout": 5}, None, None)
    assert spec is not None
    assert (spec["module"], spec["func"], spec["arguments"]) == (NODE, "uncordon_node",
                                                                 {"name": "node-1"})
    apply(f"{NODE}.cordon_node", {"name": "node-1"})  # the part of a drain a revert can undo
    replay(spec)
    assert not fake.node_unschedulable()


def test_network_policy_from_inline_spec_is_removed(fake: FakeK8s) -> None:
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "block-checkout"},
              "spec": {"podSelector": {"matchLabels": {"app": "checkout"}},
                       "policyTypes": ["Ingress"], "ingress": []}}
    arguments = {"spec": policy, "ns": "shop"}
    spec = revert_for(f"{NET}.create_network_policy", arguments, None, None)
    assert spec is not None and spec["func"] == "remove_network_policy"
    assert spec["arguments"] == {"name": "block-checkout", "ns": "shop"}
    apply(f"{NET}.create_network_policy", arguments)
    assert fake.network_policies() == ["block-checkout"]
    replay(spec)
    assert fake.network_policies() == []


def test_network_policy_from_spec_file_is_removed(fake: FakeK8s, tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "from-file"}, "spec": {"podSelector": {}}}), encoding="utf-8")
    arguments = {"spec_path": str(path), "ns": "shop"}
    spec = revert_for(f"{NET}.create_network_policy", arguments, None, None)
    assert spec is not None and spec["arguments"]["name"] == "from-file"
    apply(f"{NET}.create_network_policy", arguments)
    assert fake.network_policies() == ["from-file"]
    replay(spec)
    assert fake.network_policies() == []


def test_deny_all_ingress_is_removed(fake: FakeK8s) -> None:
    arguments = {"ns": "shop", "label_selectors": {"app": "checkout"}}
    spec = revert_for(f"{NET}.deny_all_ingress", arguments, None, None)
    assert spec is not None
    assert (spec["func"], spec["arguments"]) == ("remove_deny_all_ingress", {"ns": "shop"})
    apply(f"{NET}.deny_all_ingress", arguments)
    assert fake.network_policies() == ["chaostoolkit-deny-all-ingress"]
    replay(spec)
    assert fake.network_policies() == []


def test_scale_records_the_replicas_read_before_the_action(fake: FakeK8s) -> None:
    arguments = {"name": "checkout", "replicas": 1, "ns": "shop"}
    spec = revert_for(f"{DEPLOY}.scale_deployment", arguments, None, None)
    assert spec is not None and spec["func"] == "scale_deployment"
    assert spec["arguments"] == {"name": "checkout", "ns": "shop", "replicas": 3}
    apply(f"{DEPLOY}.scale_deployment", arguments)
    assert fake.replicas() == 1
    # a second scale reads the live value, not a remembered one
    again = revert_for(f"{DEPLOY}.scale_deployment", {**arguments, "replicas": 0}, None, None)
    assert again is not None and again["arguments"]["replicas"] == 1
    replay(spec)
    assert fake.replicas() == 3


def test_scale_of_a_missing_deployment_has_no_revert(fake: FakeK8s) -> None:
    arguments = {"name": "nope", "replicas": 1, "ns": "shop"}
    assert revert_for(f"{DEPLOY}.scale_deployment", arguments, None, None) is None


def test_scale_refuses_when_the_api_cannot_be_read(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from chaoslib.exceptions import InterruptExecution

    server = start_fake_k8s(tmp_path / "k8s")
    point_clients_at(server.kubeconfig, monkeypatch.setenv, monkeypatch.setattr)
    server.stop()  # the kubeconfig now points at a closed port
    with pytest.raises(InterruptExecution, match="refusing to inject"):
        revert_for(f"{DEPLOY}.scale_deployment", {"name": "checkout", "replicas": 1,
                                                  "ns": "shop"}, None, None)


def test_created_deployment_is_deleted_and_nothing_else(fake: FakeK8s, tmp_path: Path) -> None:
    path = tmp_path / "deploy.json"
    path.write_text(json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "canary", "labels": {"app": "canary"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "canary"}},
                 "template": {"metadata": {"labels": {"app": "canary"}}}}}), encoding="utf-8")
    arguments = {"spec_path": str(path), "ns": "shop"}
    spec = revert_for(f"{DEPLOY}.create_deployment", arguments, None, None)
    assert spec is not None
    assert (spec["func"], spec["arguments"]) == ("delete_deployment",
                                                 {"name": "canary", "ns": "shop"})
    apply(f"{DEPLOY}.create_deployment", arguments)
    assert fake.request("GET", "/apis/apps/v1/namespaces/shop/deployments/canary")[0] == 200
    replay(spec)
    assert fake.request("GET", "/apis/apps/v1/namespaces/shop/deployments/canary")[0] == 404
    assert fake.replicas("checkout") == 3  # the name selector kept the other deployment


def test_actions_without_a_revert(fake: FakeK8s) -> None:
    assert revert_for("chaosk8s.pod.actions.terminate_pods",
                      {"label_selector": "app=cart", "ns": "shop"}, None, None) is None
    assert revert_for("chaosk8s.pod.probes.pods_in_phase", {"ns": "shop"}, None, None) is None
    assert revert_for(f"{NET}.create_network_policy", {"spec": {"kind": "NetworkPolicy"}},
                      None, None) is None


def test_revert_never_carries_secret_values(fake: FakeK8s) -> None:
    secrets = {"k8s": {"KUBERNETES_API_KEY": "planted-api-key-value"}}
    spec = revert_for(f"{DEPLOY}.scale_deployment",
                      {"name": "checkout", "replicas": 2, "ns": "shop", "secrets": secrets},
                      None, secrets)
    text = json.dumps(spec)
    assert spec is not None and "planted-api-key-value" not in text
    assert fake.token not in text


def test_kubeconfig_secrets_lists_every_credential(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    config = {"users": [
        {"name": "a", "user": {"token": "tok-a", "username": "admin", "password": "pw-a"}},
        {"name": "b", "user": {"client-key-data": "KEYDATA", "client-certificate-data": "CERT"}},
        {"name": "c", "user": {"auth-provider": {"name": "oidc", "config": {
            "id-token": "idt", "refresh-token": "rft", "client-id": "public-id"}}}},
        {"name": "d", "user": {"exec": {"command": "aws", "env": [
            {"name": "AWS_SECRET_ACCESS_KEY", "value": "aws-secret"},
            {"name": "AWS_REGION", "value": "eu-west-1"}]}}},
    ]}
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    expected = {"tok-a", "pw-a", "KEYDATA", "CERT", "idt", "rft", "aws-secret"}
    assert set(kubeconfig_secrets(str(path))) == expected
    monkeypatch.setenv("KUBECONFIG", str(path))
    assert set(kubeconfig_secrets()) == expected  # $KUBECONFIG when no path is given
    assert kubeconfig_secrets(str(tmp_path / "missing")) == []


def test_fake_refuses_requests_without_the_token(fake: FakeK8s) -> None:
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{fake.url}/api/v1/nodes", timeout=5)
    assert info.value.code == 401
    assert kubeconfig_secrets(str(fake.kubeconfig)) == [fake.token]


# names of a kubeconfig exec plugin's env entries; the same names as environment variables
CREDENTIAL_NAMES = ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "VAULT_TOKEN", "DB_PASSWORD",
                    "MYSQL_PASSWD", "API_KEY", "PRIVATE_KEY", "SIGNING_KEY",
                    "GOOGLE_APPLICATION_CREDENTIALS", "BASIC_AUTH", "client_secret"]
PLAIN_NAMES = ["AWS_REGION", "AWS_PROFILE", "HOME", "KUBE_NAMESPACE"]


@pytest.mark.parametrize("name", CREDENTIAL_NAMES + PLAIN_NAMES)
def test_kubeconfig_and_environment_mask_the_same_names(tmp_path: Path, name: str) -> None:
    # one pattern (safety.redact.SECRET_NAME) for both: the kubeconfig used to miss *AUTH*, the
    # environment scan *SIGNING_KEY* and other bare *KEY* names
    from chaos_suite.safety.redact import env_secrets

    value = f"value-of-{name}"
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump({"users": [{"name": "u", "user": {"exec": {
        "command": "helper", "env": [{"name": name, "value": value}]}}}]}), encoding="utf-8")
    from_kubeconfig = value in kubeconfig_secrets(str(path))
    from_environment = value in env_secrets({name: value})
    assert from_kubeconfig == from_environment == (name in CREDENTIAL_NAMES)


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, n in zip("abcdefg", "bcdefgh", strict=True))  # 10**8 values once expanded


def test_spec_file_and_kubeconfig_are_read_through_the_bounded_loader(tmp_path: Path) -> None:
    from chaos_suite.files.common import YAMLTooLarge

    spec = tmp_path / "policy.yaml"
    spec.write_text("metadata: {name: bomb}\n" + BOMB, encoding="utf-8")
    with pytest.raises(YAMLTooLarge):
        revert_for(f"{NET}.create_network_policy", {"spec_path": str(spec), "ns": "shop"},
                   None, None)
    config = tmp_path / "config"
    config.write_text("users: [{name: u, user: {token: tok}}]\n" + BOMB, encoding="utf-8")
    assert kubeconfig_secrets(str(config)) == []  # refused like any unreadable kubeconfig
    config.write_text("users: [{name: u, user: {token: tok}}]\n---\nusers: []\n", encoding="utf-8")
    assert kubeconfig_secrets(str(config)) == []  # several documents: yaml.safe_load refused too
