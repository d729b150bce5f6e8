"""Predicted coverage (detection/predict.py): figures worked out by hand, the limits (never, the
baseline alone, a window too short for two scrapes) and the bisection against a plain
evaluation-by-evaluation walk of the same model."""

from __future__ import annotations

import random

import pytest

from chaos_suite.detection import BurnAlert, WindowSet, builtin_window_set, predict_alert, predict_coverage
from chaos_suite.slo.model import SLI, SLO, SLIKind

MINUTE = 60.0
PAGE = BurnAlert("page", 3_600, 300, 14.4)


def test_worked_example_with_for() -> None:
    # BR 400 from onset, 1m scrapes and evaluations: the 1h window (61 samples, 60 minutes) sees
    # 2 fault minutes (2/60 x 400 = 13.3, not above 14.4) then 3 (20 > 14.4); the 5m window is
    # above from the first fault minute. Active at 3m, held 2m: fires at 5m.
    alert = BurnAlert("page", 3_600, 300, 14.4, for_s=120)
    got = predict_alert(alert, 400, evaluation_interval_s=MINUTE, scrape_interval_s=MINUTE)
    assert got.fires and not got.before_onset
    assert got.pending_after_s == 180 and got.after_s == 300


def test_close_to_the_continuous_answer_at_fine_resolution() -> None:
    # the long window must see a share (14.4 - 1) / (20 - 1) of fault seconds: 0.705 h
    got = predict_alert(PAGE, 20, 1, evaluation_interval_s=1, scrape_interval_s=1)
    assert got.after_s is not None
    assert got.after_s == pytest.approx(3_600 * 13.4 / 19, abs=2)


@pytest.mark.parametrize("burn", [0.0, 5.0, 14.4])
def test_at_or_below_the_factor_never_fires(burn: float) -> None:
    got = predict_alert(PAGE, burn, 1, evaluation_interval_s=30, scrape_interval_s=15)
    assert not got.fires and got.after_s is None and got.pending_after_s is None
    assert "does not exceed" in got.reason


def test_a_baseline_above_the_factor_fires_before_the_fault() -> None:
    got = predict_alert(PAGE, 20, 15, evaluation_interval_s=30, scrape_interval_s=15)
    assert got.fires and got.before_onset and got.after_s == 0


def test_a_short_window_under_one_scrape_has_no_rate() -> None:
    alert = BurnAlert("page", 60, 5, 14.4)
    got = predict_alert(alert, 100, evaluation_interval_s=15, scrape_interval_s=15)
    assert not got.fires and "fewer than two scrapes" in got.reason


def test_one_scrape_per_short_window_fires_only_when_the_grids_line_up() -> None:
    # a 1m short window scraped every 1m holds two samples only at evaluations on the scrape
    # grid; evaluated every 30s, every other evaluation has no data: without `for` it still fires
    alert = BurnAlert("page", 600, 60, 2)
    assert predict_alert(alert, 10, evaluation_interval_s=30, scrape_interval_s=60).fires
    # held 30s, it is reset by each evaluation without data and never fires
    held = BurnAlert("page", 600, 60, 2, for_s=30)
    assert not predict_alert(held, 10, evaluation_interval_s=30, scrape_interval_s=60).fires


def _walk(alert: BurnAlert, burn: float, base: float, every: int, scrape: int, onset: int
          ) -> float | None:
    """The model evaluated one evaluation after another (what bisection must agree with)."""
    def seen(t: int, window: int) -> float | None:
        first = -((window - t) // scrape) * scrape
        last = (t // scrape) * scrape
        if last <= first:
            return None
        return base + (burn - base) * max(0, last - max(first, onset)) / (last - first)

    since = None
    for j in range(-(-onset // every), 100_000):
        t = j * every
        values = (seen(t, round(alert.long_s * 1000)), seen(t, round(alert.short_s * 1000)))
        if None in values or not all(v is not None and v > alert.factor for v in values):
            since = None
            continue
        since = t if since is None else since
        if t - since >= alert.for_s * 1000:
            return (t - onset) / 1000
    return None


def test_bisection_agrees_with_walking_every_evaluation() -> None:
    rng = random.Random(7)
    for _ in range(300):
        scrape = rng.choice([1, 5, 10, 15, 30, 60]) * 1000
        every = rng.choice([1, 5, 10, 15, 30, 60]) * 1000
        short = rng.choice([2, 3, 4, 6, 12]) * scrape
        long_ = short * rng.choice([1, 2, 5, 12])
        alert = BurnAlert("page", long_ / 1000, short / 1000, rng.choice([1.0, 2.0, 6.0, 14.4]),
                          for_s=rng.choice([0, 0, 30, 120]))
        base = rng.choice([0.0, 0.3, 0.9])
        burn = alert.factor * rng.uniform(1.01, 30)
        onset = rng.randrange(0, 120) * 1000
        got = predict_alert(alert, burn, base, evaluation_interval_s=every / 1000,
                            scrape_interval_s=scrape / 1000, onset_offset_s=onset / 1000)
        assert got.after_s == _walk(alert, burn, base, every, scrape, onset), (alert, burn, base)


def test_coverage_for_an_slo() -> None:
    slo = SLO("api", 0.999, 30 * 86_400, SLI(SLIKind.AVAILABILITY), source="prometheus")
    windows = builtin_window_set("google", slo.window_seconds)
    coverage = predict_coverage(slo, windows, burn_rate=4, baseline_burn_rate=0.5,
                                evaluation_interval_s=30, scrape_interval_s=15)
    fired = {p.alert.key: p.fires for p in coverage.alerts}
    assert fired == {"page-1h-5m": False, "page-6h-30m": False, "ticket-1d-2h": True,
                     "ticket-3d-6h": True}
    assert coverage.first("page") is None
    ticket = coverage.first("ticket")
    # the 3d window must hold (1 - 0.5) / (4 - 0.5) of fault: 10.3 h, before the 1d window's
    # (3 - 0.5) / (4 - 0.5), 17.1 h; spending 4 x that / 30d
    assert ticket is not None and ticket.alert.key == "ticket-3d-6h"
    assert ticket.after_s == pytest.approx(3 * 86_400 / 7, abs=45)
    one_day = next(p for p in coverage.alerts if p.alert.key == "ticket-1d-2h")
    assert one_day.after_s == pytest.approx(86_400 * 2.5 / 3.5, abs=45)
    assert ticket.budget_consumed == pytest.approx(4 * ticket.after_s / slo.window_seconds)
    assert coverage.resolution_s == 45


def test_custom_set_and_bad_input() -> None:
    slo = SLO("api", 0.99, 3_600, SLI(SLIKind.AVAILABILITY), source="prometheus")
    windows = WindowSet("gameday", (BurnAlert("page", 60, 5, 14.4),))
    coverage = predict_coverage(slo, windows, 50, 0, evaluation_interval_s=1)
    assert coverage.scrape_interval_s == 1 and coverage.alerts[0].fires
    with pytest.raises(ValueError, match="burn_rate"):
        predict_coverage(slo, windows, float("nan"), 0, evaluation_interval_s=1)
    with pytest.raises(ValueError, match="evaluation_interval_s"):
        predict_coverage(slo, windows, 1, 0, evaluation_interval_s=0)
