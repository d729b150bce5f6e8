"""The plan in the team's words (objectives; per scenario a hypothesis in words, runbooks, who
acts) and action items (`gameday action`): carried into the run record and the reports."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from gameday_helpers import (
    ROOT,
    action,
    cli_command,
    events,
    experiment,
    run_cli,
    wait_for_event,
    write_plan,
)
from support.synthetic import demo_plan, standard_run

from chaos_suite.errors import ValidationError
from chaos_suite.files.loader import resolve_plan
from chaos_suite.files.plan import parse_gameday
from chaos_suite.gameday.resolve import plan_record
from chaos_suite.record import load_run
from chaos_suite.report import render_run

WORDS: dict[str, Any] = {
    "hypothesis": "Availability burns about fifty times the sustainable rate, then recovers.",
    "runbooks": ["https://runbooks.example.com/checkout/error-spike"],
    "acts": "sre-on-call",
}


def short_errors_plan(folder: Path, pause: float = 3) -> Path:
    """A short real run: 5% errors for `pause` seconds, generous expectations (exit 0)."""
    return write_plan(folder, [{
        "name": "errors",
        "experiment": experiment("errors briefly", [
            action("inject", "inject_errors", pause_after=pause, ratio=0.05, ttl_s=60),
            action("clear", "clear_faults")], [action("clear", "clear_faults")]),
        "expect": {"availability": {"max_budget_consumed": "1%"}},
    }], baseline="2s", cooldown="1s")


def with_words(plan_path: Path) -> Path:
    plan = yaml.safe_load(plan_path.read_text(encoding="utf-8"))
    plan["roles"] = {"facilitator": "sre-on-call", "observers": ["checkout-team"]}
    plan["objectives"] = ["Learn how checkout behaves under an error spike."]
    plan["scenarios"][0].update(WORDS)
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return plan_path


# ------------------------------------------------------------------ the plan in words


def _plan_data(**scenario: Any) -> dict[str, object]:
    return {"name": "g", "service": "s", "slos": "slos.yaml",
            "roles": {"facilitator": "alice", "observers": ["checkout-team"]},
            "scenarios": [{"name": "one", "experiment": "e.yaml",
                           "expect": {"availability": {"max_budget_consumed": "1%"}},
                           **scenario}]}


@pytest.mark.parametrize("acts", ["alice", "checkout-team", "facilitator", "observers"])
def test_acts_names_a_role_or_whoever_fills_one(acts: str) -> None:
    assert parse_gameday(_plan_data(acts=acts), "p.yaml").scenarios[0].acts == acts


def test_acts_outside_the_roles_is_refused_naming_the_roles() -> None:
    with pytest.raises(ValidationError) as info:
        parse_gameday(_plan_data(acts="bob"), "p.yaml")
    assert "acts 'bob' is no role" in str(info.value) and "alice" in str(info.value)


def test_acts_is_free_when_the_plan_gives_no_roles() -> None:
    data = _plan_data(acts="bob")
    del data["roles"]
    assert parse_gameday(data, "p.yaml").scenarios[0].acts == "bob"


def test_runbooks_must_be_http_urls() -> None:
    with pytest.raises(ValidationError, match="runbooks"):
        parse_gameday(_plan_data(runbooks=["file:///etc/passwd"]), "p.yaml")


def test_words_are_carried_into_plan_json(tmp_path: Path) -> None:
    resolved = resolve_plan(with_words(short_errors_plan(tmp_path / "plan")))
    record = plan_record(resolved, "20260101T000000Z-test")
    assert record.objectives == ("Learn how checkout behaves under an error spike.",)
    scenario = record.scenarios[0]
    assert (scenario.hypothesis, list(scenario.runbooks), scenario.acts) == (
        WORDS["hypothesis"], WORDS["runbooks"], WORDS["acts"])


def test_words_in_report_json_and_md(tmp_path: Path) -> None:
    plan = demo_plan()
    plan["objectives"] = ["Check the error-spike alert fires."]
    plan["scenarios"][0].update(WORDS)
    run_dir = standard_run(plan=plan).write(tmp_path / "run")
    render_run(run_dir, ("json", "md"))
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    assert report["objectives"] == ["Check the error-spike alert fires."]
    scenario = report["scenarios"][0]
    assert scenario["hypothesis_text"] == WORDS["hypothesis"]
    assert scenario["runbooks"] == WORDS["runbooks"] and scenario["acts"] == "sre-on-call"
    assert scenario["hypothesis"] in ("held", "deviated")  # the old key keeps its meaning
    md = (run_dir / "report.md").read_text(encoding="utf-8")
    assert "## Objectives" in md and "Check the error-spike alert fires." in md
    assert f"- Hypothesis: {WORDS['hypothesis']}" in md and "- Who acts: sre-on-call" in md
    assert "<https://runbooks.example.com/checkout/error-spike>" in md


def test_a_record_without_the_words_still_reads(tmp_path: Path) -> None:
    run_dir = standard_run().write(tmp_path / "run")
    record = load_run(run_dir)
    assert record.plan.objectives == () and record.plan.scenarios[0].runbooks == ()
    assert record.action_items == ()
    render_run(run_dir, ("json",))
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    assert report["action_items"] == [] and report["scenarios"][0]["hypothesis_text"] is None


# ------------------------------------------------------------------ action items


@pytest.mark.parametrize(("args", "message"), [
    (["fix it", "--owner", "", "--due", "2026-12-01"], "--owner is empty"),
    (["fix it", "--owner", "bob", "--due", "2026-02-30"], "real date"),
    (["fix it", "--owner", "bob", "--due", "20261201"], "real date"),
    (["fix it", "--owner", "bob", "--due", "2026-12-01", "--link", "ftp://x/y"], "http"),
    (["fix it", "--owner", "bob"], "--due"),
    (["--done", "A7"], "no such action item"),
])
def test_bad_action_inputs_are_exit_2_in_one_line(tmp_path: Path, args: list[str],
                                                   message: str) -> None:
    run_dir = standard_run().write(tmp_path / "run")
    result = run_cli("gameday", "action", str(run_dir), *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_action_items_are_redacted_like_notes(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from chaos_suite.record.writer import append_action_item

    monkeypatch.setenv("CHECKOUT_API_TOKEN", "s3cr3t-t0ken-value")
    run_dir = standard_run().write(tmp_path / "run")
    append_action_item(run_dir, "rotate s3cr3t-t0ken-value", "alice", "2026-12-01")
    assert "s3cr3t-t0ken-value" not in (run_dir / "action_items.jsonl").read_text()


def test_overdue_is_open_and_past_due(tmp_path: Path) -> None:
    from chaos_suite.record.writer import append_action_item, close_action_item
    from chaos_suite.report import analyze_run
    from chaos_suite.report import load_run as load_view
    from chaos_suite.report.render_json import action_item_rows

    run_dir = standard_run().write(tmp_path / "run")
    for due in ("2020-01-01", "2020-01-02", "2999-01-01"):
        append_action_item(run_dir, f"due {due}", "alice", due)
    close_action_item(run_dir, "A2")
    rows = action_item_rows(analyze_run(load_view(run_dir)))
    assert [(r["id"], r["done"], r["overdue"]) for r in rows] == [
        ("A1", False, True), ("A2", True, False), ("A3", False, False)]


@pytest.mark.slow
def test_action_during_and_after_a_real_run(tmp_path: Path) -> None:
    plan = short_errors_plan(tmp_path / "plan", pause=4)
    reports = tmp_path / "reports"
    proc = subprocess.Popen(cli_command("gameday", "run", str(plan), "--reports", str(reports)),
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        run_dir, _ = wait_for_event(reports, "fault_injected")
        live = run_cli("gameday", "action", str(run_dir), "alert fired late", "--owner",
                       "alice", "--due", "2999-01-31", "--link",
                       "https://tickets.example.com/CHK-1")
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert live.returncode == 0, live.stderr
    assert live.stdout.startswith("A1 recorded at ")
    assert proc.returncode == 0, out + err
    kinds = {e["type"]: e["t"] for e in events(run_dir)}
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    [item] = report["action_items"]
    assert item | {"created": None} == {
        "id": "A1", "text": "alert fired late", "owner": "alice", "due": "2999-01-31",
        "link": "https://tickets.example.com/CHK-1", "done": False, "overdue": False,
        "created": None, "done_at": None}
    created = load_run(run_dir).action_items[0].t
    assert kinds["fault_injected"] <= created <= kinds["run_ended"]  # at its time
    assert "alert fired late" in (run_dir / "report.md").read_text(encoding="utf-8")

    after = run_cli("gameday", "action", str(run_dir), "add a runbook step", "--owner", "bob",
                    "--due", "2999-02-01")
    assert after.returncode == 0 and after.stdout.startswith("A2 ")
    assert run_cli("gameday", "action", str(run_dir), "--done", "A1").returncode == 0
    assert run_cli("report", str(run_dir), "--format", "json", "--format", "md").returncode == 0
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    assert [(i["id"], i["done"]) for i in report["action_items"]] == [("A1", True), ("A2", False)]
    md = (run_dir / "report.md").read_text(encoding="utf-8")
    assert "| A1 | alert fired late | alice | 2999-01-31 | done |" in md
    assert "| A2 | add a runbook step | bob | 2999-02-01 | open |" in md
