"""The run record's contract (docs/architecture.md §4): a version in plan.json, unknown versions
refused with exit 2, pre-v1 directories read leniently, and nothing off-contract written."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest
from gameday_helpers import run_cli
from pydantic import ValidationError as PydanticValidationError
from support.synthetic import T0, standard_run

from chaos_suite.errors import InputError, ValidationError
from chaos_suite.files.loader import resolve_plan
from chaos_suite.gameday.resolve import load_config_for, plan_record
from chaos_suite.record import (
    EVENT_ADAPTER,
    RUN_RECORD_VERSION,
    LoadStalled,
    RunPlan,
    RunStarted,
    load_run,
)

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "gamedays" / "demo.yaml"


def rewrite_plan(run_dir: Path, **changes: object) -> None:
    path = run_dir / "plan.json"
    plan = json.loads(path.read_text(encoding="utf-8"))
    plan.update(changes)
    path.write_text(json.dumps(plan), encoding="utf-8")


def test_a_newer_version_is_exit_2_with_one_line_naming_it(tmp_path: Path) -> None:
    run_dir = standard_run().write(tmp_path / "run")
    rewrite_plan(run_dir, version="chaos-suite/run/v9")
    result = run_cli("report", str(run_dir))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "chaos-suite/run/v9" in lines[0] and "plan.json" in lines[0]
    assert not (run_dir / "report.json").exists()


def test_what_the_writer_writes_carries_the_version(tmp_path: Path) -> None:
    run_dir = standard_run().write(tmp_path / "run")
    assert json.loads((run_dir / "plan.json").read_text())["version"] == RUN_RECORD_VERSION
    assert load_run(run_dir).version == RUN_RECORD_VERSION


@pytest.mark.parametrize("version", [None, 1, "", "chaos-suite/run/v0"])
def test_any_other_version_value_is_refused(tmp_path: Path, version: object) -> None:
    run_dir = standard_run().write(tmp_path / "run")
    rewrite_plan(run_dir, version=version)
    with pytest.raises(InputError, match="is unknown or newer"):
        load_run(run_dir)


def test_without_a_version_the_pre_v1_layout_is_read_leniently(tmp_path: Path) -> None:
    """Fields the contract does not know are dropped in a pre-v1 record, refused in a v1 one."""
    run_dir = standard_run().write(tmp_path / "run")
    with (run_dir / "events.jsonl").open("a", encoding="utf-8") as stream:
        stream.write(json.dumps({"t": T0 + 1, "type": "load_stalled", "seconds": 3,
                                 "since": "an older field"}) + "\n")
    rewrite_plan(run_dir, retired_field=True)
    with pytest.raises(ValidationError) as caught:
        load_run(run_dir)
    assert caught.value.field == "retired_field"

    plan = json.loads((run_dir / "plan.json").read_text(encoding="utf-8"))
    del plan["version"]
    (run_dir / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    record = load_run(run_dir)
    assert record.version is None and record.warnings == ()
    assert LoadStalled(t=T0 + 1, seconds=3) in record.events


def test_a_v1_line_off_the_contract_is_skipped_with_a_warning(tmp_path: Path) -> None:
    run_dir = standard_run().write(tmp_path / "run")
    with (run_dir / "events.jsonl").open("a", encoding="utf-8") as stream:
        stream.write(json.dumps({"t": T0 + 1, "type": "load_stalled", "seconds": 3,
                                 "since": "x"}) + "\n")
        stream.write(json.dumps({"type": "load_stalled", "seconds": 3}) + "\n")
    record = load_run(run_dir)
    assert not any(isinstance(e, LoadStalled) for e in record.events)
    assert [w.split(": ", 1)[1] for w in record.warnings] == [
        "since: Extra inputs are not permitted, skipped",
        "t: required field is missing, skipped"]


def test_nothing_off_the_contract_can_be_written() -> None:
    with pytest.raises(PydanticValidationError):
        EVENT_ADAPTER.validate_python({"t": 1.0, "type": "something_new"})
    with pytest.raises(PydanticValidationError):
        RunStarted.model_validate({"run_id": "r", "payload": [1]})  # an unknown field
    with pytest.raises(PydanticValidationError):
        LoadStalled(seconds=math.nan)  # JSON has no NaN


def test_the_plan_record_is_the_resolved_plan() -> None:
    resolved = resolve_plan(DEMO)
    plan = plan_record(resolved, "20250101T000000Z-demo")
    assert plan.version == RUN_RECORD_VERSION
    assert RunPlan.model_validate(plan.model_dump(mode="json")) == plan
    assert plan.min_events == resolved.plan.min_events
    assert [s.name for s in plan.scenarios] == [s.name for s in resolved.plan.scenarios]


@pytest.mark.parametrize(("shape", "key", "value"), [
    ({"kind": "ramp", "start_users": 0}, "start_users", 0),
    ({"kind": "spike", "spike_at": 0}, "spike_at_s", 0),
    ({"kind": "spike", "spike_at": 4}, "spike_at_s", 4),
])
def test_a_zero_in_the_load_shape_is_kept(tmp_path: Path, shape: dict[str, object], key: str,
                                          value: float) -> None:
    resolved = resolve_plan(DEMO)
    load = resolved.plan.load.model_copy(
        update={"shape": resolved.plan.load.shape.model_copy(update=shape)})
    resolved = dataclasses.replace(resolved, plan=resolved.plan.model_copy(update={"load": load}))
    params = load_config_for(resolved, "http://127.0.0.1:1", tmp_path)["shape"]
    assert params[key] == value
