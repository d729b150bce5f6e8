"""Faults on the local target, as Chaos Toolkit python providers.

Use from any experiment::

    {"type": "action", "name": "errors-20pct",
     "provider": {"type": "python", "module": "chaos_suite.faults.local",
                  "func": "inject_errors", "arguments": {"ratio": 0.2, "ttl_s": 120}}}

The target is located by, in order: the ``admin_url`` argument, ``configuration
["chaos_suite_admin_url"]``, env ``CHAOS_SUITE_ADMIN_URL``, the standing target's target.json in
:func:`default_state_dir`. Failures raise ``chaoslib.exceptions.ActivityFailed``.

If env ``CHAOS_SUITE_EVENTS_FILE`` is set, each injection/clear appends one JSON line right after
it took effect, so the gameday runner knows the exact fault window.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final, NoReturn, TypeVar

from chaos_suite.errors import ChaosSuiteError
from chaos_suite.record.models import ErrorsFault, FaultsCleared, KillReplicaFault, LatencyFault
from chaos_suite.targets.local.client import LocalTargetClient
from chaos_suite.targets.local.lifecycle import default_state_dir, read_target_info

__all__ = ["REVERTS", "clear_faults", "inject_errors", "inject_latency", "kill_replica",
           "replicas_alive", "wait_replicas_alive"]

# Injecting function -> the function of this module that reverts it (idempotent, same
# admin_url/configuration arguments). A killed replica heals by itself; its "revert" waits for that.
REVERTS: Final[Mapping[str, str]] = MappingProxyType({
    "inject_errors": "clear_faults",
    "inject_latency": "clear_faults",
    "kill_replica": "wait_replicas_alive",
})

T = TypeVar("T")


def _fail(message: str) -> NoReturn:
    from chaoslib.exceptions import ActivityFailed  # lazily: chaoslib is heavy, gevent-sensitive

    raise ActivityFailed(message)


def _admin_url(admin_url: str | None, configuration: dict[str, Any] | None) -> str:
    if admin_url:
        return admin_url
    if configuration and configuration.get("chaos_suite_admin_url"):
        return str(configuration["chaos_suite_admin_url"])
    if os.environ.get("CHAOS_SUITE_ADMIN_URL"):
        return os.environ["CHAOS_SUITE_ADMIN_URL"]
    info = read_target_info(default_state_dir())
    if info is None:
        _fail("no local target found: pass admin_url, set configuration "
              "'chaos_suite_admin_url' or env CHAOS_SUITE_ADMIN_URL, or run "
              "`chaos-suite target up`")
    return info.admin_url


def _call(func: str, admin_url: str | None, configuration: dict[str, Any] | None,
          op: Callable[[LocalTargetClient], T]) -> T:
    url = _admin_url(admin_url, configuration)
    try:
        with LocalTargetClient(url, run_id=os.environ.get("CHAOS_SUITE_RUN_ID")) as client:
            return op(client)
    except ChaosSuiteError as exc:
        _fail(f"{func}: {exc}")


def _record_event(func: str, detail: ErrorsFault | LatencyFault | KillReplicaFault | FaultsCleared
                  ) -> None:
    """Append one durable fault_injected (fault_cleared for a clear) line to
    $CHAOS_SUITE_EVENTS_FILE (if set)."""
    path = os.environ.get("CHAOS_SUITE_EVENTS_FILE")
    if not path:
        return
    from pathlib import Path

    from chaos_suite.record import FaultCleared, FaultInjected, append_event
    from chaos_suite.safety.redact import Redactor, env_secrets

    scenario = os.environ.get("CHAOS_SUITE_SCENARIO") or None
    event = (FaultCleared(fault=func, detail=detail, scenario=scenario)
             if isinstance(detail, FaultsCleared) else
             FaultInjected(fault=func, detail=detail, scenario=scenario))
    append_event(Path(path), event, Redactor(env_secrets()).text)


def _number(name: str, value: Any, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        _fail(f"{name} must be a number, got {value!r}")
    if not low <= number <= high:
        _fail(f"{name} must be between {low:g} and {high:g}, got {number:g}")
    return number


def _ttl(ttl_s: Any) -> float | None:
    """None, "" or 0 mean: no expiry (CTK configurations often cannot express null)."""
    return None if ttl_s in (None, "", 0) else _number("ttl_s", ttl_s, 1e-3, 7 * 86400)


def inject_errors(ratio: float, ttl_s: float | None = None, paths: list[str] | None = None,
                  admin_url: str | None = None,
                  configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Answer a fraction ``ratio`` of requests with HTTP 503 (latency fault left as it is)."""
    value, ttl = _number("ratio", ratio, 0.0, 1.0), _ttl(ttl_s)
    state = _call("inject_errors", admin_url, configuration,
                  lambda c: c.set_fault(error_ratio=value, latency_ms=None, ttl_s=ttl,
                                        paths=paths))
    detail = {"error_ratio": value, "ttl_s": ttl, "paths": paths or []}
    _record_event("inject_errors", ErrorsFault(error_ratio=value, ttl_s=ttl,
                                              paths=tuple(str(p) for p in paths or ())))
    return {"fault": "inject_errors", **detail, "state": state}


