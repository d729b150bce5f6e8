"""Error-budget arithmetic (docs/architecture.md §2, after the Google SRE Workbook, "Alerting on SLOs").

Notation: T objective, B = 1 - T error budget, P the SLO window in seconds, e an error ratio,
BR = e / B the burn rate, C = BR * dt / P the fraction of the window's budget consumed over dt.
Every function is pure; budget fractions are plain fractions (0.02 = 2% of the budget).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


def _check_objective(objective: float) -> float:
    """The budget 1 - T; T must lie strictly between 0 and 1."""
    if not 0.0 < objective < 1.0:
        raise ValueError(f"objective must lie strictly between 0 and 1; got {objective!r}")
    return 1.0 - objective


def _check_positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number; got {value!r}")


def error_ratio(good: int, total: int) -> float | None:
    """bad / total, or None when there were no events (no data is never "perfect")."""
    if total < 0 or good < 0 or good > total:
        raise ValueError(f"need 0 <= good <= total; got good={good}, total={total}")
    if total == 0:
        return None
    return (total - good) / total


def burn_rate(error_ratio: float, objective: float) -> float:
    """BR = e / B. BR = 1 spends exactly the whole budget over the window."""
    if not 0.0 <= error_ratio <= 1.0:
        raise ValueError(f"error ratio must lie in [0, 1]; got {error_ratio!r}")
    return error_ratio / _check_objective(objective)


def budget_consumed(burn_rate: float, interval_s: float, window_s: float) -> float:
    """C = BR * dt / P: the fraction of the window's budget spent over ``interval_s``."""
    _check_positive("window_s", window_s)
    if interval_s < 0:
        raise ValueError(f"interval_s must be >= 0; got {interval_s!r}")
    return burn_rate * interval_s / window_s


def pooled_burn_rate(good: int, total: int, objective: float) -> float | None:
    """BR of counts pooled over a window, as an alert sees it; None with no events (no data).

    The one home of "burn rate over the last N seconds": the safeguard's windows, the console's
    status line and the report's baseline, peak and recovery windows all pool and call this.
    """
    ratio = error_ratio(good, total)
    return None if ratio is None else burn_rate(ratio, objective)


def _burn_seconds(
    buckets: Iterable[tuple[float, int, int]], objective: float
) -> tuple[float, float, int]:
    """(sum of BR_i * dt_i, sum of dt_i, bucket count) over the buckets with events."""
    weighted = data_s = 0.0
    with_data = 0
    for dt_s, good, total in buckets:
        rate = pooled_burn_rate(good, total, objective)
        if rate is not None:
            weighted += rate * dt_s
            data_s += dt_s
            with_data += 1
    return weighted, data_s, with_data


def consumed_over_buckets(
    buckets: Iterable[tuple[float, int, int]], objective: float, window_s: float
) -> float:
    """C = sum(BR_i * dt_i) / P over ``(dt_s, good, total)`` buckets.

    Buckets without events carry no information and are skipped (they neither spend nor
    "earn" budget). At constant traffic this equals the event form bad / (B * N_P).
    """
    _check_objective(objective)
    _check_positive("window_s", window_s)
    weighted, _, _ = _burn_seconds(buckets, objective)
    return weighted / window_s


def attributed_consumption(
    consumed_fault: float, baseline_burn_rate: float, fault_interval_s: float, window_s: float
) -> float:
    """C_attr = C_fault - BR_baseline * dt / P: the spend beyond the background burn.

    May be negative when the fault interval burned less than the baseline did; the caller
    decides whether to clamp (the report does not, so the evidence stays visible).
    """
    return consumed_fault - budget_consumed(baseline_burn_rate, fault_interval_s, window_s)


@dataclass(frozen=True)
class BudgetSpend:
    """Budget spent over some buckets: what :func:`budget_spend` returns.

    ``data_seconds`` is n, the time the sum ran over (buckets with events only), so the
    background BR_baseline * n / P is taken off the same seconds that spent (docs/architecture.md §2).
    """

    consumed: float
    data_seconds: float
    window_s: float
    baseline_burn_rate: float | None = None

    @property
    def attributed(self) -> float:
        """C_attr = C - BR_baseline * n / P; no baseline (None) counts as BR 0."""
        return self.attributed_of(self.consumed)

    def attributed_of(self, consumed: float) -> float:
        """Any figure over the same seconds (e.g. an interval bound) less the same background."""
        return attributed_consumption(
            consumed, self.baseline_burn_rate or 0.0, self.data_seconds, self.window_s
        )


def budget_spend(
    buckets: Iterable[tuple[float, int, int]],
    objective: float,
    window_s: float,
    baseline_burn_rate: float | None = None,
) -> BudgetSpend | None:
    """Consumed and attributed budget over ``(dt_s, good, total)`` buckets; None with no events.

    The one home of "budget consumed so far" and "attributed beyond the baseline": the
    safeguard's cap, the console, the report and the server-side truth all call this.
    Unlike :func:`consumed_over_buckets`, no data is None (unknown), not 0.
    """
    _check_objective(objective)
    _check_positive("window_s", window_s)
    weighted, data_s, with_data = _burn_seconds(buckets, objective)
    if with_data == 0:
        return None
    return BudgetSpend(weighted / window_s, data_s, window_s, baseline_burn_rate)


def event_rate(total: int, seconds: float) -> float | None:
    """Events per second: ``total`` events over ``seconds`` with data; None without time."""
    if total < 0:
        raise ValueError(f"total must be >= 0; got {total!r}")
    if not (math.isfinite(seconds) and seconds > 0):
        return None
    return total / seconds


