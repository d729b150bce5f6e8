"""Per-second SLI samples and the windows over them.

Bucketing rule (used everywhere, by the report and by anyone computing ground truth with
these functions): a sample second ``s`` covers ``[s, s + 1)`` and belongs to a window
``[start, end)`` when it overlaps it, i.e. ``floor(start) <= s < ceil(end)``. Partial seconds
at either edge therefore count in full, so a fault that starts at 12.7 s includes second 12,
and two back-to-back windows may share their boundary second. An empty or inverted window
(``end <= start``) holds no seconds. Seconds without a sample line are "no data": they count
neither as good nor as bad and are skipped by every sum.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from chaos_suite.slo import SLO, BudgetSpend, budget_spend, error_ratio, pooled_burn_rate


@dataclass(frozen=True)
class Counts:
    """Good and total events of one SLI over some interval."""

    good: int = 0
    total: int = 0

    @property
    def bad(self) -> int:
        return self.total - self.good

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.good + other.good, self.total + other.total)

    def error_ratio(self) -> float | None:
        return error_ratio(self.good, self.total)


@dataclass(frozen=True)
class Sample:
    """One completed second of one source: ``t`` is the bucket start (epoch second)."""

    t: int
    source: str
    slis: Mapping[str, Counts] = field(default_factory=dict)


# A series is one SLO's counts from one source, keyed by epoch second.
Series = Mapping[int, Counts]


def seconds_of(start: float, end: float) -> range:
    """The sample seconds belonging to ``[start, end)`` under the overlap rule above."""
    if not end > start:
        return range(0)
    return range(math.floor(start), math.ceil(end))


def build_series(samples: Iterable[Sample], slo_name: str, source: str | None = None) -> Series:
    """Collect one SLO's per-second counts; ``source=None`` takes every sample given.

    Two lines for the same second (e.g. from two load workers) are added together.
    """
    series: dict[int, Counts] = {}
    for sample in samples:
        if source is not None and sample.source != source:
            continue
        counts = sample.slis.get(slo_name)
        if counts is not None:
            series[sample.t] = series.get(sample.t, Counts()) + counts
    return series


def counts_in(series: Series, start: float, end: float) -> Counts:
    """Pooled counts over the seconds of ``[start, end)``."""
    good = total = 0
    for second in seconds_of(start, end):
        counts = series.get(second)
        if counts is not None:
            good += counts.good
            total += counts.total
    return Counts(good, total)


def spend_in(
    series: Series, slo: SLO, start: float, end: float, baseline_burn_rate: float | None = None
) -> BudgetSpend | None:
    """Budget consumed over ``[start, end)`` (sum of BR_i * 1 s / P) and attributed beyond
    ``baseline_burn_rate``, by :func:`chaos_suite.slo.budget_spend` (docs/architecture.md §2).

    None when no second in the window has events (unknown, not zero).
    """
    buckets = (
        (1.0, counts.good, counts.total)
        for second in seconds_of(start, end)
        if (counts := series.get(second)) is not None
    )
    return budget_spend(buckets, slo.objective, slo.window_seconds, baseline_burn_rate)


def burn_rate_in(series: Series, slo: SLO, start: float, end: float) -> float | None:
    """Burn rate of the pooled counts of ``[start, end)``; None without events."""
    counts = counts_in(series, start, end)
    return pooled_burn_rate(counts.good, counts.total, slo.objective)


def peak_burn_rate(series: Series, slo: SLO, start: float, end: float, width_s: int) -> float | None:
    """Highest burn rate over rolling ``width_s``-second windows inside ``[start, end)``.

    Each window pools its counts (bad / total over the window, as an alert would see it) and
    windows step by one second. A window shorter than ``width_s`` is used only when the
    whole span is shorter. None when no window has events.
    """
    seconds = seconds_of(start, end)
    if not seconds:
        return None
    width = max(1, width_s)
    last_first = max(seconds.start, seconds.stop - width)
    rates = (
        burn_rate_in(series, slo, first, min(first + width, seconds.stop))
        for first in range(seconds.start, last_first + 1)
    )
    known = [rate for rate in rates if rate is not None]
    return max(known) if known else None


def recovery_seconds(series: Series, slo: SLO, fault_end: float, end: float, width_s: int) -> float | None:
    """Whole seconds after the fault window until the budget stops burning faster than 1.

    Looks forward: the answer is the first second ``s`` after the fault window (from
    ``ceil(fault_end)``, the first second the bucketing rule leaves outside it) whose next
    ``width_s`` seconds, pooled, burn at BR <= 1; the windows are cut at ``end``. Returns 0
    when things are fine straight away, None when it never happens before ``end`` (or there
    is no data after the fault).
    """
    first_after = math.ceil(fault_end)
    stop = math.ceil(end)
    width = max(1, width_s)
    for first in range(first_after, stop):
        rate = burn_rate_in(series, slo, first, min(first + width, stop))
        if rate is not None and rate <= 1.0:
            return float(first - first_after)
    return None


def window_counts(
    samples: Iterable[Sample], slo_name: str, start: float, end: float, source: str | None = None
) -> Counts:
    """Pooled good/total of ``slo_name`` over ``[start, end)`` (overlap rule, see module doc).

    Pass one source's samples, or name ``source``; ``None`` adds up every sample given.
    """
    return counts_in(build_series(samples, slo_name, source), start, end)


def consumed_in_window(
    samples: Iterable[Sample], slo: SLO, start: float, end: float, source: str | None = None
) -> float | None:
    """Fraction of ``slo``'s budget consumed over ``[start, end)``: sum of per-second BR / P.

    None when the window holds no events. ``source`` as in :func:`window_counts` (the report
    passes ``slo.source``).
    """
    spend = spend_in(build_series(samples, slo.name, source), slo, start, end)
    return None if spend is None else spend.consumed
