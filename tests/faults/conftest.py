"""The fake Kubernetes API server every faults test talks to (kubeconfig + clients pointed at it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.fake_k8s import FakeK8s, point_clients_at, start_fake_k8s


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeK8s]:
    server = start_fake_k8s(tmp_path / "k8s")
    point_clients_at(server.kubeconfig, monkeypatch.setenv, monkeypatch.setattr)
    try:
        yield server
    finally:
        server.stop()
