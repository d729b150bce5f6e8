"""One home for the arithmetic (docs/architecture.md §2): the safeguard, the live console, the
report and the server-side truth agree on burn and attribution for the same samples, exactly,
because they call the same chaos_suite.slo functions over the same seconds."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from support.synthetic import T0, standard_run

from chaos_suite.files.slo_file import LoadSource, SLOSpec
from chaos_suite.gameday.console import Console, live_burn
from chaos_suite.gameday.samples import SampleStore
from chaos_suite.record import Sample
from chaos_suite.report import RecordView, analyze_run, load_run
from chaos_suite.report.analysis import RunAnalysis
from chaos_suite.report.render_json import report_dict
from chaos_suite.report.series import build_series, burn_rate_in, seconds_of, spend_in
from chaos_suite.report.truth import compare
from chaos_suite.safety.safeguard import Rule, SLORef, evaluate, measure

WIDTH = 5  # the plan's peak_window_seconds; also the safeguard's long and the console's window


def gameday(run_dir: Path) -> tuple[RecordView, RunAnalysis]:
    """Baseline with a background burn (BR 1), then a fault phase (BR 50) with a burst of
    extra traffic (so per-second and pooled burn differ), a slow patch for the latency SLO,
    a second without a sample, a recovery tail and a cool-down."""
    run = standard_run(baseline_bad_per_s=1, bad_per_s=50, recovery_tail_s=3, cooldown_s=10)
    run.traffic(T0 + 15, 3, 500, {"availability": 200})
    run.traffic(T0 + 14, 8, 0, {"latency": 30})
    del run.samples[(T0 + 28, "load")]
    record = load_run(run.write(run_dir))
    return record, analyze_run(record)


def store_line(record: RecordView, index: int) -> Sample:
    """A record sample as the load process streams it to the runner's SampleStore."""
    sample = record.samples[index]
    return Sample.model_validate(
        {"t": sample.t,
         "slis": {name: {"good": c.good, "total": c.total} for name, c in sample.slis.items()}})


