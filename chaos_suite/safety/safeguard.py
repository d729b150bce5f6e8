"""The safeguard: while a scenario runs, evaluate each SLO's burn from the live samples every
interval and trip the abort when the plan's rule holds (multi-window burn rate, or budget
consumed in this run above a cap). The evaluation is pure; the thread only schedules it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from chaos_suite.record.models import (
    BudgetCapTrip,
    BurnRateTrip,
    InfrastructureTrip,
    SLICounts,
    Trip,
    TripSample,
)
from chaos_suite.slo.budget import BudgetSpend, MultiWindowRule, budget_spend, pooled_burn_rate


class LiveCounts(Protocol):
    def last_second(self) -> int | None: ...
    def counts(self, name: str, first: int, end: int) -> tuple[int, int]: ...
    def trailing(self, name: str, seconds: int, last: int) -> tuple[int, int]: ...
    def buckets(self, name: str, since: int) -> list[tuple[float, int, int]]: ...
    def arrival(self, second: int) -> float | None: ...


@dataclass(frozen=True)
class Rule:
    burn_rate: float | None
    long_window_s: float
    short_window_s: float
    max_budget_consumed: float | None


@dataclass(frozen=True)
class SLORef:
    name: str
    objective: float
    window_s: float


@dataclass(frozen=True)
class Burn:
    """One SLO's figures at a sample second, as the rule judges them."""

    long_window_s: int
    short_window_s: int
    long: tuple[int, int]  # (good, total) over the long window
    short: tuple[int, int]
    burn_rate_long: float | None  # None: no data in that window
    burn_rate_short: float | None
    spend: BudgetSpend | None  # since `since_second`; None: no data yet


def measure(store: LiveCounts, slo: SLORef, rule: Rule, since_second: int, last: int) -> Burn:
    """Burn over the rule's windows ending at `last` and budget spent since `since_second`,
    by the same chaos_suite.slo functions as the console and the report (docs/architecture.md §2)."""
    long_n = max(1, round(rule.long_window_s))  # samples are whole seconds
    short_n = max(1, round(rule.short_window_s))
    long = store.trailing(slo.name, long_n, last)
    short = store.trailing(slo.name, short_n, last)
    return Burn(long_n, short_n, long, short,
                pooled_burn_rate(*long, slo.objective), pooled_burn_rate(*short, slo.objective),
                budget_spend(store.buckets(slo.name, since_second), slo.objective, slo.window_s))


def evaluate(store: LiveCounts, slos: list[SLORef], rule: Rule, since_second: int
             ) -> Trip | None:
    """The first SLO whose rule holds at the latest sample, with the evidence; else None."""
    last = store.last_second()
    if last is None:
        return None
    for slo in slos:
        burn = measure(store, slo, rule, since_second, last)
        if rule.burn_rate is not None and MultiWindowRule(
                burn.long_window_s, burn.short_window_s, rule.burn_rate).fires(
                burn.burn_rate_long, burn.burn_rate_short):
            (g_long, n_long), (g_short, n_short) = burn.long, burn.short
            # the rule fires only on windows with data
            assert burn.burn_rate_long is not None and burn.burn_rate_short is not None
            return BurnRateTrip(
                slo=slo.name, burn_rate_long=burn.burn_rate_long,
                burn_rate_short=burn.burn_rate_short, threshold=rule.burn_rate,
                long_window_s=burn.long_window_s, short_window_s=burn.short_window_s,
                long=SLICounts(good=g_long, total=n_long),
                short=SLICounts(good=g_short, total=n_short),
                sample=_crossing(store, slo, last))
        # no data yet spends nothing, so it never trips the cap
        consumed = 0.0 if burn.spend is None else burn.spend.consumed
        if rule.max_budget_consumed is not None and consumed > rule.max_budget_consumed:
            return BudgetCapTrip(slo=slo.name, budget_consumed=consumed,
                                 cap=rule.max_budget_consumed, sample=_crossing(store, slo, last))
    return None


def _crossing(store: LiveCounts, slo: SLORef, last: int) -> TripSample:
    """The sample that crossed the rule, and when it reached the runner."""
    good, total = store.counts(slo.name, last, last + 1)
    return TripSample(t=last, good=good, total=total, arrived=store.arrival(last))


class Safeguard:
    """Evaluates every `interval_s` on a daemon thread; calls `on_trip(trip)` at most once."""

    def __init__(self, store: LiveCounts, slos: list[SLORef], rule: Rule, since_second: int,
                 on_trip: Callable[[Trip], None], interval_s: float = 1.0,
                 health: Callable[[], str | None] | None = None) -> None:
        self._args = (store, slos, rule, since_second)
        self._health = health
        self._on_trip = on_trip
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="chaos-suite-safeguard",
                                        daemon=True)
        self.tripped: Trip | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            problem = self._health() if self._health is not None else None
            trip: Trip | None = (InfrastructureTrip(problem=problem) if problem
                                 else evaluate(*self._args))
            if trip is not None:
                trip = trip.model_copy(update={"tripped_at": time.time()})
                self.tripped = trip
                self._on_trip(trip)
                return
