"""Load profiles as pure arithmetic: how many users a shape wants at time t.

No Locust import here (on purpose): the runner validates shapes with this module and the tests
check the math without gevent. ``chaos_suite.load.shapes`` wraps each kind in a LoadTestShape
that only calls :func:`users_at`.

Parameters per kind (all times in seconds from the start of the shape, users are totals):

- ``steady``: ``users`` for ``duration_s``.
- ``ramp``:   from ``start_users`` (default 0) to ``users`` linearly over ``ramp_s`` (default
  ``duration_s``), then hold ``users`` until ``duration_s``.
- ``step``:   ``step_users`` at t=0, ``step_users`` more every ``step_s``, capped at ``users``.
- ``spike``:  ``users`` (the base), but ``spike_users`` (the total during the spike, not an
  increment) for ``spike_s`` starting at ``spike_at_s``.
- ``arrival``: open-loop load, ``rate`` task runs (requests, for one-request tasks) per second
  whatever the response times, like k6's constant-arrival-rate executor. Each user paces itself
  at ``per_user_rate`` (Locust's ``constant_throughput``); ``users`` (default ``rate /
  per_user_rate``) run while the service is fast, and :func:`arrival_users` adds users when
  responses slow down (a closed loop would otherwise send less), up to ``max_users``.

Common: ``spawn_rate`` (users started/stopped per second, default ``max(users, spike_users, 1)``
so any change lands within about a second) and ``duration_s``; ``users_at`` returns None from
``duration_s`` on, which ends the test.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

KINDS: tuple[str, ...] = ("steady", "ramp", "step", "spike", "arrival")
# An open-loop user's pace: 10 task runs a second leaves 100 ms for a response before the user
# falls behind and another one is needed (arrival_users)
DEFAULT_PER_USER_RATE = 10.0
# default max_users of an arrival shape, as a multiple of its starting users: enough to hold the
# rate through responses ten times slower than the per-user pace allows
ARRIVAL_USERS_HEADROOM = 10

# Keys each kind accepts beyond the common ones; anything else is a typo worth reporting.
_COMMON_KEYS = frozenset({"kind", "users", "spawn_rate", "duration_s"})
_KIND_KEYS: dict[str, frozenset[str]] = {
    "steady": frozenset(),
    "ramp": frozenset({"start_users", "ramp_s"}),
    "step": frozenset({"step_users", "step_s"}),
    "spike": frozenset({"spike_users", "spike_at_s", "spike_s"}),
    "arrival": frozenset({"rate", "per_user_rate", "max_users"}),
}


class ShapeError(ValueError):
    """A shape parameter is missing or out of range. ``field`` names it."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def _number(params: Mapping[str, Any], key: str, default: float | None = None) -> float:
    value = params.get(key, default)
    # bool is an int subclass; "users: true" is a typo, not 1 user.
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        raise ShapeError(key, "must be a number" if key in params else "is required")
    if not math.isfinite(value):
        raise ShapeError(key, "must be finite")
    return float(value)


def _users(params: Mapping[str, Any], key: str, default: int | None = None) -> int:
    value = _number(params, key, default)
    if value < 0 or value != int(value):
        raise ShapeError(key, "must be a whole number >= 0")
    return int(value)


def _positive(params: Mapping[str, Any], key: str, default: float | None = None) -> float:
    value = _number(params, key, default)
    if value <= 0:
        raise ShapeError(key, "must be > 0")
    return value


