"""Start, find and stop the local target (``chaos-suite target up/status/down``)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from chaos_suite.errors import InputError, PreflightError

INFO_FILE: Final = "target.json"
LOG_FILE: Final = "supervisor.log"
STATE_FILE: Final = "state.bin"
SUPERVISOR_MODULE: Final = "chaos_suite.targets.local.supervisor"
REPLICA_MODULE: Final = "chaos_suite.targets.local.replica"


@dataclass(frozen=True)
class LocalTargetInfo:
    url: str
    admin_url: str
    port: int
    admin_port: int
    supervisor_pid: int
    state_dir: Path
    replica_pids: tuple[int, ...] = ()


def default_state_dir() -> Path:
    """The target's folder under the state directory: ``state_root()/target``."""
    from chaos_suite.safety.state import target_dir  # one resolution of $CHAOS_SUITE_STATE_DIR

    return target_dir()


def read_target_info(state_dir: Path) -> LocalTargetInfo | None:
    """What target.json says; None when missing or unreadable. Does not check liveness."""
    raw = _read_info_json(state_dir)
    if raw is None:
        return None
    try:
        return LocalTargetInfo(
            url=str(raw["url"]), admin_url=str(raw["admin_url"]), port=int(raw["port"]),
            admin_port=int(raw["admin_port"]), supervisor_pid=int(raw["supervisor_pid"]),
            state_dir=Path(raw.get("state_dir", state_dir)),
            replica_pids=tuple(int(p) for p in raw.get("replica_pids", [])))
    except (KeyError, TypeError, ValueError):
        return None


def _read_info_json(state_dir: Path) -> dict[str, Any] | None:
    try:
        raw = json.loads((state_dir / INFO_FILE).read_text())
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) else None


# ---- processes ------------------------------------------------------------------------------------

def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs. Reaps it if it is our child; a zombie counts as dead (orphans of
    a killed supervisor may stay zombies when PID 1 does not reap, as in some containers)."""
    if pid <= 0:
        return False
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs: trust kill(0)
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def _cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _is_ours(pid: int, module: str) -> bool:
    """Guard against pid reuse: only signal a pid whose command line is our module."""
    if not pid_alive(pid):
        return False
    cmd = _cmdline(pid)
    return cmd is None or module in cmd


def _processes_of(state_dir: Path) -> list[int]:
    """Our supervisor/replica processes for ``state_dir`` found in /proc (Linux; else [])."""
    state_file = str(state_dir / STATE_FILE)
    found: list[int] = []
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            pid = int(entry.name)
            cmd = _cmdline(pid) or []
            ours = (SUPERVISOR_MODULE in cmd and str(state_dir) in cmd) or \
                (REPLICA_MODULE in cmd and state_file in cmd)
            if ours and pid_alive(pid):
                found.append(pid)
    return found


def _wait_dead(pids: list[int], timeout_s: float) -> list[int]:
    deadline = time.monotonic() + timeout_s
    alive = [p for p in pids if pid_alive(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if pid_alive(p)]
    return alive


def _signal_all(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


# ---- lifecycle ---------------------------------------------------------------------------------

def _supervisor_command(state_dir: Path, replicas: int, port: int, admin_port: int,
                        restart_delay_s: float, parent_pid: int) -> list[str]:
    # -P: do not put the working directory first on sys.path (it could shadow our modules)
    return [sys.executable, "-P", "-m", SUPERVISOR_MODULE, "--state-dir", str(state_dir),
            "--replicas", str(replicas), "--port", str(port), "--admin-port", str(admin_port),
            "--restart-delay", str(restart_delay_s), "--parent-pid", str(parent_pid)]


def _child_env() -> dict[str, str]:
    """Make our package importable in the children even when it is not installed."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[3])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def _validate(replicas: int, port: int, admin_port: int, restart_delay_s: float) -> None:
    if not 1 <= replicas <= 64:
        raise InputError(f"replicas must be between 1 and 64, got {replicas}")
    for name, value in (("port", port), ("admin_port", admin_port)):
        if not 0 <= value <= 65535:
            raise InputError(f"{name} must be 0..65535, got {value}")
    if port and port == admin_port:
        raise InputError("port and admin_port must differ")
    if restart_delay_s < 0:
        raise InputError(f"restart_delay_s must not be negative, got {restart_delay_s}")


