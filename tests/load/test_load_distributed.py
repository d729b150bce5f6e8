"""Distributed load: a Locust master and local workers against a real HTTP stub on 127.0.0.1.

Per-second samples merged at the master are checked against the server's own counters, and a
worker SIGKILLed mid-run must show as one ``worker_lost`` line while the run goes on.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.locustfiles import SLOW_CLOSED_LOOP
from support.stub_target import StubTarget, answered

from chaos_suite.errors import PreflightError, ValidationError
from chaos_suite.load.config import MASTER_SILENT_S, parse_config, worker_command
from chaos_suite.load.merge import SampleMerger
from chaos_suite.load.runner import LoadProcess

USERS = 4
ROOT = Path(__file__).resolve().parents[2]
_SAMPLE_KEYS = {"t", "source", "slis", "latency_ms", "latency_hist_ms", "requests",
                "status_4xx", "paths", "users"}


@pytest.fixture
def stub() -> Iterator[StubTarget]:
    target = StubTarget(error_every=7).start()
    try:
        yield target
    finally:
        target.stop()


def _locustfile(tmp_path: Path) -> Path:
    path = tmp_path / "lf.py"
    path.write_text(textwrap.dedent("""
        from locust import FastHttpUser, task, constant

        class U(FastHttpUser):
            wait_time = constant(0.02)

            @task
            def ok(self):
                self.client.get("/ok")

            @task
            def flaky(self):
                self.client.get("/flaky")
    """))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sink:
    def __init__(self) -> None:
        self.samples: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, sample: dict[str, Any]) -> None:
        with self._lock:
            self.samples.append(sample)

    def total(self, sli: str, key: str) -> int:
        return sum(int(s["slis"][sli][key]) for s in self.samples)


def _config(stub: StubTarget, tmp_path: Path, seconds: float, workers: int) -> dict[str, Any]:
    return {
        "locustfile": str(_locustfile(tmp_path)),
        "host": stub.url,
        "shape": {"kind": "steady", "users": USERS, "duration_s": seconds},
        "slis": [{"name": "availability", "kind": "availability"},
                 {"name": "flaky", "kind": "availability", "match": "^/flaky$"}],
        "workers": workers,
    }


def test_two_workers_merged_per_second_match_the_servers_counts(
    stub: StubTarget, tmp_path: Path
) -> None:
    sink = Sink()
    proc = LoadProcess(_config(stub, tmp_path, 5, 2), sink, on_event=sink.events.append)
    try:
        proc.start(ready_timeout_s=60)
        summary = proc.wait(60)
    finally:
        proc.stop()
    server = stub.counts()
    assert summary["status"] == "completed", summary
    assert sink.events == []
    ts = [s["t"] for s in sink.samples]
    assert ts == sorted(set(ts)) and len(ts) >= 4  # each second once, in order
    assert all(set(s) <= _SAMPLE_KEYS for s in sink.samples)
    client_total = sink.total("availability", "total")
    assert client_total == sum(s["requests"] for s in sink.samples) > 0
    assert client_total == summary["totals"]["requests"]
    # exact: Locust's own count across workers, and the server's up to requests cut at stop
    assert client_total == summary["locust"]["requests"]
    server_total = answered(server, "/ok") + answered(server, "/flaky")
    assert 0 <= server_total - client_total <= USERS
    flaky_bad = sink.total("flaky", "total") - sink.total("flaky", "good")
    assert 0 <= answered(server, "/flaky", "503") - flaky_bad <= USERS and flaky_bad > 0
    assert summary["totals"]["workers_lost"] == []


def test_a_worker_killed_is_reported_and_the_load_goes_on(
    stub: StubTarget, tmp_path: Path
) -> None:
    sink = Sink()
    proc = LoadProcess(_config(stub, tmp_path, 8, 2), sink, on_event=sink.events.append)
    try:
        proc.start(ready_timeout_s=60)
        time.sleep(2.5)
        assert proc.pid is not None
        children = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
                    .read_text().split()]
        assert len(children) == 2
        os.kill(children[0], signal.SIGKILL)
        summary = proc.wait(60)
    finally:
        proc.stop()
    assert summary["status"] == "completed", summary
    lost = [e for e in sink.events if e["type"] == "worker_lost"]
    assert len(lost) == 1 and lost[0]["pid"] == children[0] and lost[0]["live"] == 1
    assert proc.workers_lost == lost
    # the other worker kept loading after the loss
    after = [s for s in sink.samples if s["t"] > lost[0]["at"] + 1]
    assert after and sum(s["requests"] for s in after) > 0
    server = stub.counts()
    server_total = answered(server, "/ok") + answered(server, "/flaky")
    # the samples may miss only what the killed worker had not sent yet: its current second
    # and the one waiting for the emit grace, at most two seconds of the whole load
    busiest = max(s["requests"] for s in sink.samples)
    assert 0 <= server_total - summary["totals"]["requests"] <= 2 * busiest + USERS


def test_too_few_workers_fail_to_start(stub: StubTarget, tmp_path: Path) -> None:
    config = {**_config(stub, tmp_path, 5, 2), "expect_workers_timeout_s": 0.01}
    with pytest.raises(PreflightError, match="expected 2 load workers"):
        LoadProcess(config, Sink()).start(ready_timeout_s=60)


def test_merger_is_exact_and_carries_late_samples_forward() -> None:
    def sample(t: int, n: int, bad: int = 0) -> dict[str, Any]:
        return {"t": t, "source": "load", "requests": n, "status_4xx": 0,
                "slis": {"a": {"good": n - bad, "total": n}}, "paths": {"/x": n},
                "latency_ms": {"mean": 10.0, "max": 12.0} if n else {"mean": None, "max": None},
                "latency_hist_ms": {"15": n} if n else {}}

    m = SampleMerger(hold_s=2)
    m.add_worker("a")
    m.add_worker("b")
    m.add("a", sample(100, 5))
    assert m.pop_ready(101.5) == []  # b has not reported 100 yet
    m.add("b", sample(100, 3, bad=1))
    [s100] = m.pop_ready(101.5)
    assert s100["requests"] == 8 and s100["slis"]["a"] == {"good": 7, "total": 8}
    assert s100["latency_ms"]["max"] == 12.0 and s100["paths"] == {"/x": 8}
    m.add("a", sample(101, 4))
    assert m.pop_ready(103.9) == []
    [s101] = m.pop_ready(104.1)  # held no longer than hold_s for a silent worker
    assert s101["requests"] == 4
    m.add("b", sample(101, 2))  # late: into the next second, never lost
    m.drop_worker("b")
    m.add("a", sample(102, 1))
    [s102] = m.pop_ready(103)
    assert s102["t"] == 102 and s102["requests"] == 3 and m.late_requests == 2


# ------------------------------------------------------------------ remote workers


@pytest.mark.parametrize(("extra", "field", "says"), [
    ({"workers": 2, "local_workers": 3}, "local_workers", "must be <= workers (2)"),
    ({"workers": 3, "local_workers": 1, "master_bind": "0.0.0.0"}, "master_port",
     "2 remote workers"),
    ({"workers": 2, "local_workers": 1, "master_port": 5557}, "master_bind",
     "remote workers need the address"),
    ({"workers": 2, "master_bind": "localhost"}, "master_bind", "IPv4 address"),
    ({"workers": 2, "local_workers": -1}, "local_workers", ">= 0"),
])
def test_distributed_keys_that_do_not_fit_name_the_field(
        extra: dict[str, Any], field: str, says: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_config({"locustfile": "x.py", **extra})
    assert info.value.field == field and says in str(info.value)
    assert "\n" not in str(info.value)


def test_remote_workers_config_round_trips() -> None:
    cfg = parse_config({"locustfile": "x.py", "workers": 3, "local_workers": 1,
                        "master_bind": "0.0.0.0", "master_port": 5557})
    assert (cfg.local, cfg.remote) == (1, 2)
    assert parse_config(cfg.to_json()) == cfg
    assert parse_config({"locustfile": "x.py", "workers": 2}).remote == 0
    single = parse_config({"locustfile": "x.py"})  # the worker reads what the runner wrote
    assert parse_config(single.to_json()) == single
    assert worker_command("loadtests/checkout.py", "10.0.0.5", 5557) == \
        "chaos-suite load worker --master 10.0.0.5:5557 loadtests/checkout.py"


def _remote_worker(port: int, locustfile: Path) -> subprocess.Popen[str]:
    """`chaos-suite load worker`, standing in for a process on another machine."""
    return subprocess.Popen(
        [sys.executable, "-m", "chaos_suite.cli", "load", "worker", "--master",
         f"127.0.0.1:{port}", str(locustfile)],
        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True)


def _reap(proc: subprocess.Popen[str], timeout_s: float) -> tuple[int | None, str]:
    """The process's exit code if it exits within ``timeout_s`` (else None, and it is killed)."""
    try:
        out, _ = proc.communicate(timeout=timeout_s)
        return proc.returncode, out
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=10)
        return None, out