def budget_consumed_events(
    bad: int, baseline_rate: float, objective: float, window_s: float
) -> float | None:
    """C_events = bad / (B * N_P), N_P = r_baseline * P: bad events counted against the events
    the window holds at the baseline's traffic, as an Occurrences SLO counts them.

    The time form (:func:`consumed_over_buckets`, sum of BR_i * dt_i / P) weights every second
    alike whatever its traffic; the two agree at constant traffic. When a fault cuts the
    traffic (closed-loop load waits for slow answers) the time form stays what the users felt
    per second while the event form shrinks with the events that were never sent. None when
    the baseline had no traffic (N_P unknown).
    """
    budget = _check_objective(objective)
    _check_positive("window_s", window_s)
    if bad < 0:
        raise ValueError(f"bad must be >= 0; got {bad!r}")
    if not (math.isfinite(baseline_rate) and baseline_rate > 0):
        return None
    return bad / (budget * baseline_rate * window_s)


def time_to_exhaustion(burn_rate: float, window_s: float) -> float:
    """P / BR: seconds until a full budget is gone at this burn rate (inf when BR is 0)."""
    _check_positive("window_s", window_s)
    if burn_rate < 0:
        raise ValueError(f"burn rate must be >= 0; got {burn_rate!r}")
    if burn_rate == 0:
        return math.inf
    return window_s / burn_rate


def burn_rate_for(consumed_fraction: float, long_window_s: float, window_s: float) -> float:
    """The burn rate that spends ``consumed_fraction`` of the budget in ``long_window_s``.

    Inverse of :func:`budget_consumed`: BR = C * P / dt (0.02 in 1h at 30d gives 14.4).
    """
    _check_positive("long_window_s", long_window_s)
    _check_positive("window_s", window_s)
    return consumed_fraction * window_s / long_window_s


def wilson_interval(bad: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for the error ratio bad / total (default: 95%).

    Unlike the normal approximation it stays inside [0, 1] and is meaningful for 0 bad events.
    With no events at all nothing is known, so the interval is the whole of [0, 1].
    """
    if total < 0 or bad < 0 or bad > total:
        raise ValueError(f"need 0 <= bad <= total; got bad={bad}, total={total}")
    if not (math.isfinite(z) and z > 0):
        raise ValueError(f"z must be a positive finite number; got {z!r}")
    if total == 0:
        return (0.0, 1.0)
    p = bad / total
    z2n = z * z / total
    denominator = 1.0 + z2n
    centre = (p + z2n / 2.0) / denominator
    half = z * math.sqrt(p * (1.0 - p) / total + z2n / (4.0 * total)) / denominator
    # Exact ends for the extreme counts; floating point would leave 1e-17 instead of 0.
    lower = 0.0 if bad == 0 else max(0.0, centre - half)
    upper = 1.0 if bad == total else min(1.0, centre + half)
    return (lower, upper)


@dataclass(frozen=True)
class MultiWindowRule:
    """Fire when the burn rate over a long AND over a short window both exceed ``threshold``.

    "Exceed" is strict (``>``): a burn rate exactly at the threshold spends the budget at the
    tolerated pace and does not fire. No data (None) in either window never fires.
    The short window is conventionally 1/12 of the long one (see :meth:`with_default_short`).
    """

    long_window_s: float
    short_window_s: float
    threshold: float

    def __post_init__(self) -> None:
        _check_positive("long_window_s", self.long_window_s)
        _check_positive("short_window_s", self.short_window_s)
        if self.short_window_s > self.long_window_s:
            raise ValueError("the short window must not be longer than the long window")
        if not (math.isfinite(self.threshold) and self.threshold > 0):
            raise ValueError(f"threshold must be a positive burn rate; got {self.threshold!r}")

    @classmethod
    def with_default_short(cls, long_window_s: float, threshold: float) -> MultiWindowRule:
        """The workbook's pairing: short window = long window / 12."""
        return cls(long_window_s, long_window_s / 12.0, threshold)

    def fires(self, br_long: float | None, br_short: float | None) -> bool:
        if br_long is None or br_short is None:
            return False
        return br_long > self.threshold and br_short > self.threshold


@dataclass(frozen=True)
class AlertRow:
    """One row of the multi-window, multi-burn-rate alert table."""

    severity: str
    long_window_s: float
    short_window_s: float
    burn_rate: float
    budget_consumed: float


# (severity, long window, short window, budget fraction spent in the long window): the SRE
# workbook's recommended table, stated for 30d and rescaled to any window by burn_rate_for.
_WORKBOOK_ROWS: tuple[tuple[str, float, float, float], ...] = (
    ("page", 3_600.0, 300.0, 0.02),
    ("page", 21_600.0, 1_800.0, 0.05),
    ("ticket", 86_400.0, 7_200.0, 0.10),
    ("ticket", 259_200.0, 21_600.0, 0.10),
)


def alert_table(window_s: float) -> list[AlertRow]:
    """The workbook's four alert rows with burn rates for an SLO window of ``window_s``.

    30d gives 14.4 / 6 / 3 / 1; 28d gives 13.44 / 5.6 / 2.8 / 0.933 (Sloth's factors).
    Rows whose long window is longer than the SLO window itself are left out: spending a
    fraction of a 1-day budget "over 3 days" is not a meaningful alert.
    """
    _check_positive("window_s", window_s)
    return [
        AlertRow(severity, long_s, short_s, burn_rate_for(consumed, long_s, window_s), consumed)
        for severity, long_s, short_s, consumed in _WORKBOOK_ROWS
        if long_s <= window_s
    ]