def start_target(state_dir: Path, *, replicas: int = 2, port: int = 0, admin_port: int = 0,
                 restart_delay_s: float = 2.0, detach: bool = False,
                 timeout_s: float = 15) -> LocalTargetInfo:
    """Start the supervisor (which starts the replicas) and wait until every replica serves.

    The supervisor writes ``state_dir/target.json`` once ready. Without ``detach`` it lives in its
    own process group (a Ctrl-C meant for the caller does not kill the target before rollbacks
    reach it) and exits when the caller exits; with ``detach`` it gets its own session and
    outlives the caller until :func:`stop_target`.
    """
    _validate(replicas, port, admin_port, restart_delay_s)
    state_dir = state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    existing = read_target_info(state_dir)
    if existing and _is_ours(existing.supervisor_pid, SUPERVISOR_MODULE):
        raise PreflightError(f"a local target is already running from {state_dir} "
                             f"(supervisor pid {existing.supervisor_pid}, {existing.url}); "
                             "stop it first")
    stop_target(state_dir, timeout_s=5)  # leftovers of a crashed run: stale file, orphans
    cmd = _supervisor_command(state_dir, replicas, port, admin_port, restart_delay_s,
                              0 if detach else os.getpid())
    with open(state_dir / LOG_FILE, "ab") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                cwd=state_dir, env=_child_env(), close_fds=True,
                                start_new_session=detach, process_group=None if detach else 0)
    try:
        return _wait_ready(state_dir, proc, timeout_s)
    except BaseException:
        _terminate(proc, state_dir)
        raise


def _wait_ready(state_dir: Path, proc: subprocess.Popen[bytes], timeout_s: float) -> LocalTargetInfo:
    from chaos_suite.targets.local.client import LocalTargetClient

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise PreflightError(f"local target supervisor exited with {proc.returncode}: "
                                 f"{_log_tail(state_dir)}")
        info = read_target_info(state_dir)
        if info is not None and info.supervisor_pid == proc.pid and _serving(info):
            with LocalTargetClient(info.admin_url, timeout_s=2) as client:
                status = client.status()
            if all(r["alive"] for r in status["replicas"]):
                return info
        time.sleep(0.05)
    raise PreflightError(f"local target not ready within {timeout_s:g}s: {_log_tail(state_dir)}")


def _serving(info: LocalTargetInfo) -> bool:
    import httpx

    try:
        return httpx.get(f"{info.url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _log_tail(state_dir: Path, lines: int = 5) -> str:
    try:
        text = (state_dir / LOG_FILE).read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) or "(empty log)"


def _terminate(proc: subprocess.Popen[bytes], state_dir: Path) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    stop_target(state_dir, timeout_s=2)


def stop_target(state_dir: Path, timeout_s: float = 10) -> bool:
    """SIGTERM the supervisor (it stops its replicas), SIGKILL after ``timeout_s``, then SIGKILL
    any replica still alive; removes target.json. Returns whether something was running."""
    state_dir = state_dir.resolve()
    raw = _read_info_json(state_dir) or {}
    supervisor = int(raw.get("supervisor_pid", 0) or 0)
    supervisors = [p for p in {supervisor} if _is_ours(p, SUPERVISOR_MODULE)]
    replicas = [int(p) for p in raw.get("replica_pids", []) if _is_ours(int(p), REPLICA_MODULE)]
    found = _processes_of(state_dir)
    supervisors += [p for p in found if p not in supervisors and
                    SUPERVISOR_MODULE in (_cmdline(p) or [])]
    replicas += [p for p in found if p not in replicas and p not in supervisors]
    _signal_all(supervisors, signal.SIGTERM)
    left = _wait_dead(supervisors, timeout_s)
    _signal_all(left, signal.SIGKILL)
    _wait_dead(left, 5)
    # The supervisor stops its replicas; anything left (a SIGKILLed supervisor's children that
    # missed their parent-death signal) is killed outright.
    _signal_all([p for p in replicas if pid_alive(p)], signal.SIGKILL)
    _wait_dead(replicas, 5)
    stragglers = _processes_of(state_dir)  # e.g. a replica restarted while we were reading
    _signal_all(stragglers, signal.SIGKILL)
    _wait_dead(stragglers, 5)
    with contextlib.suppress(FileNotFoundError):
        (state_dir / INFO_FILE).unlink()
    return bool(supervisors or replicas or stragglers)


def target_status(state_dir: Path) -> dict[str, Any] | None:
    """The admin API's status plus ``up``; None when no target runs from ``state_dir``."""
    from chaos_suite.targets.local.client import LocalTargetClient

    info = read_target_info(state_dir)
    if info is None or not _is_ours(info.supervisor_pid, SUPERVISOR_MODULE):
        return None
    try:
        with LocalTargetClient(info.admin_url, timeout_s=3) as client:
            return {"up": True, "reachable": True, **client.status()}
    except PreflightError as exc:
        return {"up": True, "reachable": False, "error": str(exc), "url": info.url,
                "admin_url": info.admin_url, "supervisor_pid": info.supervisor_pid,
                "state_dir": str(info.state_dir)}


@contextlib.contextmanager
def managed_target(state_dir: Path, **kwargs: Any) -> Iterator[LocalTargetInfo]:
    """Start a target for the ``with`` block and always stop it."""
    info = start_target(state_dir, **kwargs)
    try:
        yield info
    finally:
        stop_target(state_dir)
