"""The registry of live runs in the state directory: which processes a run started, so that
`recover` can stop what a killed run left behind (its Locust process group, a managed target)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from chaos_suite.safety.state import runs_dir
from chaos_suite.targets.local.lifecycle import pid_alive

__all__ = ["RunRegistration", "is_chaos_suite_process", "pid_alive", "registered_runs"]


class RunRegistration:
    def __init__(self, run_id: str, run_dir: Path, root: Path | None = None) -> None:
        self.path = runs_dir(root) / f"{run_id}.json"
        self.data: dict[str, Any] = {"run_id": run_id, "pid": os.getpid(),
                                     "run_dir": str(run_dir.resolve())}
        self._save()

    def update(self, **fields: Any) -> None:
        self.data.update(fields)
        self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(self.data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

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


def is_chaos_suite_process(pid: int) -> bool:
    """Guard against pid reuse: only a process running chaos_suite counts as the run."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return "chaos_suite" in cmdline or "chaos-suite" in cmdline or "pytest" in cmdline
