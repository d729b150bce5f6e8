"""The embedded local target: a small HTTP "checkout" service chaos_suite starts by itself.

A supervisor process starts N replica processes that share one port (SO_REUSEPORT), restarts a
dead replica after a delay, and serves an admin API (status, faults, per-second counters,
Prometheus metrics). Counters live in an mmap'd state file, so they survive killed replicas.

Importing this package is cheap (no aiohttp/httpx): the replicas import it on every start.
"""

from chaos_suite.targets.local.client import LocalTargetClient
from chaos_suite.targets.local.lifecycle import (
    LocalTargetInfo,
    default_state_dir,
    managed_target,
    pid_alive,
    read_target_info,
    start_target,
    stop_target,
    target_status,
)

__all__ = [
    "LocalTargetClient",
    "LocalTargetInfo",
    "default_state_dir",
    "managed_target",
    "pid_alive",
    "read_target_info",
    "start_target",
    "stop_target",
    "target_status",
]