def test_safeguard_console_and_report_agree_on_burn_and_attribution(tmp_path: Path) -> None:
    record, analysis = gameday(tmp_path / "run")
    windows = analysis.scenarios[0].windows
    assert windows is not None and windows.baseline is not None
    measured = seconds_of(windows.measurement.start, windows.measurement.end)
    based = seconds_of(windows.baseline.start, windows.baseline.end)
    since, baseline = measured.start, (based.start, based.stop)
    slos = analysis.plan.slos
    specs = [SLOSpec(slo=slo, source=LoadSource(), service="checkout") for slo in slos]
    refs = {slo.name: SLORef(slo.name, slo.objective, slo.window_seconds) for slo in slos}
    series = {slo.name: build_series(record.samples, slo.name, slo.source) for slo in slos}
    watch = Rule(burn_rate=None, long_window_s=WIDTH, short_window_s=1, max_budget_consumed=None)

    # Replay the record second by second, as the runner feeds the store while the safeguard
    # and the console read it; at every step all three must agree.
    store = SampleStore()
    peaks: dict[str, list[float]] = {slo.name: [] for slo in slos}
    steps = 0
    for index in range(len(record.samples)):
        store.add(store_line(record, index))
        last = store.last_second()
        assert last is not None
        if last - WIDTH + 1 < since:  # only windows wholly inside the scenario
            continue
        steps += 1
        console = {f.slo: f for f in live_burn(store, specs, WIDTH, since=since, baseline=baseline)}
        for slo in slos:
            guard = measure(store, refs[slo.name], watch, since, last)
            live = console[slo.name]
            s = series[slo.name]
            # burn rate over the last WIDTH seconds, and over the last second
            burn = burn_rate_in(s, slo, last - WIDTH + 1, last + 1)
            assert burn is not None
            assert guard.burn_rate_long == live.burn_rate == burn
            assert guard.burn_rate_short == burn_rate_in(s, slo, last, last + 1)
            peaks[slo.name].append(burn)
            # budget consumed so far in the scenario, and what lies beyond the baseline
            base_br = burn_rate_in(s, slo, *baseline)
            so_far = spend_in(s, slo, since, last + 1, base_br)
            assert so_far is not None and guard.spend is not None
            assert guard.spend.consumed == live.consumed == so_far.consumed
            assert guard.spend.data_seconds == so_far.data_seconds
            assert live.baseline_burn_rate == base_br
            assert live.attributed == so_far.attributed
            # the safeguard trips on exactly that figure: at it, no; just under it, yes
            if burn > 0:
                at = Rule(burn_rate=burn, long_window_s=WIDTH, short_window_s=WIDTH,
                          max_budget_consumed=None)
                under = Rule(burn_rate=math.nextafter(burn, 0), long_window_s=WIDTH,
                             short_window_s=WIDTH, max_budget_consumed=None)
                assert evaluate(store, [refs[slo.name]], at, since) is None
                assert evaluate(store, [refs[slo.name]], under, since) is not None
    assert steps > 20

    # At the end of the cool-down "so far" is the report's measurement window.
    assert store.last_second() == measured.stop - 1
    console = {f.slo: f for f in live_burn(store, specs, WIDTH, since=since, baseline=baseline)}
    for result in analysis.scenarios[0].slos:
        name = result.slo.name
        guard = measure(store, refs[name], watch, since, measured.stop - 1)
        assert guard.spend is not None and result.budget_consumed is not None
        assert guard.spend.consumed == console[name].consumed == result.budget_consumed
        assert guard.spend.data_seconds == result.measurement_data_seconds
        assert console[name].baseline_burn_rate == result.baseline_burn_rate
        assert console[name].attributed == result.budget_consumed_attributed
        assert max(peaks[name]) == result.peak_burn_rate
        cap = result.budget_consumed
        for limit, trips in ((cap, False), (math.nextafter(cap, 0), True)):
            rule = Rule(burn_rate=None, long_window_s=1, short_window_s=1, max_budget_consumed=limit)
            assert (evaluate(store, [refs[name]], rule, since) is not None) is trips
    availability = analysis.scenarios[0].slos[0]
    assert availability.slo.name == "availability"
    assert availability.baseline_burn_rate == pytest.approx(1.0)
    attributed, consumed = availability.budget_consumed_attributed, availability.budget_consumed
    assert attributed is not None and consumed is not None
    assert 0 < attributed < consumed  # the baseline's share was taken off

    # Server-side truth over counters equal to the client's counts: the same attribution.
    rows = [{"t": s.t, "total": s.slis["availability"].total, "errors": s.slis["availability"].bad}
            for s in record.samples]
    (truth,) = compare(report_dict(analysis), rows)
    assert truth["server_attributed"] == truth["client_attributed"]
    assert truth["client_attributed"] == availability.budget_consumed_attributed


def test_the_console_line_shows_the_budget_spent_so_far(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record, analysis = gameday(tmp_path / "run")
    windows = analysis.scenarios[0].windows
    assert windows is not None and windows.baseline is not None
    measured = seconds_of(windows.measurement.start, windows.measurement.end)
    based = seconds_of(windows.baseline.start, windows.baseline.end)
    store = SampleStore()
    for index in range(len(record.samples)):
        store.add(store_line(record, index))
    specs = [SLOSpec(slo=slo, source=LoadSource(), service="checkout")
             for slo in analysis.plan.slos]
    Console().live("cool-down", store, specs, since=measured.start,
                   baseline=(based.start, based.stop))
    line = capsys.readouterr().out
    availability = analysis.scenarios[0].slos[0]
    assert availability.budget_consumed is not None
    assert availability.budget_consumed_attributed is not None
    spent = f"{availability.budget_consumed * 100:.4g}%"
    beyond = f"{availability.budget_consumed_attributed * 100:.4g}%"
    # the last 5 s burn at the background's BR 1 (1 bad in 1000); the format is the old one
    # with the budget spent so far added
    assert f"cool-down · availability: burn 1.00× (5000 req/5s), spent {spent} of budget " \
           f"({beyond} beyond baseline) · latency: burn 0.00× (5000 req/5s), spent " in line, line
