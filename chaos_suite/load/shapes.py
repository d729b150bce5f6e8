"""Locust LoadTestShape classes for the profile kinds (steady, ramp, step, spike).

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

from collections.abc import Mapping
from typing import Any, ClassVar

from locust import LoadTestShape

from chaos_suite.load.profile import normalize_shape, users_at


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


SHAPES: dict[str, type[ProfileShape]] = {
    cls.kind: cls for cls in (SteadyShape, RampShape, StepShape, SpikeShape)
}


def make_shape(params: Mapping[str, Any]) -> ProfileShape:
    """The shape instance for a (normalized or raw) shape config with a ``kind``."""
    kind = params.get("kind")
    if kind not in SHAPES:
        raise ValueError(f"unknown shape kind {kind!r}")
    return SHAPES[str(kind)](params)
