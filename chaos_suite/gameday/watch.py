"""What a run watches besides its SLOs (docs/architecture.md §6): that the infrastructure it
measures with still works (the load generator alive and sending, the other sample sources, the
target's control plane) and that nobody else changes the target's fault under it.

A problem is a one-line string; the runner turns it into an abort with exit 4. Interference is
reported through a callback and makes the scenario's figures inconclusive."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable, Mapping
from typing import Protocol

# consecutive failed health checks of a local target's admin API before the run stops (exit 4)
ADMIN_FAILURES_BEFORE_ERROR = 3
# Locust emits one sample a second, empty seconds included: a longer silence is a stall. A
# short one is recorded (its seconds have no data and the report says so); a long one ends the
# run with rollbacks, since the fault would go on unmeasured.
LOAD_GAP_S = 2.5
LOAD_STALL_ABORT_S = 8.0
# The console warns when most requests of the load's last this many seconds got a 4xx answer:
# a 4xx is good for availability, so such a load measures nothing a fault could burn (the
# report makes such a fault window inconclusive, report/analysis.py)
CLIENT_ERROR_WINDOW_S = 5


class SampleSource(Protocol):
    """A server-side or synthetic SLI source running beside the load (Prometheus, http)."""

    error: str | None

    def start(self) -> None: ...

    def stop(self, drain: bool = True) -> None: ...


class LoadHandle(Protocol):
    @property
    def running(self) -> bool: ...


class TargetControl(Protocol):
    """The part of a target's control plane the watch reads (the local target's admin API)."""

    def status(self) -> dict[str, object]: ...


def fault_state(status: Mapping[str, object]) -> tuple[int | None, str | None]:
    """(fault generation, run id of its last change) from an admin status answer."""
    fault = status.get("fault")
    if not isinstance(fault, Mapping):
        return None, None
    generation, changed_by = fault.get("generation"), fault.get("changed_by")
    return (generation if isinstance(generation, int) else None,
            changed_by if isinstance(changed_by, str) else None)


class RunWatch:
    """Called from the safeguard thread during scenarios and from the main thread between
    them, never from both at once: no lock needed for its counters."""

    def __init__(self, run_id: str,
                 on_interference: Callable[[int, str | None], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.run_id = run_id
        self.on_interference = on_interference
        self.clock = clock
        self.load: LoadHandle | None = None
        self.sources: list[SampleSource] = []
        self.control: TargetControl | None = None
        self.control_url: str | None = None
        self.fault_generation: int | None = None
        self.last_load_sample: float | None = None
        self.admin_failures = 0
        self.workers_problem: str | None = None
        # (requests, 4xx answers) of the last load seconds, and the phase already warned about
        self._answers: deque[tuple[int, int]] = deque(maxlen=CLIENT_ERROR_WINDOW_S)
        self._answers_phase: Hashable = None
        self._answers_warned = False

    def watch_target(self, control: TargetControl, url: str | None) -> None:
        self.control, self.control_url = control, url
        self.fault_generation = fault_state(control.status())[0]

    def load_sample(self) -> float | None:
        """A load sample arrived: the silence before it, when long enough to be a stall."""
        now = self.clock()
        last, self.last_load_sample = self.last_load_sample, now
        return now - last if last is not None and now - last > LOAD_GAP_S else None

    def load_answers(self, requests: int | None, client_errors: int | None,
                     phase: Hashable) -> str | None:
        """A load second's request and 4xx counts (None: the sample does not count them). A
        warning when most requests of the last CLIENT_ERROR_WINDOW_S seconds got a 4xx answer,
        at most once per `phase` (any value that changes when the run's phase does)."""
        if phase != self._answers_phase:
            self._answers_phase, self._answers_warned = phase, False
        if requests is None or client_errors is None:
            return None
        self._answers.append((requests, client_errors))
        total = sum(r for r, _ in self._answers)
        errors = sum(e for _, e in self._answers)
        if self._answers_warned or len(self._answers) < CLIENT_ERROR_WINDOW_S or \
                errors * 2 <= total:
            return None
        self._answers_warned = True
        return (f"{errors} of {total} requests in the last {CLIENT_ERROR_WINDOW_S} s got a 4xx "
                "answer: the load is not exercising the service (wrong paths, host or "
                "credentials?); a fault measured like this is inconclusive")

    def worker_lost(self, live: int, workers: int, min_workers: int | None) -> bool:
        """A distributed load lost a worker: True when the run can go on (at least
        `min_workers`, default all of them, still live); else the next check ends the run."""
        needed = workers if min_workers is None else min_workers
        if live >= needed:
            return True
        self.workers_problem = (f"a Locust worker was lost: {live} of {workers} left, the plan "
                                f"needs {needed}")
        return False

    def problem(self) -> str | None:
        load = self.load
        if self.workers_problem is not None:
            return self.workers_problem
        if load is not None and not load.running:
            return "the load process (Locust) died"
        last = self.last_load_sample
        if load is not None and last is not None and \
                (silent := self.clock() - last) > LOAD_STALL_ABORT_S:
            return (f"the load generator (Locust) sent no samples for {silent:.0f} s: stalled; "
                    "the fault would go on unmeasured")
        for source in self.sources:
            if source.error is not None:
                return source.error
        return self._control_problem()

    def _control_problem(self) -> str | None:
        if self.control is None:
            return None
        try:
            status = self.control.status()
        except Exception as exc:  # noqa: BLE001 - any failure counts as unreachable
            self.admin_failures += 1
            if self.admin_failures >= ADMIN_FAILURES_BEFORE_ERROR:
                return f"target admin API {self.control_url} unreachable: {exc}"
            return None
        self.admin_failures = 0
        generation, changed_by = fault_state(status)
        if generation is not None and generation != self.fault_generation:
            self.fault_generation = generation
            if changed_by != self.run_id:
                self.on_interference(generation, changed_by)
        return None
