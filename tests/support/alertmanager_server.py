"""Start a real Alertmanager (the Debian package's /usr/bin/prometheus-alertmanager) for a test,
and a webhook receiver the test owns (the truth for page times).

    with WebhookSink() as sink, start_alertmanager([sink.url, other_url], tmp_path) as am:
        ... am.url + "/api/v2/alerts"; sink.received -> [(t, payload)]

One route, ``group_wait``/``group_interval`` 1 s, grouped by every label (one notification per
alert), each URL a webhook (with resolved notifications). Clustering is off (no :9094), the web
API listens on 127.0.0.1 on a free port; ``stop()`` terminates and reaps, and a parent-death
signal covers a killed test run. Skips the calling test when the binary is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

import httpx
import pytest
from support.prometheus_server import _die_with_parent, _free_port

from chaos_suite.detection.embedded import wait_ready

ALERTMANAGER_BIN: Final = os.environ.get("CHAOS_SUITE_ALERTMANAGER_BIN",
                                         "/usr/bin/prometheus-alertmanager")


def _config(webhooks: list[str]) -> str:
    hooks = "".join(f'      - url: "{u}"\n        send_resolved: true\n' for u in webhooks)
    return ("route:\n  receiver: hooks\n  group_by: ['...']\n  group_wait: 1s\n"
            "  group_interval: 1s\n  repeat_interval: 1h\n"
            f"receivers:\n  - name: hooks\n    webhook_configs:\n{hooks}")


class AlertmanagerServer:
    def __init__(self, proc: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self.proc = proc
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def silences(self) -> list[dict[str, Any]]:
        body = httpx.get(f"{self.url}/api/v2/silences", timeout=5).json()
        return body if isinstance(body, list) else []


def start_alertmanager(webhooks: list[str], tmp: Path, timeout_s: float = 20.0
                       ) -> AlertmanagerServer:
    if not os.access(ALERTMANAGER_BIN, os.X_OK):
        pytest.skip(f"{ALERTMANAGER_BIN} not installed (Debian package 'prometheus-alertmanager')")
    tmp.mkdir(parents=True, exist_ok=True)
    config = tmp / "alertmanager.yml"
    config.write_text(_config(webhooks))
    tail = ""
    for attempt in range(3):
        port = _free_port()
        log_path = tmp / f"alertmanager-{attempt}.log"
        cmd = [ALERTMANAGER_BIN, f"--config.file={config}",
               f"--storage.path={tmp / f'am-data-{attempt}'}",
               f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
               "--log.level=warn"]
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    cwd=tmp, close_fds=True,
                                    preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        server = AlertmanagerServer(proc, port, log_path)
        if wait_ready(proc, server.url, timeout_s):
            return server
        tail = log_path.read_text(errors="replace")[-2000:]
        server.stop()
    pytest.fail(f"alertmanager did not become ready on 127.0.0.1:\n{tail}")


class WebhookSink:
    """The test's own Alertmanager webhook receiver: (arrival time, payload) per POST."""

    def __init__(self) -> None:
        self.received: list[tuple[float, dict[str, Any]]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                now = time.time()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                sink.received.append((now, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def first_firing(self, **labels: str) -> float | None:
        for t, payload in self.received:
            for alert in payload.get("alerts", []):
                if alert.get("status") == "firing" and all(
                        alert.get("labels", {}).get(k) == v for k, v in labels.items()):
                    return t
        return None
