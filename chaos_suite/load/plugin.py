"""chaos_suite's Locust plugin: per-second SLI buckets from ``events.request``.

Imported only inside the load worker process (it imports gevent and locust). Locust's own CSV
history is a rolling average that misses the last second (docs/architecture.md §7.2), so the
buckets are counted here from every request event and emitted by a greenlet once a second has
passed, then flushed on ``test_stop`` / ``quitting``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import gevent
from locust.env import Environment

from chaos_suite.load.buckets import BucketCounter
from chaos_suite.load.config import SliSpec

log = logging.getLogger(__name__)

# The emitter never sleeps longer than this, so a stop request is noticed quickly.
_MAX_SLEEP_S = 0.5
_MIN_SLEEP_S = 0.02


class SliPlugin:
    """Counts requests per second per SLI and hands each finished second to ``write``."""

    def __init__(
        self,
        environment: Environment,
        slis: Sequence[SliSpec],
        write: Callable[[dict[str, Any]], None],
    ) -> None:
        self._env = environment
        self._counter = BucketCounter(slis)
        self._write = write
        self._greenlet: gevent.Greenlet[..., Any] | None = None
        self._closed = False

    def install(self) -> None:
        """Register the listeners and start the emitter greenlet."""
        events = self._env.events
        # the hot path: the counter's own listener, no method of ours in between
        on_request = self._counter.listener(time.time)
        events.request.add_listener(on_request)  # type: ignore[no-untyped-call]
        events.test_start.add_listener(self._on_test_start)  # type: ignore[no-untyped-call]
        events.test_stop.add_listener(self._on_test_stop)  # type: ignore[no-untyped-call]
        events.quitting.add_listener(self._on_quitting)  # type: ignore[no-untyped-call]
        self._greenlet = gevent.spawn(self._emit_loop)

    def _on_test_start(self, **_kwargs: Any) -> None:
        self._counter.start(time.time())

    def _on_test_stop(self, **_kwargs: Any) -> None:
        self._emit(self._counter.stop(time.time()))

    def _on_quitting(self, **_kwargs: Any) -> None:
        self._emit(self._counter.flush(time.time()))

    def _emit(self, samples: list[dict[str, Any]]) -> None:
        for sample in samples:
            self._write(sample)

    def _emit_loop(self) -> None:
        while not self._closed:
            due = self._counter.next_due()
            wait = _MAX_SLEEP_S if due is None else due - time.time()
            gevent.sleep(min(max(wait, _MIN_SLEEP_S), _MAX_SLEEP_S))
            self._emit(self._counter.pop_ready(time.time()))

    def close(self) -> dict[str, Any]:
        """Stop the emitter, flush what is left and return the totals."""
        self._closed = True
        if self._greenlet is not None:
            self._greenlet.kill(block=True, timeout=2)
        self._emit(self._counter.flush(time.time()))
        return self._counter.summary()
