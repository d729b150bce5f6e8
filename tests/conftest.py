"""Shared fixtures. Every test gets its own chaos_suite state directory (ledger, run registry,
standing target), so tests never see each other's faults or a developer's real state."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# end-to-end helpers (plans, CLI runs, process checks) shared by gameday and safety tests
sys.path.insert(0, str(Path(__file__).parent / "gameday"))


@pytest.fixture(autouse=True)
def isolated_state(tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("CHAOS_SUITE_STATE_DIR", str(state))
    yield state
