"""A fake Kubernetes API server on 127.0.0.1 for tests: kmock's in-memory emulator served over
real HTTP from a background thread, so the official client in the test process and `chaos run` /
`chaos-suite` subprocesses (through the kubeconfig written here) talk to the same state.

What kmock lacks and this adds: labelSelector and fieldSelector on lists (kmock ignores both),
and a bearer-token check (a request without the planted token gets 401, which proves that a
subprocess really read the kubeconfig). There are no controllers: scaling a deployment changes
spec.replicas only, and deleted pods stay deleted.

    fake = start_fake_k8s(tmp_path)       # preloaded: node-1, namespace shop, deployment
    try:                                  # shop/checkout (3 replicas), pods with labels
        os.environ["KUBECONFIG"] = str(fake.kubeconfig)
        fake.get("/api/v1/nodes/node-1")
    finally:
        fake.stop()
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp.web
import attrs
import kmock
import yaml

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0

# the resources the chaosk8s actions under test touch: (key, kind, namespaced)
RESOURCES = [
    ("v1/nodes", "Node", False),
    ("v1/namespaces", "Namespace", False),
    ("v1/pods", "Pod", True),
    ("apps/v1/deployments", "Deployment", True),
    ("networking.k8s.io/v1/networkpolicies", "NetworkPolicy", True),
    # Chaos Mesh CRDs (no controller: a created resource just sits there)
    ("chaos-mesh.org/v1alpha1/networkchaos", "NetworkChaos", True),
    ("chaos-mesh.org/v1alpha1/stresschaos", "StressChaos", True),
]
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _split_terms(selector: str) -> list[str]:
    """Comma-separated terms, keeping commas inside `in (a,b)` sets."""
    return [t.strip() for t in re.split(r",(?![^()]*\))", selector) if t.strip()]


def _label_term_matches(term: str, labels: dict[str, str]) -> bool:
    """One term of a Kubernetes label selector (equality, inequality, set, existence)."""
    match = re.fullmatch(r"(\S+)\s+(in|notin)\s+\((.*)\)", term)
    if match:
        key, op, raw = match.groups()
        values = {v.strip() for v in raw.split(",")}
        inside = key in labels and labels[key] in values
        return inside if op == "in" else not inside
    for op in ("!=", "==", "="):
        if op in term:
            key, value = (part.strip() for part in term.split(op, 1))
            return (labels.get(key) != value) if op == "!=" else (labels.get(key) == value)
    if term.startswith("!"):
        return term[1:].strip() not in labels
    return term in labels


def _field_value(obj: dict[str, Any], path: str) -> str:
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return "" if node is None else str(node)


def _field_term_matches(term: str, obj: dict[str, Any]) -> bool:
    for op in ("!=", "==", "="):
        if op in term:
            path, value = (part.strip() for part in term.split(op, 1))
            actual = _field_value(obj, path)
            return actual != value if op == "!=" else actual == value
    return False


def selected(obj: dict[str, Any], label_selector: str, field_selector: str) -> bool:
    labels = dict((obj.get("metadata") or {}).get("labels") or {})
    return all(_label_term_matches(t, labels) for t in _split_terms(label_selector)) and all(
        _field_term_matches(t, obj) for t in _split_terms(field_selector))


@attrs.define(kw_only=True)
class SelectingEmulator(kmock.KubernetesEmulator):
    """kmock's emulator with label/field selectors honoured and a bearer token required."""

    token: str = ""
    # (method, path, body) of every authorised request, for assertions from the test thread
    seen: list[tuple[str, str, Any]] = attrs.field(factory=list)

    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            raise kmock.KubernetesError(status=401, reason="Unauthorized",
                                        message="missing or wrong bearer token")
        self.seen.append((str(request.method.value), request.url.path, request.data))
        return await super()._handle(request)

    async def _serve_list(self, request: kmock.Request) -> Any:
        listing: dict[str, Any] = dict(await super()._serve_list(request))  # type: ignore[arg-type]
        labels = str(request.params.get("labelSelector", ""))
        fields = str(request.params.get("fieldSelector", ""))
        listing["items"] = [o for o in listing["items"] if selected(o, labels, fields)]
        return listing


def _pod(name: str, labels: dict[str, str], node: str = "node-1") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "labels": labels},
            "spec": {"nodeName": node, "containers": [{"name": "app", "image": "checkout:1"}]},
            "status": {"phase": "Running"}}


def preload(emulator: SelectingEmulator) -> None:
    """node-1, namespace shop, deployment shop/checkout (3 replicas), three labelled pods."""
    for key, kind, namespaced in RESOURCES:
        emulator.resources[key] = kmock.ResourceInfo(kind=kind, namespaced=namespaced,
                                                     verbs={"list", "get", "create", "patch",
                                                            "delete"})
    emulator.objects["v1/nodes", None, "node-1"] = {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "node-1", "labels": {"kubernetes.io/hostname": "node-1",
                                                  "pool": "default"}},
        "spec": {"unschedulable": False}}
    emulator.objects["v1/namespaces", None, "shop"] = {
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    emulator.objects["apps/v1/deployments", "shop", "checkout"] = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "checkout", "namespace": "shop", "labels": {"app": "checkout"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "checkout"}},
                 "template": {"metadata": {"labels": {"app": "checkout"}}}}}
    for index in range(3):
        name = f"checkout-{index}"
        emulator.objects["v1/pods", "shop", name] = _pod(name, {"app": "checkout"})
    emulator.objects["v1/pods", "shop", "cart-0"] = _pod("cart-0", {"app": "cart"})


