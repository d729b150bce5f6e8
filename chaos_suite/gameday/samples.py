"""Live samples held by the runner (what the load process streamed), for progress and the
safeguard. The run record on disk is the source of truth for reports."""

from __future__ import annotations

import threading
import time

from chaos_suite.record import Sample


class SampleStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_second: dict[int, dict[str, tuple[int, int]]] = {}
        self._arrived: dict[int, float] = {}

    def add(self, sample: Sample) -> None:
        t = sample.t
        slis = {name: (c.good, c.total) for name, c in sample.slis.items()}
        with self._lock:
            self._arrived.setdefault(t, time.time())
            merged = self._by_second.setdefault(t, {})
            for name, (good, total) in slis.items():
                g, n = merged.get(name, (0, 0))
                merged[name] = (g + good, n + total)

    def arrival(self, second: int) -> float | None:
        """When the sample for `second` reached the runner (for abort-latency figures)."""
        with self._lock:
            return self._arrived.get(second)

    def first_second(self) -> int | None:
        with self._lock:
            return min(self._by_second) if self._by_second else None

    def last_second(self) -> int | None:
        with self._lock:
            return max(self._by_second) if self._by_second else None

    def total_events(self, names: list[str]) -> int:
        with self._lock:
            return sum(c[1] for per in self._by_second.values()
                       for name, c in per.items() if name in names)

    def counts(self, name: str, first: int, end: int) -> tuple[int, int]:
        """(good, total) of `name` over seconds first <= t < end."""
        good = total = 0
        with self._lock:
            for t, per in self._by_second.items():
                if first <= t < end and name in per:
                    good += per[name][0]
                    total += per[name][1]
        return good, total

    def trailing(self, name: str, seconds: int, last: int) -> tuple[int, int]:
        """(good, total) of `name` over the `seconds` seconds ending with `last`: the window
        the safeguard and the console take a burn rate over."""
        return self.counts(name, last - seconds + 1, last + 1)

    def buckets(self, name: str, since: int) -> list[tuple[float, int, int]]:
        """[(1.0, good, total)] per second from `since` on, in time order: the bucket form of
        chaos_suite.slo.budget_spend (docs/architecture.md §2)."""
        with self._lock:
            return [(1.0, *per[name]) for t, per in sorted(self._by_second.items())
                    if t >= since and name in per]
