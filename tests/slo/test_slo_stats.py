"""The Mann-Whitney U test against textbook figures, hand-computed ties and (when installed)
scipy.stats.mannwhitneyu."""

from __future__ import annotations

import math
import random

import pytest

from chaos_suite.slo.stats import mann_whitney_u, midranks


def test_scipy_documentation_example() -> None:
    # scipy's mannwhitneyu docs: males vs females, asymptotic with continuity: p = 0.1113...
    result = mann_whitney_u([19, 22, 16, 29, 24], [20, 11, 17, 12])
    assert result is not None
    assert result.u == 17.0
    assert result.p_value == pytest.approx(0.11134688653314041, rel=1e-12)
    assert result.common_language == pytest.approx(17 / 20)
    assert result.rank_biserial == pytest.approx(0.7)
    assert (result.n_x, result.n_y) == (5, 4) and not result.significant()


def test_midranks_share_the_mean_position() -> None:
    ranks, ties = midranks([2, 1, 3, 2, 4, 3, 4, 2])
    assert ranks == [3, 1, 5.5, 3, 7.5, 5.5, 7.5, 3]
    assert sorted(ties) == [1, 2, 2, 3]


def test_ties_by_hand() -> None:
    # ranks of [1,2,2,3 | 2,3,4,4]: x = 1 + 3 + 3 + 5.5 = 12.5, U = 12.5 - 10 = 2.5; mean 8;
    # variance 16/12 * (9 - (0 + 24 + 6 + 6) / 56) = 11.142857; z = (5.5 - 0.5) / sqrt(var)
    result = mann_whitney_u([1, 2, 2, 3], [2, 3, 4, 4])
    assert result is not None and result.u == 2.5
    z = 5 / math.sqrt(16 / 12 * (9 - 36 / 56))
    assert result.z == pytest.approx(-z)
    assert result.p_value == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert result.p_value == pytest.approx(0.1342, abs=1e-4)


def test_complete_separation_and_no_difference() -> None:
    slow = mann_whitney_u([float(v) for v in range(200, 220)], [float(v) for v in range(10, 30)])
    assert slow is not None and slow.significant() and slow.rank_biserial == 1.0
    # x vs y: 3 vs 3 separated is U = 0: p = erfc(((4.5 - 0.5) / sqrt(5.25)) / sqrt 2)
    small = mann_whitney_u([1, 2, 3], [4, 5, 6])
    assert small is not None and small.p_value == pytest.approx(0.0808556, abs=1e-6)
    same = mann_whitney_u([5.0] * 6, [5.0] * 4)
    assert same is not None and same.p_value == 1.0 and same.rank_biserial == 0.0
    assert mann_whitney_u([], [1.0]) is None and mann_whitney_u([1.0], []) is None


def test_agrees_with_scipy_when_installed() -> None:
    stats = pytest.importorskip("scipy.stats")
    rng = random.Random(7)
    for _ in range(50):
        x = [round(rng.gauss(20, 5)) for _ in range(rng.randint(1, 30))]
        y = [round(rng.gauss(22, 5)) for _ in range(rng.randint(1, 30))]
        ours = mann_whitney_u(x, y)
        theirs = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic")
        assert ours is not None
        assert ours.u == pytest.approx(theirs.statistic)
        assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9, abs=1e-12)
