"""chaos_suite's Chaos Toolkit control: records every activity into the run's timeline and
interrupts the method when the run is asked to abort (abort file present).

Controls are module-level functions in CTK; per-run state comes in through the control's
arguments (file paths), so this module keeps no state of its own. The abort check never fires for
rollback activities: a sticky abort must not block the rollbacks (docs/architecture.md §7.1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

from chaos_suite.record import (
    ActivityEnded,
    ActivityStarted,
    Event,
    MethodEnded,
    MethodStarted,
    RollbacksEnded,
    RollbacksStarted,
    append_event,
)

MODULE = "chaos_suite.experiment.control"


def control_block(events_file: Path, scenario: str, *, run_id: str = "",
                  ledger_dirs: list[Path] | None = None, target_key: str = "") -> dict[str, Any]:
    return {
        "name": "chaos-suite",
        "provider": {
            "type": "python",
            "module": MODULE,
            "arguments": {
                "events_file": str(events_file),
                "scenario": scenario,
                "run_id": run_id,
                "ledger_dirs": [str(p) for p in ledger_dirs or []],
                "target_key": target_key,
            },
        },
    }


def _python_call(activity: dict[str, Any]) -> tuple[str, str] | None:
    provider = activity.get("provider") or {}
    if provider.get("type") != "python":
        return None
    return str(provider.get("module")), str(provider.get("func"))


def _reverts_of(module: str) -> dict[str, str]:
    import importlib

    try:
        mod = importlib.import_module(module)
    except ImportError:
        return {}
    return dict(getattr(mod, "REVERTS", {}) or {})


def _declared_revert(module: str, func: str, context: dict[str, Any],
                     configuration: dict[str, Any] | None, secrets: dict[str, Any] | None
                     ) -> dict[str, Any] | None:
    """The revert of a fault action: chaos_suite's own faults declare theirs (`REVERTS` in their
    module); Kubernetes actions of chaostoolkit-kubernetes are known to chaos_suite's registry."""
    arguments = dict((context.get("provider") or {}).get("arguments") or {})
    if module.startswith("chaosk8s"):
        from chaos_suite.faults.kubernetes import revert_for

        return revert_for(f"{module}.{func}", arguments, configuration, secrets)
    revert_func = _reverts_of(module).get(func)
    if revert_func is None:
        return None
    exact = _exact_revert(module, func, arguments, configuration)
    if exact is not None:  # the resource the step creates, named from its arguments
        return {"kind": "python", "module": module, "func": exact["func"],
                "arguments": dict(exact.get("arguments") or {})}
    revert_args: dict[str, Any] = {}
    admin = (configuration or {}).get("chaos_suite_admin_url") or arguments.get("admin_url")
    if admin:
        revert_args["admin_url"] = admin
    return {"kind": "python", "module": module, "func": revert_func, "arguments": revert_args}


def _exact_revert(module: str, func: str, arguments: dict[str, Any],
                  configuration: dict[str, Any] | None) -> dict[str, Any] | None:
    """A fault module's `revert_of(func, arguments)` (chaos_suite.faults.chaosmesh): the revert
    of exactly what this call injects, from the step's arguments with `${name}` forms filled
    from the configuration only (a `${secret}` form stays a template, never a secret value)."""
    import importlib

    revert_of = getattr(importlib.import_module(module), "revert_of", None)
    if not callable(revert_of):
        return None
    from chaoslib import substitute

    substituted = dict(substitute(arguments, dict(configuration or {}), {}) or {})
    found = revert_of(func, substituted)
    return dict(found) if isinstance(found, dict) else None


def _reverts_entry(call: tuple[str, str] | None, context: dict[str, Any],
                   revert: dict[str, Any]) -> bool:
    """Whether a succeeded python step `call` undoes the ledger's python `revert`: the same
    function, or (a module with `reverted_by`: chaos_suite.faults.chaosmesh) what it says of
    the step's arguments: one resource's delete clears that resource's revert only."""
    if call is None or revert.get("kind") != "python" or revert.get("module") != call[0]:
        return False
    import importlib

    try:
        reverted_by = getattr(importlib.import_module(call[0]), "reverted_by", None)
    except ImportError:
        reverted_by = None
    if callable(reverted_by):
        arguments = (context.get("provider") or {}).get("arguments")
        return bool(reverted_by(revert, call[1], arguments if isinstance(arguments, dict)
                                else {}))
    return revert.get("func") == call[1]


EXTENSION = "chaos-suite"


