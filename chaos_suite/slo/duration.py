"""Durations as people write them in SLO files ("30d", "4w", "1h30m") and as seconds.

Units, largest first: ``w`` (7 days), ``d``, ``h``, ``m``, ``s``. A string is one or more
``<number><unit>`` parts, units in descending order and each at most once (the Prometheus
convention, so "5m1h" is rejected as a likely typo). A bare number means seconds. Other letters
may be upper case ("1H"), but not ``M``, ``Q`` and ``Y``: OpenSLO's months, quarters and years
(chaos_suite.slo.calendar) have no fixed length, and "1M" must never read as one minute.
"""

from __future__ import annotations

import math
import re

_UNITS: dict[str, int] = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_UNIT_ORDER = "wdhms"
_PART = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")
_PLAIN_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_EXPECTED = "expected a duration like '30d', '4w', '1h', '5m', '30s' (or seconds as a number)"
_CALENDAR_UNITS = {"M": "month", "Q": "quarter", "Y": "year"}

MAX_PHASE_SECONDS = 86_400.0
"""Upper bound of anything that happens within one run (baseline, cool-down, windows the
safeguard and the hypothesis look back over, probe intervals): a run longer than a day is a typo."""

MAX_SLO_WINDOW_SECONDS = 1_825 * 86_400.0
"""Upper bound of an SLO window (5 × 365 days): budgets are planned over weeks to quarters."""


def _shown(value: object) -> str:
    """The value as quoted in a message, shortened, so that the message stays one readable line."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _positive_finite(seconds: float, original: object) -> float:
    """Durations are lengths of windows: zero, negative, NaN or infinite make no sense."""
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"{_EXPECTED}; got {_shown(original)} (must be positive and finite)")
    return seconds


def _parse_units(text: str, original: object) -> float:
    """Sum the ``<number><unit>`` parts; the whole string must be consumed."""
    total = 0.0
    position = 0
    last_rank = -1
    for match in _PART.finditer(text):
        if match.start() != position:
            break
        rank = _UNIT_ORDER.index(match.group(2))
        if rank <= last_rank:
            raise ValueError(f"{_EXPECTED}; got {_shown(original)} "
                             "(units must appear largest first, each once)")
        last_rank = rank
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position != len(text) or position == 0:
        raise ValueError(f"{_EXPECTED}; got {_shown(original)}")
    return total


def parse_duration(value: str | float, *, maximum: float | None = None) -> float:
    """Return ``value`` in seconds.

    Accepts numbers (seconds) and strings such as "30d", "4w", "1h30m", "2.5s" or "90".
    Raises :class:`ValueError` for anything else, including zero and negative durations and,
    given ``maximum``, durations longer than that many seconds.
    """
    seconds = _parse(value)
    if maximum is not None and seconds > maximum:
        # say the bound: "1000000w" is almost certainly a typo, and the fix is to know the limit
        raise ValueError(f"duration {_shown(value)} is too long: at most {_describe_limit(maximum)}")
    return seconds


def _describe_limit(seconds: float) -> str:
    """A bound as people think of it: '24h' rather than '1d', '1825d (5 years)'."""
    year = 365 * 86_400
    if seconds <= 2 * 86_400 and seconds % 3_600 == 0:
        return f"{int(seconds // 3_600)}h"
    if seconds % year == 0:
        return f"{format_duration(seconds)} ({int(seconds // year)} years)"
    return format_duration(seconds)


def _parse(value: str | float) -> float:
    # bool is an int subclass; True as "1 second" is always a mistake in a config file.
    # ValueError (not TypeError) throughout: config loaders catch one exception type.
    if isinstance(value, bool):
        raise ValueError(f"{_EXPECTED}; got {_shown(value)}")
    if isinstance(value, (int, float)):
        return _positive_finite(float(value), value)
    if not isinstance(value, str):
        raise ValueError(f"{_EXPECTED}; got {_shown(value)}")
    compact = "".join(value.split())
    # 'M', 'Q' and 'Y' are months, quarters and years in OpenSLO: lowercasing 'M' would read
    # "1M" as one minute. They have no fixed length in seconds, so they are refused here;
    # OpenSLO windows go through chaos_suite.slo.calendar instead.
    calendar_unit = re.search(r"\d([MQY])", compact)
    if calendar_unit:
        raise ValueError(f"{_EXPECTED}; got {_shown(value)} ('{calendar_unit.group(1)}' is a "
                         f"{_CALENDAR_UNITS[calendar_unit.group(1)]}, which has no fixed length: "
                         "write days, e.g. '30d', or 'm' for minutes)")
    # "1h 30m" and "1H" are harmless spellings of "1h30m" and "1h".
    text = compact.lower()
    if _PLAIN_NUMBER.fullmatch(text):
        return _positive_finite(float(text), value)
    return _positive_finite(_parse_units(text, value), value)


def _format_seconds(seconds: float) -> str:
    """Seconds with at most millisecond precision and no trailing zeros: 2.5, 30, 0.125."""
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def format_duration(seconds: float) -> str:
    """Format seconds compactly: 2592000 -> "30d", 5400 -> "1h30m", 2.5 -> "2.5s".

    Days are the largest unit (an SLO window of 28d reads better than "4w"). Sub-second parts
    are kept to the millisecond. The output always parses back with :func:`parse_duration`
    (for positive input).
    """
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"cannot format {seconds!r} as a duration (must be >= 0 and finite)")
    # Round to milliseconds first so 59.9999 does not print as "60s" next to "0m".
    millis = round(seconds * 1000)
    whole, frac_ms = divmod(millis, 1000)
    parts: list[str] = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        count, whole = divmod(whole, size)
        if count:
            parts.append(f"{count}{unit}")
    if whole or frac_ms or not parts:
        parts.append(f"{_format_seconds(whole + frac_ms / 1000)}s")
    return "".join(parts)
