"""Locust LoadTestShape classes for the profile kinds (steady, ramp, step, spike, arrival).

Imported only inside the load worker (imports locust). The arithmetic lives in
``chaos_suite.load.profile`` so it is testable without gevent; these classes only turn it into
``tick()`` answers.

The four kind classes are ``abstract`` so that importing one into a locustfile does not make
Locust pick it up unconfigured; to use one in a plain locustfile, subclass it and set
``shape_params``::

    class Ramp(RampShape):
        shape_params = {"users": 50, "ramp_s": 30, "duration_s": 120}
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, ClassVar

from locust import LoadTestShape

from chaos_suite.load.profile import arrival_users, normalize_shape, users_at


class ProfileShape(LoadTestShape):
    """A shape whose user count is ``profile.users_at(params, run_time)``."""

    abstract = True
    kind: ClassVar[str] = ""
    shape_params: ClassVar[Mapping[str, Any] | None] = None

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        raw = params if params is not None else self.shape_params
        if raw is None:
            raise ValueError(f"{type(self).__name__}: no shape parameters")
        self.params: dict[str, Any] = normalize_shape({**raw, "kind": self.kind})

    def tick(self) -> tuple[int, float] | None:
        users = users_at(self.params, self.get_run_time())  # type: ignore[no-untyped-call]
        if users is None:
            return None
        return users, float(self.params["spawn_rate"])


class SteadyShape(ProfileShape):
    abstract = True
    kind = "steady"


class RampShape(ProfileShape):
    abstract = True
    kind = "ramp"


class StepShape(ProfileShape):
    abstract = True
    kind = "step"


class SpikeShape(ProfileShape):
    abstract = True
    kind = "spike"


class ArrivalShape(ProfileShape):
    """Open-loop load: the users pace themselves at ``per_user_rate`` (the worker gives every
    User class ``constant_throughput``), and each tick sets as many users as hold ``rate`` at
    the response times of the requests completed since the last tick (profile.arrival_users).
    The worker feeds it every request through :meth:`on_request`; in distributed mode the shape
    runs on the master, where no request happens, and the workers' reports of their requests'
    cycles come in through :meth:`add_cycles` (distributed.py), so the users follow the
    response times of all of them."""

    abstract = True
    kind = "arrival"

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(params)
        self.wanted: int = int(self.params["users"])
        self._pace_s = 1.0 / float(self.params["per_user_rate"])
        self._cycles_s = 0.0
        self._completed = 0
        self._last_tick = time.monotonic()

    def on_request(self, response_time: float | None = None, **_kwargs: Any) -> None:
        # a user's cycle is its pace, or its response when that is longer
        self._cycles_s += max(self._pace_s, (response_time or 0.0) / 1000.0)
        self._completed += 1

    def add_cycles(self, cycles_s: float, completed: int) -> None:
        """The summed cycles of ``completed`` requests made elsewhere (a Locust worker)."""
        if completed > 0 and cycles_s >= 0:
            self._cycles_s += cycles_s
            self._completed += completed

    def tick(self) -> tuple[int, float] | None:
        if users_at(self.params, self.get_run_time()) is None:  # type: ignore[no-untyped-call]
            return None
        now = time.monotonic()
        # Locust ticks about once a second; a tick right after the last one has too few
        # completions to go by
        if now - self._last_tick >= 0.5:
            cycle = self._cycles_s / self._completed if self._completed else None
            self.wanted = arrival_users(self.params, cycle, self.wanted)
            self._cycles_s, self._completed, self._last_tick = 0.0, 0, now
        return self.wanted, float(self.params["spawn_rate"])


SHAPES: dict[str, type[ProfileShape]] = {
    cls.kind: cls for cls in (SteadyShape, RampShape, StepShape, SpikeShape, ArrivalShape)
}


def make_shape(params: Mapping[str, Any]) -> ProfileShape:
    """The shape instance for a (normalized or raw) shape config with a ``kind``."""
    kind = params.get("kind")
    if kind not in SHAPES:
        raise ValueError(f"unknown shape kind {kind!r}")
    return SHAPES[str(kind)](params)