def run_extension(run_id: str) -> dict[str, Any]:
    """The experiment extension through which the control tells the runner why it refused a
    step. chaoslib swallows every exception of a control but InterruptExecution and keeps no
    message of that one, while the journal shares this dict with the running experiment."""
    return {"name": EXTENSION, "run_id": run_id, "refused": []}


def extension_of(experiment: dict[str, Any] | None) -> dict[str, Any] | None:
    """chaos_suite's extension of a prepared experiment (or of a journal's experiment)."""
    for ext in (experiment or {}).get("extensions") or []:
        if isinstance(ext, dict) and ext.get("name") == EXTENSION:
            return ext
    return None


def refusals(journal: dict[str, Any]) -> list[str]:
    """The reasons the control refused a step in this journal's run (empty: none)."""
    ext = extension_of(journal.get("experiment"))
    return [str(r) for r in (ext or {}).get("refused") or []]


def _refuse(experiment: dict[str, Any] | None, reason: str) -> NoReturn:
    """Stop the run before the step: fail closed. The reason goes where the runner reads it."""
    from chaoslib.exceptions import InterruptExecution

    ext = extension_of(experiment)
    if ext is not None:
        ext.setdefault("refused", []).append(reason)
    raise InterruptExecution(f"chaos-suite: {reason}")


def _ledger_before(context: dict[str, Any], kwargs: dict[str, Any],
                   configuration: dict[str, Any] | None, secrets: dict[str, Any] | None = None
                   ) -> None:
    """A step that calls a fault function with a declared revert (as an action or as a probe:
    the type does not change what it does) gets its ledger entry before it runs."""
    dirs = [Path(p) for p in kwargs.get("ledger_dirs") or []]
    call = _python_call(context)
    if not dirs or call is None:
        return
    module, func = call
    revert = _declared_revert(module, func, context, configuration, secrets)
    if revert is None:
        return
    from chaos_suite.safety import ledger

    redact = _redactor(kwargs.get("experiment"))
    entry = ledger.new_entry(
        run_id=str(kwargs.get("run_id", "")), scenario=kwargs.get("scenario"), fault=func,
        target=str(kwargs.get("target_key", "")), revert=redact(revert),
        detail=redact({"activity": context.get("name"),
                       "arguments": (context.get("provider") or {}).get("arguments", {})}),
    )
    ledger.record(entry, dirs)


def _ledger_rollbacks(experiment: dict[str, Any] | None, kwargs: dict[str, Any]) -> None:
    """The experiment's own rollbacks are recorded as reverts too, before the method starts."""
    dirs = [Path(p) for p in kwargs.get("ledger_dirs") or []]
    rollbacks = (experiment or {}).get("rollbacks") or []
    if not dirs or not rollbacks:
        return
    from chaos_suite.safety import ledger

    redact = _redactor(experiment)
    config = redact((experiment or {}).get("configuration") or {})
    secrets = _secret_references((experiment or {}).get("secrets") or {})
    for index, activity in enumerate(rollbacks):
        entry = ledger.new_entry(
            run_id=str(kwargs.get("run_id", "")), scenario=kwargs.get("scenario"),
            fault=f"rollback[{index}] {activity.get('name')}",
            target=str(kwargs.get("target_key", "")),
            revert={"kind": "ctk-activity", "activity": redact(activity), "configuration": config,
                    "secrets": secrets, "index": index},
        )
        ledger.record(entry, dirs)


def _secret_references(node: Any) -> Any:
    """The secrets block with only its references (env, vault, ...): `recover` re-reads the values
    where they live; an inline value is never written to the ledger."""
    if isinstance(node, dict):
        if "type" in node:
            return node
        return {k: _secret_references(v) for k, v in node.items()
                if isinstance(v, dict)}
    return None


def _ledger_after(context: dict[str, Any], state: Any, kwargs: dict[str, Any],
                  rollback: bool, experiment: dict[str, Any] | None) -> None:
    """A succeeded revert clears the entries it reverts (same run)."""
    dirs = [Path(p) for p in kwargs.get("ledger_dirs") or []]
    if not dirs or not isinstance(state, dict) or state.get("status") != "succeeded":
        return
    from chaos_suite.safety import ledger

    call = _python_call(context)
    run_id = str(kwargs.get("run_id", ""))
    rollbacks = (experiment or {}).get("rollbacks") or []
    index = next((i for i, r in enumerate(rollbacks) if r is context), None) if rollback else None
    for entry in ledger.pending(dirs[0]):
        if entry.run_id != run_id:
            continue
        revert = entry.revert
        same_python = _reverts_entry(call, context, revert)
        same_rollback = index is not None and revert.get("kind") == "ctk-activity" and \
            revert.get("index") == index and entry.scenario == kwargs.get("scenario")
        if same_python or same_rollback:
            ledger.clear(entry.id, dirs, how=f"activity {context.get('name')}")


