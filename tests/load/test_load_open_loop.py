"""Open-loop load (shape kind ``arrival``) and the locustfile's own shape: the profile math without
Locust, then a real worker against the stub target, whose ``/slow`` answers after 300 ms."""

from __future__ import annotations

import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.locustfiles import SLOW_CLOSED_LOOP
from support.stub_target import StubTarget

from chaos_suite.errors import ValidationError
from chaos_suite.load.config import parse_config
from chaos_suite.load.profile import ShapeError, arrival_users, normalize_shape, users_at
from chaos_suite.load.runner import LoadProcess


def test_arrival_defaults_follow_the_rate() -> None:
    shape = normalize_shape({"kind": "arrival", "rate": 600, "duration_s": 60})
    # each user paces at 10 task runs a second: 60 users send 600/s while responses are fast
    assert (shape["per_user_rate"], shape["users"], shape["max_users"]) == (10.0, 60, 600)
    assert shape["spawn_rate"] == 600  # a change of users lands within a second
    assert users_at(shape, 0) == users_at(shape, 59.9) == 60
    assert users_at(shape, 60) is None
    assert normalize_shape(shape) == shape  # the worker normalizes what the runner normalized
    assert normalize_shape({"kind": "arrival", "rate": 0.5, "duration_s": 1})["users"] == 1


def test_arrival_users_hold_the_rate_by_littles_law() -> None:
    shape = {"kind": "arrival", "rate": 600, "max_users": 400, "duration_s": 60}
    assert arrival_users(shape, 0.002, 60) == 60  # faster than the pace: the pace is the cycle
    assert arrival_users(shape, 0.1, 75) == 60  # back to the starting users once fast again
    assert arrival_users(shape, 0.3, 60) == 180  # 300 ms responses: 600/s needs 180 busy users
    assert arrival_users(shape, 5.0, 60) == 400  # never beyond max_users
    assert arrival_users(shape, None, 123) == 123  # nothing completed: keep what runs
    with pytest.raises(ValueError, match="not an arrival shape"):
        arrival_users({"kind": "steady", "users": 1, "duration_s": 1}, 0.1, 1)


@pytest.mark.parametrize(("params", "field"), [
    ({"kind": "arrival", "duration_s": 1}, "rate"),
    ({"kind": "arrival", "rate": 0, "duration_s": 1}, "rate"),
    ({"kind": "arrival", "rate": 10, "per_user_rate": -1, "duration_s": 1}, "per_user_rate"),
    ({"kind": "arrival", "rate": 100, "users": 20, "max_users": 5, "duration_s": 1}, "max_users"),
    ({"kind": "arrival", "rate": 100, "users": 0, "duration_s": 1}, "users"),
    ({"kind": "steady", "users": 1, "rate": 5, "duration_s": 1}, "rate"),
])
def test_bad_arrival_shapes_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(ShapeError) as info:
        normalize_shape(params)
    assert info.value.field == field


def test_default_shape_is_validated_like_the_shape() -> None:
    cfg = parse_config({"locustfile": "x.py",
                        "default_shape": {"kind": "steady", "users": 3, "duration_s": 9}})
    assert cfg.shape is None and cfg.default_shape is not None
    assert parse_config(cfg.to_json()) == cfg
    with pytest.raises(ValidationError) as info:
        parse_config({"locustfile": "x.py", "default_shape": {"kind": "steady", "users": 1}})
    assert info.value.field == "default_shape.duration_s"


# ---------------------------------------------------------------- a real worker


@pytest.fixture
def stub() -> Iterator[StubTarget]:
    target = StubTarget().start()
    try:
        yield target
    finally:
        target.stop()


class Samples:
    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, sample: dict[str, Any]) -> None:
        with self._lock:
            self.lines.append(sample)


def _run(config: dict[str, Any], timeout_s: float = 30) -> tuple[Samples, dict[str, Any], str]:
    sink = Samples()
    proc = LoadProcess(config, sink)
    try:
        proc.start()
        shape = str(proc.ready_info["shape"])
        summary = proc.wait(timeout_s)
    finally:
        proc.stop()
    return sink, summary, shape


def _locustfile(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "lf.py"
    path.write_text(textwrap.dedent(body))
    return path


def test_arrival_holds_the_rate_through_slow_responses(stub: StubTarget, tmp_path: Path) -> None:
    rate = 40.0
    lf = _locustfile(tmp_path, SLOW_CLOSED_LOOP)
    sink, summary, shape = _run({"locustfile": str(lf), "host": stub.url,
                                 "shape": {"kind": "arrival", "rate": rate, "duration_s": 7}})
    assert shape == "config:arrival" and summary["status"] == "completed"
    # every answer takes 300 ms, so 4 users pacing at 10/s would send 13/s: the shape adds
    # users until about rate × 0.3 s are busy (the first second is the ramp)
    steady = sink.lines[2:-1]
    assert steady, sink.lines
    mean = sum(s["requests"] for s in steady) / len(steady)
    assert mean == pytest.approx(rate, rel=0.2)
    assert all(s["users"] == pytest.approx(rate * 0.3, abs=2) for s in steady)


OWN_SHAPE = """
    from locust import FastHttpUser, LoadTestShape, constant, task

    class Shopper(FastHttpUser):
        wait_time = constant(0.05)

        @task
        def ok(self):
            self.client.get("/ok")

    class FiveThenTen(LoadTestShape):
        def tick(self):
            t = self.get_run_time()
            if t >= 6:
                return None
            return (5, 50) if t < 3 else (10, 50)
"""


def test_the_locustfiles_shape_runs_untouched_and_its_users_are_in_the_samples(
        stub: StubTarget, tmp_path: Path) -> None:
    lf = _locustfile(tmp_path, OWN_SHAPE)
    default = {"kind": "steady", "users": 1, "duration_s": 30}
    sink, summary, shape = _run({"locustfile": str(lf), "host": stub.url,
                                 "default_shape": default})
    assert shape == "locustfile:FiveThenTen"
    assert summary["status"] == "completed"  # its own end, not the default's 30 s
    users = [s["users"] for s in sink.lines]
    assert 5 in users and 10 in users
    assert users.index(10) > users.index(5)
    assert max(users) == 10

    plain = _locustfile(tmp_path, SLOW_CLOSED_LOOP.replace("/slow", "/ok"))
    sink, _, shape = _run({"locustfile": str(plain), "host": stub.url,
                           "default_shape": {**default, "users": 2, "duration_s": 3}})
    assert shape == "default:steady"
    assert {s["users"] for s in sink.lines[1:-1]} == {2}
