"""`chaos-suite recover`: stop what killed runs left running, then replay pending reverts.

Every run also calls `pending_for_target` first and refuses to start while a revert is pending
on its target (unless --recover)."""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import time
from pathlib import Path
from typing import Any

from chaos_suite.safety import ledger
from chaos_suite.safety.runs import is_same_process, registered_runs
from chaos_suite.safety.state import ledger_dir, state_root

CHAOSMESH = "chaos_suite.faults.chaosmesh"


def _live_run_ids(root: Path) -> set[str]:
    return {str(data.get("run_id")) for _, data in registered_runs(root)
            if _alive(data) and int(data["pid"]) != os.getpid()}


def _alive(data: dict[str, Any]) -> bool:
    start = data.get("pid_start")
    return is_same_process(int(data.get("pid", 0)), int(start) if start is not None else None)


def _kill_group(pgid: int) -> bool:
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    return True


def stop_leftovers(root: Path) -> list[str]:
    """Processes of runs whose runner is gone: Locust process groups and managed targets."""
    actions: list[str] = []
    for path, data in registered_runs(root):
        pid = int(data.get("pid", 0))
        run_id = data.get("run_id")
        if pid != os.getpid() and _alive(data):
            actions.append(f"run {run_id} is still active (pid {pid}); left alone")
            continue
        pgid = data.get("locust_pgid")
        if pgid and _kill_group(int(pgid)):
            actions.append(f"run {run_id}: stopped its Locust processes (pgid {pgid})")
        for pid_left in _processes_of_run(str(run_id)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid_left, signal.SIGKILL)
            actions.append(f"run {run_id}: killed process {pid_left} its experiment started")
        embedded_pids = data.get("embedded_pids")
        if embedded_pids:  # detection.embedded: its Prometheus and Alertmanager
            from chaos_suite.detection.embedded import stop_registered

            for pid_left in stop_registered(list(embedded_pids)):
                actions.append(f"run {run_id}: stopped its embedded Prometheus/Alertmanager "
                               f"(pid {pid_left})")
        target_dir = data.get("managed_target_dir")
        if target_dir:
            from chaos_suite.targets.local import stop_target

            if stop_target(Path(target_dir)):
                actions.append(f"run {run_id}: stopped its managed target ({target_dir})")
        path.unlink(missing_ok=True)
    return actions


def _processes_of_run(run_id: str) -> list[int]:
    """Processes a scenario of `run_id` started (a `process` step, a rollback's `sleep`): they
    inherit CHAOS_SUITE_RUN_ID, and a SIGKILLed runner leaves them orphaned."""
    if not run_id:
        return []
    marker = f"CHAOS_SUITE_RUN_ID={run_id}".encode()
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if marker in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def revert(entry: ledger.LedgerEntry) -> None:
    spec = entry.revert
    if spec.get("kind") == "python":
        module = importlib.import_module(str(spec["module"]))
        func = getattr(module, str(spec["func"]))
        arguments = dict(spec.get("arguments") or {})
        if spec["module"] == CHAOSMESH:  # its revert deletes what carries the entry's run id
            arguments.setdefault("run_id", entry.run_id)
        func(**arguments)
        return
    if spec.get("kind") == "ctk-activity":
        from chaoslib.activity import run_activity
        from chaoslib.configuration import load_configuration
        from chaoslib.secret import load_secrets

        configuration = load_configuration(dict(spec.get("configuration") or {}))
        secrets = load_secrets(dict(spec.get("secrets") or {}), configuration)
        run_activity(dict(spec["activity"]), configuration, secrets)
        return
    raise ValueError(f"unknown revert kind {spec.get('kind')!r}")


def _target_gone(entry: ledger.LedgerEntry) -> bool:
    # a managed target lives and dies with its run: once stopped, its faults are gone with it
    return entry.target.startswith("local-managed:")


def revert_pending(root: Path, own_run: str | None = None, managed_stopped: bool = False
                   ) -> list[str]:
    """Replay pending reverts. `recover` passes no `own_run`: runs still alive are left alone
    and a dead run's managed target is gone with it. A run tearing itself down passes its id:
    only its own entries, and its managed target is still up to be reverted."""
    actions: list[str] = []
    live = _live_run_ids(root) if own_run is None else set()
    for entry in ledger.pending(ledger_dir(root)):
        if own_run is not None and entry.run_id != own_run:
            continue
        if entry.run_id in live:
            actions.append(f"{entry.fault} of run {entry.run_id}: run still active; left alone")
            continue
        dirs = [Path(d) for d in entry.dirs] or [ledger_dir(root)]
        if (own_run is None or managed_stopped) and _target_gone(entry):
            ledger.clear(entry.id, dirs, how="managed target stopped")
            actions.append(f"{entry.fault} of run {entry.run_id}: its managed target is stopped")
            continue
        try:
            revert(entry)
        except Exception as exc:  # noqa: BLE001 - report and keep the entry pending
            if _already_gone(exc):  # e.g. a policy its own rollback entry removed first
                ledger.clear(entry.id, dirs, how="recover (already reverted)")
                actions.append(f"{entry.fault} of run {entry.run_id}: already reverted")
                continue
            actions.append(f"{entry.fault} of run {entry.run_id} on {entry.target}: "
                           f"revert FAILED ({type(exc).__name__}: {exc}); still pending")
            continue
        ledger.clear(entry.id, dirs, how="recover")
        actions.append(f"reverted {entry.fault} of run {entry.run_id} on {entry.target} "
                       f"({_describe(entry.revert)})")
    return actions


def _already_gone(exc: Exception) -> bool:
    """A revert answered 'not found': what it would remove is not there any more."""
    return getattr(exc, "status", None) == 404 or "(404)" in str(exc)


def _describe(spec: dict[str, Any]) -> str:
    if spec.get("kind") == "python":
        return f"{spec.get('module')}.{spec.get('func')}"
    activity = spec.get("activity") or {}
    return f"rollback '{activity.get('name')}'"


def recover_all(state_dir: Path | None = None, *, kube_namespaces: list[str] | None = None,
                kubeconfig: str | None = None, kube_context: str | None = None,
                sweep_kube: bool = False) -> list[str]:
    """Stop leftovers, replay pending reverts; with `sweep_kube`, then delete the Chaos Mesh
    resources chaos_suite labelled for a run that is not live (found by label in
    `kube_namespaces`, default the context's namespace): those a lost ledger cannot name."""
    root = state_dir or state_root()
    actions = stop_leftovers(root) + revert_pending(root)
    if sweep_kube:
        from chaos_suite.faults.chaosmesh import sweep

        try:
            actions += sweep(_live_run_ids(root), kube_namespaces, kubeconfig, kube_context)
        except Exception as exc:  # noqa: BLE001 - report; the ledger part is done
            actions.append(f"Chaos Mesh sweep FAILED ({type(exc).__name__}: {exc})")
    return actions


def pending_for_target(target_key: str, root: Path | None = None) -> list[ledger.LedgerEntry]:
    base = root or state_root()
    live = _live_run_ids(base)
    return [e for e in ledger.pending(ledger_dir(base))
            if e.target == target_key and e.run_id not in live]
