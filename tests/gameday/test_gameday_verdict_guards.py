"""No confident wrong verdict: a fault window whose requests mostly got 4xx answers, or a fault
limited to paths the load never requested, makes the scenario inconclusive with that reason,
and the console says so while it happens. The embedded target serves any path, so a locustfile
written for another service still gets real answers and the fault lands on them."""

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
    assert_no_survivors,
    cli_command,
    experiment,
    only_run_dir,
    run_pids,
    write_plan,
)
from support.synthetic import standard_run

from chaos_suite.gameday.watch import CLIENT_ERROR_WINDOW_S, RunWatch
from chaos_suite.record import ErrorsFault, FaultInjected
from chaos_suite.report import analyze_run
from chaos_suite.report.record import load_run

# --------------------------------------------------------------- the analysis, from a record


def _analysed(tmp_path: Path, *, status_4xx: float, paths: dict[str, int] | None,
              fault_paths: tuple[str, ...] = ()) -> dict[str, Any]:
    """The standard synthetic run (5% errors for 20 s, expectation met by the figures alone),
    its load samples carrying `status_4xx` (a share of the requests) and `paths`."""
    run = standard_run()
    if fault_paths:
        run.events = [FaultInjected(t=e.t, fault=e.fault, scenario=e.scenario,
                                    detail=ErrorsFault(error_ratio=0.05, paths=fault_paths))
                      if isinstance(e, FaultInjected) else e for e in run.events]
    run_dir = run.write(tmp_path / "run")
    lines = []
    for line in (run_dir / "samples.jsonl").read_text(encoding="utf-8").splitlines():
        sample = json.loads(line)
        requests = sample["slis"]["availability"]["total"]
        sample.update(requests=requests, status_4xx=round(requests * status_4xx))
        if paths is not None:
            sample["paths"] = {key: share * requests // 100 for key, share in paths.items()}
        lines.append(json.dumps(sample))
    (run_dir / "samples.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    row = analyze_run(load_run(run_dir)).scenarios[0].slos[0]
    return {"verdict": row.verdict.value, "reason": row.reason}


def test_the_synthetic_run_is_as_expected_without_the_guards(tmp_path: Path) -> None:
    row = _analysed(tmp_path, status_4xx=0.4, paths={"/api/cart": 100})
    assert row["verdict"] == "as-expected", row


def test_mostly_4xx_in_the_fault_window_is_inconclusive(tmp_path: Path) -> None:
    row = _analysed(tmp_path, status_4xx=0.9, paths=None)
    assert row["verdict"] == "inconclusive"
    assert "got a 4xx answer: the load was not exercising the service" in row["reason"]
    assert "the figures alone said as-expected" in row["reason"]


def test_a_fault_on_paths_the_load_never_reached_is_inconclusive(tmp_path: Path) -> None:
    row = _analysed(tmp_path, status_4xx=0, paths={"/api/cart": 60, "/v2/orders/*": 40},
                    fault_paths=("/api/checkout", "/admin"))
    assert row["verdict"] == "inconclusive"
    assert ("inject_errors applied only to /api/checkout, /admin, which no request of the "
            "load reached (it requested /api/cart, /v2/orders/*)") in row["reason"], row


@pytest.mark.parametrize("reached", [
    {"/api/checkout": 100},  # the exact path
    {"/v2/orders/*": 100},   # a coarse key the prefix may lie under: never ruled out
    {"*": 100},              # paths past the per-second cap: anything
], ids=["exact", "coarse", "any"])
def test_a_fault_the_load_may_have_reached_is_judged_as_usual(
        tmp_path: Path, reached: dict[str, int]) -> None:
    row = _analysed(tmp_path, status_4xx=0, paths=reached,
                    fault_paths=("/api/checkout", "/v2/orders/17"))
    assert row["verdict"] == "as-expected", row


def test_a_record_without_the_counts_reads_as_before(tmp_path: Path) -> None:
    run_dir = standard_run().write(tmp_path / "run")
    assert analyze_run(load_run(run_dir)).scenarios[0].slos[0].verdict.value == "as-expected"


# --------------------------------------------------------------- the live warning


def test_the_watch_warns_once_per_phase_when_most_answers_are_4xx() -> None:
    watch = RunWatch("run", lambda generation, by: None)
    said = [watch.load_answers(100, 90, "baseline") for _ in range(CLIENT_ERROR_WINDOW_S + 3)]
    assert [s is not None for s in said] == [False] * (CLIENT_ERROR_WINDOW_S - 1) + [True] + \
        [False] * 3  # a full window first, then once
    assert "got a 4xx answer" in str(said[CLIENT_ERROR_WINDOW_S - 1])
    assert watch.load_answers(100, 90, "scenario") is not None  # a new phase says it again
    quiet = RunWatch("run", lambda generation, by: None)
    assert all(quiet.load_answers(100, 50, "p") is None for _ in range(10))  # half is not most
    assert all(quiet.load_answers(None, None, "p") is None for _ in range(10))  # not counted


# --------------------------------------------------------------- real runs


def _locustfile(folder: Path, paths: list[str]) -> Path:
    tasks = "".join(f"    @task\n    def t{i}(self):\n        self.client.get({p!r})\n\n"
                    for i, p in enumerate(paths))
    path = folder / "other_service.py"
    path.write_text("from locust import FastHttpUser, between, task\n\n\n"
                    "class Shopper(FastHttpUser):\n    wait_time = between(0.01, 0.03)\n\n"
                    + tasks, encoding="utf-8")
    return path


def _errors(name: str, ratio: float, hold: float, **extra: Any) -> dict[str, Any]:
    return experiment(name, [action("inject", "inject_errors", pause_after=hold, ratio=ratio,
                                    ttl_s=60, **extra),
                             action("clear", "clear_faults")], [action("clear", "clear_faults")])


def _run(folder: Path, paths: list[str], scenarios: list[dict[str, Any]]
         ) -> tuple[subprocess.CompletedProcess[str], Path]:
    plan_path = write_plan(folder, scenarios, baseline="3s", cooldown="2s")
    plan = yaml.safe_load(plan_path.read_text(encoding="utf-8"))
    plan["load"]["locustfile"] = str(_locustfile(folder, paths))
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    reports = folder / "reports"
    result = subprocess.run(cli_command("gameday", "run", str(plan_path), "--reports",
                                        str(reports)), cwd=ROOT, capture_output=True,
                            text=True, timeout=240)
    run_dir = only_run_dir(reports)
    assert_no_survivors(run_pids(run_dir))
    assert (run_dir / "report.json").is_file(), result.stdout + result.stderr
    return result, run_dir


def _rows(run_dir: Path) -> dict[str, dict[str, Any]]:
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    return {s["name"]: next(r for r in s["slos"] if r["slo"] == "availability")
            for s in report["scenarios"]}


def _load_samples(run_dir: Path) -> list[dict[str, Any]]:
    lines = (run_dir / "samples.jsonl").read_text(encoding="utf-8").splitlines()
    return [s for s in map(json.loads, lines) if s.get("source", "load") == "load"]


@pytest.mark.slow
def test_a_load_that_only_gets_4xx_is_warned_about_and_never_as_expected(tmp_path: Path) -> None:
    """Every request is answered 404 by construction (/status/404); 5% injected errors reach
    it, yet 95% 404s are good events, so the burn alone would look as expected."""
    result, run_dir = _run(tmp_path, ["/status/404"], [{
        "name": "errors", "experiment": _errors("errors", 0.05, 8),
        "expect": {"availability": {"max_budget_consumed": "50%"}},
    }])
    assert "Traceback" not in result.stderr
    assert "got a 4xx answer: the load is not exercising the service" in result.stderr
    # once per phase (baseline, scenario, cool-down), not once a second
    assert result.stderr.count("got a 4xx answer") <= 3
    row = _rows(run_dir)["errors"]
    assert row["verdict"] == "inconclusive", row
    assert "got a 4xx answer: the load was not exercising the service" in row["reason"]
    assert "→ inconclusive" in result.stdout and "as-expected" not in result.stdout
    samples = _load_samples(run_dir)
    assert sum(s["status_4xx"] for s in samples) > 0.9 * sum(s["requests"] for s in samples)


@pytest.mark.slow
def test_unknown_paths_get_real_answers_and_a_fault_elsewhere_is_inconclusive(
        tmp_path: Path) -> None:
    """A locustfile written for another service: the embedded target answers its paths (no
    4xx, no warning) and an unscoped fault lands on them; a fault scoped to a path it never
    requests makes that scenario inconclusive, naming the path."""
    result, run_dir = _run(tmp_path, ["/v2/catalog/items", "/v2/basket"], [
        {"name": "everywhere", "experiment": _errors("everywhere", 0.2, 8),
         "expect": {"availability": {"min_budget_consumed": "0.001%",
                                     "max_budget_consumed": "50%"}}},
        {"name": "elsewhere", "experiment": _errors("elsewhere", 0.2, 8,
                                                    paths=["/api/checkout"]),
         "expect": {"availability": {"max_budget_consumed": "50%"}}},
    ])
    assert "Traceback" not in result.stderr
    assert "4xx" not in result.stderr, result.stderr
    samples = _load_samples(run_dir)
    assert sum(s["status_4xx"] for s in samples) == 0
    assert {key for s in samples for key in s["paths"]} == {"/v2/catalog/*", "/v2/basket"}
    rows = _rows(run_dir)
    landed = rows["everywhere"]
    assert landed["counts"]["fault"]["total"] > landed["counts"]["fault"]["good"]  # errors
    assert landed["verdict"] == "as-expected", landed
    missed = rows["elsewhere"]
    assert missed["verdict"] == "inconclusive", missed
    assert "inject_errors applied only to /api/checkout, which no request of the load " \
        "reached" in missed["reason"]
