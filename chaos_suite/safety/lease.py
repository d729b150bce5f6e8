"""One run per target: a lease in the state directory, keyed by the target.

The lease is an exclusive `flock` on a file named after the target key, held by the runner for
the whole run. The kernel drops it when the holder dies however it dies (SIGKILL included), so
a lease is only ever broken when its holder is provably gone; no stale-lock heuristics. The file
also names the holder (run id, pid, process start time, run directory) for the refusal."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaos_suite.errors import PreflightError
from chaos_suite.safety.runs import process_start_ticks
from chaos_suite.safety.state import state_root


def _lease_path(target_key: str, root: Path | None) -> Path:
    digest = hashlib.sha256(target_key.encode()).hexdigest()[:24]
    return (root or state_root()) / "leases" / f"{digest}.lock"


def _holder_text(path: Path) -> str:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        data = {}
    if not data:
        return "another process"
    since = time.strftime("%H:%M:%S", time.localtime(float(data.get("t", 0))))
    return (f"run {data.get('run_id')} (pid {data.get('pid')}, since {since}, "
            f"record {data.get('run_dir')})")


def _busy(target_key: str, path: Path) -> PreflightError:
    return PreflightError(f"target {target_key} is in use by {_holder_text(path)}: one run per "
                          "target; wait for it to end, or abort it")


@dataclass
class TargetLease:
    target_key: str
    path: Path
    _fd: int

    def release(self) -> None:
        if self._fd < 0:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)  # the file stays: unlinking would race a new holder
        os.close(self._fd)  # closing the descriptor drops the flock
        self._fd = -1


def _open_locked(target_key: str, root: Path | None) -> tuple[Path, int] | tuple[Path, None]:
    path = _lease_path(target_key, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return path, None
    return path, fd


def acquire(target_key: str, *, run_id: str, run_dir: Path, root: Path | None = None
            ) -> TargetLease:
    """Take the lease or raise PreflightError naming the run that holds it."""
    path, fd = _open_locked(target_key, root)
    if fd is None:
        raise _busy(target_key, path)
    holder = {"target": target_key, "run_id": run_id, "pid": os.getpid(),
              "pid_start": process_start_ticks(os.getpid()), "run_dir": str(run_dir),
              "t": time.time()}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(holder).encode(), 0)
    os.fsync(fd)
    return TargetLease(target_key, path, fd)


def check_free(target_key: str, root: Path | None = None) -> None:
    """For the dry run: refuse as the real run would, without keeping the lease."""
    path, fd = _open_locked(target_key, root)
    if fd is None:
        raise _busy(target_key, path)
    os.close(fd)
