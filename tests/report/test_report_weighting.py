"""Time- and event-weighted budgets (docs/architecture.md §2) in the report: a latency fault under
closed-loop load cuts the traffic, so the two weightings part and the report shows both and
warns; under open-loop load (the same traffic in the fault) they agree and it says nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.synthetic import T0, SyntheticRun, demo_plan

from chaos_suite.record import RunEnded, RunStarted
from chaos_suite.report import analyze_run, load_run, render_run
from chaos_suite.report.analysis import SLOResult
from chaos_suite.slo.budget import budget_consumed_events, consumed_over_buckets, event_rate

P30 = 30 * 86_400
B = 0.01  # the latency SLO's budget (objective 0.99)
BASE_RATE = 600
FAULT_S = 20


def test_event_weighted_budget_is_bad_events_against_the_baselines_traffic() -> None:
    # 1600 bad events against 600 events/s over 30 days at a 1% budget
    assert budget_consumed_events(1600, 600.0, 0.99, P30) == pytest.approx(1600 / (B * 600 * P30))
    assert budget_consumed_events(5, 0.0, 0.99, P30) is None  # no baseline traffic: unknown
    with pytest.raises(ValueError):
        budget_consumed_events(-1, 1.0, 0.99, P30)
    assert event_rate(1200, 2) == 600.0 and event_rate(0, 3) == 0.0 and event_rate(5, 0) is None
    # at constant traffic the time form is the event form
    buckets = [(1.0, 500, 600)] * 10
    assert consumed_over_buckets(buckets, 0.99, P30) == pytest.approx(
        budget_consumed_events(1000, 600.0, 0.99, P30))


def latency_run(fault_rate: int) -> SyntheticRun:
    """Baseline 10 s at 600 events/s, all good; then a 20 s fault during which every latency
    event is bad, at ``fault_rate`` events/s (closed-loop: fewer; open-loop: the same)."""
    plan = demo_plan(scenarios=[{"name": "latency-300ms", "experiment": "x.yaml",
                                 "expectations": {"latency": {"max_budget_consumed": 0.01}}}])
    run = SyntheticRun(plan=plan)
    b = T0 + 10
    inject, clear = b + 2, b + 2 + FAULT_S
    end = clear + 2 + 5
    run.event(RunStarted(t=T0, run_id=plan["run_id"]))
    run.phase("baseline", T0, b)
    run.traffic(T0, inject - T0, BASE_RATE)
    run.traffic(inject, FAULT_S, fault_rate, {"latency": fault_rate})
    run.traffic(clear, end - clear, BASE_RATE)
    run.phase("scenario", b, clear + 2, "latency-300ms", status="completed", deviated=False,
              steady_state_met_before=True)
    run.fault(inject, scenario="latency-300ms")
    run.cleared(clear, scenario="latency-300ms")
    run.phase("cooldown", clear + 2, end, "latency-300ms")
    run.event(RunEnded(t=end, status="completed", exit_code=0))
    return run


def latency_result(run: SyntheticRun, run_dir: Path) -> SLOResult:
    analysis = analyze_run(load_run(run.write(run_dir)))
    return next(r for r in analysis.scenarios[0].slos if r.slo.name == "latency")


def test_closed_loop_latency_fault_weightings_part_and_the_report_warns(tmp_path: Path) -> None:
    run_dir = tmp_path / "closed"
    result = latency_result(latency_run(fault_rate=80), run_dir)
    w = result.weighting
    assert w is not None
    # time-weighted: 20 s at BR = 1 / B = 100; event-weighted: 1600 bad of 600/s over P
    assert result.budget_consumed == pytest.approx(FAULT_S * 100 / P30)
    assert w.budget_consumed_events == pytest.approx(80 * FAULT_S / (B * BASE_RATE * P30))
    assert w.budget_consumed_attributed_events == pytest.approx(w.budget_consumed_events)
    assert (w.baseline_events_per_second, w.fault_events_per_second) == (600, 80)
    assert w.differ and w.throughput_warning is not None

    render_run(run_dir, ("json", "md", "html"))
    report = json.loads((run_dir / "report.json").read_text())
    scenario = report["scenarios"][0]
    row = next(r for r in scenario["slos"] if r["slo"] == "latency")
    assert row["weighting"]["observed_budget"] == "time"
    assert row["weighting"]["differ"] is True
    assert row["weighting"]["events"]["budget_consumed"] == pytest.approx(
        w.budget_consumed_events)
    assert row["weighting"]["events_per_second"] == {"baseline": 600, "fault": 80}
    assert row["observed"]["budget_consumed"] == pytest.approx(result.budget_consumed)
    assert len(scenario["warnings"]) == 1  # one per source, not one per SLO
    assert "fell to 80 events/s, below half the baseline's 600/s" in scenario["warnings"][0]

    md = (run_dir / "report.md").read_text()
    assert "time-weighted" in md and "event-weighted" in md
    assert "**Warning:** throughput during the fault fell to 80 events/s" in md
    assert "7.5× less than time-weighted" in md
    html = (run_dir / "report.html").read_text()
    assert "event-weighted" in html and "Warning:" in html


def test_open_loop_latency_fault_weightings_agree_and_nothing_is_said(tmp_path: Path) -> None:
    run_dir = tmp_path / "open"
    result = latency_result(latency_run(fault_rate=BASE_RATE), run_dir)
    w = result.weighting
    assert w is not None
    assert w.budget_consumed_events == pytest.approx(result.budget_consumed)
    assert not w.differ and w.throughput_warning is None
    render_run(run_dir, ("json", "md"))
    report = json.loads((run_dir / "report.json").read_text())
    assert report["scenarios"][0]["warnings"] == []
    md = (run_dir / "report.md").read_text()
    assert "**Warning:**" not in md and "time-weighted;" not in md


def test_a_run_without_baseline_traffic_has_no_event_weighted_figure(tmp_path: Path) -> None:
    run = latency_run(fault_rate=BASE_RATE)
    # drop the baseline's samples: the window stays, its traffic is unknown
    run.samples = {k: v for k, v in run.samples.items() if k[0] >= T0 + 10}
    result = latency_result(run, tmp_path / "nobase")
    w = result.weighting
    assert w is not None
    assert (w.baseline_events_per_second, w.budget_consumed_events) == (None, None)
    assert not w.differ and w.throughput_warning is None
