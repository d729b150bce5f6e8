"""Turning evidence into a verdict per scenario and SLO (docs/architecture.md §1, §2).

Order of the checks, each with a human reason:

1. no expectation for the SLO, or fewer than ``min_events`` events in the fault window
   -> ``inconclusive`` (nothing to compare with / too few events to tell);
2. the whole 95% interval of the attributed budget lies above ``max_budget_consumed``, or the
   peak burn rate exceeds ``max_peak_burn_rate``, or recovery took longer than
   ``recover_within_seconds`` (or never came within an observed span at least that long)
   -> ``worse-than-expected``;
3. the whole interval lies below ``min_budget_consumed`` -> ``better-than-expected``
   (often a sign that the fault did not land);
4. the whole interval lies inside ``[min, max]`` -> ``as-expected``;
5. otherwise the interval straddles a bound -> ``inconclusive``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chaos_suite.report.formatting import percent, rate
from chaos_suite.report.record import Expectation


class Verdict(StrEnum):
    AS_EXPECTED = "as-expected"
    WORSE = "worse-than-expected"
    BETTER = "better-than-expected"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Evidence:
    """The observed figures a verdict is based on."""

    fault_total: int
    min_events: int
    attributed_ci: tuple[float, float] | None
    peak_burn_rate: float | None
    recovery_seconds: float | None
    observed_after_fault_s: float


def _interval(ci: tuple[float, float]) -> str:
    return f"[{percent(ci[0])}, {percent(ci[1])}] of the budget"


def _worse_reasons(expected: Expectation, evidence: Evidence, ci: tuple[float, float]) -> list[str]:
    reasons: list[str] = []
    top = expected.max_budget_consumed
    if top is not None and ci[0] > top:
        reasons.append(f"attributed spend 95% CI {_interval(ci)} lies above max {percent(top)}")
    peak_max = expected.max_peak_burn_rate
    peak = evidence.peak_burn_rate
    if peak_max is not None and peak is not None and peak > peak_max:
        reasons.append(f"peak burn rate {rate(peak)} exceeds max {rate(peak_max)}")
    within = expected.recover_within_seconds
    recovered = evidence.recovery_seconds
    if within is not None:
        if recovered is not None and recovered > within:
            reasons.append(f"recovered after {recovered:.0f} s, expected within {within:g} s")
        elif recovered is None and evidence.observed_after_fault_s >= within:
            reasons.append(
                f"burn rate still above 1 for {evidence.observed_after_fault_s:.0f} s after "
                f"the fault, expected recovery within {within:g} s"
            )
    return reasons


def _recovery_note(expected: Expectation, evidence: Evidence) -> str:
    within = expected.recover_within_seconds
    if within is None:
        return ""
    if evidence.recovery_seconds is None:
        return (
            f"; recovery not observable (only {evidence.observed_after_fault_s:.0f} s "
            f"observed after the fault, expected within {within:g} s)"
        )
    return f"; recovered after {evidence.recovery_seconds:.0f} s (expected within {within:g} s)"


def _bounds(low: float | None, high: float | None) -> str:
    """The expected budget range in words: "≤ 0.1%", "≥ 0.01%", "0.01% to 0.1%"."""
    if low is None:
        return f"≤ {percent(high)}" if high is not None else "any"
    if high is None:
        return f"≥ {percent(low)}"
    return f"{percent(low)} to {percent(high)}"


def decide(expected: Expectation, evidence: Evidence) -> tuple[Verdict, str]:
    """The verdict and its reason for one scenario and SLO."""
    if expected.is_empty:
        return Verdict.INCONCLUSIVE, "no expectation set for this SLO; figures are informative"
    if evidence.fault_total < evidence.min_events or evidence.attributed_ci is None:
        return Verdict.INCONCLUSIVE, (
            f"only {evidence.fault_total} events in the fault window, fewer than the "
            f"{evidence.min_events} needed to judge"
        )
    ci = evidence.attributed_ci
    worse = _worse_reasons(expected, evidence, ci)
    if worse:
        return Verdict.WORSE, "; ".join(worse)
    low, high = expected.min_budget_consumed, expected.max_budget_consumed
    if low is not None and ci[1] < low:
        return Verdict.BETTER, (
            f"attributed spend 95% CI {_interval(ci)} lies below min {percent(low)}: did the fault land?"
        )
    bounds = _bounds(low, high)
    if (low is None or ci[0] >= low) and (high is None or ci[1] <= high):
        peak = ""
        if expected.max_peak_burn_rate is not None:
            peak = f"; peak burn rate {rate(evidence.peak_burn_rate)}"
            peak += f" <= {rate(expected.max_peak_burn_rate)}"
        return Verdict.AS_EXPECTED, (
            f"attributed spend 95% CI {_interval(ci)} is inside the expectation ({bounds})"
            f"{peak}{_recovery_note(expected, evidence)}"
        )
    return Verdict.INCONCLUSIVE, (
        f"attributed spend 95% CI {_interval(ci)} straddles the expectation ({bounds}); "
        "more events would tell"
    )