def inject_latency(latency_ms: float, ttl_s: float | None = None, paths: list[str] | None = None,
                   admin_url: str | None = None,
                   configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Delay every request by ``latency_ms`` (error fault left as it is)."""
    value, ttl = _number("latency_ms", latency_ms, 0.0, 120_000.0), _ttl(ttl_s)
    state = _call("inject_latency", admin_url, configuration,
                  lambda c: c.set_fault(error_ratio=None, latency_ms=value, ttl_s=ttl,
                                        paths=paths))
    detail = {"latency_ms": value, "ttl_s": ttl, "paths": paths or []}
    _record_event("inject_latency", LatencyFault(latency_ms=value, ttl_s=ttl,
                                                 paths=tuple(str(p) for p in paths or ())))
    return {"fault": "inject_latency", **detail, "state": state}


def clear_faults(admin_url: str | None = None,
                 configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Remove every injected error and latency. Idempotent."""
    state = _call("clear_faults", admin_url, configuration, lambda c: c.clear_faults())
    _record_event("clear_faults", FaultsCleared(was_active=bool(state.get("cleared"))))
    return {"fault": "clear_faults", "was_active": bool(state.get("cleared")), "state": state}


def kill_replica(index: int | str | None = None, admin_url: str | None = None,
                 configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """SIGKILL one replica process (a random running one when ``index`` is None). The supervisor
    restarts it after its restart delay."""
    idx = None if index in (None, "") else int(_number("index", index, 0, 63))
    pid = _call("kill_replica", admin_url, configuration,
                lambda c: c.kill_replica(idx, signal.SIGKILL))
    detail = {"index": idx, "pid": pid, "signal": "SIGKILL"}
    _record_event("kill_replica", KillReplicaFault(index=idx, pid=pid))
    return {"fault": "kill_replica", **detail}


def replicas_alive(admin_url: str | None = None,
                   configuration: dict[str, Any] | None = None) -> int:
    """Probe: how many replicas are serving."""
    status = _call("replicas_alive", admin_url, configuration, lambda c: c.status())
    return sum(1 for r in status["replicas"] if r["alive"])


def wait_replicas_alive(timeout_s: float = 30, admin_url: str | None = None,
                        configuration: dict[str, Any] | None = None) -> int:
    """Revert of :func:`kill_replica`: wait until every replica serves again; their count."""
    limit = _number("timeout_s", timeout_s, 0.0, 3600.0)
    status = _call("wait_replicas_alive", admin_url, configuration,
                   lambda c: c.wait_all_alive(limit))
    return len(status["replicas"])
