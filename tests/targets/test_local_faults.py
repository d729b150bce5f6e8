"""Fault injection on the local target, checked against the server's own per-second counters."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chaos_suite.errors import InputError
from chaos_suite.targets.local import LocalTargetClient, LocalTargetInfo, managed_target


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTargetInfo]:
    with managed_target(tmp_path_factory.mktemp("faults") / "target", replicas=2,
                        restart_delay_s=0.5) as info:
        yield info


@pytest.fixture
def admin(target: LocalTargetInfo) -> Iterator[LocalTargetClient]:
    with LocalTargetClient(target.admin_url) as client:
        client.clear_faults()
        try:
            yield client
        finally:
            client.clear_faults()


def fire(url: str, path: str, n: int, concurrency: int = 8) -> dict[int, int]:
    """Send ``n`` GETs over ``concurrency`` connections; status code -> count (bounded)."""

    async def run() -> dict[int, int]:
        codes: dict[int, int] = {}
        queue = iter(range(n))
        limits = httpx.Limits(max_connections=concurrency)
        async with httpx.AsyncClient(base_url=url, timeout=10, limits=limits) as http:
            async def worker() -> None:
                for _ in queue:
                    code = (await http.get(path)).status_code
                    codes[code] = codes.get(code, 0) + 1
            await asyncio.gather(*(worker() for _ in range(concurrency)))
        return codes

    return asyncio.run(run())


def next_second() -> float:
    """Wait for a fresh whole second: counters are per second, so a window starting there holds
    only traffic sent from now on (earlier requests of this module fall in earlier seconds)."""
    time.sleep(0.35)  # let the previous test's last requests be flushed first
    start = float(int(time.time()) + 1)
    time.sleep(max(0.0, start - time.time()))
    return start


def server_window(admin: LocalTargetClient, since: float) -> list[dict[str, Any]]:
    """Counters from ``since`` on, after the replicas' next flush (every 100 ms)."""
    time.sleep(0.35)
    return admin.counters(since=since)


def test_error_ratio_20pct_shows_in_server_counters(target: LocalTargetInfo,
                                                    admin: LocalTargetClient) -> None:
    admin.set_fault(error_ratio=0.2)
    since = next_second()
    codes = fire(target.url, "/api/products", 2000)
    admin.clear_faults()
    rows = server_window(admin, since)
    total, errors = sum(r["total"] for r in rows), sum(r["errors"] for r in rows)
    assert sum(codes.values()) == 2000 and set(codes) <= {200, 503}
    assert total == 2000  # the server counted exactly what the client sent in the window
    assert errors == codes.get(503, 0)  # and exactly the 503s the client saw
    assert 0.15 < errors / total < 0.25  # 2000 draws at p=0.2: sd 0.009
    assert all(r["hist"]["+Inf"] == r["total"] for r in rows)


def test_latency_injection_lands_in_the_histogram(target: LocalTargetInfo,
                                                  admin: LocalTargetClient) -> None:
    state = admin.set_fault(latency_ms=150)
    assert state["latency_ms"] == 150 and state["active"]
    since = next_second()
    started = time.monotonic()
    codes = fire(target.url, "/api/cart", 40, concurrency=20)
    elapsed = time.monotonic() - started
    admin.clear_faults()
    rows = server_window(admin, since)
    assert codes == {200: 40}
    assert elapsed >= 2 * 0.15  # 40 requests over 20 connections: two rounds of sleeps
    assert sum(r["total"] for r in rows) == 40
    assert sum(r["hist"]["0.1"] for r in rows) == 0  # none answered within 100 ms
    assert sum(r["hist"]["+Inf"] for r in rows) == 40
    assert sum(r["latency_sum"] for r in rows) >= 40 * 0.15


def test_clear_restores_service_and_is_idempotent(target: LocalTargetInfo,
                                                  admin: LocalTargetClient) -> None:
    admin.set_fault(error_ratio=1.0)
    assert fire(target.url, "/api/products", 20) == {503: 20}
    first, second = admin.clear_faults(), admin.clear_faults()
    assert first["cleared"] is True and second["cleared"] is False
    assert not second["active"] and second["error_ratio"] == 0.0
    assert fire(target.url, "/api/products", 20) == {200: 20}


def test_health_is_never_faulted_nor_counted_and_paths_narrow_the_fault(
        target: LocalTargetInfo, admin: LocalTargetClient) -> None:
    admin.set_fault(error_ratio=1.0)
    time.sleep(0.35)
    counted = parse_prometheus(admin.metrics())["checkout_http_request_duration_seconds_count"]
    assert fire(target.url, "/health", 10) == {200: 10}
    time.sleep(0.35)  # /health is not counted either: probes stay out of the ground truth
    assert parse_prometheus(admin.metrics())[
        "checkout_http_request_duration_seconds_count"] == counted
    admin.set_fault(error_ratio=1.0, paths=["/api/checkout"])
    assert fire(target.url, "/api/products", 10) == {200: 10}
    with httpx.Client(base_url=target.url, timeout=5) as http:
        assert http.post("/api/checkout", json={"items": []}).status_code == 503


