"""Predicted coverage: would each burn-rate alert fire if a fault lasted, and after how long.

Pure arithmetic (no I/O, no clock). The model is what Prometheus does with the rules
``slo rules`` writes, at constant traffic:

- the error ratio is the baseline burn rate b (in burn-rate units, e / budget) until fault
  onset t0, then the fault's burn rate f, for as long as the fault lasts;
- counters are scraped every ``scrape_interval_s`` (at whole multiples of it), rules are
  evaluated every ``evaluation_interval_s`` (likewise); t0 sits ``onset_offset_s`` after a
  time that is a multiple of both (0: on both grids, as in ``promtool test rules``);
- at an evaluation at t, ``rate()`` over a window w sees the samples in [t − w, t] (Prometheus
  2.x; 3.x leaves t − w out, one scrape less) and the ratio of two rates is the ratio of the
  counters' increases between the first and last of them (extrapolation scales both alike);
  fewer than two samples is no data, and no data never fires;
- an alert is active at the first evaluation where the ratio over the long AND the short window
  both exceed factor × budget (strictly), and fires at the first evaluation at least ``for``
  after that (Prometheus's activeAt + for).

Under a constant fault the share of fault seconds a window sees never falls, so once active an
alert stays active: the first active evaluation is found by bisection. Resolution of the
result: one evaluation interval plus one scrape interval (the phases of a real server's grids
are unknown), and the agreement with ``promtool test rules`` is checked in
tests/detection/test_detection_promtool.py.

The report calls :func:`predict_coverage` with a scenario's observed and baseline burn rates.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from chaos_suite.detection.windows import BurnAlert, Severity, WindowSet, prom_duration
from chaos_suite.slo.model import SLO


@dataclass(frozen=True)
class AlertPrediction:
    """One alert's fate under a fault that lasts.

    ``after_s`` is fault onset → firing (None: never fires), ``pending_after_s`` onset → the
    first evaluation that sees both windows above the factor (the alert's ``activeAt``; equal to
    ``after_s`` without ``for``). ``before_onset`` means the baseline alone is above the factor:
    the alert fires before the fault (``after_s`` is then 0). ``budget_consumed`` is the budget
    share the fault's burn spends from onset to firing (given the SLO window)."""

    alert: BurnAlert
    fires: bool
    after_s: float | None
    pending_after_s: float | None
    before_onset: bool
    reason: str
    budget_consumed: float | None = None


@dataclass(frozen=True)
class Coverage:
    """The predictions for every alert of one SLO's window set, for one observed burn rate."""

    slo: str
    window_set: str
    burn_rate: float
    baseline_burn_rate: float
    evaluation_interval_s: float
    scrape_interval_s: float
    alerts: tuple[AlertPrediction, ...]

    @property
    def resolution_s(self) -> float:
        """How far a real server may differ: its scrape and evaluation phases are unknown."""
        return self.evaluation_interval_s + self.scrape_interval_s

    def first(self, severity: Severity) -> AlertPrediction | None:
        """The earliest alert of ``severity`` to fire, or None when none of them does."""
        firing = [p for p in self.alerts if p.alert.severity == severity and p.after_s is not None]
        return min(firing, key=lambda p: p.after_s or 0.0, default=None)


def predict_coverage(slo: SLO, windows: WindowSet, burn_rate: float, baseline_burn_rate: float,
                     evaluation_interval_s: float, *, scrape_interval_s: float | None = None,
                     onset_offset_s: float = 0.0) -> Coverage:
    """For each alert of ``windows`` (the set the SLO's rules were written with): would it fire
    if a fault burning at ``burn_rate`` lasted, over a steady ``baseline_burn_rate``, and after
    how long. ``scrape_interval_s`` defaults to the evaluation interval. Burn rates are e / B
    (1 spends the budget exactly over the SLO window)."""
    scrape = evaluation_interval_s if scrape_interval_s is None else scrape_interval_s
    predictions = tuple(
        predict_alert(alert, burn_rate, baseline_burn_rate,
                      evaluation_interval_s=evaluation_interval_s, scrape_interval_s=scrape,
                      onset_offset_s=onset_offset_s, window_s=slo.window_seconds)
        for alert in windows.alerts)
    return Coverage(slo.name, windows.name, burn_rate, baseline_burn_rate, evaluation_interval_s,
                    scrape, predictions)


