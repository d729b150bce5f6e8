"""Start a real Prometheus (the Debian package's /usr/bin/prometheus) for a test.

    with start_prometheus([f"127.0.0.1:{info.admin_port}"], tmp_path) as prom:
        prom.wait_scraped()          # every target scraped at least once (bounded)
        ... httpx.get(prom.url + "/api/v1/query", ...)

A temp config scrapes the given ``host:port`` targets on ``/metrics`` every ``scrape_interval``;
the TSDB lives under ``tmp``; the web API listens on 127.0.0.1 on a free port. ``stop()`` sends
SIGTERM, then SIGKILL, and waits, so nothing outlives the test (a parent-death signal also
covers a killed test run). Skips the calling test when the binary is missing.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Final, Self

import httpx
import pytest

from chaos_suite.detection.embedded import wait_ready

PROMETHEUS_BIN: Final = os.environ.get("CHAOS_SUITE_PROMETHEUS_BIN", "/usr/bin/prometheus")
PR_SET_PDEATHSIG: Final = 1


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL it if the test process dies (Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _config(targets: list[str], scrape_interval: str, rule_files: list[Path] | None = None,
            alertmanager: str | None = None) -> str:
    listed = ", ".join(f'"{t}"' for t in targets)
    extra = ""
    if rule_files:  # alerting rules, evaluated every scrape_interval
        extra += "rule_files:\n" + "".join(f'  - "{f}"\n' for f in rule_files)
    if alertmanager:  # host:port of an Alertmanager the alerts are sent to
        extra += ("alerting:\n  alertmanagers:\n    - static_configs:\n"
                  f'        - targets: ["{alertmanager}"]\n')
    return extra + (
        "global:\n"
        f"  scrape_interval: {scrape_interval}\n"
        f"  scrape_timeout: {scrape_interval}\n"
        f"  evaluation_interval: {scrape_interval}\n"
        "scrape_configs:\n"
        "  - job_name: target\n"
        "    metrics_path: /metrics\n"
        f"    static_configs:\n      - targets: [{listed}]\n"
    )


class PrometheusServer:
    """A running Prometheus. ``url`` is its base URL; ``log_path`` its combined output."""

    def __init__(self, proc: subprocess.Popen[bytes], url: str, log_path: Path,
                 targets: list[str]) -> None:
        self.proc = proc
        self.url = url
        self.log_path = log_path
        self.targets = list(targets)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def log_tail(self, lines: int = 8) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:])

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM, SIGKILL after ``timeout_s``, and reap. Idempotent."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def wait_scraped(self, timeout_s: float = 20.0) -> None:
        """Poll until ``up`` is 1 for every target (the first sample is queryable only a few
        seconds after start); fails the test with Prometheus's log after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        up: dict[str, float] = {}
        while time.monotonic() < deadline:
            up = self._up()
            if all(up.get(t) == 1.0 for t in self.targets):
                return
            time.sleep(0.25)
        pytest.fail(f"prometheus did not scrape {self.targets} within {timeout_s:g}s "
                    f"(up={up}):\n{self.log_tail()}")

    def _up(self) -> dict[str, float]:
        try:
            body = httpx.get(f"{self.url}/api/v1/query", params={"query": "up"}, timeout=2).json()
        except (httpx.HTTPError, ValueError):
            return {}
        return {item["metric"].get("instance", ""): float(item["value"][1])
                for item in body.get("data", {}).get("result", [])}


def start_prometheus(targets: list[str], tmp: Path, scrape_interval: str = "1s",
                     timeout_s: float = 20.0, rule_files: list[Path] | None = None,
                     alertmanager: str | None = None) -> PrometheusServer:
    """Start Prometheus scraping ``targets`` (``host:port``, path /metrics) and wait until it
    is ready. Skips the test when the binary is missing; fails it when it does not start."""
    if not os.access(PROMETHEUS_BIN, os.X_OK):
        pytest.skip(f"{PROMETHEUS_BIN} not installed (Debian package 'prometheus')")
    tmp.mkdir(parents=True, exist_ok=True)
    config = tmp / "prometheus.yml"
    config.write_text(_config(targets, scrape_interval, rule_files, alertmanager))
    last_tail = ""
    for attempt in range(3):  # the free port may be taken between probe and bind: retry
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = tmp / f"prometheus-{attempt}.log"
        cmd = [PROMETHEUS_BIN, f"--config.file={config}",
               f"--storage.tsdb.path={tmp / f'data-{attempt}'}",
               f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    cwd=tmp, close_fds=True,
                                    preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        server = PrometheusServer(proc, url, log_path, targets)
        try:
            ready = wait_ready(proc, url, timeout_s)
        except BaseException:
            server.stop()
            raise
        if ready:
            return server
        last_tail = server.log_tail()
        server.stop()
    pytest.fail(f"prometheus did not become ready on 127.0.0.1:\n{last_tail}")
