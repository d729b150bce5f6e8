"""Property tests: the formulas agree with each other for any valid input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chaos_suite.slo import (
    budget_consumed,
    burn_rate,
    burn_rate_for,
    consumed_over_buckets,
    wilson_interval,
)

objectives = st.floats(min_value=0.5, max_value=0.99999)
windows = st.floats(min_value=60.0, max_value=400 * 86_400.0)


@st.composite
def counts(draw: st.DrawFn) -> tuple[int, int]:
    total = draw(st.integers(min_value=1, max_value=10**6))
    return draw(st.integers(min_value=0, max_value=total)), total


@given(counts(), st.floats(min_value=0.5, max_value=3.5))
def test_wilson_interval_contains_the_estimate_and_stays_in_range(
    bad_total: tuple[int, int], z: float
) -> None:
    bad, total = bad_total
    low, high = wilson_interval(bad, total, z)
    assert 0.0 <= low <= bad / total <= high <= 1.0


@given(st.integers(min_value=0, max_value=1000), st.integers(min_value=1, max_value=1000))
def test_wilson_interval_narrows_with_more_events(bad: int, extra: int) -> None:
    total = bad + extra
    low, high = wilson_interval(bad, total)
    low10, high10 = wilson_interval(bad * 10, total * 10)
    assert high10 - low10 < high - low


@given(st.floats(min_value=0, max_value=1), objectives, windows, st.floats(min_value=1, max_value=10**6))
def test_burn_rate_for_inverts_budget_consumed(
    ratio: float, objective: float, window: float, interval: float
) -> None:
    rate = burn_rate(ratio, objective)
    consumed = budget_consumed(rate, interval, window)
    assert burn_rate_for(consumed, interval, window) == pytest.approx(rate, rel=1e-9, abs=1e-12)


@given(st.lists(counts(), min_size=1, max_size=50), objectives, windows)
def test_consumption_is_the_sum_of_per_bucket_consumption(
    buckets: list[tuple[int, int]], objective: float, window: float
) -> None:
    together = consumed_over_buckets([(1.0, total - bad, total) for bad, total in buckets], objective, window)
    separately = sum(
        consumed_over_buckets([(1.0, total - bad, total)], objective, window) for bad, total in buckets
    )
    assert together == pytest.approx(separately)
    assert together >= 0


@given(
    st.integers(min_value=1, max_value=10**5), st.integers(min_value=1, max_value=100), objectives, windows
)
def test_event_form_equals_time_form_for_any_constant_traffic(
    per_second: int, seconds: int, objective: float, window: float
) -> None:
    bad = per_second // 3
    time_form = consumed_over_buckets([(1.0, per_second - bad, per_second)] * seconds, objective, window)
    event_form = bad * seconds / ((1 - objective) * per_second * window)
    assert time_form == pytest.approx(event_form)
