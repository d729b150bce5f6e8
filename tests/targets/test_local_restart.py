"""Killing replicas: the supervisor restarts them after the delay, counters keep their past."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chaos_suite.targets.local import (
    LocalTargetClient,
    LocalTargetInfo,
    managed_target,
    pid_alive,
    read_target_info,
)
from chaos_suite.targets.local.state import StateFile

RESTART_DELAY_S = 1.0


@pytest.fixture
def target(tmp_path: Path) -> Iterator[LocalTargetInfo]:
    with managed_target(tmp_path / "target", replicas=2,
                        restart_delay_s=RESTART_DELAY_S) as info:
        yield info


def send(url: str, n: int) -> int:
    """n sequential GETs on fresh connections (spread over replicas); how many got 200."""
    ok = 0
    for _ in range(n):
        with httpx.Client(base_url=url, timeout=5) as http:
            ok += http.get("/api/products").status_code == 200
    return ok


def totals_by_second(admin: LocalTargetClient) -> dict[int, int]:
    return {r["t"]: r["total"] for r in admin.counters()}


def test_killed_replica_restarts_after_the_delay_and_keeps_its_counters(
        target: LocalTargetInfo) -> None:
    with LocalTargetClient(target.admin_url) as admin:
        assert send(target.url, 40) == 40
        time.sleep(0.35)  # flushed to the state file (every 100 ms)
        before = totals_by_second(admin)
        old = {r["index"]: r["pid"] for r in admin.status()["replicas"]}

        killed_at = time.time()
        pid = admin.kill_replica(index=1)
        assert pid == old[1]
        status = admin.wait_all_alive(RESTART_DELAY_S + 8, exclude_pids=frozenset({pid}))
        replica = status["replicas"][1]
        assert replica["pid"] != pid and replica["restarts"] == 1
        assert status["replicas"][0]["pid"] == old[0] and status["replicas"][0]["restarts"] == 0
        # the delay is a lower bound the supervisor enforces, like a kubelet back-off
        assert replica["started_at"] - killed_at >= RESTART_DELAY_S - 0.05
        assert not pid_alive(pid)
        info = read_target_info(Path(status["state_dir"]))
        assert info is not None and replica["pid"] in info.replica_pids  # target.json follows

        after = totals_by_second(admin)
        assert {t: after[t] for t in before} == before  # no second lost or counted twice
        assert send(target.url, 40) == 40
        time.sleep(0.35)
        grown = totals_by_second(admin)
        assert sum(grown.values()) == sum(before.values()) + 40


def test_kill_without_index_picks_a_running_replica_and_sigterm_works_too(
        target: LocalTargetInfo) -> None:
    with LocalTargetClient(target.admin_url) as admin:
        pids = {r["pid"] for r in admin.status()["replicas"]}
        pid = admin.kill_replica(sig=signal.SIGTERM)
        assert pid in pids
        status = admin.wait_all_alive(RESTART_DELAY_S + 8, exclude_pids=frozenset({pid}))
        assert sum(r["restarts"] for r in status["replicas"]) == 1


def test_replica_killed_outside_the_api_is_restarted_and_service_continues(
        target: LocalTargetInfo) -> None:
    with LocalTargetClient(target.admin_url) as admin:
        victim = admin.status()["replicas"][0]["pid"]
        os.kill(victim, signal.SIGKILL)
        # the other replica keeps serving meanwhile: one port, SO_REUSEPORT
        assert send(target.url, 10) == 10
        status = admin.wait_all_alive(RESTART_DELAY_S + 8, exclude_pids=frozenset({victim}))
        assert status["replicas"][0]["restarts"] == 1
        assert status["replicas_alive"] == 2


def test_counters_are_readable_from_the_state_file_after_the_target_is_gone(
        tmp_path: Path) -> None:
    state_dir = tmp_path / "target"
    with managed_target(state_dir, replicas=2) as info:
        assert send(info.url, 30) == 30
    # replicas flush on SIGTERM: the file holds every request, no live process needed
    state = StateFile.open(state_dir / "state.bin")
    try:
        total = sum(sum(row[0] for row in state.read_slot(i).rows.values())
                    for i in range(state.n_slots))
        cumulative = sum(state.read_slot(i, with_rows=False).cumulative[0]
                         for i in range(state.n_slots))
    finally:
        state.close()
    assert total == cumulative == 30  # /health (start_target's readiness check) is not counted
