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


def target_dir(root: Path | None = None) -> Path:
    """The standing local target's folder (target.json, its state file and log): under the
    state directory, so `target up`, `target status` and a run that looks for the target agree
    on where it is, with or without --state-dir."""
    return (root or state_root()) / "target"


def ledger_dir(root: Path | None = None) -> Path:
    return (root or state_root()) / "ledger"


def runs_dir(root: Path | None = None) -> Path:
    return (root or state_root()) / "runs"
