"""Budget arithmetic against the SRE workbook's table and Sloth's 28-day factors."""

from __future__ import annotations

import math

import pytest

from chaos_suite.slo import (
    MultiWindowRule,
    alert_table,
    attributed_consumption,
    budget_consumed,
    budget_spend,
    burn_rate,
    burn_rate_for,
    consumed_over_buckets,
    error_ratio,
    parse_duration,
    pooled_burn_rate,
    time_to_exhaustion,
    wilson_interval,
)

P30 = parse_duration("30d")
P28 = parse_duration("4w")


@pytest.mark.parametrize(
    ("rate", "long_window", "consumed"), [(14.4, "1h", 0.02), (6, "6h", 0.05), (1, "3d", 0.10)]
)
def test_workbook_burn_rates_consume_the_workbook_fractions(
    rate: float, long_window: str, consumed: float
) -> None:
    assert budget_consumed(rate, parse_duration(long_window), P30) == pytest.approx(consumed)
    assert burn_rate_for(consumed, parse_duration(long_window), P30) == pytest.approx(rate)


def test_alert_table_for_30_days_is_the_workbook_table() -> None:
    rows = alert_table(P30)
    assert [r.severity for r in rows] == ["page", "page", "ticket", "ticket"]
    assert [r.long_window_s for r in rows] == [3_600, 21_600, 86_400, 259_200]
    assert [r.short_window_s for r in rows] == [300, 1_800, 7_200, 21_600]
    assert [r.burn_rate for r in rows] == pytest.approx([14.4, 6, 3, 1])
    assert [r.budget_consumed for r in rows] == pytest.approx([0.02, 0.05, 0.10, 0.10])
    for row in rows:  # every short window is 1/12 of its long one
        assert row.short_window_s == pytest.approx(row.long_window_s / 12)


def test_alert_table_for_28_days_gives_sloths_factors() -> None:
    assert [round(r.burn_rate, 2) for r in alert_table(P28)] == [13.44, 5.6, 2.8, 0.93]


def test_alert_table_leaves_out_rows_longer_than_the_window() -> None:
    assert [r.long_window_s for r in alert_table(parse_duration("1d"))] == [3_600, 21_600, 86_400]


def test_error_ratio_without_traffic_is_no_data() -> None:
    assert error_ratio(0, 0) is None
    assert error_ratio(990, 1000) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="good <= total"):
        error_ratio(5, 4)


def test_burn_rate_one_spends_the_budget_over_the_window() -> None:
    rate = burn_rate(0.001, 0.999)
    assert rate == pytest.approx(1.0)
    assert budget_consumed(rate, P30, P30) == pytest.approx(1.0)
    assert time_to_exhaustion(rate, P30) == pytest.approx(P30)
    assert time_to_exhaustion(14.4, P30) == pytest.approx(P30 / 14.4)
    assert time_to_exhaustion(0.0, P30) == math.inf


def test_burn_rate_needs_an_objective_below_one() -> None:
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        burn_rate(0.1, 1.0)


def test_event_form_equals_time_form_at_constant_traffic() -> None:
    objective, per_second, bad_per_second, seconds = 0.999, 1_000, 50, 20
    buckets = [(1.0, per_second - bad_per_second, per_second)] * seconds
    time_form = consumed_over_buckets(buckets, objective, P30)
    # Event form: C = bad / (B * N_P), N_P = events expected in the window at this traffic.
    events_in_window = per_second * P30
    event_form = bad_per_second * seconds / ((1 - objective) * events_in_window)
    assert time_form == pytest.approx(event_form)


def test_buckets_without_traffic_are_skipped_not_counted_as_good() -> None:
    with_gaps = [(1.0, 950, 1000), (1.0, 0, 0), (1.0, 950, 1000)]
    without = [(1.0, 950, 1000), (1.0, 950, 1000)]
    assert consumed_over_buckets(with_gaps, 0.999, P30) == consumed_over_buckets(without, 0.999, P30)
    assert consumed_over_buckets([(1.0, 0, 0)], 0.999, P30) == 0.0


def test_attributed_consumption_subtracts_the_baseline_burn() -> None:
    consumed = budget_consumed(50, 20, P30)
    attributed = attributed_consumption(consumed, 2.0, 20, P30)
    assert attributed == pytest.approx(budget_consumed(48, 20, P30))
    assert attributed_consumption(consumed, 60.0, 20, P30) < 0  # kept, not clamped


def test_wilson_interval_basic_properties() -> None:
    low, high = wilson_interval(50, 1000)
    assert low < 0.05 < high
    narrow_low, narrow_high = wilson_interval(500, 10_000)
    assert narrow_high - narrow_low < high - low
    assert wilson_interval(0, 1000)[0] == 0.0
    assert 0 < wilson_interval(0, 1000)[1] < 0.01
    assert wilson_interval(1000, 1000)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_wilson_interval_matches_the_closed_form() -> None:
    bad, total, z = 5, 100, 1.96
    p = bad / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z / (1 + z * z / total) * math.sqrt(p * (1 - p) / total + z * z / (4 * total**2))
    assert wilson_interval(bad, total) == pytest.approx((centre - half, centre + half))


def test_multi_window_rule_needs_both_windows_strictly_above() -> None:
    rule = MultiWindowRule.with_default_short(3_600, 14.4)
    assert rule.short_window_s == 300
    assert rule.fires(15, 15)
    assert not rule.fires(15, 10)
    assert not rule.fires(10, 15)
    assert not rule.fires(14.4, 14.4)  # exactly at the threshold: tolerated pace
    assert not rule.fires(None, 20)


def test_multi_window_rule_validates_its_windows() -> None:
    with pytest.raises(ValueError, match="short window"):
        MultiWindowRule(60, 120, 2.0)
    with pytest.raises(ValueError, match="threshold"):
        MultiWindowRule(60, 5, 0)


def test_pooled_burn_rate_is_none_without_events() -> None:
    assert pooled_burn_rate(0, 0, 0.999) is None
    assert pooled_burn_rate(990, 1000, 0.999) == pytest.approx(10.0)
    assert pooled_burn_rate(990, 1000, 0.999) == burn_rate(0.01, 0.999)


def test_budget_spend_agrees_with_the_bucket_sum_and_attribution() -> None:
    buckets = [(1.0, 990, 1000), (1.0, 0, 0), (1.0, 995, 1000), (1.0, 1000, 1000)]
    spend = budget_spend(buckets, 0.999, P30, baseline_burn_rate=2.0)
    assert spend is not None
    assert spend.data_seconds == 3.0  # the empty second neither spends nor counts
    assert spend.consumed == consumed_over_buckets(buckets, 0.999, P30)
    assert spend.attributed == attributed_consumption(spend.consumed, 2.0, 3.0, P30)
    assert spend.attributed_of(0.5) == attributed_consumption(0.5, 2.0, 3.0, P30)
    no_baseline = budget_spend(buckets, 0.999, P30)
    assert no_baseline is not None and no_baseline.attributed == no_baseline.consumed
    assert budget_spend([(1.0, 0, 0)], 0.999, P30) is None  # no data is unknown, not 0
    assert budget_spend([], 0.999, P30) is None
