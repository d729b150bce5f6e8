"""SLO windows as OpenSLO writes them (docs/architecture.md §1): ``<count><unit>``, unit one of
``s m h d w`` (fixed lengths) or ``M Q Y`` (months, quarters, years), rolling or aligned to a
calendar.

A window's length in seconds depends on the instant it is evaluated at whenever months are
involved (a calendar month has 28 to 31 days; a day that crosses a DST change in its time zone
has 23 or 25 hours). So every function takes that instant: this module stays pure (no clock),
and the file layer passes "now".

- *rolling* ``nM``: the n calendar months that end at the instant (Mar 31 back to Feb 28 or 29);
  fixed units are exact lengths.
- *calendar-aligned*: periods of ``<count><unit>`` laid end to end from ``startTime`` (wall-clock
  time in the window's time zone); the window is the period that contains the instant, and the
  budget is that period's.
"""

from __future__ import annotations

import calendar as _calendar
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

FIXED_UNITS: dict[str, int] = {"s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800}
MONTH_UNITS: dict[str, int] = {"M": 1, "Q": 3, "Y": 12}
UNIT_NAMES = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "M": "month",
              "Q": "quarter", "Y": "year"}
_SHORTHAND = re.compile(r"([0-9]+)([smhdwMQY])")
# mean Gregorian lengths, only to guess which calendar period holds an instant (then checked)
_MEAN_MONTH_S = 365.2425 * 86_400 / 12


@dataclass(frozen=True)
class Window:
    """One SLO window: ``count`` × ``unit``, the span it covers at the instant it was evaluated
    at, and whether it is calendar-aligned (then ``time_zone`` names the zone it aligns in)."""

    count: int
    unit: str
    calendar: bool
    start: datetime
    end: datetime
    time_zone: str | None = None

    @property
    def text(self) -> str:
        return f"{self.count}{self.unit}"

    @property
    def seconds(self) -> float:
        # in UTC: Python subtracts two datetimes of one zone as wall-clock times, which would
        # make a March in New York 31 days instead of 31 days less the hour DST takes
        return (self.end.astimezone(UTC) - self.start.astimezone(UTC)).total_seconds()

    @property
    def varies(self) -> bool:
        """Whether the length depends on when it is evaluated (months, or calendar days/weeks
        across a DST change): then the explanation names the span it was computed for."""
        return self.unit in MONTH_UNITS or (self.calendar and self.unit in ("d", "w"))


def parse_shorthand(text: str) -> tuple[int, str]:
    """'1M' → (1, 'M'). OpenSLO's duration-shorthand: a positive integer and a case-sensitive
    unit. Raises ValueError naming the allowed units."""
    match = _SHORTHAND.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None or int(match.group(1)) == 0:
        shown = repr(text) if len(repr(text)) <= 40 else repr(text)[:37] + "..."
        raise ValueError(f"expected a duration like '30d', '4w', '1M', '1Q', '1Y' (a positive "
                         f"whole number and one of s m h d w M Q Y); got {shown}")
    return int(match.group(1)), match.group(2)


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` later (earlier when negative), the day clamped to the
    month's last (Jan 31 + 1 month = Feb 28/29). Raises ValueError/OverflowError beyond year 9999."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    if not 1 <= year <= 9999:
        raise OverflowError("date out of range")
    day = min(moment.day, _calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def rolling(count: int, unit: str, at: datetime) -> Window:
    """The rolling window of ``count`` × ``unit`` that ends at ``at`` (an aware datetime)."""
    _check_aware(at)
    end = at.astimezone(UTC)
    if unit in FIXED_UNITS:
        start = end - timedelta(seconds=count * FIXED_UNITS[unit])
    else:
        start = add_months(end, -count * MONTH_UNITS[unit])
    return Window(count, unit, calendar=False, start=start, end=end)


def calendar_aligned(count: int, unit: str, start_time: datetime, zone: tzinfo, zone_name: str,
                     at: datetime) -> Window:
    """The calendar period that contains ``at``: periods of ``count`` × ``unit`` laid end to end
    from ``start_time`` (a naive wall-clock time in ``zone``), forwards and backwards."""
    _check_aware(at)
    if start_time.tzinfo is not None:
        raise ValueError("startTime is a wall-clock time without a time zone (timeZone names it)")
    first = _period_start(start_time, 0, count, unit, zone)
    # guess the period index from mean lengths, then step to the exact one
    mean = count * (FIXED_UNITS[unit] if unit in FIXED_UNITS else MONTH_UNITS[unit] * _MEAN_MONTH_S)
    index = math.floor((at - first).total_seconds() / mean)
    while _period_start(start_time, index, count, unit, zone) > at:
        index -= 1
    while _period_start(start_time, index + 1, count, unit, zone) <= at:
        index += 1
    start = _period_start(start_time, index, count, unit, zone)
    end = _period_start(start_time, index + 1, count, unit, zone)
    return Window(count, unit, calendar=True, start=start, end=end, time_zone=zone_name)


def _period_start(anchor: datetime, index: int, count: int, unit: str, zone: tzinfo) -> datetime:
    """Start of period ``index`` (0 starts at ``anchor``). Months, days and weeks step in wall
    clock time of the zone (a calendar day is midnight to midnight there, 23 or 25 hours across
    a DST change); hours, minutes and seconds step in elapsed time."""
    if unit in MONTH_UNITS:
        return add_months(anchor, index * count * MONTH_UNITS[unit]).replace(tzinfo=zone)
    if unit in ("d", "w"):
        days = index * count * FIXED_UNITS[unit] // 86_400
        return (anchor + timedelta(days=days)).replace(tzinfo=zone)
    elapsed = timedelta(seconds=index * count * FIXED_UNITS[unit])
    return (anchor.replace(tzinfo=zone).astimezone(UTC) + elapsed).astimezone(zone)


def _check_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("the instant a window is evaluated at must carry a time zone")
