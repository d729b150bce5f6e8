"""Alertmanager's webhook, received by chaos_suite itself: the time a notification (a page)
left Alertmanager, as ``alert_notified`` events, one per alert of each POST.

Point an Alertmanager webhook receiver at ``http://<host>:<port>/`` (any path). Binds to
127.0.0.1 unless told otherwise; answers 200 to anything it can read, 400 otherwise."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from chaos_suite.detection.watch import parse_time
from chaos_suite.record.models import AlertNotified

MAX_BODY = 4 * 1024 * 1024


def notifications(payload: Any, received: float) -> list[AlertNotified]:
    """The alerts of one Alertmanager webhook payload (version 4)."""
    if not isinstance(payload, dict):
        return []
    receiver = str(payload.get("receiver", ""))
    out: list[AlertNotified] = []
    for alert in payload.get("alerts") or []:
        if not isinstance(alert, dict):
            continue
        labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
        status = alert.get("status", payload.get("status"))
        out.append(AlertNotified(t=received, name=labels.pop("alertname", ""), labels=labels,
                                 status="resolved" if status == "resolved" else "firing",
                                 receiver=receiver, starts_at=parse_time(alert.get("startsAt"))))
    return out


class WebhookReceiver:
    """A tiny HTTP server on its own thread; ``on_event`` gets each notification."""

    error: str | None = None

    def __init__(self, on_event: Callable[[AlertNotified], object], port: int,
                 host: str = "127.0.0.1") -> None:
        self.on_event = on_event
        handler = _handler(self._received)
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, name="am-webhook",
                                        kwargs={"poll_interval": 0.2}, daemon=True)
        self._thread.start()

    def stop(self, drain: bool = True) -> None:
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(timeout=5)
        self.server.server_close()

    def _received(self, payload: Any, received: float) -> None:
        for event in notifications(payload, received):
            self.on_event(event)


def _handler(received: Callable[[Any, float], None]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            now = time.time()
            length = int(self.headers.get("Content-Length") or 0)
            try:
                if length > MAX_BODY:
                    raise ValueError("too large")
                payload = json.loads(self.rfile.read(length) or b"null")
            except ValueError:
                self.send_response(400)
                self.end_headers()
                return
            received(payload, now)
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: the run's console is the operator's

    return Handler
