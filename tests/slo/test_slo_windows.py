"""OpenSLO windows (rolling and calendar-aligned, every unit), budgeting methods and the alert
windows Sloth and Pyrra generate: each figure worked out by hand in the test."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from chaos_suite.slo.alerting import AlertSource, alert_windows, exact
from chaos_suite.slo.budgeting import Budgeting, BudgetingMethod, sliced_consumed
from chaos_suite.slo.calendar import add_months, calendar_aligned, parse_shorthand, rolling

DAY = 86_400
UTC_ZONE = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(("text", "parsed"), [("1M", (1, "M")), ("1m", (1, "m")), ("2Q", (2, "Q")),
                                              ("1Y", (1, "Y")), ("4w", (4, "w")), ("30s", (30, "s"))])
def test_shorthand_is_case_sensitive(text: str, parsed: tuple[int, str]) -> None:
    assert parse_shorthand(text) == parsed


@pytest.mark.parametrize("bad", ["0d", "1.5d", "1x", "d", "1h30m", "-1d", ""])
def test_shorthand_refuses_anything_else(bad: str) -> None:
    with pytest.raises(ValueError, match="one of s m h d w M Q Y"):
        parse_shorthand(bad)


def test_add_months_clamps_to_the_last_day() -> None:
    assert add_months(datetime(2024, 1, 31), 1) == datetime(2024, 2, 29)
    assert add_months(datetime(2025, 3, 31), -1) == datetime(2025, 2, 28)
    assert add_months(datetime(2025, 11, 15), 3) == datetime(2026, 2, 15)


@pytest.mark.parametrize(
    ("count", "unit", "at", "days"),
    [
        (28, "d", datetime(2026, 3, 15, tzinfo=UTC), 28),
        (4, "w", datetime(2026, 3, 15, tzinfo=UTC), 28),
        # the month before 31 March 2026 starts on 28 February: 31 days
        (1, "M", datetime(2026, 3, 31, tzinfo=UTC), 31),
        # the month before 15 March 2024 starts on 15 February of a leap year: 29 days
        (1, "M", datetime(2024, 3, 15, tzinfo=UTC), 29),
        # a quarter back from 15 May 2026 is 15 February: 28 + 31 + 30 = 89 days
        (1, "Q", datetime(2026, 5, 15, tzinfo=UTC), 89),
        # a year back from 1 July 2024 crosses 29 February 2024: 366 days
        (1, "Y", datetime(2024, 7, 1, tzinfo=UTC), 366),
    ],
)
def test_rolling_windows(count: int, unit: str, at: datetime, days: int) -> None:
    window = rolling(count, unit, at)
    assert window.seconds == days * DAY
    assert window.end == at and not window.calendar


@pytest.mark.parametrize(
    ("count", "unit", "start", "at", "period", "days"),
    [
        # calendar quarter Q1 2026: January 31 + February 28 + March 31 = 90 days
        (1, "Q", datetime(2026, 1, 1), datetime(2026, 2, 15, tzinfo=UTC),
         (datetime(2026, 1, 1), datetime(2026, 4, 1)), 90),
        # Q3: July 31 + August 31 + September 30 = 92 days
        (1, "Q", datetime(2020, 1, 1), datetime(2026, 8, 1, tzinfo=UTC),
         (datetime(2026, 7, 1), datetime(2026, 10, 1)), 92),
        (1, "M", datetime(2020, 1, 1), datetime(2026, 2, 10, tzinfo=UTC),
         (datetime(2026, 2, 1), datetime(2026, 3, 1)), 28),
        (1, "Y", datetime(2020, 1, 1), datetime(2024, 6, 1, tzinfo=UTC),
         (datetime(2024, 1, 1), datetime(2025, 1, 1)), 366),
        # weeks from a Monday: the week holding Sunday 15 March 2026 began Monday the 9th
        (1, "w", datetime(2026, 1, 5), datetime(2026, 3, 15, 12, tzinfo=UTC),
         (datetime(2026, 3, 9), datetime(2026, 3, 16)), 7),
        # periods extend backwards from startTime too
        (1, "M", datetime(2026, 6, 1), datetime(2026, 2, 10, tzinfo=UTC),
         (datetime(2026, 2, 1), datetime(2026, 3, 1)), 28),
    ],
)
def test_calendar_windows_in_utc(count: int, unit: str, start: datetime, at: datetime,
                                 period: tuple[datetime, datetime], days: int) -> None:
    window = calendar_aligned(count, unit, start, UTC_ZONE, "UTC", at)
    assert (window.start.replace(tzinfo=None), window.end.replace(tzinfo=None)) == period
    assert window.seconds == days * DAY
    assert window.calendar and window.time_zone == "UTC"


def test_calendar_month_in_a_zone_with_dst() -> None:
    # March 2026 in New York starts at midnight EST and ends at midnight EDT: the clocks went
    # forward on 8 March, so the month lasts 31 days less one hour
    window = calendar_aligned(1, "M", datetime(2020, 1, 1), NEW_YORK, "America/New_York",
                              datetime(2026, 3, 15, tzinfo=UTC))
    assert window.seconds == 31 * DAY - 3_600
    day = calendar_aligned(1, "d", datetime(2020, 1, 1), NEW_YORK, "America/New_York",
                           datetime(2026, 3, 8, 12, tzinfo=UTC))
    assert day.seconds == 23 * 3_600


def test_calendar_start_time_must_be_wall_clock() -> None:
    with pytest.raises(ValueError, match="without a time zone"):
        calendar_aligned(1, "M", datetime(2026, 1, 1, tzinfo=UTC), UTC_ZONE, "UTC",
                         datetime(2026, 2, 1, tzinfo=UTC))


# ---------------------------------------------------------------- budgeting


def test_timeslices_budget_in_slices() -> None:
    # 99.9% of 1-minute slices over 30 days: 43200 slices, 43.2 of them may be bad
    budgeting = Budgeting(BudgetingMethod.TIMESLICES, slice_seconds=60, slice_target=0.95)
    assert budgeting.slices_in(30 * DAY) == 43_200
    assert budgeting.budget_slices(0.999, 30 * DAY) == pytest.approx(43.2)


def test_timeslices_spend_whole_slices() -> None:
    budgeting = Budgeting(BudgetingMethod.TIMESLICES, slice_seconds=60, slice_target=0.95)
    # minute 0: 10% errors (bad slice); minute 1: 4% errors (good: 96% >= 95%); minute 2: none
    buckets = [(t, 90, 100) for t in range(60)] + [(t, 96, 100) for t in range(60, 120)] \
        + [(t, 0, 0) for t in range(120, 180)]
    window = 30 * DAY
    # one bad slice of the 43.2 the budget allows
    assert sliced_consumed(buckets, 0.999, window, budgeting) == pytest.approx(1 / 43.2)


def test_ratio_timeslices_weigh_every_slice_alike() -> None:
    budgeting = Budgeting(BudgetingMethod.RATIO_TIMESLICES, slice_seconds=60)
    # a busy minute at 1% errors and a quiet one at 50% errors: (0.01 + 0.5) slices' worth
    buckets = [(0, 9_900, 10_000), (60, 1, 2)]
    assert sliced_consumed(buckets, 0.999, 30 * DAY, budgeting) == pytest.approx(0.51 / 43.2)
    assert sliced_consumed([(0, 0, 0)], 0.999, 30 * DAY, budgeting) is None


def test_budgeting_refuses_inconsistent_settings() -> None:
    with pytest.raises(ValueError, match="slice target"):
        Budgeting(BudgetingMethod.TIMESLICES, slice_seconds=60)
    with pytest.raises(ValueError, match="no slice target"):
        Budgeting(BudgetingMethod.RATIO_TIMESLICES, slice_seconds=60, slice_target=0.9)
    with pytest.raises(ValueError, match="no time slices"):
        Budgeting(BudgetingMethod.OCCURRENCES, slice_seconds=60)


# ---------------------------------------------------------------- alert windows


def rows(source: AlertSource, window_s: float) -> list[tuple[str, float, float, float, float | None]]:
    return [(r.severity, r.long_window_s, r.short_window_s, r.burn_rate, r.for_s)
            for r in alert_windows(source, window_s).rows]


def test_sloth_windows_at_30d_and_28d() -> None:
    # Sloth: factor = budget percent × period hours / 100 / long-window hours, no `for`
    assert rows(AlertSource.SLOTH, 30 * DAY) == [
        ("page", 3_600, 300, 14.4, None), ("page", 21_600, 1_800, 6, None),
        ("ticket", 86_400, 7_200, 3, None), ("ticket", 259_200, 21_600, 1, None)]
    # 2 × 672 / 100 / 1 = 13.44; 5 × 672 / 100 / 6 = 5.6; 10 × 672 / 100 / 24 = 2.8;
    # 10 × 672 / 100 / 72 = 0.9333...
    assert rows(AlertSource.SLOTH, 28 * DAY) == [
        ("page", 3_600, 300, 13.44, None), ("page", 21_600, 1_800, 5.6, None),
        ("ticket", 86_400, 7_200, 2.8, None), ("ticket", 259_200, 21_600, exact(28 / 30), None)]


def test_sloth_has_no_windows_for_other_periods() -> None:
    windows = alert_windows(AlertSource.SLOTH, 7 * DAY)
    assert windows.rows == () and windows.note is not None and "28d and 30d" in windows.note


def test_pyrra_windows_at_28d_30d_and_2w() -> None:
    # Pyrra at 28d: 1h/5m ×14 for 2m, 6h/30m ×7 for 15m, 1d/2h ×2 for 1h, 4d/6h ×1 for 3h
    assert rows(AlertSource.PYRRA, 28 * DAY) == [
        ("critical", 3_600, 300, 14, 120), ("critical", 21_600, 1_800, 7, 900),
        ("warning", 86_400, 7_200, 2, 3_600), ("warning", 345_600, 21_600, 1, 10_800)]
    # at 30d every window is 30/28 as long, rounded to the minute: 64m17s → 64m, 5m21s → 5m,
    # 2m8.6s → 2m; 6h25m43s → 6h26m, 32m8.6s → 32m, 16m4.3s → 16m; 25h42m51s → 25h43m,
    # 2h8m34s → 2h9m, 1h4m17s → 1h4m; 4d6h51m26s → 4d6h51m, 6h25m43s → 6h26m, 3h12m51s → 3h13m
    assert rows(AlertSource.PYRRA, 30 * DAY) == [
        ("critical", 3_840, 300, 14, 120), ("critical", 23_160, 1_920, 7, 960),
        ("warning", 92_580, 7_740, 2, 3_840), ("warning", 370_260, 23_160, 1, 11_580)]
    # 2w halves 28d: 30m/3m (2m30s rounds up) for 1m, 3h/15m for 8m, 12h/1h for 30m, 2d/3h for 1h30m
    assert rows(AlertSource.PYRRA, 14 * DAY) == [
        ("critical", 1_800, 180, 14, 60), ("critical", 10_800, 900, 7, 480),
        ("warning", 43_200, 3_600, 2, 1_800), ("warning", 172_800, 10_800, 1, 5_400)]


def test_workbook_note_for_a_window_too_short_for_any_row() -> None:
    windows = alert_windows(AlertSource.WORKBOOK, 60)
    assert windows.rows == () and windows.note is not None and "looks back 1h" in windows.note


def test_disabled_severities_are_left_out_and_said() -> None:
    windows = alert_windows(AlertSource.SLOTH, 30 * DAY, frozenset({"ticket"}))
    assert [r.severity for r in windows.rows] == ["page", "page"]
    assert windows.note == "ticket alerts disabled in the file"


def test_exact_drops_float_noise() -> None:
    assert 1 - 0.999 != 0.001 and exact(1 - 0.999) == 0.001
    assert exact((1 - 0.999) * 2_592_000) == 2592
