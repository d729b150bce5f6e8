"""Merging the per-second samples of several Locust workers at the master. Pure: no Locust.

Each worker counts its own requests into per-second samples (``buckets.py``) and sends each one
to the master as its second completes. The master sums them per second, exactly:

- a second ``t`` is emitted once every live worker has reported ``t`` or a later second
  (workers report every second while their test runs, empty ones too), or ``HOLD_S`` after
  ``t`` ended, whichever comes first; a lost or finished worker no longer holds anything;
- a sample arriving for a second already emitted (a worker that stalled past ``HOLD_S``) is
  added to the next second not yet emitted, and counted in ``late_requests``: per-second
  placement may shift by the stall, totals never lose or double a request.

Counts (SLI good/total, requests, 4xx, paths, histogram) are sums; the latency mean is
weighted by requests, the max is the max, and percentiles are recomputed from the summed
histogram, as the single-process sample computes them.
"""

from __future__ import annotations

from typing import Any

from chaos_suite.load.buckets import HIST_BOUNDS_MS, MAX_PATHS_PER_SECOND, OTHER_PATHS, percentile

# How long a second waits for a silent (but not lost) worker before it is emitted without it.
HOLD_S = 4.0

_LABELS = [str(int(b)) if b == int(b) else str(b) for b in HIST_BOUNDS_MS] + ["+Inf"]


class SampleMerger:
    """Merges per-second samples from named workers; emits each second once, in order."""

    def __init__(self, hold_s: float = HOLD_S) -> None:
        self.hold_s = hold_s
        self._pending: dict[int, dict[str, Any]] = {}
        self._marks: dict[str, int | None] = {}  # live worker -> last second it reported
        self._next: int | None = None  # seconds before this were emitted
        self.late_requests = 0
        self.received = 0

    @property
    def live(self) -> list[str]:
        return sorted(self._marks)

    def add_worker(self, worker: str) -> None:
        self._marks.setdefault(worker, None)

    def drop_worker(self, worker: str) -> None:
        """The worker is lost or finished: it holds no second any more."""
        self._marks.pop(worker, None)

    def add(self, worker: str, sample: dict[str, Any]) -> None:
        t = int(sample["t"])
        self.received += 1
        if worker in self._marks:
            mark = self._marks[worker]
            self._marks[worker] = t if mark is None else max(mark, t)
        if self._next is not None and t < self._next:
            self.late_requests += int(sample.get("requests", 0))
            t = self._next
        self._pending[t] = _merge(self._pending.get(t), {**sample, "t": t})

    def pop_ready(self, now: float) -> list[dict[str, Any]]:
        """Merged samples of every second that may be emitted at ``now`` (epoch seconds)."""
        out = []
        while self._pending:
            t = min(self._pending)
            waiting = any(m is None or m < t for m in self._marks.values())
            if waiting and now < t + 1 + self.hold_s:
                break
            out.append(self._emit(t))
        return out

    def flush(self) -> list[dict[str, Any]]:
        """Everything left, in order (the run is over)."""
        return [self._emit(t) for t in sorted(self._pending)]

    def _emit(self, t: int) -> dict[str, Any]:
        merged = self._pending.pop(t)
        self._next = max(self._next or t + 1, t + 1)
        return finish(merged)


def _merge(acc: dict[str, Any] | None, s: dict[str, Any]) -> dict[str, Any]:
    n = int(s.get("requests", 0))
    lat = s.get("latency_ms") or {}
    if acc is None:
        acc = {"t": s["t"], "source": s.get("source", "load"), "slis": {}, "requests": 0,
               "status_4xx": 0, "paths": {}, "latency_hist_ms": {}, "_sum_ms": 0.0,
               "_max_ms": None}
    for name, v in (s.get("slis") or {}).items():
        a = acc["slis"].setdefault(name, {"good": 0, "total": 0})
        a["good"] += int(v["good"])
        a["total"] += int(v["total"])
    acc["requests"] += n
    acc["status_4xx"] += int(s.get("status_4xx", 0))
    for key, c in (s.get("paths") or {}).items():
        acc["paths"][key] = acc["paths"].get(key, 0) + int(c)
    for label, c in (s.get("latency_hist_ms") or {}).items():
        acc["latency_hist_ms"][label] = acc["latency_hist_ms"].get(label, 0) + int(c)
    if n and lat.get("mean") is not None:
        acc["_sum_ms"] += float(lat["mean"]) * n
        mx = float(lat["max"])
        acc["_max_ms"] = mx if acc["_max_ms"] is None else max(acc["_max_ms"], mx)
    return acc


def finish(acc: dict[str, Any]) -> dict[str, Any]:
    """A merged accumulator as a sample in the single-process format."""
    out = {k: v for k, v in acc.items() if not k.startswith("_")}
    n = out["requests"]
    paths = out["paths"]
    if len(paths) > MAX_PATHS_PER_SECOND:  # keep the cap: the biggest keys, the rest under '*'
        keep = sorted((k for k in paths if k != OTHER_PATHS), key=lambda k: -paths[k])
        keep = keep[: MAX_PATHS_PER_SECOND - 1]
        rest = sum(c for k, c in paths.items() if k not in keep)
        out["paths"] = {**{k: paths[k] for k in keep}, OTHER_PATHS: rest}
    if n == 0 or acc["_max_ms"] is None:
        out["latency_ms"] = {"p50": None, "p95": None, "p99": None, "mean": None, "max": None}
        return out
    counts = [int(out["latency_hist_ms"].get(label, 0)) for label in _LABELS]
    mx = float(acc["_max_ms"])
    lat: dict[str, float | None] = {
        f"p{q}": percentile(HIST_BOUNDS_MS, counts, q / 100, mx) for q in (50, 95, 99)
    }
    out["latency_ms"] = {**lat, "mean": round(acc["_sum_ms"] / n, 3), "max": round(mx, 3)}
    return out
