"""Burn-rate alert windows as the tool that owns an SLO generates them (docs/architecture.md §2).

An SLO read from a Sloth or Pyrra file is alerted on by the rules that tool generates, so that
is what ``slo explain`` shows and what detection predictions must use; the tools differ:

- **workbook** (chaos_suite's own files, OpenSLO): the SRE workbook's four rows rescaled to the
  window (``budget.alert_table``); no ``for``.
- **Sloth**: the workbook's rows as its embedded window catalogue states them (budget shares 2%,
  5%, 10%, 10% over 1h/5m, 6h/30m, 1d/2h, 3d/6h), factor = share × period / long window, so
  14.4/6/3/1 at 30d and 13.44/5.6/2.8/0.93 at 28d; no ``for``. Sloth ships the catalogue for
  28d and 30d only and refuses any other period without a custom one.
- **Pyrra**: fixed factors 14/7/2/1 on windows that scale with the SLO window (1h/5m, 6h/30m,
  1d/2h, 4d/6h at 28d), each with a ``for`` (2m, 15m, 1h, 3h at 28d), every duration rounded to
  the minute as Go's ``Duration.Round`` does.

Also the OpenSLO alert policies a file declares (AlertPolicy / AlertCondition), kept as data.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from chaos_suite.slo.budget import alert_table


class AlertSource(StrEnum):
    WORKBOOK = "workbook"
    SLOTH = "sloth"
    PYRRA = "pyrra"


@dataclass(frozen=True)
class AlertWindow:
    """One multi-window row: fire when the burn rate over the long AND the short window exceed
    ``burn_rate`` (for ``for_s`` seconds, where the generator sets a ``for``)."""

    severity: str
    long_window_s: float
    short_window_s: float
    burn_rate: float
    budget_consumed: float
    for_s: float | None = None


@dataclass(frozen=True)
class AlertWindows:
    source: AlertSource
    rows: tuple[AlertWindow, ...]
    note: str | None = None


DAY_S = 86_400
SLOTH_PERIODS_S = (28 * DAY_S, 30 * DAY_S)
# Sloth's catalogue (severity, long, short, budget percent), the same for 28d and 30d
_SLOTH_ROWS: tuple[tuple[str, int, int, int], ...] = (
    ("page", 3_600, 300, 2),
    ("page", 21_600, 1_800, 5),
    ("ticket", 86_400, 7_200, 10),
    ("ticket", 259_200, 21_600, 10),
)
# Pyrra's Windows(): (severity, factor, long divisor, short divisor, for divisor) of the window
_PYRRA_ROWS: tuple[tuple[str, int, int, int, int], ...] = (
    ("critical", 14, 28 * 24, 28 * 24 * 12, 28 * 24 * 30),
    ("critical", 7, 28 * 4, 28 * 24 * 2, 28 * 24 * 4),
    ("warning", 2, 28, 28 * 12, 28 * 24),
    ("warning", 1, 7, 28 * 4, 28 * 8),
)
_NS = 1_000_000_000
_MINUTE_NS = 60 * _NS


def exact(value: float, digits: int = 12) -> float:
    """``value`` rounded to ``digits`` significant digits: 1 − 0.999 is 0.0010000000000000009 in
    binary floating point, and a JSON report should say 0.001."""
    if value == 0 or value != value or value in (float("inf"), float("-inf")):
        return value
    return float(f"{value:.{digits}g}")


def alert_windows(source: AlertSource, window_s: float,
                  disabled: frozenset[str] = frozenset()) -> AlertWindows:
    """The alert rows ``source`` generates for an SLO window of ``window_s`` seconds, without
    the severities in ``disabled``; ``note`` says why rows are missing."""
    if source is AlertSource.SLOTH:
        windows = _sloth(window_s)
    elif source is AlertSource.PYRRA:
        windows = _pyrra(window_s)
    else:
        windows = _workbook(window_s)
    if not disabled:
        return windows
    kept = tuple(row for row in windows.rows if row.severity not in disabled)
    note = (f"{', '.join(sorted(disabled))} alerts disabled in the file" if kept or not windows.rows
            else "no burn-rate alerts: the file turns them off")
    return AlertWindows(source, kept, f"{windows.note}; {note}" if windows.note else note)


def _workbook(window_s: float) -> AlertWindows:
    rows = tuple(AlertWindow(r.severity, r.long_window_s, r.short_window_s, exact(r.burn_rate),
                             r.budget_consumed) for r in alert_table(window_s))
    note = None
    if not rows:
        note = ("no alert row fits: the shortest workbook alert looks back 1h, longer than this "
                "window, so a burn shows only in the run's own figures and its abort rule")
    elif len(rows) < 4:
        note = "rows whose long window exceeds the SLO window are left out"
    return AlertWindows(AlertSource.WORKBOOK, rows, note)


def _sloth(window_s: float) -> AlertWindows:
    if window_s not in SLOTH_PERIODS_S:
        return AlertWindows(AlertSource.SLOTH, (), (
            "Sloth ships alert windows for 28d and 30d periods only and refuses this period "
            "unless given its own window catalogue (--slo-period-windows-path)"))
    # Sloth's getBurnRateFactor: percent × period hours / 100 / long-window hours (in Decimal
    # here, so 28d's 0.02 × 672 / 1 is 13.44 and not 13.440000000000001)
    period_h = Decimal(int(window_s)) / 3_600
    return AlertWindows(AlertSource.SLOTH, tuple(
        AlertWindow(severity, float(long_s), float(short_s),
                    exact(float(Decimal(percent) * period_h / 100 / (Decimal(long_s) / 3_600))),
                    percent / 100)
        for severity, long_s, short_s, percent in _SLOTH_ROWS))


def _go_round_minute(ns: int) -> int:
    """Go's Duration.Round(time.Minute) for a positive duration: halves round up."""
    quotient, remainder = divmod(ns, _MINUTE_NS)
    return (quotient + (1 if remainder + remainder >= _MINUTE_NS else 0)) * _MINUTE_NS


def _pyrra(window_s: float) -> AlertWindows:
    window_ns = round(window_s * _NS)
    rows: list[AlertWindow] = []
    for severity, factor, long_div, short_div, for_div in _PYRRA_ROWS:
        # Go divides the window's nanoseconds as integers, then rounds to the minute
        long_s, short_s, for_s = (_go_round_minute(window_ns // div) / _NS
                                  for div in (long_div, short_div, for_div))
        rows.append(AlertWindow(severity, long_s, short_s, float(factor),
                                exact(factor * long_s / window_s), for_s))
    note = None
    if any(row.short_window_s == 0 or row.long_window_s == 0 for row in rows):
        note = ("Pyrra rounds its windows to whole minutes; at this SLO window some round to 0 "
                "and those alerts cannot fire")
    return AlertWindows(AlertSource.PYRRA, tuple(rows), note)


# ---------------------------------------------------------------- OpenSLO alert policies


@dataclass(frozen=True)
class BurnRateCondition:
    """An OpenSLO AlertCondition of kind burnrate: alert when the burn rate over
    ``lookback_s`` compares ``op`` against ``threshold`` for ``alert_after_s``."""

    name: str
    severity: str
    threshold: float
    lookback_s: float
    alert_after_s: float = 0.0
    op: str | None = None


@dataclass(frozen=True)
class AlertPolicy:
    """An OpenSLO AlertPolicy, its condition resolved and its notification targets named."""

    name: str
    conditions: tuple[BurnRateCondition, ...]
    targets: tuple[str, ...] = ()
    when_breaching: bool = True
    when_resolved: bool = False
    when_no_data: bool = False
