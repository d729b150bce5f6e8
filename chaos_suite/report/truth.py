"""Client-side burn beside the target's own server-side counters (embedded local target only).

The local target counts every request it answers, per second, in its replicas' shared memory;
the run saves those rows as `server_counters.json`. For availability SLOs this is ground truth
for what the load measured: the same formula over the same windows, from the other end of the
wire. Connection errors (a killed replica) exist only client-side, so the two legitimately
differ for process faults."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from chaos_suite.report.series import Counts, Sample, build_series, burn_rate_in, counts_in, spend_in
from chaos_suite.slo.model import SLI, SLO, SLIKind

SERVER_COUNTERS = "server_counters.json"


def server_samples(rows: list[dict[str, Any]], slo_names: list[str]) -> list[Sample]:
    out: list[Sample] = []
    for row in rows:
        total = int(row["total"])
        counts = Counts(good=total - int(row["errors"]), total=total)
        out.append(Sample(t=int(row["t"]), source="server", slis=dict.fromkeys(slo_names, counts)))
    return out


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _attributed(samples: list[Sample], slo: SLO, window: dict[str, Any],
                baseline: dict[str, Any] | None) -> tuple[float | None, Counts]:
    """The same windows and the same functions as the client-side analysis (series.spend_in,
    series.burn_rate_in over slo.budget_spend), so the two differ only by their counts."""
    series = build_series(samples, slo.name)
    start, end = _epoch(window["start"]), _epoch(window["end"])
    base_br = (None if baseline is None else
               burn_rate_in(series, slo, _epoch(baseline["start"]), _epoch(baseline["end"])))
    spend = spend_in(series, slo, start, end, base_br)
    return (None if spend is None else spend.attributed), counts_in(series, start, end)


def load_server_rows(run_dir: Path) -> list[dict[str, Any]] | None:
    path = run_dir / SERVER_COUNTERS
    if not path.is_file():
        return None
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return rows if isinstance(rows, list) else None


def compare_with_server(run_dir: Path) -> list[dict[str, Any]]:
    """Per scenario and availability SLO: client-side vs server-side attributed consumption.
    Empty when the run has no server counters (targets other than the local one)."""
    rows = load_server_rows(run_dir)
    report_path = run_dir / "report.json"
    if rows is None or not report_path.is_file():
        return []
    return compare(json.loads(report_path.read_text(encoding="utf-8")), rows)


def compare(report: dict[str, Any], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    slos = {s["name"]: s for s in report.get("slos", [])
            if s.get("sli", {}).get("kind", "availability") == SLIKind.AVAILABILITY.value}
    samples = server_samples(rows, list(slos))
    out: list[dict[str, Any]] = []
    for scenario in report.get("scenarios", []):
        window = scenario.get("measurement")
        if not window or not window.get("start") or not window.get("end"):
            continue
        for row in scenario.get("slos", []):
            spec = slos.get(row["slo"])
            if spec is None:
                continue
            slo = SLO(name=spec["name"], objective=spec["objective"],
                      window_seconds=spec["window_seconds"], sli=SLI(SLIKind.AVAILABILITY))
            server, counts = _attributed(samples, slo, window, scenario.get("baseline"))
            client = row["observed"].get("budget_consumed_attributed")
            out.append({
                "scenario": scenario["name"], "slo": row["slo"],
                "client_attributed": client, "server_attributed": server,
                "server_counts": {"good": counts.good, "total": counts.total},
                "client_counts": row["counts"].get("measurement"),
                "relative_difference": (abs(client - server) / server
                                        if server and client is not None else None),
            })
    return out


def markdown_section(rows: list[dict[str, Any]]) -> str:
    lines = ["", "## Client-side vs server-side (embedded target's own counters)", "",
             "| scenario | SLO | client attributed | server attributed | client events | "
             "server events | difference |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        def pct(v: float | None) -> str:
            return "n/a" if v is None else f"{v * 100:.6f}%"
        diff = r["relative_difference"]
        cc, sc = r.get("client_counts") or {}, r["server_counts"]
        lines.append(
            f"| {r['scenario']} | {r['slo']} | {pct(r['client_attributed'])} | "
            f"{pct(r['server_attributed'])} | {cc.get('total', 'n/a')} | {sc['total']} | "
            f"{'n/a' if diff is None else f'{diff * 100:.3f}%'} |")
    lines += ["", "Connection errors (a killed replica) are seen only by the client, so process "
              "faults legitimately differ; for injected HTTP errors the two should agree.", ""]
    return "\n".join(lines)