def test_a_remote_worker_joins_and_its_counts_are_merged(
        stub: StubTarget, tmp_path: Path) -> None:
    port = free_port()
    remote = _remote_worker(port, _locustfile(tmp_path))
    sink = Sink()
    config = {**_config(stub, tmp_path, 5, 2), "local_workers": 1, "master_bind": "127.0.0.1",
              "master_port": port}
    proc = LoadProcess(config, sink, on_event=sink.events.append)
    try:
        proc.start(ready_timeout_s=60)
        summary = proc.wait(60)
        assert proc.pid is not None
    finally:
        proc.stop()
        code, output = _reap(remote, 30)
    server = stub.counts()
    assert summary["status"] == "completed", summary
    # the remote worker left by itself once the master stopped, cleanly
    assert code == 0, output
    assert sink.events == [] and summary["totals"]["workers_lost"] == []
    client_total = sink.total("availability", "total")
    # 4 users on 2 workers: without the remote one's counts the samples would hold about half
    assert client_total == summary["locust"]["requests"] == summary["totals"]["requests"]
    server_total = answered(server, "/ok") + answered(server, "/flaky")
    print(f"remote+local: client {client_total}, server {server_total}")  # with -s
    assert client_total > 100 and 0 <= server_total - client_total <= USERS


def test_an_expected_remote_worker_that_never_connects_fails_the_start(
        stub: StubTarget, tmp_path: Path) -> None:
    config = {**_config(stub, tmp_path, 5, 2), "local_workers": 1, "master_bind": "127.0.0.1",
              "master_port": free_port(), "expect_workers_timeout_s": 3}
    started = time.monotonic()
    with pytest.raises(PreflightError,
                       match=r"expected 2 load workers \(1 local, 1 remote\), 1 connected"):
        LoadProcess(config, Sink()).start(ready_timeout_s=30)
    assert time.monotonic() - started < 30
    assert stub.counts() == {}  # the test never started: no user, no request


