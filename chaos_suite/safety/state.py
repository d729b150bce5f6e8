"""The well-known state directory shared by runs, `recover` and the standing target."""

from __future__ import annotations

import os
from pathlib import Path

STATE_ENV = "CHAOS_SUITE_STATE_DIR"


def state_root() -> Path:
    value = os.environ.get(STATE_ENV)
    if value:
        return Path(value)
    return Path.home() / ".local" / "state" / "chaos-suite"


def ledger_dir(root: Path | None = None) -> Path:
    return (root or state_root()) / "ledger"


def runs_dir(root: Path | None = None) -> Path:
    return (root or state_root()) / "runs"
