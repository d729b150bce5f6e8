"""Loading a run directory: tolerant of truncation, strict about plan.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.synthetic import T0, demo_plan, standard_run

from chaos_suite.errors import InputError, ValidationError
from chaos_suite.report import load_run


def test_a_complete_run_loads_with_every_part(tmp_path: Path) -> None:
    run = standard_run()
    run.note(T0 + 15.5, "dashboards went red", "alice")
    run.journals["errors-5pct.json"] = {"status": "completed"}
    record = load_run(run.write(tmp_path))
    assert record.plan.gameday == "demo"
    assert [s.name for s in record.plan.slos] == ["availability", "latency"]
    assert record.plan.scenarios[0].expectations["availability"].max_budget_consumed == 0.001
    assert len(record.events) == len(run.events)
    assert len(record.samples) == len(run.samples)
    assert record.notes[0].author == "alice"
    assert record.journals == ("errors-5pct.json",)
    assert record.warnings == ()


def test_missing_plan_is_an_input_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"plan\.json: not found"):
        load_run(tmp_path)


def test_a_directory_that_does_not_exist_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a directory"):
        load_run(tmp_path / "nope")


def test_invalid_json_in_the_plan_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "plan.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match=r"plan\.json: invalid JSON"):
        load_run(tmp_path)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slos": []}, "slos"),
        ({"scenarios": "x"}, "scenarios"),
        (
            {
                "slos": [
                    {"name": "a", "objective": 1.0, "window_seconds": 60, "sli": {"kind": "availability"}}
                ]
            },
            "slos[0].objective",
        ),
        (
            {"scenarios": [{"name": "s", "expectations": {"a": {"max_budget_consumed": "x"}}}]},
            "scenarios[0].expectations.a.max_budget_consumed",
        ),
    ],
)
def test_an_invalid_plan_field_names_file_and_field(
    tmp_path: Path, change: dict[str, object], field: str
) -> None:
    (tmp_path / "plan.json").write_text(json.dumps(demo_plan(**change)), encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        load_run(tmp_path)
    assert caught.value.field == field
    assert caught.value.file.endswith("plan.json")
    assert caught.value.exit_code == 2


def test_a_truncated_last_line_is_skipped_with_a_warning(tmp_path: Path) -> None:
    run_dir = standard_run().write(tmp_path)
    events = run_dir / "events.jsonl"
    text = events.read_text(encoding="utf-8")
    events.write_text(text[: len(text) - 25], encoding="utf-8")  # cut into the last line
    samples = run_dir / "samples.jsonl"
    samples.write_text(samples.read_text(encoding="utf-8") + '{"t": 17', encoding="utf-8")
    record = load_run(run_dir)
    assert len(record.events) == text.count("\n") - 1
    assert record.events[-1].type == "phase_ended"
    assert any("events.jsonl line" in w for w in record.warnings)
    assert any("samples.jsonl line" in w for w in record.warnings)


def test_unknown_event_types_and_bad_lines_are_skipped_with_a_warning(tmp_path: Path) -> None:
    run = standard_run()
    run_dir = run.write(tmp_path)
    with (run_dir / "events.jsonl").open("a", encoding="utf-8") as stream:
        stream.write(f'{{"t": {T0 + 3}, "type": "something_new", "payload": [1, 2]}}\n')
        stream.write('{"type": "note"}\n[1, 2]\n\n{"t": NaN, "type": "note", "text": "x"}\n')
    with (run_dir / "samples.jsonl").open("a", encoding="utf-8") as stream:
        stream.write('{"t": 5, "slis": {"availability": {"good": 9, "total": 3}}}\n')
    record = load_run(run_dir)
    assert len(record.events) == len(run.events)
    event_warnings = [w for w in record.warnings if "events.jsonl" in w]
    assert len(event_warnings) == 4
    assert "unknown event type 'something_new'" in event_warnings[0]
    assert any("bad counts for 'availability'" in w for w in record.warnings)
    # The sample line with bad counts still exists, just without that SLI.
    assert any(s.t == 5 and not s.slis for s in record.samples)


def test_warnings_are_capped_per_file(tmp_path: Path) -> None:
    run_dir = standard_run().write(tmp_path)
    with (run_dir / "notes.jsonl").open("w", encoding="utf-8") as stream:
        stream.write("garbage\n" * 50)
    record = load_run(run_dir)
    assert len(record.warnings) == 21
    assert record.warnings[-1] == "notes.jsonl: 30 more lines skipped"
