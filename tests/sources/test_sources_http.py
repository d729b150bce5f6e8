"""The http SLI source: a prober sending requests at a fixed rate to a real HTTP server on
127.0.0.1 that counts what it served, per path and second."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaos_suite.errors import PreflightError
from chaos_suite.files.slo_file import HttpSource, SLOSpec, read_own_format
from chaos_suite.sources.http import STOP_GRACE_S, HttpProber, check_reachable, http_slos

ROOT = Path(__file__).resolve().parents[2]
SLOW_S = 0.3  # /slow: well above the latency threshold, well below a second
CRAWL_S = 0.7  # /crawl: slower than its probe period, so requests overlap
THRESHOLD_MS = 200
PROBE_S = 4.2  # how long the shared prober runs


class CountingServer:
    """200 on /ok /fast /head, 503 on /fail, 418 on /teapot*, slow 200s on /slow and /crawl, a
    hang (until released) on /hang, 404 elsewhere; counts each request by path and the second it
    arrived."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, int]] = Counter()
        self.lock = threading.Lock()
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, body: bool) -> None:
                with server.lock:
                    server.counts[(self.path, int(time.time()))] += 1
                if self.path == "/hang":
                    server.release.wait(5.0)
                elif self.path in ("/slow", "/crawl"):
                    time.sleep(SLOW_S if self.path == "/slow" else CRAWL_S)
                status = {"/ok": 200, "/fast": 200, "/head": 200, "/slow": 200, "/crawl": 200,
                          "/hang": 200, "/fail": 503}.get(self.path, 404)
                if self.path.startswith("/teapot"):
                    status = 418
                payload = b"answer\n"
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if body:
                        self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (a timeout or a cancelled probe)

            def do_GET(self) -> None:
                self._answer(body=True)

            def do_HEAD(self) -> None:
                self._answer(body=False)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                       daemon=True)

    def per_second(self, path: str) -> dict[int, int]:
        with self.lock:
            return {s: n for (p, s), n in self.counts.items() if p == path}

    def total(self, path: str) -> int:
        return sum(self.per_second(path).values())

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def server() -> Iterator[CountingServer]:
    srv = CountingServer()
    srv.thread.start()
    try:
        yield srv
    finally:
        srv.close()


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (the port was just bound and released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def specs(*slos: dict[str, Any]) -> list[SLOSpec]:
    """SLOs through the file model, as a run would get them."""
    doc = {"kind": "SLOs", "service": "probe-test",
           "slos": [{"objective": 0.99, "window": "1h", **slo} for slo in slos]}
    return read_own_format(doc, "test.yaml", "")


def availability(name: str, **source: Any) -> dict[str, Any]:
    return {"name": name, "source": {"type": "http", **source}}


def latency(name: str, **source: Any) -> dict[str, Any]:
    return {"name": name, "sli": {"kind": "latency", "threshold_ms": THRESHOLD_MS},
            "source": {"type": "http", **source}}


class Collected:
    def __init__(self) -> None:
        self.samples: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, sample: dict[str, Any]) -> None:
        with self.lock:
            self.samples.append(sample)

    def series(self, name: str) -> dict[int, tuple[int, int]]:
        return {s["t"]: (s["slis"][name]["good"], s["slis"][name]["total"]) for s in self.samples}

    def totals(self, name: str) -> tuple[int, int]:
        pairs = self.series(name).values()
        return sum(g for g, _ in pairs), sum(n for _, n in pairs)


@dataclass
class Probed:
    samples: Collected
    prober: HttpProber
    started: float
    stopped: float
    down_url: str


@pytest.fixture(scope="module")
def probed(server: CountingServer) -> Probed:
    """One prober over every kind of path, run for PROBE_S and drained."""
    down = closed_port_url()
    slos = specs(
        availability("ok", path="/ok", rate=5),
        availability("fail", path="/fail", rate=5),
        availability("teapot-default", path="/teapot", rate=1),
        availability("teapot-2xx", path="/teapot-2xx", rate=1, good_status=["2xx"]),
        availability("head", path="/head", rate=2, method="HEAD"),
        latency("slow", path="/slow", rate=1),
        latency("fast", path="/fast", rate=2),
        latency("crawl", path="/crawl", rate=2, timeout="2s"),
        availability("down", url=down, rate=2),
        latency("down-latency", url=down, rate=2),
        # a load SLO beside them is not the prober's
        {"name": "by-load", "source": "load"},
    )
    samples = Collected()
    prober = HttpProber(slos, samples, base_url=server.url + "/")
    assert prober.error is None
    prober.start()
    assert prober.started_at is not None
    started = prober.started_at
    time.sleep(PROBE_S)
    stopped = time.time()
    prober.stop(drain=True)
    assert prober.error is None
    assert not prober._thread.is_alive()
    return Probed(samples, prober, started, stopped, down)


