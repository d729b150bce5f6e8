"""Against a real cluster (KUBECONFIG): list nodes, and let `revert_for` read a deployment's
replica count for a scale_deployment it would guard. Nothing is cordoned or scaled; with Chaos
Mesh installed, one NetworkChaos selecting no pod is created and deleted. Skips cleanly when
KUBECONFIG is unset or no cluster answers."""

from __future__ import annotations

import os
from typing import Any

import pytest

from chaos_suite.faults.kubernetes import kubeconfig_secrets, revert_for

pytestmark = pytest.mark.k8s

PROBE_TIMEOUT_S = 5


def _core_api() -> Any:
    if not os.environ.get("KUBECONFIG"):
        pytest.skip("KUBECONFIG is not set: no real cluster to talk to")
    from chaosk8s import create_k8s_api_client
    from kubernetes import client

    try:
        api = client.CoreV1Api(create_k8s_api_client())
        api.list_node(limit=1, _request_timeout=PROBE_TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001 - any failure to reach the cluster: skip, not fail
        pytest.skip(f"no cluster answers at KUBECONFIG ({type(exc).__name__}: {exc})")
    return api


def test_nodes_are_listed() -> None:
    nodes = _core_api().list_node(_request_timeout=PROBE_TIMEOUT_S).items
    assert nodes, "a cluster has at least one node"
    assert all(n.metadata.name for n in nodes)


def test_scale_revert_reads_the_live_replica_count() -> None:
    from chaosk8s import create_k8s_api_client
    from kubernetes import client

    _core_api()
    apps = client.AppsV1Api(create_k8s_api_client())
    deployments = apps.list_deployment_for_all_namespaces(
        limit=1, _request_timeout=PROBE_TIMEOUT_S).items
    if not deployments:
        pytest.skip("the cluster has no deployment to read")
    deployment = deployments[0]
    assert deployment.metadata is not None and deployment.spec is not None
    name, ns = deployment.metadata.name, deployment.metadata.namespace
    spec = revert_for("chaosk8s.deployment.actions.scale_deployment",
                      {"name": name, "ns": ns, "replicas": 0}, None, None)
    assert spec is not None
    assert spec["arguments"] == {"name": name, "ns": ns,
                                 "replicas": deployment.spec.replicas
                                 if deployment.spec.replicas is not None else 1}
    for secret in kubeconfig_secrets():
        assert secret not in str(spec)


def test_chaos_mesh_resource_is_labelled_bounded_and_deleted(monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """Creates a NetworkChaos whose selector matches no pod (nothing is slowed), 10 s duration,
    then deletes it as the revert would. Skips without Chaos Mesh's CRDs."""
    from chaosk8s import create_k8s_api_client
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    from chaos_suite.faults import chaosmesh

    _core_api()
    api = client.CustomObjectsApi(create_k8s_api_client())
    try:
        api.list_namespaced_custom_object("chaos-mesh.org", "v1alpha1", "default",
                                          "networkchaos", limit=1,
                                          _request_timeout=PROBE_TIMEOUT_S)
    except ApiException as exc:
        pytest.skip(f"Chaos Mesh is not installed ({exc.status})")
    run_id = f"real-test-{os.getpid()}"
    monkeypatch.setenv("CHAOS_SUITE_RUN_ID", run_id)
    created = chaosmesh.add_latency(f"chaos-suite-test-{os.getpid()}", "1ms", ns="default",
                                    label_selectors={"chaos-suite/test": "matches-nothing"},
                                    duration="10s")
    try:
        assert created["metadata"]["labels"]["chaos-suite/run-id"] == run_id
        assert created["spec"]["duration"] == "10s"
    finally:
        deleted = chaosmesh.delete_chaos_resources(run_id=run_id, ns="default")
    assert len(deleted) == 1
