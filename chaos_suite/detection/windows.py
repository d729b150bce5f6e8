"""Window sets: the multi-window, multi-burn-rate alerts an SLO is alerted on (pure, no I/O).

A window set is a list of :class:`BurnAlert` rows: fire when the error ratio over the long AND
the short window both exceed ``factor`` × the error budget, held for ``for_s``. The built-in
sets are the ones ``slo/alerting.py`` states for ``slo explain``, so the rules ``slo rules``
writes, the table ``slo explain`` prints and the coverage ``predict`` computes read the same rows:

- ``google``: the SRE workbook's 1h/5m, 6h/30m (page), 1d/2h, 3d/6h (ticket), factors rescaled to
  the SLO window (14.4/6/3/1 at 30d); rows longer than the SLO window are left out;
- ``sloth``: the same rows as Sloth's catalogue states them, for 28d and 30d periods only;
- ``pyrra``: factors 14/7/2/1 on windows scaled from 1h/5m, 6h/30m, 1d/2h, 4d/6h at 28d, with
  ``for`` 2m, 15m, 1h, 3h (Pyrra's critical and warning are page and ticket here).

A custom set (``--windows FILE``, detection/window_file.py) states its rows absolutely: they are
not rescaled to the SLO window, so a gameday on a test target can use 1m/5s windows. An OpenSLO
SLO with alert policies is alerted on by them (``openslo-policies``: one single-window row per
burnrate condition, named after its policy).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from chaos_suite.slo.alerting import AlertPolicy, AlertSource, alert_windows

Severity = Literal["page", "ticket"]
SEVERITIES: tuple[Severity, ...] = ("page", "ticket")
BUILTIN_SETS: tuple[str, ...] = ("google", "sloth", "pyrra")
_SOURCES = {"google": AlertSource.WORKBOOK, "sloth": AlertSource.SLOTH, "pyrra": AlertSource.PYRRA}
# Pyrra names its severities critical and warning; chaos_suite's alerts page or ticket
_SEVERITY_OF = {"page": "page", "ticket": "ticket", "critical": "page", "warning": "ticket"}


class WindowSetError(ValueError):
    """No alert of the set fits the SLO (e.g. Sloth's windows for a 7d period)."""


@dataclass(frozen=True)
class BurnAlert:
    """One alert: error ratio over ``long_s`` AND over ``short_s`` above ``factor`` × budget,
    for ``for_s`` seconds (0: fires at the first evaluation that sees both above)."""

    severity: Severity
    long_s: float
    short_s: float
    factor: float
    for_s: float = 0.0
    policy: str | None = None  # the OpenSLO AlertPolicy this alert implements, if any

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be page or ticket; got {self.severity!r}")
        for name, value in (("long", self.long_s), ("short", self.short_s), ("factor", self.factor)):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive finite number; got {value!r}")
        if self.short_s > self.long_s:
            raise ValueError("the short window must not be longer than the long window")
        if not (math.isfinite(self.for_s) and self.for_s >= 0):
            raise ValueError(f"for must be zero or a positive duration; got {self.for_s!r}")

    @property
    def key(self) -> str:
        """Names the alert within its SLO (``page-1h-5m``, or the OpenSLO policy's name): the
        ``chaos_suite_alert`` label."""
        return self.policy or alert_key(self.severity, self.long_s, self.short_s)

    def budget_consumed(self, window_s: float) -> float:
        """The budget share a burn at exactly ``factor`` spends over the long window."""
        return self.factor * self.long_s / window_s


@dataclass(frozen=True)
class WindowSet:
    """The alerts of one SLO: ``name`` is google, sloth, pyrra or a custom file's name."""

    name: str
    alerts: tuple[BurnAlert, ...]
    note: str | None = None


def builtin_window_set(name: str, window_s: float,
                       disabled: frozenset[str] = frozenset()) -> WindowSet:
    """The built-in set ``name`` for an SLO window of ``window_s`` seconds, without the
    severities its file disables (in either tool's words: page/ticket, critical/warning).

    Raises :class:`WindowSetError` when no row fits the window at all (not when the file
    turned them off: then the set is empty, and only recording rules are written)."""
    if name not in _SOURCES:
        raise ValueError(f"unknown window set {name!r}: one of {', '.join(BUILTIN_SETS)}")
    rows = alert_windows(_SOURCES[name], window_s)
    usable = [row for row in rows.rows if row.long_window_s > 0 and row.short_window_s > 0]
    if not usable:
        raise WindowSetError(f"no {name} alert fits an SLO window of {prom_duration(window_s)}"
                             f"{': ' + rows.note if rows.note else ''}")
    alerts = tuple(BurnAlert(_page_or_ticket(row.severity), row.long_window_s, row.short_window_s,
                             row.burn_rate, row.for_s or 0.0) for row in usable)
    return _without(WindowSet(name, alerts, rows.note), disabled)


POLICY_SET = "openslo-policies"
_PAGING = frozenset({"page", "critical"})


def policy_window_set(policies: Sequence[AlertPolicy]) -> WindowSet | None:
    """The alerts an SLO's OpenSLO alert policies state, one per burnrate condition: the burn
    rate over ``lookbackWindow`` above ``threshold`` for ``alertAfter`` (a single window: long
    and short are the lookback). Severity ``page`` or ``critical`` pages, any other tickets.
    Policies that do not alert when breaching, or whose condition is not "above", are left out
    and said in the note. None when the SLO has no policy."""
    if not policies:
        return None
    alerts: list[BurnAlert] = []
    left_out: list[str] = []
    for policy in policies:
        for condition in policy.conditions:
            if not policy.when_breaching or condition.op not in (None, "gt", "gte"):
                left_out.append(policy.name)
                continue
            severity: Severity = "page" if condition.severity.lower() in _PAGING else "ticket"
            alerts.append(BurnAlert(severity, condition.lookback_s, condition.lookback_s,
                                    condition.threshold, condition.alert_after_s, policy.name))
    note = (f"alert policies not alerting on a burn rate above a threshold: "
            f"{', '.join(left_out)}" if left_out else None)
    return WindowSet(POLICY_SET, tuple(alerts), note)


def custom_window_set(template: WindowSet, disabled: frozenset[str] = frozenset()) -> WindowSet:
    """A custom set as one SLO uses it: the same rows for every window, less what it disables."""
    return _without(template, disabled)


def alert_key(severity: str, long_s: float, short_s: float) -> str:
    """``<severity>-<long>-<short>``, the severity in page/ticket words (Pyrra's critical pages,
    its warning tickets): how a rule's alert and a row of ``slo explain`` name each other."""
    return f"{_page_or_ticket(severity)}-{prom_duration(long_s)}-{prom_duration(short_s)}"


def _page_or_ticket(severity: str) -> Severity:
    return "page" if _SEVERITY_OF.get(severity, severity) == "page" else "ticket"


def _without(windows: WindowSet, disabled: frozenset[str]) -> WindowSet:
    off = {_SEVERITY_OF.get(severity, severity) for severity in disabled}
    if not off:
        return windows
    kept = tuple(alert for alert in windows.alerts if alert.severity not in off)
    note = f"{', '.join(sorted(off))} alerts disabled in the SLO file"
    return WindowSet(windows.name, kept, f"{windows.note}; {note}" if windows.note else note)


_PROM_UNITS: tuple[tuple[str, int, bool], ...] = (
    ("y", 365 * 86_400_000, True), ("w", 7 * 86_400_000, True), ("d", 86_400_000, False),
    ("h", 3_600_000, False), ("m", 60_000, False), ("s", 1_000, False), ("ms", 1, False))


def prom_duration(seconds: float) -> str:
    """A duration as Prometheus prints it (``model.Duration.String``, which Sloth uses in its
    rule names): years and weeks only when exact, so 28d is ``4w``, 30d ``30d``, 90m ``1h30m``."""
    millis = round(seconds * 1000)
    if millis <= 0:
        return "0s"
    out = ""
    for unit, size, exact_only in _PROM_UNITS:
        if exact_only and millis % size:
            continue
        count, millis = divmod(millis, size)
        if count:
            out += f"{count}{unit}"
    return out
