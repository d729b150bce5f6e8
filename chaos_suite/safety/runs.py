"""The registry of live runs in the state directory: which processes a run started, so that
`recover` can stop what a killed run left behind (its Locust process group, a managed target)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from chaos_suite import durable
from chaos_suite.safety.state import runs_dir
from chaos_suite.targets.local.lifecycle import pid_alive

__all__ = ["RunRegistration", "is_same_process", "pid_alive", "process_start_ticks",
           "registered_runs"]


def process_start_ticks(pid: int) -> int | None:
    """When `pid` started, in clock ticks since boot (/proc/PID/stat field 22): with the pid it
    names one process for good, since a reused pid has a later start time."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read().decode(errors="replace")
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after its last ')'
    fields = stat[stat.rfind(")") + 2:].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


class RunRegistration:
    def __init__(self, run_id: str, run_dir: Path, root: Path | None = None) -> None:
        self.path = runs_dir(root) / f"{run_id}.json"
        self.data: dict[str, Any] = {"run_id": run_id, "pid": os.getpid(),
                                     "pid_start": process_start_ticks(os.getpid()),
                                     "run_dir": str(run_dir.resolve())}
        self._save()

    def update(self, **fields: Any) -> None:
        self.data.update(fields)
        self._save()

    def _save(self) -> None:
        durable.write_json(self.path, self.data)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def registered_runs(root: Path | None = None) -> list[tuple[Path, dict[str, Any]]]:
    folder = runs_dir(root)
    out: list[tuple[Path, dict[str, Any]]] = []
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.json")):
        try:
            out.append((path, json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            continue
    return out


def is_same_process(pid: int, start_ticks: int | None) -> bool:
    """True while the process that registered as (`pid`, `start_ticks`) still runs. A record
    without a start time (written before it was kept) cannot be told from a reused pid: it
    counts as alive only while a process with that pid runs chaos_suite."""
    if not pid_alive(pid):
        return False
    if start_ticks is not None:
        return process_start_ticks(pid) == start_ticks
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return "chaos_suite" in cmdline or "chaos-suite" in cmdline
