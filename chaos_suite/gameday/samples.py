"""Live samples held by the runner (what the load process streamed), for progress and the
safeguard. The run record on disk is the source of truth for reports."""

from __future__ import annotations

import threading
import time
from typing import Any


class SampleStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_second: dict[int, dict[str, tuple[int, int]]] = {}
        self._arrived: dict[int, float] = {}

    def add(self, sample: dict[str, Any]) -> None:
        t = int(sample["t"])
        slis = {name: (int(c["good"]), int(c["total"])) for name, c in sample["slis"].items()}
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

    def series(self, name: str) -> list[tuple[int, int, int]]:
        """[(second, good, total)] in time order."""
        with self._lock:
            return sorted((t, *per[name]) for t, per in self._by_second.items() if name in per)
