"""End to end: a real Locust worker process against a real HTTP stub on 127.0.0.1.

The stub counts every answer itself, so the client-side buckets are checked against the
server's ground truth (exact up to the requests in flight when the users were stopped).
"""

from __future__ import annotations

import socket
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.stub_target import StubTarget, answered

from chaos_suite.load.runner import LoadProcess

USERS = 4


@pytest.fixture
def stub() -> Iterator[StubTarget]:
    target = StubTarget(error_every=7).start()
    try:
        yield target
    finally:
        target.stop()


def _locustfile(tmp_path: Path, tasks: list[str], extra: str = "") -> Path:
    body = "\n".join(
        f"    @task\n    def t{i}(self):\n        self.client.get({path!r})\n"
        for i, path in enumerate(tasks)
    )
    path = tmp_path / "lf.py"
    path.write_text(
        "from locust import FastHttpUser, task, constant\n"
        + textwrap.dedent(extra)
        + "\nclass U(FastHttpUser):\n    wait_time = constant(0.02)\n\n"
        + body
    )
    return path


class Collected:
    """on_sample sink: the samples and when each arrived (it runs on the reader thread)."""

    def __init__(self) -> None:
        self.samples: list[dict[str, Any]] = []
        self.arrived: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, sample: dict[str, Any]) -> None:
        with self._lock:
            self.samples.append(sample)
            self.arrived.append(time.monotonic())

    def total(self, sli: str, key: str) -> int:
        return sum(int(s["slis"][sli][key]) for s in self.samples)


def _run(config: dict[str, Any], timeout_s: float = 30) -> tuple[Collected, dict[str, Any]]:
    sink = Collected()
    proc = LoadProcess(config, sink)
    try:
        proc.start()
        summary = proc.wait(timeout_s)
    finally:
        proc.stop()
    return sink, summary


def _steady(seconds: float, users: int = USERS) -> dict[str, Any]:
    return {"kind": "steady", "users": users, "duration_s": seconds}


def test_buckets_stream_each_second_and_match_the_servers_counts(
    stub: StubTarget, tmp_path: Path
) -> None:
    config = {
        "locustfile": str(_locustfile(tmp_path, ["/ok", "/flaky", "/missing"])),
        "host": stub.url,
        "shape": _steady(4),
        "slis": [
            {"name": "availability", "kind": "availability"},
            {"name": "flaky", "kind": "availability", "match": "^/flaky$"},
            {"name": "missing", "kind": "availability", "match": "^/missing$"},
        ],
    }
    sink, summary = _run(config)
    server = stub.counts()

    assert summary["status"] == "completed" and summary["returncode"] == 0
    ts = [s["t"] for s in sink.samples]
    assert ts == list(range(ts[0], ts[0] + len(ts))) and len(ts) >= 4
    # streamed while running, not dumped at the end: about one line a second
    assert sink.arrived[-1] - sink.arrived[0] >= 2.0

    client_total = sink.total("availability", "total")
    assert client_total == summary["totals"]["requests"] == summary["locust"]["requests"]
    assert client_total == sum(s["requests"] for s in sink.samples)
    server_total = sum(answered(server, p) for p in ("/ok", "/flaky", "/missing"))
    assert 0 <= server_total - client_total <= USERS  # only requests cut off at stop

    # 5xx are bad, and nothing else is
    bad = client_total - sink.total("availability", "good")
    flaky_bad = sink.total("flaky", "total") - sink.total("flaky", "good")
    assert bad == flaky_bad > 0
    assert 0 <= answered(server, "/flaky", "503") - flaky_bad <= USERS
    # 404 is the server answering correctly: good
    assert sink.total("missing", "good") == sink.total("missing", "total") > 0
    assert 0 <= answered(server, "/missing", "404") - sink.total("missing", "total") <= USERS
    # and each second says how many got a 4xx, and which paths the load reached
    assert sum(s["status_4xx"] for s in sink.samples) == sink.total("missing", "total")
    reached = {key for s in sink.samples for key in s["paths"]}
    assert reached == {"/ok", "/flaky", "/missing"}


def test_latency_sli_counts_valid_requests_below_threshold(
    stub: StubTarget, tmp_path: Path
) -> None:
    config = {
        "locustfile": str(_locustfile(tmp_path, ["/ok", "/slow"])),
        "host": stub.url,
        "shape": _steady(4),
        "slis": [
            {"name": "latency", "kind": "latency", "threshold_ms": 250},
            {"name": "slow_1s", "kind": "latency", "threshold_ms": 1000, "match": "slow"},
            {"name": "ok", "kind": "availability", "match": "^/ok$"},
            {"name": "slow", "kind": "availability", "match": "^/slow$"},
        ],
    }
    sink, summary = _run(config)
    server = stub.counts()
    ok, slow = sink.total("ok", "total"), sink.total("slow", "total")
    assert ok > 0 and slow > 0
    assert sink.total("latency", "total") == ok + slow  # every request was valid
    good = sink.total("latency", "good")
    assert good <= ok  # a 300 ms answer is never under 250 ms
    assert good >= 0.9 * ok  # the fast path stays fast (margin for a busy machine)
    assert sink.total("slow_1s", "total") == slow
    assert sink.total("slow_1s", "good") >= 0.9 * slow
    assert 0 <= answered(server, "/slow") - slow <= USERS
    p99s = [s["latency_ms"]["p99"] for s in sink.samples if s["requests"]]
    assert max(p99s) >= 250
    assert summary["totals"]["latency_ms"]["max"] >= 300


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_is_bad_and_not_a_latency_event(tmp_path: Path) -> None:
    config = {
        "locustfile": str(_locustfile(tmp_path, ["/ok"])),
        "host": f"http://127.0.0.1:{_closed_port()}",
        "shape": _steady(3, users=2),
        "slis": [{"name": "availability", "kind": "availability"},
                 {"name": "latency", "kind": "latency", "threshold_ms": 250}],
    }
    sink, summary = _run(config)
    total = sink.total("availability", "total")
    assert total == summary["locust"]["requests"] == summary["locust"]["failures"] > 0
    assert sink.total("availability", "good") == 0
    assert sink.total("latency", "total") == 0


SHAPED = """
from locust import LoadTestShape, events

print("a locustfile printing to stdout must not break the protocol")

@events.test_start.add_listener
def _hello(environment, **kw):
    print("test_start listener of the user's own locustfile ran")

class TwoSeconds(LoadTestShape):
    def tick(self):
        return (2, 2) if self.get_run_time() < 2 else None
"""


def test_locustfile_shape_applies_unless_config_gives_one(
    stub: StubTarget, tmp_path: Path
) -> None:
    lf = str(_locustfile(tmp_path, ["/ok"], extra=SHAPED))
    log = tmp_path / "worker.log"
    sink = Collected()
    own = LoadProcess({"locustfile": lf, "host": stub.url}, sink, log_path=log)
    try:
        own.start()
        assert own.ready_info["shape"] == "locustfile:TwoSeconds"
        summary = own.wait(20)  # the locustfile's shape ends the run by itself
    finally:
        own.stop()
    assert summary["status"] == "completed"
    assert sink.total("availability", "total") == summary["locust"]["requests"] > 0
    logged = log.read_text()
    assert "must not break the protocol" in logged and "listener" in logged

    explicit = LoadProcess({"locustfile": lf, "host": stub.url, "shape": _steady(30)}, sink)
    try:
        explicit.start()
        assert explicit.ready_info["shape"] == "config:steady"
    finally:
        stopped = explicit.stop()
    assert stopped["status"] == "stopped"