# ------------------------------------------------------------------ open loop, 2 workers


def test_an_arrival_shape_holds_its_rate_across_two_workers(
        stub: StubTarget, tmp_path: Path) -> None:
    rate, seconds = 40.0, 8
    lf = tmp_path / "slow.py"
    lf.write_text(textwrap.dedent(SLOW_CLOSED_LOOP))
    sink = Sink()
    config = {"locustfile": str(lf), "host": stub.url, "workers": 2,
              "shape": {"kind": "arrival", "rate": rate, "duration_s": seconds}}
    proc = LoadProcess(config, sink, on_event=sink.events.append)
    try:
        proc.start(ready_timeout_s=60)
        summary = proc.wait(60)
    finally:
        proc.stop()
    assert summary["status"] == "completed", summary
    samples = sorted(sink.samples, key=lambda s: s["t"])
    # every answer takes 300 ms: 4 users pacing at 10/s would send 13/s, the shape on the
    # master adds users from the workers' cycles until about rate × 0.3 s are busy
    steady = samples[2:-1]
    assert len(steady) >= 4, samples
    mean = sum(s["requests"] for s in steady) / len(steady)
    server_slow = answered(stub.counts(), "/slow")
    print(f"arrival across 2 workers: target {rate}/s, measured {mean:.1f}/s over "
          f"{len(steady)} s, users {[s['users'] for s in steady]}; server {server_slow} in all")
    assert mean == pytest.approx(rate, rel=0.2)
    # a busy machine's slower answers take a few more users now and then: the mean
    users = [s["users"] for s in steady]
    assert sum(users) / len(users) == pytest.approx(rate * 0.3, abs=3)
    client_total = sink.total("availability", "total")
    assert 0 <= server_slow - client_total <= max(s["users"] for s in samples)


def test_a_remote_worker_stops_loading_when_its_master_dies(
        stub: StubTarget, tmp_path: Path) -> None:
    port = free_port()
    remote = _remote_worker(port, _locustfile(tmp_path))
    config = {**_config(stub, tmp_path, 120, 2), "local_workers": 1, "master_bind": "127.0.0.1",
              "master_port": port}
    proc = LoadProcess(config, Sink())
    try:
        proc.start(ready_timeout_s=60)
        time.sleep(2)
        assert proc.pid is not None
        os.killpg(proc.pid, signal.SIGKILL)  # the master and its local worker, no goodbye
        killed = time.monotonic()
        code, output = _reap(remote, MASTER_SILENT_S + 20)
        gone_after = time.monotonic() - killed
    finally:
        proc.stop()
        if remote.poll() is None:
            _reap(remote, 0.1)
    assert code == 4, output  # chaos-suite load worker: the master was lost, an infra error
    assert "no heartbeat from the master" in output
    assert gone_after < MASTER_SILENT_S + 10, gone_after
    served = answered(stub.counts(), "/ok") + answered(stub.counts(), "/flaky")
    time.sleep(1.5)
    assert answered(stub.counts(), "/ok") + answered(stub.counts(), "/flaky") == served
