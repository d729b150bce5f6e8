"""Pure views over slot snapshots: per-second counters for the admin API, Prometheus text format."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from chaos_suite.targets.local.state import (
    BUCKET_BOUNDS,
    IDX_CLASS0,
    IDX_HIST0,
    IDX_LAT_SUM,
    IDX_TOTAL,
    N_CLASSES,
    N_COUNTS,
    FaultSpec,
    SlotSnapshot,
)

STATUS_CLASSES = tuple(f"{c}xx" for c in range(1, N_CLASSES + 1))


def le_label(bound: float) -> str:
    """Bucket bound as Prometheus' Python client writes it: '0.005', '1.0', '+Inf'."""
    return "+Inf" if math.isinf(bound) else repr(float(bound))


def _cumulative_hist(counts: list[float]) -> dict[str, int]:
    hist: dict[str, int] = {}
    running = 0
    for i, bound in enumerate(BUCKET_BOUNDS):
        running += int(counts[IDX_HIST0 + i])
        hist[le_label(bound)] = running
    return hist


def _second_record(second: int, counts: list[float]) -> dict[str, Any]:
    return {
        "t": second,
        "total": int(counts[IDX_TOTAL]),
        "errors": int(counts[IDX_CLASS0 + 4]),
        "status_classes": {name: int(counts[IDX_CLASS0 + i])
                           for i, name in enumerate(STATUS_CLASSES)},
        "latency_sum": counts[IDX_LAT_SUM],
        "hist": _cumulative_hist(counts),
    }


def per_second(snapshots: Iterable[SlotSnapshot], until: float | None = None) -> list[dict[str, Any]]:
    """Rows summed across replicas, oldest first.

    ``hist`` is cumulative like Prometheus buckets: ``hist["0.3"]`` counts requests that took at
    most 300 ms, ``hist["+Inf"] == total``. ``errors`` counts 5xx answers.
    """
    summed: dict[int, list[float]] = {}
    for snap in snapshots:
        for second, counts in snap.rows.items():
            if until is not None and second >= until:
                continue
            acc = summed.setdefault(second, [0.0] * N_COUNTS)
            for i, value in enumerate(counts):
                acc[i] += value
    return [_second_record(second, summed[second]) for second in sorted(summed)]


def _fmt(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def prometheus_text(snapshots: Iterable[SlotSnapshot], fault: FaultSpec, replicas_up: int,
                    now: float) -> str:
    """Cumulative counters of every slot (they survive replica restarts) in text format 0.0.4."""
    total = [0.0] * N_COUNTS
    for snap in snapshots:
        for i, value in enumerate(snap.cumulative):
            total[i] += value
    lines = [
        "# HELP checkout_http_requests_total Requests answered by the checkout service.",
        "# TYPE checkout_http_requests_total counter",
    ]
    lines += [f'checkout_http_requests_total{{status_class="{name}"}} '
              f"{_fmt(total[IDX_CLASS0 + i])}" for i, name in enumerate(STATUS_CLASSES)]
    lines += [
        "# HELP checkout_http_request_duration_seconds Time to answer, injected latency included.",
        "# TYPE checkout_http_request_duration_seconds histogram",
    ]
    for le, count in _cumulative_hist(total).items():
        lines.append(f'checkout_http_request_duration_seconds_bucket{{le="{le}"}} {count}')
    lines += [
        f"checkout_http_request_duration_seconds_sum {_fmt(total[IDX_LAT_SUM])}",
        f"checkout_http_request_duration_seconds_count {_fmt(total[IDX_TOTAL])}",
        "# HELP checkout_fault_error_ratio Injected error ratio in force.",
        "# TYPE checkout_fault_error_ratio gauge",
        f"checkout_fault_error_ratio {_fmt(fault.error_ratio_at(now))}",
        "# HELP checkout_fault_latency_seconds Injected latency in force.",
        "# TYPE checkout_fault_latency_seconds gauge",
        f"checkout_fault_latency_seconds {_fmt(fault.latency_ms_at(now) / 1000.0)}",
        "# HELP checkout_replicas_up Replicas alive and serving.",
        "# TYPE checkout_replicas_up gauge",
        f"checkout_replicas_up {replicas_up}",
    ]
    return "\n".join(lines) + "\n"
