"""The Prometheus SLI source against a real Prometheus scraping the real local target."""

from __future__ import annotations

import math
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import httpx
import pytest
from support.prometheus_server import PrometheusServer, start_prometheus

from chaos_suite.errors import InputError, PreflightError
from chaos_suite.files.slo_file import PrometheusSource, SLOSpec
from chaos_suite.slo.model import SLI, SLO, SLIKind
from chaos_suite.sources.prometheus import (
    PrometheusClient,
    budget_status,
    prometheus_duration,
    sample_second,
)
from chaos_suite.targets.local import LocalTargetClient, LocalTargetInfo, start_target, stop_target

T = TypeVar("T")
REQUESTS = 300
FAULTED = 150  # the second half of the requests runs under the fault
ERROR_RATIO = 0.2
OBJECTIVE = 0.9  # budget 0.1: a ~10% error ratio spends about the whole budget
WINDOW_S = 3600.0  # longer than Prometheus has lived: covers every sample
TOTAL = "sum(checkout_http_requests_total)"
GOOD = 'sum(checkout_http_requests_total{status_class!="5xx"})'
BAD = 'sum(checkout_http_requests_total{status_class="5xx"})'


@dataclass(frozen=True)
class Traffic:
    total: int  # what the target's own /admin/counters counted
    errors: int
    first_second: int
    scraped_second: int  # by then Prometheus had seen every request


def poll(read: Callable[[], T], done: Callable[[T], bool], timeout_s: float, what: str) -> T:
    """Call ``read`` until ``done`` holds (bounded); fail the test with the last value."""
    deadline = time.monotonic() + timeout_s
    value = read()
    while not done(value):
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not reached within {timeout_s:g}s (last: {value!r})")
        time.sleep(0.2)
        value = read()
    return value


def slo(source: PrometheusSource, window_s: float = WINDOW_S) -> SLOSpec:
    model = SLO(name="availability", objective=OBJECTIVE, window_seconds=window_s,
                sli=SLI(kind=SLIKind.AVAILABILITY), source="prometheus")
    return SLOSpec(slo=model, source=source, service="checkout")


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTargetInfo]:
    state = tmp_path_factory.mktemp("prom-target") / "t"
    try:
        yield start_target(state, replicas=1)
    finally:
        stop_target(state)


