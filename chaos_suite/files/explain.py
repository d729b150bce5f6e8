"""`slo explain`: what an SLO means in budget terms (docs/architecture.md §2): objective, window
(as written: rolling or calendar-aligned), budget as a share and as seconds of full outage, the
budgeting method's own figures, and the burn-rate alerts of the tool that owns the SLO (the SRE
workbook's for chaos_suite and OpenSLO files, Sloth's or Pyrra's for theirs), or those of its
OpenSLO alert policies when it has any."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chaos_suite.detection.windows import POLICY_SET, alert_key, policy_window_set
from chaos_suite.files.slo_file import PrometheusSource, SLOSpec
from chaos_suite.slo.alerting import AlertSource, alert_windows, exact
from chaos_suite.slo.budgeting import BudgetingMethod
from chaos_suite.slo.calendar import UNIT_NAMES
from chaos_suite.slo.duration import format_duration

_ALERT_TITLES = {
    AlertSource.WORKBOOK: "burn-rate alerts (multi-window, SRE workbook)",
    AlertSource.SLOTH: "burn-rate alerts Sloth generates (its windows for this period, no `for`)",
    AlertSource.PYRRA: "burn-rate alerts Pyrra generates (its windows for this period, with `for`)",
}


def _alert_title(source: str) -> str:
    if source == POLICY_SET:
        return "burn-rate alerts of its OpenSLO alert policies (one window each, with alertAfter)"
    return _ALERT_TITLES[AlertSource(source)]


def _budget(objective: float) -> float:
    # in Decimal from the objective's shortest repr: 1 − 0.999 is 0.001, not 0.0010000000000000009
    return float(1 - Decimal(repr(objective)))


def explain_json(specs: list[SLOSpec]) -> list[dict[str, Any]]:
    """Every figure exact to 12 significant digits (no binary floating-point noise)."""
    out: list[dict[str, Any]] = []
    for spec in specs:
        slo = spec.slo
        budget = _budget(slo.objective)
        budgeting = spec.budgeting
        slices = budgeting.slices_in(slo.window_seconds)
        out.append({
            "name": slo.name,
            "service": spec.service,
            "format": spec.origin,
            "sli": {"kind": str(slo.sli.kind), "threshold_ms": slo.sli.threshold_ms},
            "source": spec.source.type,
            "counter": spec.source.counter if isinstance(spec.source, PrometheusSource) else None,
            "objective": exact(slo.objective),
            "window_seconds": exact(slo.window_seconds),
            "window": None if spec.window is None else {
                "duration": spec.window.text,
                "calendar": spec.window.calendar,
                "time_zone": spec.window.time_zone,
                "start": spec.window.start.isoformat(),
                "end": spec.window.end.isoformat(),
            },
            "error_budget": exact(budget),
            "full_outage_seconds": exact(budget * slo.window_seconds),
            "budgeting": {
                "method": str(budgeting.method),
                "slice_seconds": budgeting.slice_seconds,
                "slice_target": budgeting.slice_target,
                "slices_in_window": None if slices is None else exact(slices),
                "budget_slices": None if slices is None else exact(budget * slices),
            },
            **_alerts(spec),
            "alert_policies": [
                {
                    "name": policy.name,
                    "conditions": [
                        {"name": c.name, "severity": c.severity, "op": c.op,
                         "burn_rate": c.threshold, "lookback_seconds": c.lookback_s,
                         "alert_after_seconds": c.alert_after_s}
                        for c in policy.conditions
                    ],
                    "notification_targets": list(policy.targets),
                }
                for policy in spec.alert_policies
            ],
        })
    return out


def _alerts(spec: SLOSpec) -> dict[str, Any]:
    """The alerts ``slo rules`` raises for the SLO: its OpenSLO alert policies when it has
    usable ones, else the windows of the tool that owns it."""
    policies = policy_window_set(spec.alert_policies)
    if policies is not None and policies.alerts:
        return {"alerts_from": POLICY_SET, "alerts_note": policies.note, "alerts": [{
            "chaos_suite_alert": a.key, "severity": a.severity,
            "long_window_seconds": a.long_s, "short_window_seconds": a.short_s,
            "for_seconds": a.for_s, "burn_rate": exact(a.factor),
            "budget_consumed": exact(a.budget_consumed(spec.slo.window_seconds)),
        } for a in policies.alerts]}
    windows = alert_windows(spec.alerting, spec.slo.window_seconds, spec.alerts_disabled)
    return {
        "alerts_from": str(windows.source),
        "alerts_note": windows.note,
        "alerts": [
            {
                # the label `slo rules` puts on this row's alert, to match one to the other
                "chaos_suite_alert": alert_key(row.severity, row.long_window_s,
                                               row.short_window_s),
                "severity": row.severity,
                "long_window_seconds": row.long_window_s,
                "short_window_seconds": row.short_window_s,
                "for_seconds": row.for_s,
                "burn_rate": exact(row.burn_rate),
                "budget_consumed": exact(row.budget_consumed),
            }
            for row in windows.rows
        ],
    }


def human(value: float, digits: int = 6) -> str:
    """A figure for people: ``digits`` significant digits, no exponent, no trailing zeros
    (0.001, 2592, 2419.2, 43.2)."""
    text = format(Decimal(f"{value:.{digits}g}"), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _window_text(item: dict[str, Any]) -> str:
    window = item["window"]
    length = format_duration(item["window_seconds"])
    if window is None:
        return length
    count, unit = int(window["duration"][:-1]), window["duration"][-1]
    span = f"{window['start'][:16].replace('T', ' ')} to {window['end'][:16].replace('T', ' ')}"
    name = UNIT_NAMES[unit] + ("s" if count > 1 else "")
    if window["calendar"]:
        return (f"the calendar {name if count == 1 else f'{count} {name}'} {span} "
                f"{window['time_zone']} ({length})")
    if unit in ("M", "Q", "Y"):
        last = name if count == 1 else f"{count} {name}"
        return f"a rolling {window['duration']} (the {last} up to now: {length})"
    return length


def _budgeting_lines(item: dict[str, Any]) -> list[str]:
    budgeting = item["budgeting"]
    method = BudgetingMethod(budgeting["method"])
    if method is BudgetingMethod.OCCURRENCES:
        return []
    slice_text = format_duration(budgeting["slice_seconds"])
    line = (f"  budgeting      {method}: {human(budgeting['slices_in_window'])} slices of "
            f"{slice_text}, ")
    if method is BudgetingMethod.TIMESLICES:
        line += (f"a slice is good with at least {human(budgeting['slice_target'] * 100)}% good "
                 f"events; {human(budgeting['budget_slices'])} may be bad")
    else:
        line += (f"each scored by its own good ratio; the budget is "
                 f"{human(budgeting['budget_slices'])} slices' worth of (1 - ratio)")
    return [line]


def explain_text(specs: list[SLOSpec]) -> str:
    lines: list[str] = []
    for item in explain_json(specs):
        threshold = item["sli"]["threshold_ms"]
        sli = item["sli"]["kind"] + (f" < {threshold:g} ms" if threshold else "")
        unit = {"Timeslices": "slices", "RatioTimeslices": "the slices' mean ratio"}.get(
            item["budgeting"]["method"], "events")
        lines += [
            f"{item['service']}/{item['name']}  ({sli}, source {item['source']}; {item['format']})",
            f"  objective      {human(item['objective'] * 100)}% over {_window_text(item)}",
            f"  error budget   {human(item['error_budget'])} of {unit} "
            f"= {human(item['full_outage_seconds'])} s of full outage per window "
            f"({format_duration(item['full_outage_seconds'])})",
            *_budgeting_lines(item),
            f"  {_alert_title(item['alerts_from'])}:",
        ]
        if item["alerts"]:
            with_for = any(row["for_seconds"] is not None for row in item["alerts"])
            lines.append("    severity  long     short    " + ("for      " if with_for else "")
                         + "burn rate  budget consumed")
            for row in item["alerts"]:
                for_text = (f"{format_duration(row['for_seconds']):<8} " if with_for else "")
                lines.append(
                    f"    {row['severity']:<8}  {format_duration(row['long_window_seconds']):<7}  "
                    f"{format_duration(row['short_window_seconds']):<7}  {for_text}"
                    f"{human(row['burn_rate'], 4):>9}  {human(row['budget_consumed'] * 100, 4)}%")
        if item["alerts_note"]:
            lines.append(f"    ({item['alerts_note']})")
        if item["alert_policies"]:
            lines.append("  alert policies (OpenSLO):")
            for policy in item["alert_policies"]:
                for c in policy["conditions"]:
                    targets = ", ".join(policy["notification_targets"]) or "no target"
                    after = (f" for {format_duration(c['alert_after_seconds'])}"
                             if c["alert_after_seconds"] else "")
                    lines.append(f"    {policy['name']}: {c['severity']} when the burn rate over "
                                 f"{format_duration(c['lookback_seconds'])} is "
                                 f"{_OPS.get(c['op'], '>')} {human(c['burn_rate'])}{after} "
                                 f"-> {targets}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


_OPS = {"lte": "<=", "gte": ">=", "lt": "<", "gt": ">"}
