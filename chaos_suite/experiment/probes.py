"""Probes usable from any Chaos Toolkit experiment as python providers.

`slo_burn_rate` measures the *next* `window_s` seconds rather than the last ones: a steady-state
check right after a fault was cleared must judge the system as it is now, not the fault's tail."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

from chaos_suite.slo.budget import burn_rate, error_ratio

SAMPLES_KEY = "chaos_suite_samples_file"
SAMPLES_ENV = "CHAOS_SUITE_SAMPLES_FILE"


def _samples_path(samples_file: str | None, configuration: dict[str, Any] | None) -> Path:
    value = samples_file or (configuration or {}).get(SAMPLES_KEY) or os.environ.get(SAMPLES_ENV)
    if not value:
        from chaoslib.exceptions import ActivityFailed

        raise ActivityFailed(
            "no samples file: run under chaos-suite, or set configuration "
            f"'{SAMPLES_KEY}' / env {SAMPLES_ENV}"
        )
    return Path(str(value))


def read_counts(path: Path, slo: str, first_second: int, end_second: int) -> tuple[int, int, int]:
    """(good, total, last second seen for `slo`) over samples with first_second <= t < end_second."""
    good = total = 0
    last = -1
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    sample = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line being written right now
                t = int(sample.get("t", -1))
                counts = sample.get("slis", {}).get(slo)
                if counts is None:
                    continue  # another SLO's source (e.g. Prometheus lags the load)
                last = max(last, t)
                if first_second <= t < end_second and counts:
                    good += int(counts["good"])
                    total += int(counts["total"])
    except FileNotFoundError:
        pass
    return good, total, last


def _source_of(path: Path, slo: str) -> str | None:
    """The source of the latest sample that counts `slo` (load, prometheus, http)."""
    source = None
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if f'"{slo}"' not in line:
                    continue
                try:
                    sample = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if slo in sample.get("slis", {}):
                    source = str(sample.get("source", "load"))
    except FileNotFoundError:
        pass
    return source


def _prometheus_window() -> float:
    from chaos_suite.sources.prometheus import SAMPLE_WINDOW_S

    return SAMPLE_WINDOW_S


def slo_burn_rate(slo: str, objective: float, window_s: float = 5.0,
                  samples_file: str | None = None, timeout_s: float | None = None,
                  configuration: dict[str, Any] | None = None) -> float:
    """Burn rate of `slo` over the next `window_s` seconds of live samples. Fails (the probe
    errors, so the hypothesis is not met) when no traffic was seen: no data is never 'fine'."""
    from chaoslib.exceptions import ActivityFailed

    path = _samples_path(samples_file, configuration)
    start = time.time()
    # a Prometheus sample of second t is a rate over the seconds before it: right after a
    # change (a fault cleared) the first of them still carry what came before, so a
    # server-side SLO is judged from one sample window later on
    settle = _prometheus_window() if _source_of(path, slo) == "prometheus" else 0.0
    first = math.ceil(start + settle)
    end = max(first + 1, math.floor(start + settle + window_s))
    # server-side sources (Prometheus) deliver a second only a few seconds after it ended
    deadline = start + settle + window_s + (timeout_s if timeout_s is not None else 10.0)
    while True:
        good, total, last = read_counts(path, slo, first, end)
        if last >= end - 1 or time.time() >= deadline:
            break
        time.sleep(0.2)
    ratio = error_ratio(good, total)
    if ratio is None:
        raise ActivityFailed(f"SLO '{slo}': no events in the last {end - first} s (no data)")
    return burn_rate(ratio, objective)