@pytest.fixture(scope="module")
def prom(target: LocalTargetInfo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    with start_prometheus([f"127.0.0.1:{target.admin_port}"], tmp_path_factory.mktemp("prom")) as server:
        server.wait_scraped()  # the counters are scraped at 0 before any traffic
        yield server


@pytest.fixture
def client(prom: PrometheusServer) -> Iterator[PrometheusClient]:
    with PrometheusClient(prom.url, timeout_s=5) as c:
        yield c


@pytest.fixture(scope="module")
def traffic(target: LocalTargetInfo, prom: PrometheusServer) -> Traffic:
    """300 GETs, the second half under a 20% error fault, then wait until both the target's
    counters and Prometheus have seen all of them."""
    first = time.time()
    with LocalTargetClient(target.admin_url) as admin, httpx.Client(timeout=10) as http:
        try:
            for i in range(REQUESTS):
                if i == REQUESTS - FAULTED:
                    admin.set_fault(error_ratio=ERROR_RATIO)
                http.get(target.url + "/api/products")
        finally:
            admin.clear_faults()
        rows = poll(admin.counters, lambda rs: sum(r["total"] for r in rs) == REQUESTS, 10,
                    "target counters")
    with PrometheusClient(prom.url) as c:
        poll(lambda: c.query(TOTAL), lambda v: v == REQUESTS, 20, "prometheus total")
    return Traffic(total=sum(r["total"] for r in rows), errors=sum(r["errors"] for r in rows),
                   first_second=math.floor(first), scraped_second=math.ceil(time.time()))


def test_query_sums_the_vector_and_reads_scalars(client: PrometheusClient, traffic: Traffic) -> None:
    by_class = client.query("checkout_http_requests_total")  # one series per status class
    assert by_class == traffic.total
    assert client.query('checkout_http_requests_total{status_class="5xx"}') == traffic.errors
    assert client.query("scalar(checkout_replicas_up) * 3") == 3.0
    assert client.ready() is True


def test_no_series_nan_and_inf_are_no_data(client: PrometheusClient, traffic: Traffic) -> None:
    assert client.query('checkout_http_requests_total{status_class="nope"}') is None
    assert client.query("0 / 0") is None  # Prometheus answers "NaN"
    assert client.query("1 / 0") is None  # "+Inf"
    assert client.query(TOTAL, at=time.time() - 7200) is None  # before Prometheus existed


def test_bad_promql_is_an_input_error_naming_the_query(client: PrometheusClient) -> None:
    bad = "sum(rate(checkout_http_requests_total[3s]"
    with pytest.raises(InputError) as info:
        client.query(bad)
    message = str(info.value)
    assert bad in message and "\n" not in message
    assert "parse error" in message  # Prometheus's own explanation is kept
    with pytest.raises(InputError, match="range"):  # a range vector is not a number
        client.query("checkout_http_requests_total[5s]")


def test_unreachable_prometheus_is_a_preflight_error(prom: PrometheusServer) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with PrometheusClient(f"http://127.0.0.1:{port}", timeout_s=2) as c:
        assert c.ready() is False
        with pytest.raises(PreflightError, match=f"127.0.0.1:{port} unreachable"):
            c.query("up")
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with PrometheusClient(url, timeout_s=0.3) as c, \
                pytest.raises(PreflightError, match="unreachable: timed out"):
            c.query("up")
    with PrometheusClient(prom.url + "/no-such-prefix", timeout_s=2) as c, \
            pytest.raises(PreflightError, match="HTTP 404"):
        c.query("up")


def test_bad_settings_are_input_errors() -> None:
    with pytest.raises(InputError):
        PrometheusClient("127.0.0.1:9090")
    with pytest.raises(InputError):
        PrometheusClient("http://127.0.0.1:9090", timeout_s=0)
    assert prometheus_duration(2592000) == "2592000s"
    assert prometheus_duration(1.5) == "1500ms"


def test_budget_matches_the_targets_own_counters(client: PrometheusClient, traffic: Traffic) -> None:
    expected = traffic.errors / traffic.total
    assert 0.03 < expected < 0.2  # the fault landed on about half of the requests
    status = budget_status(slo(PrometheusSource(total=TOTAL, good=GOOD)), client)
    assert status.total == traffic.total and status.bad == traffic.errors
    assert status.error_ratio is not None and status.remaining is not None
    assert status.error_ratio == pytest.approx(expected, abs=0.02)
    assert status.consumed == pytest.approx(status.error_ratio / (1 - OBJECTIVE))
    assert status.remaining == pytest.approx(1 - status.error_ratio / (1 - OBJECTIVE))
    assert status.window_seconds == WINDOW_S and ("good", GOOD) in status.queries
    via_bad = budget_status(slo(PrometheusSource(total=TOTAL, bad=BAD)), client, at=status.at)
    assert (via_bad.good, via_bad.total, via_bad.remaining) == (status.good, status.total,
                                                                status.remaining)


def test_window_placeholder_form_equals_difference_form(client: PrometheusClient,
                                                        traffic: Traffic) -> None:
    windowed_source = PrometheusSource(
        total="sum(increase(checkout_http_requests_total[{{window}}]))",
        bad='sum(increase(checkout_http_requests_total{status_class="5xx"}[{{.window}}]))')
    # At the newest sample's own timestamp increase() has nothing to extrapolate (every series
    # starts at 0 inside the window and ends at that sample), so both forms count exactly alike.
    last = client.query("max(timestamp(checkout_http_requests_total))")
    assert last is not None
    for at, rel in ((last, 1e-9), (time.time(), None)):
        difference = budget_status(slo(PrometheusSource(total=TOTAL, good=GOOD)), client, at=at)
        windowed = budget_status(slo(windowed_source), client, at=at)
        assert ("total", "sum(increase(checkout_http_requests_total[3600s]))") in windowed.queries
        if rel is not None:
            assert windowed.total == pytest.approx(difference.total, rel=rel)
        else:  # later, increase() extrapolates up to `at`: more events, the same proportions
            assert windowed.total >= difference.total == traffic.total
        assert windowed.error_ratio == pytest.approx(difference.error_ratio, abs=1e-9)
        assert windowed.remaining == pytest.approx(difference.remaining, abs=1e-9)


def test_no_traffic_is_no_data_never_a_full_budget(client: PrometheusClient, traffic: Traffic) -> None:
    quiet = PrometheusSource(total='sum(checkout_http_requests_total{status_class="1xx"})',
                             good='sum(checkout_http_requests_total{status_class="1xx"})')
    zero = budget_status(slo(quiet), client)  # series exist, but count no events
    before = budget_status(slo(PrometheusSource(total=TOTAL, good=GOOD)), client,
                           at=time.time() - 7200)  # no samples at all yet
    for status in (zero, before):
        assert status.total == 0
        assert (status.error_ratio, status.consumed, status.remaining) == (None, None, None)


def test_budget_status_refuses_other_sources(client: PrometheusClient) -> None:
    from chaos_suite.files.slo_file import LoadSource

    with pytest.raises(InputError, match="not prometheus"):
        budget_status(SLOSpec(slo=slo(PrometheusSource(total=TOTAL, good=GOOD)).slo,
                              source=LoadSource(), service="checkout"), client)


def test_per_second_samples_add_up_to_the_traffic(client: PrometheusClient, traffic: Traffic) -> None:
    spec = slo(PrometheusSource(total=TOTAL, good=GOOD))
    seconds = range(traffic.first_second - 2, traffic.scraped_second + 1)
    samples = [s for s in (sample_second(spec, client, t) for t in seconds) if s is not None]
    assert samples and all(s["source"] == "prometheus" for s in samples)
    counts = [s["slis"]["availability"] for s in samples]
    assert sum(c["total"] for c in counts) == traffic.total
    assert sum(c["total"] - c["good"] for c in counts) == traffic.errors
    quiet = traffic.scraped_second + 1  # after the last scrape that saw traffic
    poll(time.time, lambda now: now > quiet + 2, 10, "a quiet second in the past")
    assert sample_second(spec, client, quiet) is None
