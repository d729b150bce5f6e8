"""The Prometheus SLI source against a real Prometheus scraping the real local target."""

from __future__ import annotations

import json
import math
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
import yaml
from support.prometheus_server import PrometheusServer, start_prometheus

from chaos_suite.errors import InputError, PreflightError
from chaos_suite.files.environment import PrometheusConfig
from chaos_suite.files.slo_file import PrometheusSource, SLOSpec
from chaos_suite.gameday.prom_sampler import PrometheusSampler, preflight
from chaos_suite.slo.model import SLI, SLO, SLIKind
from chaos_suite.sources.prometheus import (
    SAMPLE_WINDOW_S,
    PrometheusClient,
    budget_status,
    check_query,
    per_second_template,
    prometheus_duration,
    sample_second,
    sampled_query,
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


# ---------------------------------------------------------------- queries checked before a run

SLOTH_TOTAL = "sum(rate(checkout_http_requests_total[{{.window}}]))"
SLOTH_BAD = 'sum(rate(checkout_http_requests_total{status_class=~"(5xx)"}[{{.window}}]))'
NO_SERIES = 'sum(checkout_http_requests_total{status_class="nope"})'


def _prom_config(prom: PrometheusServer) -> PrometheusConfig:
    return PrometheusConfig.model_validate({"url": prom.url})


def test_templated_queries_are_sent_filled_and_judged_by_per_second_form() -> None:
    assert per_second_template(SLOTH_BAD)  # the regex's parentheses are inside quotes
    assert not per_second_template("sum(increase(x[{{window}}]))")
    assert sampled_query(SLOTH_TOTAL) == ("sum(rate(checkout_http_requests_total[5s]))", 1.0)
    assert sampled_query("sum(increase(x[{{window}}]))") == (
        "sum(increase(x[5s]))", 1 / SAMPLE_WINDOW_S)
    assert sampled_query(TOTAL) == (TOTAL, None)  # a counter: differenced over one second


def test_check_query_says_what_is_wrong(client: PrometheusClient, traffic: Traffic) -> None:
    assert check_query(client, TOTAL, 10) is None
    assert check_query(client, sampled_query(SLOTH_TOTAL)[0], 10) is None
    assert check_query(client, NO_SERIES, 10) == "matches no series over the last 10 s"
    problem = check_query(client, "sum(checkout_http_requests_total) / 0", 10)
    assert problem is not None and "NaN or infinite" in problem


def test_preflight_fills_templates_and_names_the_slo_and_query(prom: PrometheusServer,
                                                                traffic: Traffic) -> None:
    config = _prom_config(prom)
    # Sloth's templates used to reach Prometheus unfilled (a parse error); a bad-events
    # query may match nothing yet (no error so far), a total or good one may not
    preflight([slo(PrometheusSource(total=SLOTH_TOTAL, bad=SLOTH_BAD))], config)
    preflight([slo(PrometheusSource(total=TOTAL, bad=NO_SERIES))], config)
    with pytest.raises(InputError) as info:
        preflight([slo(PrometheusSource(total=NO_SERIES, good=GOOD))], config)
    assert str(info.value) == (f"SLO 'availability': prometheus total query {NO_SERIES!r} "
                               "matches no series over the last 30 s")
    assert info.value.exit_code == 2
    with pytest.raises(InputError, match=r"good query .* NaN or infinite"):
        preflight([slo(PrometheusSource(total=TOTAL, good=f"{GOOD} / 0"))], config)


def test_templated_slos_get_per_second_samples(client: PrometheusClient,
                                               traffic: Traffic) -> None:
    spec = slo(PrometheusSource(total=SLOTH_TOTAL, bad=SLOTH_BAD))
    seconds = range(traffic.first_second - 2, traffic.scraped_second + int(SAMPLE_WINDOW_S) + 1)
    samples = [s for s in (sample_second(spec, client, t) for t in seconds) if s is not None]
    assert samples  # rate(x[1s]) found nothing: every second used to come back empty
    counts = [s["slis"]["availability"] for s in samples]
    # a rate over 5 s windows spreads the burst over the seconds after it and extrapolates at
    # its edges: the sum is the traffic within a margin, the bad share the fault's
    total = sum(c["total"] for c in counts)
    assert total == pytest.approx(traffic.total, rel=0.35)
    bad = sum(c["total"] - c["good"] for c in counts)
    assert bad / total == pytest.approx(traffic.errors / traffic.total, abs=0.05)


def test_the_sampler_says_when_a_query_matches_no_series(prom: PrometheusServer,
                                                          traffic: Traffic) -> None:
    silent = slo(PrometheusSource(total=NO_SERIES, good=NO_SERIES))
    seen: list[dict[str, object]] = []
    with PrometheusClient(prom.url) as c:  # a young Prometheus has no samples 8 s back yet
        poll(lambda: c.query(TOTAL, at=time.time() - 8), lambda v: v is not None, 20,
             "a sample 8 s old")
    # from 8 s back to 6 s back: the loop's step over seconds Prometheus has, without its thread
    sampler = PrometheusSampler([silent], _prom_config(prom), seen.append, lag_s=8)
    with PrometheusClient(prom.url) as c:
        sampler._emit_until(c, int(time.time()) - 6)
    assert seen and all(s["slis"] == {"availability": {"good": 0, "total": 0}} for s in seen)
    assert sampler.silence() == (f"SLO 'availability': prometheus query {NO_SERIES!r} "
                                 "matches no series")
    loud = PrometheusSampler([slo(PrometheusSource(total=TOTAL, good=GOOD))],
                             _prom_config(prom), seen.append, lag_s=8)
    with PrometheusClient(prom.url) as c:
        loud._emit_until(c, int(time.time()) - 6)
    assert loud.silence() is None


def test_a_dry_run_whose_query_matches_nothing_exits_2_naming_it(
        prom: PrometheusServer, tmp_path: Path) -> None:
    from gameday_helpers import LOCUSTFILE, action, experiment, run_cli

    slos = {"kind": "SLOs", "service": "checkout", "slos": [
        {"name": "server-availability", "objective": "99.9%", "window": "30d",
         "source": {"type": "prometheus", "total": NO_SERIES, "bad": BAD}}]}
    (tmp_path / "slos.yaml").write_text(yaml.safe_dump(slos))
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "prom.yaml").write_text(yaml.safe_dump({
        "kind": "Environment", "name": "prom", "tier": "local",
        "target": {"type": "local", "replicas": 1},
        "sources": {"prometheus": {"url": prom.url}}}))
    (tmp_path / "noop.json").write_text(json.dumps(experiment("nothing", [
        action("clear", "clear_faults")])))
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump({
        "kind": "Gameday", "name": "prom-dry", "service": "checkout", "environment": "prom",
        "slos": "slos.yaml", "load": {"locustfile": str(LOCUSTFILE)}, "scenarios": [{
            "name": "noop", "experiment": "noop.json",
            "expect": {"server-availability": {"max_budget_consumed": "1%"}}}]}))
    result = run_cli("gameday", "run", str(tmp_path / "plan.yaml"), "--dry-run",
                     "--reports", str(tmp_path / "r"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert NO_SERIES in result.stderr and "server-availability" in result.stderr
    assert "matches no series" in result.stderr
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())
