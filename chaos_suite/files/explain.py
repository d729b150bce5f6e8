"""`slo explain`: what an SLO means in budget terms, and the alert table the SRE workbook derives."""

from __future__ import annotations

from typing import Any

from chaos_suite.files.slo_file import SLOSpec
from chaos_suite.slo.budget import alert_table
from chaos_suite.slo.duration import format_duration


def explain_json(specs: list[SLOSpec]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for spec in specs:
        slo = spec.slo
        budget = slo.error_budget
        out.append({
            "name": slo.name,
            "service": spec.service,
            "sli": {"kind": str(slo.sli.kind), "threshold_ms": slo.sli.threshold_ms},
            "source": spec.source.type,
            "objective": slo.objective,
            "window_seconds": slo.window_seconds,
            "error_budget": budget,
            "full_outage_seconds": budget * slo.window_seconds,
            "alerts": [
                {
                    "severity": row.severity,
                    "long_window_seconds": row.long_window_s,
                    "short_window_seconds": row.short_window_s,
                    "burn_rate": row.burn_rate,
                    "budget_consumed": row.budget_consumed,
                }
                for row in alert_table(slo.window_seconds)
            ],
        })
    return out


def explain_text(specs: list[SLOSpec]) -> str:
    lines: list[str] = []
    for item in explain_json(specs):
        threshold = item["sli"]["threshold_ms"]
        sli = item["sli"]["kind"] + (f" < {threshold:g} ms" if threshold else "")
        lines += [
            f"{item['service']}/{item['name']}  ({sli}, source {item['source']})",
            f"  objective      {item['objective'] * 100:.6g}% over {format_duration(item['window_seconds'])}",
            f"  error budget   {item['error_budget']:.6g} of events "
            f"= {item['full_outage_seconds']:.1f} s of full outage per window "
            f"({format_duration(item['full_outage_seconds'])})",
            "  burn-rate alerts (multi-window, SRE workbook):",
            "    severity  long   short  burn rate  budget consumed",
        ]
        for row in item["alerts"]:
            lines.append(
                f"    {row['severity']:<8}  {format_duration(row['long_window_seconds']):<5}  "
                f"{format_duration(row['short_window_seconds']):<5}  {row['burn_rate']:>9.4g}  "
                f"{row['budget_consumed'] * 100:.4g}%"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
