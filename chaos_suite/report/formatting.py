"""Shared text formatting for the renderers and verdict reasons."""

from __future__ import annotations

import math
from datetime import UTC, datetime


def iso(t: float | None) -> str | None:
    """Epoch seconds as ISO 8601 UTC with milliseconds: 2025-11-24T16:00:00.000Z."""
    if t is None:
        return None
    stamp = datetime.fromtimestamp(t, tz=UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def percent(fraction: float | None, significant: int = 3) -> str:
    """A fraction as a percentage with ``significant`` digits and no exponent.

    0.000386 -> "0.0386%", 0.125 -> "12.5%", 1.5 -> "150%"; tiny values read "<0.000001%".
    """
    if fraction is None:
        return "n/a"
    value = fraction * 100.0
    if value == 0:
        return "0%"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = min(6, max(0, significant - 1 - magnitude))
    if round(value, decimals) == 0:
        sign = "-" if value < 0 else ""
        return f"{sign}<0.000001%" if value > 0 else f">{sign}0.000001%"
    text = f"{value:.{decimals}f}"
    # "0.1%" rather than "0.100%": the digits that are there are significant.
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def rate(value: float | None) -> str:
    """A burn rate with 3 significant digits: 50, 14.4, 0.933."""
    if value is None:
        return "n/a"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"


def ratio(value: float | None) -> str:
    """An error ratio as a percentage of events: 0.05 -> "5.00%"."""
    return percent(value)