def normalize_shape(params: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``params`` and return them with every default filled in.

    Raises :class:`ShapeError` naming the offending key.
    """
    kind = params.get("kind")
    if kind not in KINDS:
        raise ShapeError("kind", f"must be one of {', '.join(KINDS)} (got {kind!r})")
    unknown = set(params) - _COMMON_KEYS - _KIND_KEYS[kind]
    if unknown:
        raise ShapeError(min(unknown), f"is not a parameter of shape '{kind}'")
    if kind == "arrival":
        return _normalize_arrival(params)
    out: dict[str, Any] = {
        "kind": kind,
        "users": _users(params, "users"),
        "duration_s": _positive(params, "duration_s"),
    }
    peak = out["users"]
    if kind == "ramp":
        out["start_users"] = _users(params, "start_users", 0)
        out["ramp_s"] = _positive(params, "ramp_s", out["duration_s"])
        peak = max(peak, out["start_users"])
    elif kind == "step":
        out["step_users"] = _users(params, "step_users")
        out["step_s"] = _positive(params, "step_s")
        if out["step_users"] == 0:
            raise ShapeError("step_users", "must be >= 1")
    elif kind == "spike":
        out["spike_users"] = _users(params, "spike_users")
        out["spike_at_s"] = _number(params, "spike_at_s")
        out["spike_s"] = _positive(params, "spike_s")
        if out["spike_at_s"] < 0:
            raise ShapeError("spike_at_s", "must be >= 0")
        peak = max(peak, out["spike_users"])
    out["spawn_rate"] = _positive(params, "spawn_rate", float(max(peak, 1)))
    return out


def _normalize_arrival(params: Mapping[str, Any]) -> dict[str, Any]:
    rate = _positive(params, "rate")
    per_user = _positive(params, "per_user_rate", DEFAULT_PER_USER_RATE)
    users = _users(params, "users", max(1, math.ceil(rate / per_user - 1e-9)))
    if users == 0:
        raise ShapeError("users", "must be >= 1")
    max_users = _users(params, "max_users", users * ARRIVAL_USERS_HEADROOM)
    if max_users < users:
        raise ShapeError("max_users", f"must be >= users ({users})")
    return {
        "kind": "arrival",
        "rate": rate,
        "per_user_rate": per_user,
        "users": users,
        "max_users": max_users,
        "duration_s": _positive(params, "duration_s"),
        # any change of users lands within about a second
        "spawn_rate": _positive(params, "spawn_rate", float(max_users)),
    }


def arrival_users(shape_params: Mapping[str, Any], cycle_s: float | None, current: int) -> int:
    """Users an ``arrival`` shape needs to hold its rate, by Little's law: each user runs one
    task per cycle (its pace 1 / per_user_rate, or its response time when that is longer), so
    ``rate * cycle_s`` users are busy at once. ``cycle_s`` is the mean cycle of the requests
    completed lately; None (nothing completed) keeps ``current``. Bounded by
    ``[users, max_users]``: the pace caps each user, so extra users cannot overshoot the rate
    by more than the time it takes to remove them."""
    p = normalize_shape(shape_params)
    if p["kind"] != "arrival":
        raise ValueError(f"not an arrival shape: {p['kind']!r}")
    if cycle_s is None or not math.isfinite(cycle_s) or cycle_s <= 0:
        wanted = current
    else:
        # the pace is a floor of the cycle; to the nearest user, so the rate is missed by at
        # most half a user's share either way
        cycle = max(cycle_s, 1.0 / float(p["per_user_rate"]))
        wanted = math.floor(float(p["rate"]) * cycle + 0.5)
    return int(min(int(p["max_users"]), max(int(p["users"]), wanted)))


def users_at(shape_params: Mapping[str, Any], t: float) -> int | None:
    """Users the shape wants ``t`` seconds after its start; None once ``duration_s`` is reached.

    ``shape_params`` may be raw (defaults are applied) but must be valid.
    """
    p = normalize_shape(shape_params)
    if t >= p["duration_s"]:
        return None
    t = max(t, 0.0)
    kind = p["kind"]
    users: int = p["users"]
    if kind == "ramp":
        start: int = p["start_users"]
        progress = min(t / float(p["ramp_s"]), 1.0)
        # floor: a user is added once the ramp has fully "earned" it (small epsilon so that
        # progress 1.0 computed as 0.999999... still reaches the target).
        return math.floor(start + (users - start) * progress + 1e-9)
    if kind == "step":
        steps = math.floor(t / float(p["step_s"]) + 1e-9) + 1
        return min(users, int(p["step_users"]) * steps)
    if kind == "arrival":
        return users  # where it starts; arrival_users follows the response times from there
    if kind == "spike":
        in_spike = p["spike_at_s"] <= t < p["spike_at_s"] + p["spike_s"]
        return int(p["spike_users"]) if in_spike else users
    return users
