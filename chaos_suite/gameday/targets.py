"""The target a run attacks: a managed local target (started and stopped by the run), a standing
local target (`chaos-suite target up`, left running), or any HTTP service the user names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chaos_suite.errors import PreflightError
from chaos_suite.files.environment import HttpTarget, KubernetesTarget, LocalTarget
from chaos_suite.files.loader import ResolvedPlan

if TYPE_CHECKING:
    from chaos_suite.targets.local.client import LocalTargetClient


@dataclass
class RunTarget:
    url: str
    admin_url: str | None
    stop: Callable[[], None]
    client: LocalTargetClient | None  # the local target's admin API; None for other kinds
    key: str = ""  # names the target in the fault ledger
    managed_dir: Path | None = None
    pids: list[int] | None = None  # the target's own processes (local targets)


def target_key_before_start(resolved: ResolvedPlan) -> str:
    """The ledger key of the target a run would attack; '' for a target that does not exist
    yet (a managed local target is new for every run)."""
    target = resolved.environment.target
    if isinstance(target, LocalTarget):
        if target.managed:
            return ""
        from chaos_suite.targets.local import default_state_dir, read_target_info

        info = read_target_info(default_state_dir())
        return f"local:{info.admin_url}" if info else ""
    if isinstance(target, HttpTarget):
        return _http_key(target)
    return _kubernetes_key(target)


def _http_key(target: HttpTarget) -> str:
    return f"http:{target.url}"


def _kubernetes_key(target: KubernetesTarget) -> str:
    return f"kubernetes:{target.context or ''}/{target.namespace}"


def _noop() -> None:
    return None


def managed_state_dir(run_id: str) -> Path:
    from chaos_suite.safety.state import state_root

    return state_root() / "managed" / run_id


def start_for_run(resolved: ResolvedPlan, run_id: str) -> RunTarget:
    target = resolved.environment.target
    if isinstance(target, LocalTarget):
        return _local(target, run_id)
    if isinstance(target, HttpTarget):
        _check_reachable(target.url)
        return RunTarget(target.url, target.admin_url, _noop, None, key=_http_key(target))
    if isinstance(target, KubernetesTarget):
        if not target.url:
            raise PreflightError("kubernetes target: set target.url to the service URL the load "
                                 "is sent to")
        _check_reachable(target.url)
        return RunTarget(target.url, None, _noop, None, key=_kubernetes_key(target))
    raise PreflightError(f"unsupported target type {type(target).__name__}")


def _local(target: LocalTarget, run_id: str) -> RunTarget:
    from chaos_suite.targets.local import LocalTargetClient, start_target, stop_target

    if target.managed:
        state = managed_state_dir(run_id)
        info = start_target(state, replicas=target.replicas, port=target.port,
                            admin_port=target.admin_port, restart_delay_s=target.restart_delay)

        def stop() -> None:
            stop_target(state)

        return RunTarget(info.url, info.admin_url, stop,
                         LocalTargetClient(info.admin_url, run_id=run_id),
                         key=f"local-managed:{run_id}", managed_dir=state,
                         pids=[info.supervisor_pid, *info.replica_pids])
    standing, client, _ = _standing_target(run_id)
    return RunTarget(standing.url, standing.admin_url, _noop, client,
                     key=f"local:{standing.admin_url}")


def _standing_target(run_id: str | None = None) -> tuple[Any, Any, dict[str, Any]]:
    """The standing local target (`chaos-suite target up`): its info, an admin client and its
    status; not running or not answering is a preflight error (nothing was injected)."""
    from chaos_suite.targets.local import LocalTargetClient, default_state_dir, read_target_info

    info = read_target_info(default_state_dir())
    if info is None:
        raise PreflightError("no standing local target: start one with `chaos-suite target up "
                             "--detach` or set target.managed: true")
    client = LocalTargetClient(info.admin_url, run_id=run_id)
    try:
        status = client.status()
    except Exception as exc:  # noqa: BLE001 - any failure here means unreachable
        client.close()
        raise PreflightError(f"standing local target at {info.admin_url} unreachable: {exc}"
                             ) from None
    return info, client, status


def _check_reachable(url: str) -> None:
    import httpx

    try:
        httpx.get(url, timeout=5.0)
    except httpx.HTTPError as exc:
        raise PreflightError(f"target {url} unreachable: {exc}") from None


def describe_target(resolved: ResolvedPlan) -> str:
    """Resolve the target without changing it (for --dry-run): unreachable is an error here too."""
    target = resolved.environment.target
    if isinstance(target, LocalTarget):
        if target.managed:
            return (f"a new embedded local target, {target.replicas} replicas, restart delay "
                    f"{target.restart_delay:g} s (started and stopped by the run)")
        info, client, status = _standing_target()
        client.close()
        return (f"the standing local target at {info.url} ({status.get('replicas_alive')} "
                f"replicas alive, fault active: {status.get('fault', {}).get('active')})")
    if isinstance(target, HttpTarget):
        _check_reachable(target.url)
        return f"HTTP service at {target.url} (reachable)"
    url = f", load to {target.url}" if target.url else ""
    return f"Kubernetes namespace {target.namespace} in context {target.context or '(current)'}{url}"
