"""Facilitator notes: `gameday note` appends a timestamped observation that the report shows."""

from __future__ import annotations

import json
from pathlib import Path

from gameday_helpers import run_cli
from support.synthetic import standard_run


def test_note_is_recorded_and_rendered(tmp_path: Path) -> None:
    run_dir = standard_run().write(tmp_path / "run")
    result = run_cli("gameday", "note", str(run_dir), "p99 on the dashboard doubled",
                     "--author", "alice")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("noted at ")
    notes = [json.loads(line) for line in (run_dir / "notes.jsonl").read_text().splitlines()]
    assert notes[-1]["text"] == "p99 on the dashboard doubled" and notes[-1]["author"] == "alice"
    assert run_cli("report", str(run_dir), "--format", "md").returncode == 0
    assert "p99 on the dashboard doubled" in (run_dir / "report.md").read_text(encoding="utf-8")


def test_note_on_something_that_is_not_a_run_is_exit_2(tmp_path: Path) -> None:
    result = run_cli("gameday", "note", str(tmp_path), "hello")
    assert result.returncode == 2
    assert "not a run directory" in result.stderr
