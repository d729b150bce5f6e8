"""The chaos_suite control as chaoslib calls it: every step that calls a fault function gets its
ledger entry first (probes too), a step whose entry cannot be written does not run, and ledger
entries and events carry no secret."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest
from chaoslib.exceptions import InterruptExecution

from chaos_suite.experiment import control


def fault_step(kind: str, func: str, **arguments: Any) -> dict[str, Any]:
    return {"type": kind, "name": f"{kind}-{func}",
            "provider": {"type": "python", "module": "chaos_suite.faults.local", "func": func,
                         "arguments": arguments}}


def call_before(activity: dict[str, Any], experiment: dict[str, Any], tmp_path: Path,
                ledger_dirs: list[Path]) -> None:
    control.before_activity_control(
        activity, events_file=str(tmp_path / "events.jsonl"),
        scenario="s", experiment=experiment,
        configuration={}, secrets={}, run_id="run-1", target_key="local:x",
        ledger_dirs=[str(d) for d in ledger_dirs])


def new_experiment(**extra: Any) -> dict[str, Any]:
    return {"title": "t", "method": [], "rollbacks": [],
            "extensions": [control.run_extension("run-1")], **extra}


@pytest.mark.parametrize("kind", ["action", "probe"])
def test_a_fault_called_from_any_step_type_is_recorded_first(tmp_path: Path, kind: str) -> None:
    dirs = [tmp_path / "run-ledger", tmp_path / "state-ledger"]
    call_before(fault_step(kind, "kill_replica", admin_url="http://127.0.0.1:9"),
                new_experiment(), tmp_path, dirs)
    for folder in dirs:
        entries = [json.loads(p.read_text()) for p in folder.glob("*.json")]
        assert [(e["fault"], e["revert"]["func"]) for e in entries] == \
            [("kill_replica", "wait_replicas_alive")]


def test_a_step_whose_entry_cannot_be_written_does_not_run(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the state ledger should be")
    experiment = new_experiment()
    with pytest.raises(InterruptExecution):
        call_before(fault_step("action", "inject_errors", ratio=0.2),
                    experiment, tmp_path, [tmp_path / "run-ledger", blocked])
    # all or nothing: the entry already written to the run's ledger is undone
    assert list((tmp_path / "run-ledger").glob("*.json")) == []
    reasons = control.refusals({"experiment": experiment})
    assert len(reasons) == 1 and "step 'action-inject_errors' not run" in reasons[0]


def test_rollbacks_not_on_record_stop_the_method(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    experiment = new_experiment(rollbacks=[fault_step("action", "clear_faults")])
    with pytest.raises(InterruptExecution):
        control.before_method_control(
            experiment, events_file=str(tmp_path / "events.jsonl"),
            scenario="s", experiment=experiment,
            run_id="run-1", target_key="local:x", ledger_dirs=[str(blocked)])
    assert "method not run" in control.refusals({"experiment": experiment})[0]


def test_ledger_entries_and_events_carry_no_inline_secret(tmp_path: Path) -> None:
    secret = f'p\\a"ss {secrets.token_hex(6)}'
    url = f"http://ops:{secret}@127.0.0.1:9"
    experiment = new_experiment(secrets={"ops": {"password": secret}})
    dirs = [tmp_path / "run-ledger", tmp_path / "state-ledger"]
    step = fault_step("action", "inject_errors", ratio=0.1, admin_url=url)
    step["name"] = f"inject as {secret}"
    call_before(step, experiment, tmp_path, dirs)
    written = [p.read_text() for d in dirs for p in d.glob("*.json")]
    written.append((tmp_path / "events.jsonl").read_text())
    escaped = json.dumps(secret)[1:-1]
    for text in written:
        assert secret not in text and escaped not in text
        assert "***" in text
