"""Rank tests for "did the fault change this?" in pure Python (no scipy dependency).

:func:`mann_whitney_u` is the two-sided Mann-Whitney U (Wilcoxon rank-sum) test as Kayenta's
judge applies it to canary metrics: it compares two samples without assuming a distribution,
so per-second latency of the baseline against the fault window is a tested difference even
when no request crossed an SLO's threshold.

Method (what scipy.stats.mannwhitneyu calls ``method="asymptotic"``, ``use_continuity=True``):
ties get midranks; U of the first sample is its rank sum less n1(n1+1)/2; the normal
approximation has mean n1·n2/2 and the tie-corrected variance
n1·n2/12 · ((n + 1) − Σ(t³ − t) / (n(n − 1))); the continuity correction moves |U − mean| half
a step towards it; p = erfc(z / √2), at most 1. Effect sizes: the common-language effect size
CL = U / (n1·n2) (the chance that a value of the first sample exceeds one of the second, ties
counting half) and the rank-biserial correlation r = 2·CL − 1 (−1 to 1; 0 is no difference).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ALPHA", "MannWhitney", "mann_whitney_u", "midranks"]

ALPHA = 0.05


@dataclass(frozen=True)
class MannWhitney:
    """The test of sample ``x`` against sample ``y``; positive effects mean x tends larger."""

    u: float  # U of x
    p_value: float  # two-sided
    z: float  # continuity-corrected normal score, signed like U − n1·n2/2
    common_language: float  # U / (n1·n2)
    rank_biserial: float  # 2·CL − 1
    n_x: int
    n_y: int

    def significant(self, alpha: float = ALPHA) -> bool:
        return self.p_value < alpha


def midranks(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """1-based ranks with ties sharing the mean of their positions, and the size of each
    group of ties (for the variance correction)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    ties: list[int] = []
    start = 0
    while start < len(order):
        stop = start
        while stop + 1 < len(order) and values[order[stop + 1]] == values[order[start]]:
            stop += 1
        rank = (start + stop) / 2 + 1  # mean of positions start+1 .. stop+1
        for k in range(start, stop + 1):
            ranks[order[k]] = rank
        ties.append(stop - start + 1)
        start = stop + 1
    return ranks, ties


def mann_whitney_u(x: Sequence[float], y: Sequence[float]) -> MannWhitney | None:
    """Two-sided Mann-Whitney U test of x against y; None when either sample is empty.

    NaN values must be filtered out by the caller (they have no rank)."""
    n_x, n_y = len(x), len(y)
    if n_x == 0 or n_y == 0:
        return None
    ranks, ties = midranks([*x, *y])
    u = sum(ranks[:n_x]) - n_x * (n_x + 1) / 2
    n = n_x + n_y
    product = n_x * n_y
    mean = product / 2
    tie_term = sum(t**3 - t for t in ties) / (n * (n - 1)) if n > 1 else 0.0
    variance = product / 12 * ((n + 1) - tie_term)
    cl = u / product
    if variance <= 0:  # every value tied: no evidence of a difference
        return MannWhitney(u, 1.0, 0.0, cl, 2 * cl - 1, n_x, n_y)
    distance = max(0.0, abs(u - mean) - 0.5)
    z = math.copysign(distance / math.sqrt(variance), u - mean)
    p = min(1.0, math.erfc(abs(z) / math.sqrt(2)))
    return MannWhitney(u, p, z, cl, 2 * cl - 1, n_x, n_y)
