"""Lifecycle of the local target: real supervisor and replica processes on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chaos_suite.errors import InputError, PreflightError
from chaos_suite.targets.local import (
    LocalTargetClient,
    default_state_dir,
    managed_target,
    read_target_info,
    start_target,
    stop_target,
    target_status,
)


def running(pid: int) -> bool:
    """Independent of the library's own check: kill(0) plus the /proc state (zombies are dead;
    orphans of a killed supervisor may stay zombies here because PID 1 does not reap)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    if state == "Z":
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
        return False
    return True


def wait_all_dead(pids: list[int], timeout_s: float) -> list[int]:
    deadline = time.monotonic() + timeout_s
    alive = [p for p in pids if running(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if running(p)]
    return alive


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "target"
    try:
        yield path
    finally:
        stop_target(path, timeout_s=5)  # whatever a failing test left behind


def test_start_serves_every_endpoint_and_stop_leaves_no_process(state_dir: Path) -> None:
    info = start_target(state_dir, replicas=2, restart_delay_s=0.5)
    pids = [info.supervisor_pid, *info.replica_pids]
    assert len(info.replica_pids) == 2 and all(running(p) for p in pids)
    assert read_target_info(state_dir) == info
    on_disk = json.loads((state_dir / "target.json").read_text())
    assert on_disk["url"] == info.url and on_disk["port"] == info.port
    with httpx.Client(base_url=info.url, timeout=5) as http:
        assert http.get("/health").json()["status"] == "ok"
        assert len(http.get("/api/products").json()["products"]) > 0
        assert "items" in http.get("/api/cart").json()
        order = http.post("/api/checkout", json={"items": [{"id": "sku-1", "qty": 1}]})
        assert order.status_code == 201 and order.json()["order_id"]
        assert http.post("/api/checkout", content=b"not json").status_code == 400
        # any other path is served; /status/<code> answers that code
        assert http.get("/nope").status_code == 200
        assert http.put("/v2/orders/7", json={}).status_code == 200
        assert http.get("/status/404").status_code == 404
        assert http.post("/api/products").status_code == 405
    status = target_status(state_dir)
    assert status is not None and status["up"] and status["replicas_alive"] == 2
    assert {r["pid"] for r in status["replicas"]} == set(info.replica_pids)

    assert stop_target(state_dir) is True
    assert wait_all_dead(pids, 1.0) == []  # stop_target itself waits: nothing may be left
    assert not (state_dir / "target.json").exists()
    assert target_status(state_dir) is None
    assert stop_target(state_dir) is False


def test_replicas_share_one_port(state_dir: Path) -> None:
    with managed_target(state_dir, replicas=2) as info:
        seen: set[int] = set()
        for _ in range(60):  # new connection each time: the kernel spreads them
            seen.add(httpx.get(f"{info.url}/health", timeout=5).json()["replica"])
            if len(seen) == 2:
                break
        assert seen == {0, 1}
    assert wait_all_dead([info.supervisor_pid, *info.replica_pids], 1.0) == []


def test_detached_target_outlives_its_starter_and_stops_from_another_call(
        state_dir: Path) -> None:
    code = ("import json, sys; from pathlib import Path; "
            "from chaos_suite.targets.local import start_target; "
            "i = start_target(Path(sys.argv[1]), detach=True, restart_delay_s=0.5); "
            "print(json.dumps([i.supervisor_pid, *i.replica_pids]))")
    out = subprocess.run([sys.executable, "-c", code, str(state_dir)], capture_output=True,
                         text=True, timeout=30, check=True)
    pids = json.loads(out.stdout)
    time.sleep(0.5)  # the starter is gone; a non-detached supervisor would be stopping now
    assert all(running(p) for p in pids)
    assert os.getsid(pids[0]) == pids[0]  # its own session
    status = target_status(state_dir)
    assert status is not None and status["replicas_alive"] == 2 and status["detached"]
    assert stop_target(state_dir) is True
    assert wait_all_dead(pids, 1.0) == []


def test_attached_target_dies_with_its_starter(state_dir: Path) -> None:
    code = ("import json, sys; from pathlib import Path; "
            "from chaos_suite.targets.local import start_target; "
            "i = start_target(Path(sys.argv[1])); "
            "print(json.dumps([i.supervisor_pid, *i.replica_pids]), flush=True)")
    out = subprocess.run([sys.executable, "-c", code, str(state_dir)], capture_output=True,
                         text=True, timeout=30, check=True)
    pids = json.loads(out.stdout)
    assert wait_all_dead(pids, 8.0) == []
    assert not (state_dir / "target.json").exists()  # the supervisor removed its own file


def test_replicas_exit_when_supervisor_is_sigkilled(state_dir: Path) -> None:
    info = start_target(state_dir, replicas=2)
    os.kill(info.supervisor_pid, signal.SIGKILL)
    assert wait_all_dead([info.supervisor_pid], 5.0) == []
    assert wait_all_dead(list(info.replica_pids), 5.0) == []
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{info.url}/health", timeout=2)
    assert target_status(state_dir) is None  # stale target.json, dead supervisor
    assert stop_target(state_dir) is False
    assert not (state_dir / "target.json").exists()


def test_second_start_in_same_dir_is_refused(state_dir: Path) -> None:
    with managed_target(state_dir, replicas=1) as info:
        with pytest.raises(PreflightError, match="already running"):
            start_target(state_dir, replicas=1)
        assert target_status(state_dir) is not None  # the refusal did not harm the first
    assert wait_all_dead([info.supervisor_pid, *info.replica_pids], 1.0) == []


def test_busy_port_fails_with_reason_and_leaves_nothing(state_dir: Path) -> None:
    blocker = socket.socket()
    try:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        with pytest.raises(PreflightError, match=r"Address already in use|exited"):
            start_target(state_dir, port=blocker.getsockname()[1], timeout_s=10)
    finally:
        blocker.close()
    assert not (state_dir / "target.json").exists()


def test_explicit_port_of_another_target_is_refused(state_dir: Path, tmp_path: Path) -> None:
    with managed_target(state_dir, replicas=1) as first:
        with pytest.raises(PreflightError, match="already in use"):
            start_target(tmp_path / "second", replicas=1, port=first.port, timeout_s=10)
        assert target_status(state_dir) is not None
    assert not (tmp_path / "second" / "target.json").exists()


@pytest.mark.parametrize("kwargs", [{"replicas": 0}, {"port": 70000},
                                    {"port": 8123, "admin_port": 8123},
                                    {"restart_delay_s": -1.0}])
def test_bad_arguments_are_input_errors(state_dir: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises(InputError):
        start_target(state_dir, **kwargs)  # type: ignore[arg-type]
    assert not state_dir.exists() or not (state_dir / "target.json").exists()


def test_default_state_dir_follows_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHAOS_SUITE_STATE_DIR", str(tmp_path))
    assert default_state_dir() == tmp_path / "target"
    monkeypatch.delenv("CHAOS_SUITE_STATE_DIR")
    assert default_state_dir() == Path.home() / ".local" / "state" / "chaos-suite" / "target"


def test_client_reports_unreachable_admin_as_preflight_error() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with LocalTargetClient(f"http://127.0.0.1:{port}", timeout_s=2) as client, \
            pytest.raises(PreflightError, match="unreachable"):
        client.status()