def expected_requests(rate: float, start: float, stop: float) -> int:
    """Grid slots (k + 1/2) / rate inside [start, stop)."""
    return sum(1 for k in range(int(start * rate) - 1, int(stop * rate) + 2)
               if start <= (k + 0.5) / rate < stop)


def test_samples_carry_source_http_every_second_once_without_gaps(probed: Probed) -> None:
    seconds = [s["t"] for s in probed.samples.samples]
    assert seconds == list(range(int(probed.started), seconds[-1] + 1))
    assert seconds[-1] >= int(probed.stopped)
    names = {"ok", "fail", "teapot-default", "teapot-2xx", "head", "slow", "fast", "crawl",
             "down", "down-latency"}
    for sample in probed.samples.samples:
        assert set(sample) == {"t", "source", "slis"}
        assert sample["source"] == "http"
        assert set(sample["slis"]) == names  # empty seconds too, as total 0
    assert set(probed.prober.urls) == names
    assert probed.prober.totals["ok"] == dict(zip(("good", "total"),
                                                  probed.samples.totals("ok"), strict=True))


@pytest.mark.parametrize(("name", "path", "all_good"), [
    ("ok", "/ok", True),
    ("fail", "/fail", False),  # 503: bad for availability
    ("teapot-default", "/teapot", True),  # a 4xx is an answer (docs/architecture.md §1)
    ("teapot-2xx", "/teapot-2xx", False),  # unless good_status leaves 4xx out
    ("head", "/head", True),
    ("slow", "/slow", False),  # slower than the threshold: bad for latency
    ("fast", "/fast", True),
])
def test_per_second_counts_match_what_the_server_counted(probed: Probed, server: CountingServer,
                                                         name: str, path: str, all_good: bool) -> None:
    served = server.per_second(path)
    series = probed.samples.series(name)
    measured = {s: total for s, (_, total) in series.items() if total}
    assert measured == {s: n for s, n in served.items() if n}
    for good, total in series.values():
        assert good == (total if all_good else 0)


def test_rate_is_fixed_whatever_the_response_time(probed: Probed, server: CountingServer) -> None:
    # /crawl answers slower than its period (0.7 s vs 0.5 s): the probes overlap, none is skipped
    for name, rate, path in (("ok", 5, "/ok"), ("slow", 1, "/slow"), ("crawl", 2, "/crawl")):
        expected = expected_requests(rate, probed.started, probed.stopped)
        assert abs(probed.samples.totals(name)[1] - expected) <= 1, name
        assert probed.samples.totals(name)[1] == server.total(path)
    assert probed.samples.totals("crawl") == (0, server.total("/crawl"))


def test_no_answer_is_bad_for_availability_and_no_data_for_latency(probed: Probed) -> None:
    good, total = probed.samples.totals("down")
    assert good == 0
    assert abs(total - expected_requests(2, probed.started, probed.stopped)) <= 1
    assert probed.samples.totals("down-latency") == (0, 0)


def test_check_reachable_passes_live_paths_even_a_503(server: CountingServer) -> None:
    check_reachable(specs(availability("ok", path="/ok"), availability("fail", path="/fail"),
                          latency("slow", url=server.url + "/slow", method="HEAD")), server.url)


def test_check_reachable_refuses_an_unreachable_url_in_one_line() -> None:
    url = closed_port_url()
    slos = specs({"name": "by-load"}, availability("down", url=url, timeout="1s"))
    with pytest.raises(PreflightError) as info:
        check_reachable(slos, None)
    message = str(info.value)
    assert "\n" not in message
    assert "SLO 'down'" in message and url in message and "unreachable" in message


def test_check_reachable_refuses_a_path_the_target_does_not_serve(server: CountingServer) -> None:
    with pytest.raises(PreflightError, match=r"SLO 'typo'.*/nope answered 404"):
        check_reachable(specs(availability("typo", path="/nope")), server.url)


def test_a_path_without_the_targets_url_cannot_run() -> None:
    slos = specs(availability("ok", path="/ok"))
    prober = HttpProber(slos, Collected())
    assert prober.error is not None and "SLO 'ok'" in prober.error and "/ok" in prober.error
    prober.start()  # does nothing
    prober.stop()
    assert not prober._thread.is_alive()
    with pytest.raises(PreflightError, match="SLO 'ok'"):
        check_reachable(slos, None)


def test_a_timeout_not_above_the_latency_threshold_is_refused(server: CountingServer) -> None:
    slos = specs({"name": "tight", "sli": {"kind": "latency", "threshold_ms": 1500},
                  "source": {"type": "http", "path": "/ok", "timeout": "1s"}})
    assert "timeout" in str(HttpProber(slos, Collected(), base_url=server.url).error)
    with pytest.raises(PreflightError, match=r"SLO 'tight'.*timeout"):
        check_reachable(slos, server.url)


