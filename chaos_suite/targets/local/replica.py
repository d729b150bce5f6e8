"""One replica of the local target: ``python -m chaos_suite.targets.local.replica``.

Started by the supervisor (never forked from an interpreter with threads). It listens with
SO_REUSEPORT on the shared port, so the kernel spreads connections over the replicas, flushes its
counters into its slot of the state file every FLUSH_INTERVAL_S and on SIGTERM, and dies with its
supervisor (PR_SET_PDEATHSIG on Linux, plus a parent-pid poll everywhere).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Final

from aiohttp import web

from chaos_suite.targets.local.service import Replica
from chaos_suite.targets.local.state import StateFile

FLUSH_INTERVAL_S: Final = 0.1
PARENT_POLL_S: Final = 0.5
_PR_SET_PDEATHSIG: Final = 1


def _die_with_parent(parent_pid: int) -> None:
    """Ask the kernel to SIGTERM us when the supervisor dies; exit if it already has."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    if parent_pid and os.getppid() != parent_pid:  # the parent died before prctl took effect
        raise SystemExit(0)


def _listen_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


async def serve(state_file: Path, index: int, host: str, port: int, parent_pid: int) -> None:
    state = StateFile.open(state_file)
    pid = os.getpid()
    state.claim_slot(index, pid, ready=False)
    replica = Replica(index, pid, state)
    runner = web.AppRunner(replica.app(), access_log=None, handle_signals=False,
                           shutdown_timeout=1.0)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await runner.setup()
        await web.SockSite(runner, _listen_socket(host, port), backlog=1024).start()
        state.claim_slot(index, pid, ready=True)
        await _flush_until_stopped(replica, state, index, stop, parent_pid)
    finally:
        state.claim_slot(index, pid, ready=False)
        await runner.cleanup()  # finishes in-flight requests (bounded by shutdown_timeout)
        _flush(replica, state, index)
        state.close()


def _flush(replica: Replica, state: StateFile, index: int) -> None:
    deltas = replica.recorder.take()
    if deltas:
        state.add_deltas(index, deltas)


async def _flush_until_stopped(replica: Replica, state: StateFile, index: int,
                               stop: asyncio.Event, parent_pid: int) -> None:
    loop = asyncio.get_running_loop()
    next_parent_check = loop.time() + PARENT_POLL_S
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), FLUSH_INTERVAL_S)
        _flush(replica, state, index)
        if loop.time() >= next_parent_check:
            next_parent_check = loop.time() + PARENT_POLL_S
            if parent_pid and os.getppid() != parent_pid:
                return  # orphaned: the supervisor is gone, so is our reason to serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chaos_suite.targets.local.replica")
    parser.add_argument("--state-file", type=Path, required=True)
    parser.add_argument("--index", type=int, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--parent-pid", type=int, default=0)
    args = parser.parse_args(argv)
    _die_with_parent(args.parent_pid)
    try:
        asyncio.run(serve(args.state_file, args.index, args.host, args.port, args.parent_pid))
    except OSError as exc:
        print(f"replica {args.index}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