def write_kubeconfig(path: Path, url: str, token: str) -> Path:
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": url}}],
        "users": [{"name": "tester", "user": {"token": token}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "tester",
                                                  "namespace": "shop"}}],
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@dataclass
class FakeK8s:
    """A running fake API server; `stop()` shuts the HTTP site, the emulator and the thread."""

    url: str
    token: str
    kubeconfig: Path
    emulator: SelectingEmulator
    _loop: asyncio.AbstractEventLoop
    _thread: threading.Thread
    _runner: aiohttp.web.BaseRunner
    _stopped: bool = field(default=False)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None
                ) -> tuple[int, dict[str, Any]]:
        """An HTTP call with the planted token (what a client sees, not kmock's internals)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.status, dict(json.loads(resp.read() or b"{}"))
        except urllib.error.HTTPError as exc:
            return exc.code, dict(json.loads(exc.read() or b"{}"))

    def get(self, path: str) -> dict[str, Any]:
        status, data = self.request("GET", path)
        assert status == 200, (path, status, data)
        return data

    def mutations(self) -> list[tuple[str, str, Any]]:
        """Every mutating request (POST, PUT, PATCH, DELETE) the server received so far."""
        return [s for s in list(self.emulator.seen) if s[0].upper() in MUTATING]

    def add_node(self, name: str, labels: dict[str, str], unschedulable: bool = False) -> None:
        self.emulator.objects["v1/nodes", None, name] = {
            "apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
            "spec": {"unschedulable": unschedulable}}

    def chaos(self, plural: str = "networkchaos", ns: str = "shop") -> list[dict[str, Any]]:
        """The Chaos Mesh resources of that plural in `ns`."""
        return list(self.get(f"/apis/chaos-mesh.org/v1alpha1/namespaces/{ns}/{plural}")["items"])

    def node_unschedulable(self, name: str = "node-1") -> bool:
        return bool(self.get(f"/api/v1/nodes/{name}").get("spec", {}).get("unschedulable"))

    def replicas(self, name: str = "checkout", ns: str = "shop") -> int:
        return int(self.get(f"/apis/apps/v1/namespaces/{ns}/deployments/{name}")["spec"]
                   ["replicas"])

    def network_policies(self, ns: str = "shop") -> list[str]:
        items = self.get(f"/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies")["items"]
        return sorted(str(i["metadata"]["name"]) for i in items)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        try:
            future.result(timeout=STOP_TIMEOUT_S)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=STOP_TIMEOUT_S)
            if not self._thread.is_alive():
                self._loop.close()

    async def _shutdown(self) -> None:
        await self._runner.cleanup()
        await self.emulator.__aexit__(None, None, None)


async def _serve(emulator: SelectingEmulator) -> tuple[aiohttp.web.BaseRunner, int]:
    # aiohttp's low-level server directly (not kmock.Server), which would also patch aiohttp's
    # DNS resolution in this process: nothing here needs that
    await emulator.__aenter__()
    runner = aiohttp.web.ServerRunner(aiohttp.web.Server(emulator), handle_signals=False)
    await runner.setup()
    site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    return runner, port


def point_clients_at(kubeconfig: Path, setenv: Any, setattr: Any) -> None:
    """Make this process's clients use `kubeconfig`: $KUBECONFIG for chaosk8s and subprocesses,
    and kubernetes' own default path, which it reads from $KUBECONFIG once, at import time
    (a later change of the variable is not seen in-process). Pass monkeypatch's methods."""
    import kubernetes.config.kube_config as kube_config

    setenv("KUBECONFIG", str(kubeconfig))
    setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(kubeconfig))


def start_fake_k8s(folder: Path, *, token: str | None = None) -> FakeK8s:
    """Start the fake on a free port; writes `folder/kubeconfig` (token user, planted token)."""
    token = token or f"fake-k8s-token-{secrets.token_hex(16)}"
    emulator = SelectingEmulator(token=token)
    preload(emulator)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-k8s", daemon=True)
    thread.start()
    try:
        runner, port = asyncio.run_coroutine_threadsafe(_serve(emulator), loop).result(
            timeout=START_TIMEOUT_S)
    except BaseException:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=STOP_TIMEOUT_S)
        raise
    url = f"http://127.0.0.1:{port}"
    folder.mkdir(parents=True, exist_ok=True)
    kubeconfig = write_kubeconfig(folder / "kubeconfig", url, token)
    return FakeK8s(url=url, token=token, kubeconfig=kubeconfig, emulator=emulator, _loop=loop,
                   _thread=thread, _runner=runner)
