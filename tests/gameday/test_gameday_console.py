"""The terminal output prints what the user wrote, as written: every step of the dry run with its
type, name and what it runs (the executable of a process included), and titles, names, paths and
errors holding rich markup (`[/]`, `[bold]`) literally, in a dry run and in a real run."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from gameday_helpers import ROOT, action, cli_command, experiment, only_run_dir, write_plan

EXPECT = {"availability": {"max_budget_consumed": "5%"}}
TITLE = "errors [/] short"
NAMES = ("x[/]y", "[bold red]boom[/]", "back\\")


def dry_run(plan: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_command("gameday", "run", str(plan), "--dry-run", "--reports",
                                      str(plan.parent / "reports")),
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ))


def probe(name: str) -> dict[str, Any]:
    return {"type": "probe", "name": name, "provider": {
        "type": "python", "module": "chaos_suite.faults.local", "func": "replicas_alive"}}


def test_dry_run_prints_every_step_as_it_is(tmp_path: Path) -> None:
    exp = experiment("steps", [
        action("kill", "kill_replica", index=1),
        {"type": "action", "name": "wipe", "provider": {
            "type": "process", "path": "rm", "arguments": ["-rf", "/nonexistent/a b"]}},
        {"type": "action", "name": "shell", "provider": {
            "type": "process", "path": "echo", "arguments": "one two"}},
        {"type": "probe", "name": "ask", "provider": {
            "type": "http", "method": "post", "url": "http://127.0.0.1:9/admin/faults"}},
    ], rollbacks=[action("wait", "wait_replicas_alive", timeout_s=30)])
    exp["steady-state-hypothesis"] = {"title": "up", "probes": [
        {**probe("alive"), "tolerance": {"type": "range", "range": [1, 16]}}]}
    plan = write_plan(tmp_path, [{"name": "steps", "experiment": exp, "expect": EXPECT}])
    result = dry_run(plan)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    expected = [
        "  steady-state hypothesis:",
        "    probe alive: python chaos_suite.faults.local.replicas_alive()",
        "  method:",
        "    action kill: python chaos_suite.faults.local.kill_replica(index=1)  · takes down "
        "1 replica",
        "    action wipe: process rm -rf '/nonexistent/a b'  · unknown effect (allowed on the "
        "local tier)",
        "    action shell: process echo one two  · unknown effect",
        "    probe ask: http POST http://127.0.0.1:9/admin/faults  · unknown effect",
        "  rollbacks:",
        "    action wait: python chaos_suite.faults.local.wait_replicas_alive(timeout_s=30)",
    ]
    positions = []
    for line in expected:
        assert line in out, f"{line!r} not in:\n{out}"
        positions.append(out.index(line))
    assert positions == sorted(positions), out  # in the order chaoslib runs them
    assert "safety gates: passed" in out


def test_markup_in_titles_and_names_is_printed_literally_in_a_dry_run(tmp_path: Path) -> None:
    exp = experiment(TITLE, [probe(n) for n in NAMES])
    plan = write_plan(tmp_path, [{"name": "odd", "experiment": exp, "expect": EXPECT}])
    result = dry_run(plan)
    assert result.returncode == 0, result.stderr
    assert f"({TITLE})" in result.stdout
    for name in NAMES:
        assert f"    probe {name}: python " in result.stdout
    assert "Traceback" not in result.stderr + result.stdout


def test_every_console_line_prints_user_text_literally(capsys: pytest.CaptureFixture[str],
                                                       tmp_path: Path) -> None:
    from chaos_suite.gameday.console import Console

    text = "a [/] b [bold]c[/bold] d\\"
    row = SimpleNamespace(slo=SimpleNamespace(name=text), verdict=SimpleNamespace(value=text),
                          budget_consumed_attributed=None, detection=None,
                          expected=SimpleNamespace(max_budget_consumed=None))
    analysis = SimpleNamespace(scenarios=[SimpleNamespace(name=text, slos=[row])], exit_code=0)
    console = Console()
    console.step(text)
    console.phase(text, text)
    console.scenario_result(text, SimpleNamespace(deviated=False, status=text))
    console.error(text)
    console.footer(analysis, {"md": tmp_path / text})  # type: ignore[arg-type]
    captured = capsys.readouterr()
    assert captured.out.count(text) == 9, captured.out
    assert captured.err.strip() == f"chaos-suite: {text}"


@pytest.mark.slow
def test_markup_in_a_real_run_is_printed_literally(tmp_path: Path) -> None:
    exp = experiment(TITLE, [probe("x[/]y")])
    reports = tmp_path / "reports"
    plan = write_plan(tmp_path, [{"name": "odd", "experiment": exp, "expect": EXPECT}],
                      baseline="1s", cooldown="1s")
    result = subprocess.run(cli_command("gameday", "run", str(plan), "--reports", str(reports)),
                            cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env=dict(os.environ))
    assert "Traceback" not in result.stdout + result.stderr
    assert "MarkupError" not in result.stdout + result.stderr
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert f"scenario 1/1: odd {TITLE}" in result.stdout
    assert "odd: completed" in result.stdout
    assert (only_run_dir(reports) / "report.md").is_file()