def _redactor(experiment: dict[str, Any] | None) -> Any:
    """Ledger entries and events leave this process only through the run's redactor: an
    inline secret in a step's arguments must not reach the ledger in plain text. (A revert
    that needed that secret then fails visibly in `recover` instead of leaking it.)"""
    from chaos_suite.safety.redact import redactor_for

    return redactor_for([experiment] if experiment else [])


def _append(events_file: str, event: Event, experiment: dict[str, Any] | None = None) -> None:
    # step names come from the user's file; the rest is ours
    named = isinstance(event, (ActivityStarted, ActivityEnded))
    append_event(Path(events_file), event, _redactor(experiment).text if named else None)


def _text(value: Any) -> str | None:
    """A field of the user's experiment as the event's text (CTK does not type them)."""
    return None if value is None else str(value)


def _is_rollback(context: dict[str, Any], experiment: dict[str, Any] | None) -> bool:
    return any(context is r for r in (experiment or {}).get("rollbacks", []))


def request_abort(extension: dict[str, Any], reason: str) -> None:
    """Called by the runner (safeguard thread, signal handler): no further method step may
    start. The runner also interrupts the running one (chaoslib.exit.exit_gracefully)."""
    extension["abort"] = reason


def _check_abort(experiment: dict[str, Any] | None) -> None:
    reason = (extension_of(experiment) or {}).get("abort")
    if reason:
        from chaoslib.exceptions import InterruptExecution

        raise InterruptExecution(f"chaos-suite abort: {reason}")


def before_experiment_control(context: dict[str, Any], events_file: str,
                              scenario: str, **_: Any) -> None:
    """chaoslib turns SIGTERM into an InterruptExecution that a running python action swallows,
    and the run then ends 'completed' (docs/architecture.md §7.1). Make SIGTERM behave like SIGINT (whatever
    handler the process has for it), which chaoslib treats as a graceful interrupt."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.getsignal(signal.SIGINT))


def before_activity_control(context: dict[str, Any], events_file: str,
                            scenario: str, experiment: dict[str, Any] | None = None,
                            configuration: dict[str, Any] | None = None,
                            secrets: dict[str, Any] | None = None, **_: Any) -> None:
    rollback = _is_rollback(context, experiment)
    if not rollback:
        _check_abort(experiment)
        try:
            _ledger_before(context, {**_, "scenario": scenario, "experiment": experiment},
                           configuration, secrets)
        except Exception as exc:  # noqa: BLE001 - no revert on record: the step must not run
            _refuse(experiment, f"step '{context.get('name')}' not run: its revert could not "
                                f"be recorded ({type(exc).__name__}: {exc})")
    _append(events_file, ActivityStarted(
        scenario=scenario, name=_text(context.get("name")),
        activity_type=_text(context.get("type")), rollback=rollback), experiment)


def after_activity_control(context: dict[str, Any], events_file: str,
                           scenario: str, state: Any = None,
                           experiment: dict[str, Any] | None = None, **_: Any) -> None:
    status = state.get("status") if isinstance(state, dict) else None
    _ledger_after(context, state, {**_, "scenario": scenario},
                  _is_rollback(context, experiment), experiment)
    _append(events_file, ActivityEnded(
        scenario=scenario, name=_text(context.get("name")),
        activity_type=_text(context.get("type")), rollback=_is_rollback(context, experiment),
        status=_text(status)), experiment)


def before_method_control(context: dict[str, Any], events_file: str,
                          scenario: str, experiment: dict[str, Any] | None = None,
                          **_: Any) -> None:
    _check_abort(experiment)
    try:
        _ledger_rollbacks(experiment, {**_, "scenario": scenario})
    except Exception as exc:  # noqa: BLE001 - rollbacks not on record: run no method step
        _refuse(experiment, f"method not run: the experiment's rollbacks could not be "
                            f"recorded ({type(exc).__name__}: {exc})")
    _append(events_file, MethodStarted(scenario=scenario))


def after_method_control(context: dict[str, Any], events_file: str,
                         scenario: str, **_: Any) -> None:
    _append(events_file, MethodEnded(scenario=scenario))


def before_rollback_control(context: dict[str, Any], events_file: str,
                            scenario: str, **_: Any) -> None:
    _append(events_file, RollbacksStarted(scenario=scenario))


def after_rollback_control(context: dict[str, Any], events_file: str,
                           scenario: str, **_: Any) -> None:
    _append(events_file, RollbacksEnded(scenario=scenario))
