"""Profile math (users over time) and load-config validation: pure, no Locust."""

from __future__ import annotations

import math
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chaos_suite.errors import ValidationError
from chaos_suite.load.config import parse_config
from chaos_suite.load.profile import ShapeError, normalize_shape, users_at


def test_steady_holds_users_until_duration() -> None:
    shape = {"kind": "steady", "users": 7, "duration_s": 10}
    assert [users_at(shape, t) for t in (0, 0.5, 9.99)] == [7, 7, 7]
    assert users_at(shape, 10) is None
    assert users_at(shape, 11) is None


def test_ramp_climbs_linearly_then_holds() -> None:
    shape = {"kind": "ramp", "start_users": 2, "users": 12, "ramp_s": 10, "duration_s": 20}
    # 2 + 10 * t/10 users, floored
    assert users_at(shape, 0) == 2
    assert users_at(shape, 4.5) == 6
    assert users_at(shape, 10) == 12
    assert users_at(shape, 19.9) == 12
    assert users_at(shape, 20) is None


def test_ramp_defaults_to_zero_start_over_whole_duration() -> None:
    shape = {"kind": "ramp", "users": 10, "duration_s": 5}
    assert users_at(shape, 0) == 0
    assert users_at(shape, 2.5) == 5
    assert users_at(shape, 4.99) == 9


def test_step_adds_step_users_every_step_s_capped() -> None:
    shape = {"kind": "step", "users": 25, "step_users": 10, "step_s": 3, "duration_s": 30}
    assert [users_at(shape, t) for t in (0, 2.9, 3, 6, 9, 29)] == [10, 10, 20, 25, 25, 25]


def test_spike_replaces_base_during_window() -> None:
    shape = {"kind": "spike", "users": 5, "spike_users": 40, "spike_at_s": 10, "spike_s": 4,
             "duration_s": 20}
    assert [users_at(shape, t) for t in (0, 9.9, 10, 13.9, 14, 19)] == [5, 5, 40, 40, 5, 5]


def test_spawn_rate_default_reaches_peak_within_a_second() -> None:
    spike = normalize_shape({"kind": "spike", "users": 5, "spike_users": 40, "spike_at_s": 1,
                             "spike_s": 1, "duration_s": 3})
    assert spike["spawn_rate"] == 40
    assert normalize_shape({"kind": "steady", "users": 0, "duration_s": 1})["spawn_rate"] == 1
    explicit = normalize_shape({"kind": "steady", "users": 9, "duration_s": 1, "spawn_rate": 2})
    assert explicit["spawn_rate"] == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "wave", "users": 1, "duration_s": 1}, "kind"),
        ({"kind": "steady", "duration_s": 1}, "users"),
        ({"kind": "steady", "users": -1, "duration_s": 1}, "users"),
        ({"kind": "steady", "users": 1.5, "duration_s": 1}, "users"),
        ({"kind": "steady", "users": True, "duration_s": 1}, "users"),
        ({"kind": "steady", "users": 1, "duration_s": 0}, "duration_s"),
        ({"kind": "steady", "users": 1, "duration_s": math.inf}, "duration_s"),
        ({"kind": "steady", "users": 1, "duration_s": 1, "ramp_s": 3}, "ramp_s"),
        ({"kind": "step", "users": 5, "step_users": 0, "step_s": 1, "duration_s": 1}, "step_users"),
        ({"kind": "spike", "users": 1, "spike_users": 2, "spike_at_s": -1, "spike_s": 1,
          "duration_s": 5}, "spike_at_s"),
    ],
)
def test_invalid_shapes_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(ShapeError) as info:
        normalize_shape(params)
    assert info.value.field == field


_times = st.floats(min_value=0, max_value=500, allow_nan=False)


@given(
    start=st.integers(0, 200), users=st.integers(0, 200),
    ramp_s=st.floats(0.1, 100), t1=_times, t2=_times,
)
def test_ramp_is_monotone_and_bounded(
    start: int, users: int, ramp_s: float, t1: float, t2: float
) -> None:
    shape = {"kind": "ramp", "start_users": start, "users": users, "ramp_s": ramp_s,
             "duration_s": 1000}
    a, b = users_at(shape, min(t1, t2)), users_at(shape, max(t1, t2))
    assert a is not None and b is not None
    assert min(start, users) <= a <= max(start, users)
    assert (a <= b) if users >= start else (a >= b)


@given(
    users=st.integers(1, 300), step_users=st.integers(1, 50), step_s=st.floats(0.5, 60), t=_times
)
def test_step_never_exceeds_users_and_is_a_multiple(
    users: int, step_users: int, step_s: float, t: float
) -> None:
    n = users_at({"kind": "step", "users": users, "step_users": step_users, "step_s": step_s,
                  "duration_s": 1000}, t)
    assert n is not None and 1 <= n <= users
    assert n == users or n % step_users == 0


@given(kind=st.sampled_from(["steady", "ramp", "step", "spike"]), duration=st.floats(0.5, 100),
       extra=_times)
def test_every_kind_ends_at_duration(kind: str, duration: float, extra: float) -> None:
    params: dict[str, Any] = {"kind": kind, "users": 3, "duration_s": duration}
    params.update({"step": {"step_users": 1, "step_s": 1},
                   "spike": {"spike_users": 9, "spike_at_s": 0, "spike_s": 1}}.get(kind, {}))
    assert users_at(params, duration + extra) is None
    assert users_at(params, duration * 0.999) is not None


def test_runner_side_modules_do_not_import_locust_or_gevent() -> None:
    # The runner process imports these; gevent must never end up there (DESIGN §7). A fresh
    # interpreter, because another test module in the session may import locust on purpose.
    code = (
        "import sys\n"
        "import chaos_suite.load, chaos_suite.load.runner, chaos_suite.load.config\n"
        "import chaos_suite.load.profile, chaos_suite.load.buckets\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('locust', 'gevent')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_config_defaults_and_roundtrip() -> None:
    cfg = parse_config({"locustfile": "x.py", "host": "http://127.0.0.1:1",
                        "shape": {"kind": "steady", "users": 2, "duration_s": 3}})
    assert [(s.name, s.kind) for s in cfg.slis] == [("availability", "availability")]
    assert cfg.max_duration_s == 600 and cfg.plugin is True
    assert parse_config(cfg.to_json()) == cfg


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({}, "locustfile"),
        ({"locustfile": "x.py", "shape": {"kind": "steady", "users": 1}}, "shape.duration_s"),
        ({"locustfile": "x.py", "slis": [{"name": "lat", "kind": "latency"}]},
         "slis[0].threshold_ms"),
        ({"locustfile": "x.py", "slis": [{"name": "a", "kind": "availability",
                                          "threshold_ms": 5}]}, "slis[0].threshold_ms"),
        ({"locustfile": "x.py", "slis": [{"name": "a", "kind": "availability", "match": "("}]},
         "slis[0].match"),
        ({"locustfile": "x.py", "slis": [{"name": "a", "kind": "availability"},
                                         {"name": "a", "kind": "availability"}]}, "slis"),
        ({"locustfile": "x.py", "max_duration_s": 0}, "max_duration_s"),
        ({"locustfile": "x.py", "userz": 3}, "userz"),
    ],
)
def test_bad_config_raises_validation_error_naming_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_config(raw)
    assert info.value.field == field
    assert info.value.exit_code == 2
