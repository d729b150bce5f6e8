"""Verdict rules: the edges directly, and each verdict end to end from a run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.synthetic import demo_plan, standard_run

from chaos_suite.report import Verdict, analyze_run, load_run
from chaos_suite.report.analysis import SLOResult
from chaos_suite.report.record import Expectation
from chaos_suite.report.verdict import Evidence, decide

P30 = 30 * 86_400


def evidence(ci: tuple[float, float] | None = (0.0004, 0.0006), **changes: Any) -> Evidence:
    values: dict[str, Any] = {
        "fault_total": 20_000,
        "min_events": 100,
        "attributed_ci": ci,
        "peak_burn_rate": 50.0,
        "recovery_seconds": 2.0,
        "observed_after_fault_s": 7.0,
    }
    values.update(changes)
    return Evidence(**values)


@pytest.mark.parametrize(
    ("expected", "ci", "verdict"),
    [
        (Expectation(max_budget_consumed=0.001), (0.0004, 0.0006), Verdict.AS_EXPECTED),
        (Expectation(max_budget_consumed=0.0006), (0.0004, 0.0006), Verdict.AS_EXPECTED),
        (Expectation(max_budget_consumed=0.0003), (0.0004, 0.0006), Verdict.WORSE),
        # Lower bound exactly on the max is not "whole interval above": it straddles.
        (Expectation(max_budget_consumed=0.0004), (0.0004, 0.0006), Verdict.INCONCLUSIVE),
        (Expectation(max_budget_consumed=0.0005), (0.0004, 0.0006), Verdict.INCONCLUSIVE),
        (Expectation(min_budget_consumed=0.001), (0.0004, 0.0006), Verdict.BETTER),
        (Expectation(min_budget_consumed=0.0006), (0.0004, 0.0006), Verdict.INCONCLUSIVE),
        (
            Expectation(min_budget_consumed=0.0001, max_budget_consumed=0.001),
            (0.0004, 0.0006),
            Verdict.AS_EXPECTED,
        ),
        (
            Expectation(min_budget_consumed=0.0005, max_budget_consumed=0.001),
            (0.0004, 0.0006),
            Verdict.INCONCLUSIVE,
        ),
        (Expectation(max_peak_burn_rate=60), (0.0004, 0.0006), Verdict.AS_EXPECTED),
        (Expectation(max_peak_burn_rate=40), (0.0004, 0.0006), Verdict.WORSE),
        (Expectation(), (0.0004, 0.0006), Verdict.INCONCLUSIVE),
    ],
)
def test_verdict_rules(expected: Expectation, ci: tuple[float, float], verdict: Verdict) -> None:
    got, reason = decide(expected, evidence(ci))
    assert got is verdict
    assert reason


def test_too_few_events_is_inconclusive_whatever_the_figures() -> None:
    verdict, reason = decide(
        Expectation(max_budget_consumed=1e-9, max_peak_burn_rate=1),
        evidence(fault_total=99, min_events=100),
    )
    assert verdict is Verdict.INCONCLUSIVE
    assert "only 99 events" in reason and "100" in reason


def test_worse_names_every_broken_expectation() -> None:
    expected = Expectation(max_budget_consumed=0.0001, max_peak_burn_rate=10, recover_within_seconds=1)
    verdict, reason = decide(expected, evidence())
    assert verdict is Verdict.WORSE
    assert "above max 0.01%" in reason
    assert "peak burn rate 50 exceeds max 10" in reason
    assert "recovered after 2 s, expected within 1 s" in reason


def test_no_recovery_is_worse_only_if_we_watched_long_enough() -> None:
    expected = Expectation(recover_within_seconds=10)
    short = decide(expected, evidence(recovery_seconds=None, observed_after_fault_s=7))
    assert short[0] is Verdict.AS_EXPECTED and "not observable" in short[1]
    long = decide(expected, evidence(recovery_seconds=None, observed_after_fault_s=12))
    assert long[0] is Verdict.WORSE and "still above 1 for 12 s" in long[1]


def run_with(tmp_path: Path, expectation: dict[str, Any], **run: Any) -> SLOResult:
    plan = demo_plan()
    plan["scenarios"][0]["expectations"] = {"availability": expectation}
    record = load_run(standard_run(plan=plan, **run).write(tmp_path))
    return analyze_run(record).scenarios[0].slos[0]


def test_end_to_end_as_expected(tmp_path: Path) -> None:
    result = run_with(tmp_path, {"max_budget_consumed": 0.001, "max_peak_burn_rate": 80})
    assert result.verdict is Verdict.AS_EXPECTED


def test_end_to_end_worse_when_the_whole_interval_is_above(tmp_path: Path) -> None:
    # Observed: 50 x 20 s / 30 d = 0.039% of the budget; expected at most 0.01%.
    result = run_with(tmp_path, {"max_budget_consumed": 0.0001})
    assert result.verdict is Verdict.WORSE


def test_end_to_end_inconclusive_when_the_interval_straddles_the_max(tmp_path: Path) -> None:
    result = run_with(tmp_path, {"max_budget_consumed": 50 * 20 / P30})
    assert result.verdict is Verdict.INCONCLUSIVE
    assert "straddles" in result.reason


def test_end_to_end_better_hints_that_the_fault_did_not_land(tmp_path: Path) -> None:
    result = run_with(tmp_path, {"min_budget_consumed": 0.01, "max_budget_consumed": 0.05})
    assert result.verdict is Verdict.BETTER
    assert "did the fault land" in result.reason


def test_end_to_end_few_events_is_inconclusive(tmp_path: Path) -> None:
    # 4 requests per second for 20 s: 80 events, fewer than min_events = 100.
    result = run_with(tmp_path, {"max_budget_consumed": 0.0001}, rate=4, bad_per_s=2)
    assert result.fault.total == 80
    assert result.verdict is Verdict.INCONCLUSIVE


def test_end_to_end_slow_recovery_is_worse(tmp_path: Path) -> None:
    result = run_with(
        tmp_path,
        {"max_budget_consumed": 0.01, "recover_within_seconds": 10},
        recovery_tail_s=12,
        cooldown_s=20,
    )
    assert result.recovery_seconds == 12
    assert result.verdict is Verdict.WORSE


def test_worse_than_expected_makes_the_run_exit_one(tmp_path: Path) -> None:
    plan = demo_plan()
    plan["scenarios"][0]["expectations"]["availability"]["max_peak_burn_rate"] = 10
    analysis = analyze_run(load_run(standard_run(plan=plan).write(tmp_path)))
    assert analysis.scenarios[0].slos[0].verdict is Verdict.WORSE
    assert analysis.exit_code == 1