def test_no_http_slos_is_nothing_to_do() -> None:
    slos = specs({"name": "by-load"})
    assert http_slos(slos) == []
    check_reachable(slos, None)
    prober = HttpProber(slos, Collected())
    prober.start()
    prober.stop()
    assert prober.error is None and not prober._thread.is_alive()


@pytest.mark.parametrize("drain", [True, False])
def test_stop_returns_within_its_bound_with_requests_hanging(server: CountingServer,
                                                             drain: bool) -> None:
    timeout_s = 1.5
    slos = specs(availability("hang", path="/hang", rate=2, timeout=f"{timeout_s}s"))
    samples = Collected()
    prober = HttpProber(slos, samples, base_url=server.url)
    before = server.total("/hang")
    prober.start()
    time.sleep(1.2)
    began = time.monotonic()
    prober.stop(drain=drain)
    took = time.monotonic() - began
    assert not prober._thread.is_alive() and prober.error is None
    if drain:  # every request sent was waited for and counted (timed out: bad)
        assert took <= timeout_s + STOP_GRACE_S
        good, total = samples.totals("hang")
        assert good == 0 and total == server.total("/hang") - before > 0
    else:  # cancelled at once, nothing more emitted
        assert took <= 1.0
        assert samples.totals("hang")[1] == 0


# ---------------------------------------------------------------- validation


BAD_SOURCES = {
    "rate-low": ("{type: http, url: 'http://127.0.0.1:1/', rate: 0.1}", "slos[0].source.rate",
                 "0.2 to 50 requests per second"),
    "rate-high": ("{type: http, path: /ok, rate: 51}", "slos[0].source.rate",
                  "0.2 to 50 requests per second"),
    "interval-long": ("{type: http, path: /ok, interval: 10s}", "slos[0].source.interval",
                      "between requests"),
    "url-scheme": ("{type: http, url: 'ftp://127.0.0.1/x'}", "slos[0].source.url",
                   "http:// or https:// URL"),
    "url-nohost": ("{type: http, url: 'http:///x'}", "slos[0].source.url", "with a host"),
    "path-relative": ("{type: http, path: ok}", "slos[0].source.path", "starting with '/'"),
    "url-and-path": ("{type: http, url: 'http://127.0.0.1:1/', path: /ok}", "slos[0].source",
                     "exactly one of 'url'"),
    "neither": ("{type: http}", "slos[0].source", "exactly one of 'url'"),
    "timeout-long": ("{type: http, path: /ok, timeout: 1m}", "slos[0].source.timeout",
                     "0.1s to 10s"),
    "method": ("{type: http, path: /ok, method: POST}", "slos[0].source.method", "GET"),
    "status-5xx": ("{type: http, path: /ok, good_status: [5xx]}", "slos[0].source.good_status[0]",
                   "'4xx'"),
}


def test_validate_refuses_bad_http_sources_naming_the_field(tmp_path: Path) -> None:
    for name, (source, _, _) in BAD_SOURCES.items():
        (tmp_path / f"{name}.yaml").write_text(
            f"kind: SLOs\nservice: s\nslos:\n  - name: a\n    objective: 0.99\n"
            f"    source: {source}\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "chaos_suite.cli", "validate", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == len(BAD_SOURCES), result.stderr
    for name, (_, field, problem) in BAD_SOURCES.items():
        [line] = [x for x in lines if f"{name}.yaml:" in x]
        assert f"{tmp_path / name}.yaml: {field}: " in line and problem in line, line


def test_validate_accepts_a_full_http_source(tmp_path: Path) -> None:
    path = tmp_path / "probe.yaml"
    path.write_text("kind: SLOs\nservice: s\nslos:\n"
                    "  - name: a\n    objective: 0.99\n"
                    "    source: {type: http, path: /health, rate: 0.2, timeout: 0.5,\n"
                    "             method: HEAD, good_status: [2xx, 3xx]}\n"
                    "  - name: b\n    objective: 0.99\n"
                    "    sli: {kind: latency, threshold_ms: 300}\n"
                    "    source: {type: http, url: 'http://127.0.0.1:8080/x', interval: 0.02}\n",
                    encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "chaos_suite.cli", "validate", str(path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    a, b = read_own_format(yaml.safe_load(path.read_text(encoding="utf-8")), str(path), "")
    assert isinstance(a.source, HttpSource) and isinstance(b.source, HttpSource)
    assert (a.source.per_second, a.source.timeout, b.source.per_second) == (0.2, 0.5, 50.0)
