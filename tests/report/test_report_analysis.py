"""Figures recomputed from samples, checked against the formulas of docs/architecture.md §2 by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.synthetic import T0, SyntheticRun, demo_plan, standard_run

from chaos_suite.record import (
    AbortEvent,
    FaultCleared,
    FaultInjected,
    NoteEvent,
    PhaseEnded,
    PhaseStarted,
    RunEnded,
    TargetStopped,
)
from chaos_suite.report import Counts, Sample, analyze_run, consumed_in_window, load_run, window_counts
from chaos_suite.report.analysis import RunAnalysis, SLOResult
from chaos_suite.slo import SLI, SLO, SLIKind, wilson_interval

P30 = 30 * 86_400
B = 0.001  # availability budget of the demo plan (objective 0.999)
AVAILABILITY = SLO("availability", 0.999, P30, SLI(SLIKind.AVAILABILITY))


def analyse(run: SyntheticRun, run_dir: Path) -> RunAnalysis:
    return analyze_run(load_run(run.write(run_dir)))


def availability(analysis: RunAnalysis, index: int = 0) -> SLOResult:
    return analysis.scenarios[index].slos[0]


def test_five_percent_errors_for_twenty_seconds(tmp_path: Path) -> None:
    result = availability(analyse(standard_run(), tmp_path))
    assert result.baseline == Counts(10_000, 10_000)
    assert result.fault == Counts(19_000, 20_000)
    assert result.error_ratio == pytest.approx(0.05)
    assert result.error_ratio_ci == pytest.approx(wilson_interval(1_000, 20_000))
    # Measurement: scenario (24 s) + cool-down (5 s) = 29 s, 20 of them at BR = 0.05 / B = 50.
    assert result.measurement_data_seconds == 29
    assert result.budget_consumed == pytest.approx(50 * 20 / P30)
    assert result.baseline_burn_rate == 0.0
    assert result.budget_consumed_attributed == pytest.approx(50 * 20 / P30)
    assert result.peak_burn_rate == pytest.approx(50)
    assert result.recovery_seconds == 0.0


def test_event_form_of_the_spend_matches(tmp_path: Path) -> None:
    result = availability(analyse(standard_run(rate=400, bad_per_s=8), tmp_path))
    bad_events, events_in_window = 8 * 20, 400 * P30
    assert result.budget_consumed == pytest.approx(bad_events / (B * events_in_window))


def test_ci_at_constant_traffic_is_the_wilson_interval_in_budget_units(tmp_path: Path) -> None:
    result = availability(analyse(standard_run(), tmp_path))
    low, high = wilson_interval(1_000, 29_000)  # measurement window: 29 s x 1000 events
    to_budget = 29 / (B * P30)
    assert result.budget_consumed_ci == pytest.approx((low * to_budget, high * to_budget))
    assert result.budget_consumed_attributed_ci == pytest.approx(result.budget_consumed_ci)


def test_baseline_burn_is_subtracted(tmp_path: Path) -> None:
    # 1 bad in 1000 is BR 1 in the background; the fault raises it to 50 for 20 s.
    result = availability(analyse(standard_run(baseline_bad_per_s=1), tmp_path))
    assert result.baseline_burn_rate == pytest.approx(1.0)
    assert result.budget_consumed == pytest.approx((50 * 20 + 1 * 9) / P30)
    assert result.budget_consumed_attributed == pytest.approx((50 - 1) * 20 / P30)
    assert result.budget_consumed_attributed is not None
    low, high = result.budget_consumed_attributed_ci or (0.0, 0.0)
    assert low < result.budget_consumed_attributed < high


def test_peak_is_the_worst_rolling_window(tmp_path: Path) -> None:
    run = standard_run()
    spike = T0 + 20  # inside the fault window: two seconds of 100% errors
    run.traffic(spike, 2, 0, {"availability": 950})
    result = availability(analyse(run, tmp_path))
    # Worst 5 s window: 2 s at 1000 bad + 3 s at 50 bad, over 5000 events.
    assert result.peak_burn_rate == pytest.approx((2 * 1000 + 3 * 50) / 5000 / B)


@pytest.mark.parametrize("tail", [0, 3, 7, 12])
def test_recovery_counts_whole_seconds_after_the_fault(tmp_path: Path, tail: int) -> None:
    result = availability(analyse(standard_run(recovery_tail_s=tail, cooldown_s=20), tmp_path))
    assert result.recovery_seconds == tail


def test_recovery_is_none_when_the_burn_never_drops(tmp_path: Path) -> None:
    result = availability(analyse(standard_run(recovery_tail_s=30, cooldown_s=5), tmp_path))
    assert result.recovery_seconds is None


def test_a_second_belongs_to_every_window_it_overlaps() -> None:
    samples = [Sample(t, "load", {"availability": Counts(9, 10)}) for t in range(100, 110)]
    assert window_counts(samples, "availability", 102, 105) == Counts(27, 30)
    assert window_counts(samples, "availability", 102.5, 105.2) == Counts(36, 40)
    assert window_counts(samples, "availability", 105, 105) == Counts()
    assert window_counts(samples, "availability", 106, 104) == Counts()
    assert window_counts(samples, "latency", 100, 110) == Counts()


def test_window_functions_filter_by_source_and_add_duplicates() -> None:
    samples = [
        Sample(100, "load", {"availability": Counts(90, 100)}),
        Sample(100, "load", {"availability": Counts(95, 100)}),
        Sample(100, "prometheus", {"availability": Counts(0, 100)}),
    ]
    assert window_counts(samples, "availability", 100, 101, source="load") == Counts(185, 200)
    assert window_counts(samples, "availability", 100, 101) == Counts(185, 300)
    consumed = consumed_in_window(samples, AVAILABILITY, 100, 101, source="load")
    assert consumed == pytest.approx((15 / 200) / B / P30)


def test_no_data_is_unknown_not_perfect() -> None:
    assert consumed_in_window([], AVAILABILITY, 0, 100) is None
    gap = [Sample(10, "load", {"availability": Counts(0, 0)})]
    assert consumed_in_window(gap, AVAILABILITY, 0, 100) is None


def test_a_fault_that_was_never_cleared_lasts_to_the_scenario_end(tmp_path: Path) -> None:
    run = standard_run()
    run.events = [e for e in run.events if not isinstance(e, FaultCleared)]
    windows = analyse(run, tmp_path).scenarios[0].windows
    assert windows is not None
    assert (windows.fault.start, windows.fault.end) == (T0 + 12, T0 + 34)


def test_without_fault_events_the_scenario_phase_is_the_fault_window(tmp_path: Path) -> None:
    run = standard_run()
    run.events = [e for e in run.events if not isinstance(e, (FaultInjected, FaultCleared))]
    scenario = analyse(run, tmp_path).scenarios[0]
    assert scenario.windows is not None
    assert not scenario.windows.fault_from_events
    assert (scenario.windows.fault.start, scenario.windows.fault.end) == (T0 + 10, T0 + 34)
    assert scenario.slos[0].fault == Counts(23_000, 24_000)


def test_an_untagged_cooldown_after_the_scenario_is_measured(tmp_path: Path) -> None:
    run = standard_run()
    run.events = [PhaseStarted(t=e.t, phase="cooldown") if isinstance(e, PhaseStarted)
                  and e.phase == "cooldown" else PhaseEnded(t=e.t, phase="cooldown")
                  if isinstance(e, PhaseEnded) and e.phase == "cooldown" else e
                  for e in run.events]
    windows = analyse(run, tmp_path).scenarios[0].windows
    assert windows is not None
    assert windows.measurement.end == T0 + 39


def test_a_clean_run_exits_zero(tmp_path: Path) -> None:
    analysis = analyse(standard_run(), tmp_path)
    assert (analysis.status, analysis.exit_code) == ("completed", 0)
    assert analysis.scenarios[0].hypothesis == "held"


def test_a_deviated_hypothesis_exits_one(tmp_path: Path) -> None:
    analysis = analyse(standard_run(deviated=True), tmp_path)
    assert analysis.scenarios[0].hypothesis == "deviated"
    assert analysis.exit_code == 1


def test_steady_state_failing_before_the_method_counts_as_failed(tmp_path: Path) -> None:
    run = standard_run()
    run.events = [e.model_copy(update={"steady_state_met_before": False})  # CTK: deviated=false
                  if isinstance(e, PhaseEnded) and e.phase == "scenario" else e
                  for e in run.events]
    analysis = analyse(run, tmp_path)
    assert analysis.scenarios[0].hypothesis == "not-met-before"
    assert analysis.exit_code == 1


def test_a_killed_run_without_end_events_is_failed(tmp_path: Path) -> None:
    analysis = analyse(standard_run(ended=False), tmp_path)
    assert (analysis.status, analysis.exit_code) == ("failed", 4)
    scenario = analysis.scenarios[0]
    assert (scenario.status, scenario.hypothesis) == ("failed", "unknown")
    assert scenario.windows is not None
    # 12 s of baseline traffic and 10 of the fault were written; data ends at T0 + 22.
    assert scenario.windows.fault.end == T0 + 22
    assert analysis.ended == T0 + 22
    assert availability(analysis).fault == Counts(9_500, 10_000)


def test_an_aborted_run_keeps_exit_code_three(tmp_path: Path) -> None:
    run = standard_run(ended=False)
    run.event(AbortEvent(t=T0 + 21, reason="safeguard", message="BR 50 > 14.4"))
    analysis = analyse(run, tmp_path)
    assert (analysis.status, analysis.exit_code) == ("aborted", 3)
    assert analysis.abort == {"reason": "safeguard", "message": "BR 50 > 14.4"}
    assert analysis.scenarios[0].status == "aborted"


def test_the_runners_own_code_stands_when_it_reports_an_abort(tmp_path: Path) -> None:
    run = standard_run()
    run.events[-1] = RunEnded(t=run.events[-1].t, status="aborted", exit_code=3)
    assert analyse(run, tmp_path).exit_code == 3


def test_a_planned_scenario_that_never_ran_is_reported(tmp_path: Path) -> None:
    plan = demo_plan()
    plan["scenarios"].append({"name": "latency-200ms", "experiment": "x.yaml"})
    analysis = analyse(standard_run(plan=plan), tmp_path)
    second = analysis.scenarios[1]
    assert (second.name, second.status, second.hypothesis) == ("latency-200ms", "not-run", "not-run")
    assert {r.verdict.value for r in second.slos} == {"inconclusive"}
    assert analysis.exit_code == 0


def test_notes_from_both_places_appear_once_in_the_timeline(tmp_path: Path) -> None:
    run = standard_run()
    run.note(T0 + 15.25, "pager went off", "bob")
    run.event(NoteEvent(t=T0 + 15.25, text="pager went off", author="bob"))
    run.event(NoteEvent(t=T0 + 16, text="second thought", author="carol"))
    run.event(TargetStopped(t=T0 + 17))  # housekeeping: not on the timeline
    timeline = analyse(run, tmp_path).timeline
    texts = [entry.text for entry in timeline]
    assert texts.count("note by bob: pager went off") == 1
    assert "note by carol: second thought" in texts
    assert all(entry.kind != "target_stopped" for entry in timeline)
    assert [entry.t for entry in timeline] == sorted(entry.t for entry in timeline)
