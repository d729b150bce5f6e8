"""Budgeting methods (OpenSLO ``budgetingMethod``, docs/architecture.md §2): what the objective
T is a share of, and the budget arithmetic each one implies. Pure, like the rest of ``slo``.

- **Occurrences**: T is the share of good events. Budget: a fraction B = 1 − T of the events;
  burn rate BR = e / B (``budget.py``).
- **Timeslices**: the window is cut into slices of w seconds; a slice is good when its share of
  good events is at least ``slice_target``; T is the share of good slices. Budget: B · P / w bad
  slices. A bad slice spends a whole slice of budget however bad it was, and a slice at or
  above ``slice_target`` spends nothing.
- **RatioTimeslices**: each slice scores its own good ratio r; T is the mean of r over the
  slices, every slice weighing the same whatever its traffic. Budget: B · P / w slices' worth
  of (1 − r).

In burn-rate form every method spends C = Σ BR_i · Δt_i / P, with BR_i = e_i / B per event
bucket (Occurrences), (1 if slice i is bad else 0) / B (Timeslices) or (1 − r_i) / B
(RatioTimeslices). RatioTimeslices with 1 s slices is the per-second form chaos_suite's run
record already uses.

In every method a full outage spends B · P seconds of budget.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class BudgetingMethod(StrEnum):
    OCCURRENCES = "Occurrences"
    TIMESLICES = "Timeslices"
    RATIO_TIMESLICES = "RatioTimeslices"


@dataclass(frozen=True)
class Budgeting:
    """A budgeting method with its slice length (seconds) and, for Timeslices, the share of good
    events that makes a slice good."""

    method: BudgetingMethod = BudgetingMethod.OCCURRENCES
    slice_seconds: float | None = None
    slice_target: float | None = None

    def __post_init__(self) -> None:
        method = BudgetingMethod(self.method)
        object.__setattr__(self, "method", method)
        if method is BudgetingMethod.OCCURRENCES:
            if self.slice_seconds is not None or self.slice_target is not None:
                raise ValueError("Occurrences budgeting takes no time slices")
            return
        if self.slice_seconds is None or not (math.isfinite(self.slice_seconds)
                                              and self.slice_seconds > 0):
            raise ValueError(f"{method} budgeting needs a positive slice length; "
                             f"got {self.slice_seconds!r}")
        if method is BudgetingMethod.TIMESLICES:
            if self.slice_target is None or not 0 < self.slice_target <= 1:
                raise ValueError("Timeslices budgeting needs a slice target in (0, 1]; "
                                 f"got {self.slice_target!r}")
        elif self.slice_target is not None:
            raise ValueError("RatioTimeslices budgeting takes no slice target (each slice counts "
                             "with its own ratio)")

    @property
    def sliced(self) -> bool:
        return self.method is not BudgetingMethod.OCCURRENCES

    def slices_in(self, window_s: float) -> float | None:
        """N = P / w, the slices a window holds (None for Occurrences)."""
        return window_s / self.slice_seconds if self.slice_seconds else None

    def budget_slices(self, objective: float, window_s: float) -> float | None:
        """B · N: bad slices (Timeslices) or slices' worth of 1 − r (RatioTimeslices) the budget
        allows over the window; None for Occurrences, whose budget is a share of events."""
        slices = self.slices_in(window_s)
        return None if slices is None else (1.0 - objective) * slices


def slice_counts(buckets: Iterable[tuple[int, int, int]], slice_s: float
                 ) -> list[tuple[int, int, int]]:
    """Per-second ``(t, good, total)`` buckets pooled into slices aligned to multiples of
    ``slice_s`` since the epoch: ``(slice index, good, total)`` in time order."""
    if not (math.isfinite(slice_s) and slice_s > 0):
        raise ValueError(f"slice length must be positive; got {slice_s!r}")
    pooled: dict[int, list[int]] = {}
    for t, good, total in buckets:
        counts = pooled.setdefault(math.floor(t / slice_s), [0, 0])
        counts[0] += good
        counts[1] += total
    return [(index, good, total) for index, (good, total) in sorted(pooled.items())]


def slice_burn_rate(good: int, total: int, objective: float, budgeting: Budgeting) -> float | None:
    """BR of one slice under a sliced method; None for a slice without events (no data: it
    neither spends nor earns, as with events)."""
    if not 0.0 < objective < 1.0:
        raise ValueError(f"objective must lie strictly between 0 and 1; got {objective!r}")
    if total < 0 or good < 0 or good > total:
        raise ValueError(f"need 0 <= good <= total; got good={good}, total={total}")
    if total == 0:
        return None
    ratio = good / total
    if budgeting.method is BudgetingMethod.TIMESLICES:
        assert budgeting.slice_target is not None
        return (0.0 if ratio >= budgeting.slice_target else 1.0) / (1.0 - objective)
    if budgeting.method is BudgetingMethod.RATIO_TIMESLICES:
        return (1.0 - ratio) / (1.0 - objective)
    raise ValueError("Occurrences budgeting has no slices (use budget.budget_spend)")


def sliced_consumed(buckets: Iterable[tuple[int, int, int]], objective: float, window_s: float,
                    budgeting: Budgeting) -> float | None:
    """C = Σ BR_slice · w / P over per-second ``(t, good, total)`` buckets pooled into the
    method's slices: the share of the window's budget they spent. None without events."""
    if not budgeting.sliced or budgeting.slice_seconds is None:
        raise ValueError("Occurrences budgeting has no slices (use budget.budget_spend)")
    if not (math.isfinite(window_s) and window_s > 0):
        raise ValueError(f"window_s must be a positive finite number; got {window_s!r}")
    spent = 0.0
    with_data = False
    for _, good, total in slice_counts(buckets, budgeting.slice_seconds):
        rate = slice_burn_rate(good, total, objective, budgeting)
        if rate is not None:
            spent += rate * budgeting.slice_seconds
            with_data = True
    return spent / window_s if with_data else None