def predict_alert(alert: BurnAlert, burn_rate: float, baseline_burn_rate: float = 0.0, *,
                  evaluation_interval_s: float, scrape_interval_s: float,
                  onset_offset_s: float = 0.0, window_s: float | None = None) -> AlertPrediction:
    """One alert under a fault burning at ``burn_rate`` from onset, over ``baseline_burn_rate``
    (see the module's model). All durations are in seconds, kept to whole milliseconds."""
    for name, value in (("burn_rate", burn_rate), ("baseline_burn_rate", baseline_burn_rate)):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite burn rate >= 0; got {value!r}")
    every = _millis("evaluation_interval_s", evaluation_interval_s)
    scrape = _millis("scrape_interval_s", scrape_interval_s)
    if not (math.isfinite(onset_offset_s) and onset_offset_s >= 0):
        raise ValueError(f"onset_offset_s must be >= 0; got {onset_offset_s!r}")
    onset = round(onset_offset_s * 1000)
    long_ms, short_ms = round(alert.long_s * 1000), round(alert.short_s * 1000)
    hold = round(alert.for_s * 1000)
    windows = f"{prom_duration(alert.long_s)}/{prom_duration(alert.short_s)}"

    def result(fires: bool, after: int | None, pending: int | None, reason: str,
               before: bool = False) -> AlertPrediction:
        after_s = None if after is None else after / 1000
        spent = None if after_s is None or window_s is None else burn_rate * after_s / window_s
        return AlertPrediction(alert, fires, after_s, None if pending is None else pending / 1000,
                               before, reason, spent)

    if short_ms < scrape:
        return result(False, None, None, f"the {prom_duration(alert.short_s)} window holds fewer "
                      f"than two scrapes every {prom_duration(scrape / 1000)}: rate() has no value")
    if baseline_burn_rate > alert.factor:
        return result(True, 0, 0, f"the baseline alone burns at {baseline_burn_rate:g} > "
                      f"{alert.factor:g}: firing before the fault", before=True)
    if burn_rate <= alert.factor:
        return result(False, None, None, f"burn rate {burn_rate:g} does not exceed the factor "
                      f"{alert.factor:g}")

    def seen(t: int, window: int) -> float | None:
        """The burn rate rate() reports over ``window`` at evaluation time ``t``."""
        first = -((window - t) // scrape) * scrape  # the first scrape at or after t - window
        last = (t // scrape) * scrape
        if last <= first:
            return None
        fault = max(0, last - max(first, onset))  # fault milliseconds between the two samples
        return baseline_burn_rate + (burn_rate - baseline_burn_rate) * fault / (last - first)

    def above(j: int) -> bool:
        t = j * every
        over_long, over_short = seen(t, long_ms), seen(t, short_ms)
        return (over_long is not None and over_short is not None
                and over_long > alert.factor and over_short > alert.factor)

    start = -(-onset // every)  # the first evaluation at or after onset
    # from here on both windows see only fault samples, so the alert is active for sure
    settled = -(-(onset + long_ms + scrape) // every)
    if short_ms >= 2 * scrape:
        # every window always holds two samples: the seen burn never falls, so bisect
        active = _first_true(above, start, settled)
        fire_at = active + -(-hold // every)
    else:
        found = _scan(above, start, settled + _period(scrape, every) // every + 1, hold // every
                      + (1 if hold % every else 0))
        if found is None:
            # evaluations whose short window holds a single scrape have no data and reset it
            return result(False, None, None, f"the {prom_duration(alert.short_s)} window holds "
                          f"two scrapes too seldom to stay active for {prom_duration(alert.for_s)}")
        active, fire_at = found
    pending, after = active * every - onset, fire_at * every - onset
    hold_text = f" and held {prom_duration(alert.for_s)}" if hold else ""
    return result(True, after, pending, f"burn rate {burn_rate:g} > {alert.factor:g} over "
                  f"{windows}{hold_text}")


def _millis(name: str, seconds: float) -> int:
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"{name} must be a positive number of seconds; got {seconds!r}")
    millis = round(seconds * 1000)
    if millis <= 0:
        raise ValueError(f"{name} must be at least 1 ms; got {seconds!r}")
    return millis


def _first_true(predicate: Callable[[int], bool], low: int, high: int) -> int:
    """The smallest j in [low, high] with ``predicate(j)``, for a predicate false then true;
    ``predicate(high)`` is known to hold."""
    while low < high:
        middle = (low + high) // 2
        if predicate(middle):
            high = middle
        else:
            low = middle + 1
    return low


def _period(scrape: int, every: int) -> int:
    """After this long the scrape and evaluation grids line up again."""
    return scrape * every // math.gcd(scrape, every)


def _scan(active_at: Callable[[int], bool], start: int, settled: int, hold: int
          ) -> tuple[int, int] | None:
    """(first active evaluation of the run that fires, firing evaluation) when windows may see
    a single scrape at some evaluations (no data resets a pending alert), else None."""
    since: int | None = None
    for j in range(start, settled + hold + 1):
        if not active_at(j):
            since = None
            continue
        if since is None:
            since = j
        if j - since >= hold:
            return since, j
    return None
