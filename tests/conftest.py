"""Shared fixtures. Every test gets its own chaos_suite state directory (ledger, run registry,
standing target), so tests never see each other's faults or a developer's real state."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# end-to-end helpers (plans, CLI runs, process checks) shared by gameday and safety tests
sys.path.insert(0, str(Path(__file__).parent / "gameday"))


@pytest.fixture(autouse=True)
def isolated_state(tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("CHAOS_SUITE_STATE_DIR", str(state))
    yield state


@pytest.fixture()
def standing(isolated_state: Path) -> Iterator[dict[str, Any]]:
    """A standing embedded target (`chaos-suite target up --detach`), taken down afterwards."""
    from gameday_helpers import standing_target

    with standing_target() as status:
        yield status


@pytest.fixture()
def standing_with_prometheus(standing: dict[str, Any], tmp_path: Path
                             ) -> Iterator[dict[str, Any]]:
    """The standing target scraped by a real Prometheus on 127.0.0.1 (first scrape done)."""
    from support.prometheus_server import start_prometheus

    with start_prometheus([f"127.0.0.1:{standing['admin_port']}"], tmp_path / "prom") as prom:
        prom.wait_scraped()
        yield {"status": standing, "prom": prom}
