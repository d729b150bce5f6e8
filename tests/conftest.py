"""Shared fixtures. Every test gets its own chaos_suite state directory (ledger, run registry,
standing target), so tests never see each other's faults or a developer's real state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_state(tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("CHAOS_SUITE_STATE_DIR", str(state))
    yield state
