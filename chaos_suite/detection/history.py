"""Prometheus's own ``ALERTS`` series over a run, read once at its end (``query_range``), as
``alert_history`` events: the second, independent account of when each alert was pending and
firing, beside the rules API the watch polls every second (detection/watch.py).

``ALERTS`` has one sample per rule evaluation while an alert is pending or firing and a
staleness marker when it resolves, so at a query step no longer than the evaluation interval a
span's first step is within one step of the evaluation that started it. Steps are 1 s unless
the run is longer than Prometheus's 11,000-point limit allows."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final, Literal

import httpx

from chaos_suite.record.models import AlertHistory

MAX_POINTS: Final = 11_000  # Prometheus refuses a range query of more points per series


def step_for(start: float, end: float) -> float:
    return float(max(1, math.ceil((end - start) / MAX_POINTS)))


def spans_of(times: list[float], step: float) -> tuple[tuple[float, float], ...]:
    """Consecutive steps (gaps up to 1.5 steps) merged into [from, to] spans."""
    out: list[list[float]] = []
    for t in sorted(times):
        if out and t - out[-1][1] <= 1.5 * step:
            out[-1][1] = t
        else:
            out.append([t, t])
    return tuple((a, b) for a, b in out)


def history_events(body: Mapping[str, Any], step: float) -> list[AlertHistory]:
    """``alert_history`` events from a ``query_range`` answer for ``ALERTS`` (t left to the
    caller); series in a state other than pending/firing are skipped."""
    out: list[AlertHistory] = []
    for series in body.get("data", {}).get("result", []) or []:
        labels = {str(k): str(v) for k, v in (series.get("metric") or {}).items()}
        labels.pop("__name__", None)
        name = labels.pop("alertname", "")
        state: Literal["pending", "firing"]
        match labels.pop("alertstate", ""):
            case "pending":
                state = "pending"
            case "firing":
                state = "firing"
            case _:
                continue
        times = [float(t) for t, _ in series.get("values") or []]
        if times:
            out.append(AlertHistory(name=name, labels=labels, state=state,
                                    spans=spans_of(times, step), step_seconds=step))
    return out


def read_history(prometheus_url: str, start: float, end: float, *, timeout_s: float = 10.0
                 ) -> list[AlertHistory]:
    """Every alert's pending and firing spans in [start, end]. Raises httpx.HTTPError or
    ValueError when Prometheus cannot answer (the caller records it; detection never stops a
    run)."""
    step = step_for(start, end)
    response = httpx.get(f"{prometheus_url.rstrip('/')}/api/v1/query_range",
                         params={"query": "ALERTS", "start": f"{start:.3f}", "end": f"{end:.3f}",
                                 "step": f"{step:g}"}, timeout=timeout_s)
    response.raise_for_status()
    body = response.json()
    if not isinstance(body, dict) or body.get("status") != "success":
        raise ValueError(f"query_range ALERTS: {str(body)[:200]}")
    return history_events(body, step)
