"""The supervisor of the local target: ``python -m chaos_suite.targets.local.supervisor``.

It owns the replicas (starts them, restarts a dead one after ``restart_delay_s`` like a kubelet,
stops them on SIGTERM/SIGINT), writes the fault into the state file and serves the admin API.
Replicas are plain ``subprocess`` children polled every POLL_S: no child-watcher threads, so the
kernel's parent-death signal (tied to the forking thread) stays reliable.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from aiohttp import web

from chaos_suite.targets.local.admin import BadRequest, FaultRequest, admin_app
from chaos_suite.targets.local.state import FaultSpec, SlotSnapshot, StateFile

POLL_S: Final = 0.1
STOP_GRACE_S: Final = 3.0
STATE_FILE_NAME: Final = "state.bin"
INFO_FILE_NAME: Final = "target.json"
HOST: Final = "127.0.0.1"


@dataclass
class ReplicaProcess:
    index: int
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0
    restart_at: float | None = None  # set when found dead: when to start it again

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Supervisor:
    def __init__(self, state_dir: Path, replicas: int, port: int, admin_port: int,
                 restart_delay_s: float, parent_pid: int) -> None:
        self.state_dir = state_dir
        self.port = port
        self.admin_port = admin_port
        self.restart_delay_s = restart_delay_s
        self.parent_pid = parent_pid
        self.pid = os.getpid()
        self.replicas = [ReplicaProcess(i) for i in range(replicas)]
        self.state = StateFile.create(state_dir / STATE_FILE_NAME, replicas, self.pid)
        self.ready = False  # target.json is written once every replica served
        self.fault_changed_by: str | None = None  # run id of the last fault change (None: unknown)
        self.stopping = False

    # ---- replica lifecycle --------------------------------------------------------------------

    def spawn(self, rep: ReplicaProcess) -> None:
        cmd = [sys.executable, "-P", "-m", "chaos_suite.targets.local.replica",
               "--state-file", str(self.state.path), "--index", str(rep.index),
               "--port", str(self.port), "--host", HOST, "--parent-pid", str(self.pid)]
        rep.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, close_fds=True)
        rep.started_at = time.time()
        rep.restart_at = None

    def alive(self, rep: ReplicaProcess) -> bool:
        """Running and serving: the process has marked its slot ready."""
        if rep.proc is None or not rep.running:
            return False
        pid, ready = self.state.slot_owner(rep.index)
        return ready and pid == rep.proc.pid

    def tick(self, now: float) -> bool:
        """Notice dead replicas and restart them when due. Returns whether a pid changed."""
        changed = False
        for rep in self.replicas:
            if rep.running or self.stopping:
                continue
            if rep.restart_at is None:
                rep.restart_at = now + self.restart_delay_s
                code = rep.proc.returncode if rep.proc else None
                print(f"supervisor: replica {rep.index} exited ({code}); restart in "
                      f"{self.restart_delay_s:g}s", file=sys.stderr, flush=True)
            elif now >= rep.restart_at:
                self.spawn(rep)
                rep.restarts += 1
                changed = True
        return changed

    def stop_replicas(self) -> None:
        self.stopping = True
        running = [r.proc for r in self.replicas if r.proc is not None and r.running]
        for proc in running:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for proc in running:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)

    # ---- target.json ----------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        return {
            "schema": "chaos-suite/local-target/v1",
            "url": f"http://{HOST}:{self.port}",
            "admin_url": f"http://{HOST}:{self.admin_port}",
            "port": self.port,
            "admin_port": self.admin_port,
            "supervisor_pid": self.pid,
            "state_dir": str(self.state_dir),
            "replica_pids": [r.proc.pid for r in self.replicas if r.proc is not None],
            "detached": not self.parent_pid,
            "restart_delay_s": self.restart_delay_s,
        }

    def write_info(self) -> None:
        """Atomic replace, so a reader never sees half a file."""
        path = self.state_dir / INFO_FILE_NAME
        tmp = path.with_name(f".{INFO_FILE_NAME}.{self.pid}.tmp")
        tmp.write_text(json.dumps(self.info(), indent=2) + "\n")
        os.replace(tmp, path)

    def remove_info(self) -> None:
        """Remove target.json only if it still describes this supervisor."""
        path = self.state_dir / INFO_FILE_NAME
        with contextlib.suppress(OSError, ValueError):
            if json.loads(path.read_text()).get("supervisor_pid") == self.pid:
                path.unlink()

    # ---- admin views ------------------------------------------------------------------------------

    def fault_view(self, now: float) -> dict[str, Any]:
        fault = self.state.read_fault().effective(now)
        return {
            "active": bool(fault.error_ratio or fault.latency_ms),
            "error_ratio": fault.error_ratio,
            "error_expires_at": fault.error_expires_at or None,
            "error_paths": list(fault.error_paths),
            "latency_ms": fault.latency_ms,
            "latency_expires_at": fault.latency_expires_at or None,
            "latency_paths": list(fault.latency_paths),
            "generation": fault.generation,
            "changed_by": self.fault_changed_by,
        }

    def status(self) -> dict[str, Any]:
        now = time.time()
        replicas = [{
            "index": r.index,
            "pid": r.proc.pid if r.proc is not None else None,
            "running": r.running,
            "alive": self.alive(r),
            "restarts": r.restarts,
            "started_at": r.started_at,
            "restart_at": r.restart_at,
        } for r in self.replicas]
        return {**self.info(), "ready": self.ready, "time": now, "replicas": replicas,
                "replicas_alive": sum(1 for r in replicas if r["alive"]),
                "fault": self.fault_view(now)}

    def set_fault(self, request: FaultRequest, by: str | None = None) -> dict[str, Any]:
        """Set the kinds the request names; a kind it leaves out keeps its current setting."""
        now = time.time()
        self.fault_changed_by = by
        current = self.state.read_fault().effective(now)
        expires = now + request.ttl_s if request.ttl_s is not None else 0.0
        paths = request.paths
        fault = FaultSpec(
            error_ratio=current.error_ratio if request.error_ratio is None else request.error_ratio,
            error_expires_at=current.error_expires_at if request.error_ratio is None else expires,
            error_paths=current.error_paths if request.error_ratio is None else paths,
            latency_ms=current.latency_ms if request.latency_ms is None else request.latency_ms,
            latency_expires_at=current.latency_expires_at if request.latency_ms is None
            else expires,
            latency_paths=current.latency_paths if request.latency_ms is None else paths,
        )
        self.state.write_fault(fault)
        return self.fault_view(now)

    def clear_fault(self, by: str | None = None) -> dict[str, Any]:
        now = time.time()
        self.fault_changed_by = by
        was_active = bool(self.fault_view(now)["active"])
        self.state.write_fault(FaultSpec())
        return {**self.fault_view(now), "cleared": was_active}

    def kill(self, index: int | None, sig: signal.Signals) -> dict[str, Any]:
        """Signal replica ``index`` (a random running one when None); the restart is ours."""
        running = [r for r in self.replicas if r.running and r.proc is not None]
        if index is None:
            if not running:
                raise BadRequest("no replica is running")
            rep = random.choice(running)
        elif 0 <= index < len(self.replicas):
            rep = self.replicas[index]
            if rep not in running:
                raise BadRequest(f"replica {index} is not running (restart pending)")
        else:
            raise BadRequest(f"index must be null or 0..{len(self.replicas) - 1}")
        assert rep.proc is not None
        pid = rep.proc.pid
        os.kill(pid, sig)
        print(f"supervisor: sent {sig.name} to replica {rep.index} (pid {pid})",
              file=sys.stderr, flush=True)
        return {"index": rep.index, "pid": pid, "signal": sig.name}

    def snapshots(self, since: float | None, with_rows: bool = True) -> list[SlotSnapshot]:
        return [self.state.read_slot(i, since, with_rows=with_rows)
                for i in range(len(self.replicas))]


def _something_listens(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


def _reserve_port(port: int) -> socket.socket:
    """Bind (without listening) with SO_REUSEPORT: picks the port when 0 and keeps anyone but our
    replicas from taking it while a replica is down. Unlistened, it never receives connections."""
    if port and _something_listens(port):
        # SO_REUSEPORT would let us join another target's group and silently split its traffic
        raise OSError(f"port {port} is already in use on {HOST}")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((HOST, port))
    return sock


async def run(args: argparse.Namespace) -> int:
    reserved = _reserve_port(args.port)
    runner: web.AppRunner | None = None
    sup = Supervisor(args.state_dir, args.replicas, reserved.getsockname()[1], args.admin_port,
                     args.restart_delay, args.parent_pid)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    try:
        runner = web.AppRunner(admin_app(sup), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, HOST, args.admin_port)
        await site.start()
        sup.admin_port = runner.addresses[0][1]
        for rep in sup.replicas:
            sup.spawn(rep)
        await _supervise(sup, stop)
    finally:
        sup.stop_replicas()
        sup.remove_info()
        if runner is not None:
            await runner.cleanup()
        reserved.close()
        sup.state.close()
    return 0


async def _supervise(sup: Supervisor, stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), POLL_S)
        if stop.is_set():
            return
        changed = sup.tick(time.time())
        if not sup.ready and all(sup.alive(r) for r in sup.replicas):
            sup.ready = True
            changed = True
        if changed and sup.ready:
            sup.write_info()
        if sup.parent_pid and os.getppid() != sup.parent_pid:
            print("supervisor: parent exited; stopping", file=sys.stderr, flush=True)
            return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chaos_suite.targets.local.supervisor")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--admin-port", type=int, default=0)
    parser.add_argument("--restart-delay", type=float, default=2.0)
    parser.add_argument("--parent-pid", type=int, default=0,
                        help="exit when this process is no longer our parent (0: detached)")
    args = parser.parse_args(argv)
    args.state_dir.mkdir(parents=True, exist_ok=True)
    try:
        return asyncio.run(run(args))
    except (OSError, ValueError) as exc:
        print(f"supervisor: cannot start: {exc}", file=sys.stderr, flush=True)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