def test_error_and_latency_faults_are_independent(target: LocalTargetInfo,
                                                  admin: LocalTargetClient) -> None:
    admin.set_fault(error_ratio=0.5, latency_ms=None)
    state = admin.set_fault(error_ratio=None, latency_ms=20)
    assert state["error_ratio"] == 0.5 and state["latency_ms"] == 20
    state = admin.set_fault()  # the brief's defaults: both off
    assert not state["active"]


def test_ttl_expires_the_fault(target: LocalTargetInfo, admin: LocalTargetClient) -> None:
    state = admin.set_fault(error_ratio=1.0, ttl_s=0.6)
    assert state["error_expires_at"] is not None
    assert fire(target.url, "/api/products", 5) == {503: 5}
    deadline = time.monotonic() + 5
    while admin.status()["fault"]["active"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not admin.status()["fault"]["active"]
    assert fire(target.url, "/api/products", 5) == {200: 5}


@pytest.mark.parametrize("body", [{"error_ratio": 1.5}, {"latency_ms": -1}, {"ttl_s": 5},
                                  {"error_ratio": 0.1, "ttl_s": -2}, {"error_ratio": "x"},
                                  {"error_ratio": 0.1, "paths": ["no-slash"]}, {"bogus": 1}])
def test_malformed_fault_requests_are_refused(target: LocalTargetInfo, admin: LocalTargetClient,
                                              body: dict[str, Any]) -> None:
    answer = httpx.post(f"{target.admin_url}/admin/faults", json=body, timeout=5)
    assert answer.status_code == 400 and answer.json()["error"]
    assert not admin.status()["fault"]["active"]


def test_client_maps_refusals_to_input_error(admin: LocalTargetClient) -> None:
    with pytest.raises(InputError, match="error_ratio"):
        admin.set_fault(error_ratio=1.5)
    with pytest.raises(InputError, match="index"):
        admin.kill_replica(index=7)


LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_]+="[^"]*"(,[a-zA-Z_]+="[^"]*")*\})?'
                  r" (-?[0-9.eE+-]+|\+Inf|NaN)$")


def parse_prometheus(text: str) -> dict[str, float]:
    values: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            assert not line or re.match(r"^# (HELP|TYPE) [a-z_]+ ", line), line
            continue
        match = LINE.match(line)
        assert match, f"not Prometheus text: {line!r}"
        values[line.rsplit(" ", 1)[0]] = float(match.group(4))
    return values


def test_metrics_parse_as_prometheus_text_and_agree_with_counters(
        target: LocalTargetInfo, admin: LocalTargetClient) -> None:
    admin.set_fault(error_ratio=1.0, latency_ms=5)
    fire(target.url, "/api/products", 30)
    time.sleep(0.35)
    metrics = parse_prometheus(admin.metrics())
    assert metrics["checkout_fault_error_ratio"] == 1.0
    assert metrics["checkout_fault_latency_seconds"] == 0.005
    assert metrics["checkout_replicas_up"] == 2
    rows = admin.counters()  # whole ring: the target is younger than its 900 s retention
    classes = ("1xx", "2xx", "3xx", "4xx", "5xx")
    for name in classes:
        assert metrics[f'checkout_http_requests_total{{status_class="{name}"}}'] == \
            sum(r["status_classes"][name] for r in rows)
    count = metrics["checkout_http_request_duration_seconds_count"]
    assert count == sum(r["total"] for r in rows) >= 30
    assert metrics['checkout_http_request_duration_seconds_bucket{le="+Inf"}'] == count
    buckets = [v for k, v in metrics.items() if k.startswith("checkout_http_request_duration_"
                                                              "seconds_bucket")]
    assert buckets == sorted(buckets)  # cumulative
    admin.clear_faults()
    assert parse_prometheus(admin.metrics())["checkout_fault_error_ratio"] == 0.0


def test_counters_since_and_until_select_whole_seconds(target: LocalTargetInfo,
                                                       admin: LocalTargetClient) -> None:
    fire(target.url, "/api/products", 10)
    rows = server_window(admin, 0)
    assert rows, "traffic was sent"
    last = rows[-1]["t"]
    assert [r["t"] for r in admin.counters(since=last + 0.5)] == [last]  # [t, t+1) overlaps
    assert all(r["t"] < last for r in admin.counters(since=0, until=last))
    assert admin.counters(since=last + 1) == []
    assert [r["t"] for r in rows] == sorted(r["t"] for r in rows)


def test_a_fault_without_paths_lands_on_paths_the_service_does_not_know(
        target: LocalTargetInfo, admin: LocalTargetClient) -> None:
    """Any path is served (200) and faulted: a locustfile written for another service still
    measures the fault."""
    assert fire(target.url, "/v2/orders/17", 20) == {200: 20}
    admin.set_fault(error_ratio=1.0)
    assert fire(target.url, "/v2/orders/17", 20) == {503: 20}
    admin.set_fault(error_ratio=1.0, paths=["/api/"])
    assert fire(target.url, "/v2/orders/17", 20) == {200: 20}
