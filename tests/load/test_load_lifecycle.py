"""The load process's lifecycle: failing at start, stopping, hard limits, orphan protection."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.stub_target import StubTarget

from chaos_suite.errors import PreflightError, ValidationError
from chaos_suite.load.runner import LoadProcess

PLAIN = """
from locust import FastHttpUser, task, constant

class U(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def ok(self):
        self.client.get("/ok")
"""


@pytest.fixture
def stub() -> Iterator[StubTarget]:
    target = StubTarget().start()
    try:
        yield target
    finally:
        target.stop()


@pytest.fixture
def locustfile(tmp_path: Path) -> Path:
    path = tmp_path / "plain.py"
    path.write_text(PLAIN)
    return path


def _gone(pid: int) -> bool:
    """True once pid no longer names a live process (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.1)
    return _gone(pid)


def _steady(seconds: float, users: int = 2) -> dict[str, Any]:
    return {"kind": "steady", "users": users, "duration_s": seconds}


def test_syntax_error_in_locustfile_is_a_preflight_error_naming_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken_locustfile.py"
    broken.write_text("from locust import HttpUser\nclass U(HttpUser)\n    pass\n")
    proc = LoadProcess({"locustfile": str(broken), "host": "http://127.0.0.1:9",
                        "shape": _steady(5)}, lambda s: None)
    with pytest.raises(PreflightError) as info:
        proc.start()
    assert str(broken) in str(info.value) and "SyntaxError" in str(info.value)
    assert proc.pid is not None and _gone(proc.pid) and not proc.running


@pytest.mark.parametrize(
    ("source", "config", "expected"),
    [
        ("x = 1\n", {"host": "http://127.0.0.1:9", "shape": _steady(5)}, "no User class"),
        (PLAIN, {"shape": _steady(5)}, "no host"),
        (PLAIN, {"host": "http://127.0.0.1:9"}, "no load shape"),
    ],
)
def test_unusable_setups_fail_at_start(
    tmp_path: Path, source: str, config: dict[str, Any], expected: str
) -> None:
    path = tmp_path / "lf.py"
    path.write_text(source)
    proc = LoadProcess({"locustfile": str(path), **config}, lambda s: None)
    with pytest.raises(PreflightError, match=expected):
        proc.start()
    assert proc.pid is not None and _gone(proc.pid)


def test_bad_config_is_rejected_before_anything_is_spawned(locustfile: Path) -> None:
    with pytest.raises(ValidationError, match=r"shape\.users"):
        LoadProcess({"locustfile": str(locustfile), "shape": {"kind": "steady"}}, lambda s: None)


def test_stop_flushes_the_last_second_and_leaves_no_process(
    stub: StubTarget, locustfile: Path
) -> None:
    samples: list[dict[str, Any]] = []
    proc = LoadProcess({"locustfile": str(locustfile), "host": stub.url, "shape": _steady(60)},
                       samples.append)
    try:
        proc.start()
        deadline = time.monotonic() + 10
        while not samples and time.monotonic() < deadline:
            time.sleep(0.05)
        assert samples and proc.running
        pid = proc.pid
        assert pid is not None and os.getpgid(pid) == pid  # own group, killable by pgid
    finally:
        summary = proc.stop()
    assert summary["status"] == "stopped" and summary["returncode"] == 0
    # the partial last second was flushed: the stream accounts for every request Locust made
    assert sum(s["requests"] for s in samples) == summary["locust"]["requests"]
    assert summary["samples"] == len(samples)
    assert _gone(pid) and not proc.running
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    assert proc.stop() is summary  # idempotent


def test_hard_max_duration_ends_a_long_shape(stub: StubTarget, locustfile: Path) -> None:
    proc = LoadProcess({"locustfile": str(locustfile), "host": stub.url,
                        "shape": _steady(120), "max_duration_s": 2}, lambda s: None)
    try:
        proc.start()
        with pytest.raises(TimeoutError):
            proc.wait(0.2)
        summary = proc.wait(20)
    finally:
        proc.stop()
    assert summary["status"] == "max_duration"
    assert 1.5 <= summary["elapsed_s"] < 20


ORPHAN_PARENT = """
import json, sys, time
from chaos_suite.load.runner import LoadProcess
proc = LoadProcess(json.loads(sys.argv[1]), lambda s: None)
proc.start()
print(proc.pid, flush=True)
time.sleep(60)
"""


def test_worker_stops_when_its_parent_dies(stub: StubTarget, locustfile: Path) -> None:
    config = {"locustfile": str(locustfile), "host": stub.url, "shape": _steady(60)}
    parent = subprocess.Popen([sys.executable, "-c", ORPHAN_PARENT, json.dumps(config)],
                              stdout=subprocess.PIPE, text=True)
    worker_pid = None
    try:
        assert parent.stdout is not None
        worker_pid = int(parent.stdout.readline())
        assert not _gone(worker_pid)
        parent.kill()  # SIGKILL: no cleanup code runs in the parent
        parent.wait(10)
        assert _wait_gone(worker_pid, 10), "the load worker outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)
        if worker_pid is not None and not _gone(worker_pid):
            os.killpg(worker_pid, signal.SIGKILL)  # only if the test failed
