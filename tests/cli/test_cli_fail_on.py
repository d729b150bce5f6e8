"""--fail-on: synthetic run records analysed with different condition sets give the documented
codes (report/outcome.py), and one real short run with `--fail-on inconclusive` fails on a
scenario whose second SLO states no expectation."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gameday"))

from gameday_helpers import experiment, only_run_dir, run_cli, write_plan
from support.synthetic import T0, demo_plan, standard_run

from chaos_suite.errors import InputError
from chaos_suite.record import AbortEvent, RunEnded
from chaos_suite.report import analyze_run, load_run
from chaos_suite.report.analysis import RunAnalysis
from chaos_suite.report.outcome import conditions, exit_code_for, parse_fail_on

ALL = frozenset({"deviated", "worse", "inconclusive", "aborted"})


def _analysed(run_dir: Path, *, deviated: bool = False, worse: bool = False,
              aborted: bool = False, runner_code: int | None = None) -> RunAnalysis:
    # the demo plan's latency SLO states no expectation: its row is always inconclusive
    plan = demo_plan()
    if worse:
        plan["scenarios"][0]["expectations"]["availability"]["max_budget_consumed"] = 1e-9
    if aborted:
        run = standard_run(ended=False, plan=plan)
        run.event(AbortEvent(t=T0 + 21, reason="safeguard", message="BR 50 > 14.4"))
    else:
        run = standard_run(deviated=deviated, plan=plan)
    if runner_code is not None:
        run.event(RunEnded(t=T0 + 40, status="failed", exit_code=runner_code))
    return analyze_run(load_run(run.write(run_dir)))


def test_conditions_read_from_the_analysis(tmp_path: Path) -> None:
    assert conditions(_analysed(tmp_path / "a")) == {"inconclusive"}
    assert conditions(_analysed(tmp_path / "b", deviated=True)) == {"deviated", "inconclusive"}
    assert conditions(_analysed(tmp_path / "c", worse=True)) == {"worse", "inconclusive"}
    assert "aborted" in conditions(_analysed(tmp_path / "d", aborted=True))


def test_without_fail_on_the_analysis_code_stands(tmp_path: Path) -> None:
    for name, kwargs, code in (("a", {}, 0), ("b", {"deviated": True}, 1),
                               ("c", {"worse": True}, 1), ("d", {"aborted": True}, 3)):
        analysis = _analysed(tmp_path / name, **kwargs)
        assert analysis.exit_code == code
        assert exit_code_for(analysis, None) == code


@pytest.mark.parametrize(("case", "fail_on", "code"), [
    ("plain", "inconclusive", 1),
    ("plain", "deviated,worse", 0),
    ("plain", "aborted", 0),
    ("deviated", "deviated", 1),
    ("deviated", "worse", 0),
    ("worse", "worse", 1),
    ("worse", "deviated,aborted", 0),
    ("aborted", "aborted", 3),
    ("aborted", "deviated,worse,inconclusive,aborted", 3),
    ("aborted", "inconclusive", 1),  # the abort left its latency row inconclusive
    ("aborted", "deviated,worse", 0),
])
def test_listed_conditions_decide_the_code(tmp_path: Path, case: str, fail_on: str,
                                           code: int) -> None:
    analysis = _analysed(tmp_path, deviated=case == "deviated", worse=case == "worse",
                         aborted=case == "aborted")
    assert exit_code_for(analysis, parse_fail_on(fail_on)) == code


def test_bad_input_and_infrastructure_codes_always_stand(tmp_path: Path) -> None:
    for code in (2, 4):
        analysis = _analysed(tmp_path / str(code), runner_code=code)
        assert analysis.exit_code == code
        assert exit_code_for(analysis, ALL) == code
        assert exit_code_for(analysis, frozenset({"worse"})) == code


def test_parse_fail_on_refuses_unknown_and_empty() -> None:
    assert parse_fail_on(" worse , aborted ") == frozenset({"worse", "aborted"})
    assert parse_fail_on(None) is None
    with pytest.raises(InputError, match="unknown condition 'flaky'"):
        parse_fail_on("worse,flaky")
    with pytest.raises(InputError, match="no condition"):
        parse_fail_on(",")


def test_cli_refuses_an_unknown_condition_with_exit_2(tmp_path: Path) -> None:
    result = run_cli("gameday", "run", str(tmp_path / "missing.yaml"), "--fail-on", "flaky",
                     timeout=60)
    assert result.returncode == 2
    assert "unknown condition 'flaky'" in result.stderr


def test_real_run_with_fail_on_inconclusive_exits_1(tmp_path: Path) -> None:
    """No fault and a generous expectation, but a min_events no short run reaches: the row is
    inconclusive, exit 0 as documented, and 1 with --fail-on inconclusive."""
    scenarios = [{"name": "no-fault", "experiment": experiment("nothing happens", [
        {"type": "probe", "name": "alive", "pauses": {"after": 3},
         "provider": {"type": "python", "module": "chaos_suite.faults.local",
                      "func": "replicas_alive"}}]),
        "expect": {"availability": {"max_budget_consumed": "1%"}}}]
    plan = write_plan(tmp_path / "plan", scenarios, replicas=1, baseline="3s", cooldown="2s")
    raw = yaml.safe_load(plan.read_text(encoding="utf-8"))
    raw["min_events"] = 10**9
    plan.write_text(yaml.safe_dump(raw), encoding="utf-8")
    reports = tmp_path / "reports"
    result = run_cli("gameday", "run", str(plan), "--reports", str(reports),
                     "--fail-on", "inconclusive")
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert "--fail-on inconclusive" in result.stdout
    assert (only_run_dir(reports) / "report.json").is_file()
