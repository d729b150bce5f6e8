"""Durations: the spellings SLO files use, and their formatting."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chaos_suite.slo import format_duration, parse_duration
from chaos_suite.slo.duration import MAX_PHASE_SECONDS, MAX_SLO_WINDOW_SECONDS

DAY = 86_400


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30d", 30 * DAY),
        ("4w", 28 * DAY),
        ("1h", 3_600),
        ("5m", 300),
        ("30s", 30),
        ("1h30m", 5_400),
        ("1d12h", 36 * DAY // 24),
        ("2.5s", 2.5),
        ("1.5h", 5_400),
        ("90", 90),
        (" 1h 30m ", 5_400),
        ("1H", 3_600),
        (90, 90),
        (2.5, 2.5),
    ],
)
def test_parse_accepts_the_usual_spellings(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "abc",
        "30x",
        "-5m",
        "-5",
        "0",
        "0s",
        "0d",
        "5m1h",
        "1h1h",
        "1h30",
        "h",
        "1e3s",
        -1,
        0,
        0.0,
        float("nan"),
        float("inf"),
        True,
        None,
        [1],
    ],
)
def test_parse_rejects_what_is_not_a_positive_duration(bad: object) -> None:
    with pytest.raises(ValueError, match="expected a duration like '30d', '4w', '1h'"):
        parse_duration(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "unit"), [("1M", "month"), ("1h30M", "month"), ("1Q", "quarter"),
                                           ("2Y", "year")])
def test_calendar_units_are_refused_not_read_as_minutes(text: str, unit: str) -> None:
    # OpenSLO's 'M' is a month; lowercasing it made "1M" one minute
    with pytest.raises(ValueError, match=f"'{text[-1]}' is a {unit}, which has no fixed length"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (30 * DAY, "30d"),
        (28 * DAY, "28d"),
        (3_600, "1h"),
        (300, "5m"),
        (5_400, "1h30m"),
        (2.5, "2.5s"),
        (90.5, "1m30.5s"),
        (DAY + 1, "1d1s"),
        (0, "0s"),
    ],
)
def test_format_is_compact(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_rounds_to_milliseconds_without_a_60s_part() -> None:
    assert format_duration(59.9999) == "1m"


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_format_rejects_negative_and_non_finite(bad: float) -> None:
    with pytest.raises(ValueError, match="cannot format"):
        format_duration(bad)


@given(st.integers(min_value=1, max_value=400 * DAY))
def test_whole_seconds_round_trip(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@given(st.integers(min_value=1, max_value=10**9))
def test_fractional_seconds_round_trip_to_the_millisecond(millis: int) -> None:
    seconds = millis / 1000
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds, abs=5e-4)


@pytest.mark.parametrize(
    ("maximum", "value", "limit"),
    [
        (MAX_PHASE_SECONDS, "1000000w", "at most 24h"),
        (MAX_PHASE_SECONDS, "24h1s", "at most 24h"),
        (MAX_PHASE_SECONDS, 1e300, "at most 24h"),
        (MAX_SLO_WINDOW_SECONDS, "1826d", "at most 1825d (5 years)"),
        (MAX_SLO_WINDOW_SECONDS, "9" * 400 + "d", "must be positive and finite"),
    ],
)
def test_parse_refuses_durations_beyond_the_maximum(maximum: float, value: str | float,
                                                    limit: str) -> None:
    with pytest.raises(ValueError, match=re.escape(limit)) as info:
        parse_duration(value, maximum=maximum)
    assert len(str(info.value)) < 200  # a long value is shortened, the message stays readable


def test_parse_accepts_durations_at_the_maximum() -> None:
    assert parse_duration("24h", maximum=MAX_PHASE_SECONDS) == DAY
    assert parse_duration("1825d", maximum=MAX_SLO_WINDOW_SECONDS) == 1825 * DAY
    assert parse_duration("1000000w") == 1_000_000 * 7 * DAY  # no maximum, no bound
