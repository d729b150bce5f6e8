"""The review's period and the one before it, from `--month` or `--since`/`--until` (UTC).

Periods are half-open, [start, end): a run that starts exactly at midnight on the first of a month
belongs to that month only. The previous period is the one the verdicts are compared with: the
calendar month before for `--month`, else a span of the same length just before `start`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chaos_suite.errors import InputError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DAY_S = 86_400.0


@dataclass(frozen=True)
class Period:
    """[start, end) in epoch seconds; ``label`` names it in file names and headings."""

    start: float
    end: float
    label: str

    def __contains__(self, t: float) -> bool:
        return self.start <= t < self.end

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Periods:
    current: Period
    previous: Period

    @property
    def first(self) -> float:
        """The earliest time either period covers: runs before it are not read."""
        return self.previous.start


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _month_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC)


def _next_month(moment: datetime) -> datetime:
    return _month_start(moment.year + moment.month // 12, moment.month % 12 + 1)


def _previous_month(moment: datetime) -> datetime:
    return _month_start(moment.year - (moment.month == 1), (moment.month - 2) % 12 + 1)


def month_periods(value: str) -> Periods:
    match = _MONTH.match(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
        raise InputError(f"--month: expected YYYY-MM (e.g. 2026-11), got {value!r}")
    start = _month_start(int(match.group(1)), int(match.group(2)))
    before = _previous_month(start)
    return Periods(Period(_epoch(start), _epoch(_next_month(start)), start.strftime("%Y-%m")),
                   Period(_epoch(before), _epoch(start), before.strftime("%Y-%m")))


def parse_moment(value: str, option: str, *, end_of_day: bool = False) -> float:
    """A date (YYYY-MM-DD, midnight UTC; with ``end_of_day`` the midnight after it, so that
    `--until 2026-11-30` includes the 30th) or an ISO 8601 time (UTC unless it says otherwise)."""
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option}: expected a date (YYYY-MM-DD) or an ISO 8601 time, "
                         f"got {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if end_of_day and _DATE.match(text):
        moment += timedelta(days=1)
    return _epoch(moment)


def _label(t: float) -> str:
    moment = datetime.fromtimestamp(t, UTC)
    return moment.strftime("%Y-%m-%d" if moment.time() == datetime.min.time() else "%Y-%m-%dT%H%M%SZ")


def span_periods(since: float, until: float) -> Periods:
    if until <= since:
        raise InputError("--until must be later than --since")
    length = until - since
    return Periods(Period(since, until, f"{_label(since)}_{_label(until)}"),
                   Period(since - length, since, f"{_label(since - length)}_{_label(since)}"))


def choose_periods(month: str | None, since: str | None, until: str | None,
                   now: float | None = None) -> Periods:
    """`--month`, or `--since` (and `--until`, default now), or by default the current calendar
    month (UTC) up to its end; InputError (exit 2) for contradictory options."""
    if month is not None and (since is not None or until is not None):
        raise InputError("give either --month or --since/--until, not both")
    if until is not None and since is None:
        raise InputError("--until needs --since")
    if month is not None:
        return month_periods(month)
    if since is not None:
        start = parse_moment(since, "--since")
        end = (parse_moment(until, "--until", end_of_day=True) if until is not None
               else (time.time() if now is None else now))
        return span_periods(start, end)
    today = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    return month_periods(today.strftime("%Y-%m"))
