"""The safeguard: while a scenario runs, evaluate each SLO's burn from the live samples every
interval and trip the abort when the plan's rule holds (multi-window burn rate, or budget
consumed in this run above a cap). The evaluation is pure; the thread only schedules it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from chaos_suite.slo.budget import burn_rate, error_ratio


class Counts(Protocol):
    def last_second(self) -> int | None: ...
    def counts(self, name: str, first: int, end: int) -> tuple[int, int]: ...
    def series(self, name: str) -> list[tuple[int, int, int]]: ...
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


def evaluate(store: Counts, slos: list[SLORef], rule: Rule, since_second: int
             ) -> dict[str, Any] | None:
    """The first SLO whose rule holds at the latest sample, with the evidence; else None."""
    last = store.last_second()
    if last is None:
        return None
    for slo in slos:
        budget = 1.0 - slo.objective
        if rule.burn_rate is not None:
            long_n = max(1, round(rule.long_window_s))
            short_n = max(1, round(rule.short_window_s))
            g_long, n_long = store.counts(slo.name, last - long_n + 1, last + 1)
            g_short, n_short = store.counts(slo.name, last - short_n + 1, last + 1)
            e_long, e_short = error_ratio(g_long, n_long), error_ratio(g_short, n_short)
            if e_long is not None and e_short is not None:
                br_long = burn_rate(e_long, slo.objective)
                br_short = burn_rate(e_short, slo.objective)
                if br_long > rule.burn_rate and br_short > rule.burn_rate:
                    return _trip(store, slo, last, "burn-rate", {
                        "burn_rate_long": br_long, "burn_rate_short": br_short,
                        "threshold": rule.burn_rate, "long_window_s": long_n,
                        "short_window_s": short_n, "long": {"good": g_long, "total": n_long},
                        "short": {"good": g_short, "total": n_short}})
        if rule.max_budget_consumed is not None:
            consumed = 0.0
            for second, good, total in store.series(slo.name):
                if second >= since_second and total > 0:
                    consumed += ((total - good) / total) / budget / slo.window_s
            if consumed > rule.max_budget_consumed:
                return _trip(store, slo, last, "budget-cap", {
                    "budget_consumed": consumed, "cap": rule.max_budget_consumed})
    return None


def _trip(store: Counts, slo: SLORef, last: int, kind: str, figures: dict[str, Any]
          ) -> dict[str, Any]:
    good, total = store.counts(slo.name, last, last + 1)
    return {"slo": slo.name, "rule": kind, **figures,
            "sample": {"t": last, "good": good, "total": total,
                       "arrived": store.arrival(last)}}


class Safeguard:
    """Evaluates every `interval_s` on a daemon thread; calls `on_trip(detail)` at most once."""

    def __init__(self, store: Counts, slos: list[SLORef], rule: Rule, since_second: int,
                 on_trip: Callable[[dict[str, Any]], None], interval_s: float = 1.0,
                 health: Callable[[], str | None] | None = None) -> None:
        self._args = (store, slos, rule, since_second)
        self._health = health
        self._on_trip = on_trip
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="chaos-suite-safeguard",
                                        daemon=True)
        self.tripped: dict[str, Any] | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            problem = self._health() if self._health is not None else None
            detail: dict[str, Any] | None = (
                {"rule": "infrastructure", "slo": None, "problem": problem}
                if problem else evaluate(*self._args))
            if detail is not None:
                detail["tripped_at"] = time.time()
                self.tripped = detail
                self._on_trip(detail)
                return
