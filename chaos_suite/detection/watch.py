"""Measured detection during a run: a thread beside the sample sources that polls Prometheus's
alerting rules (``/api/v1/rules?type=alert``: the alerts of ``/api/v1/alerts`` plus each rule's
``for``) and Alertmanager's ``/api/v2/alerts`` every second, and records each alert's state
changes as ``alert_state`` events.

``fired_at`` is Prometheus's own time (activeAt + the rule's ``for``: the evaluation that fired
it), so the time to detect does not depend on the poll's phase; the event's ``t`` is when the
poll saw it. An alert gone from the list is ``resolved`` at the poll that missed it.
Detection never stops a run: a failed poll is counted and said once, never an ``error``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal

import httpx

from chaos_suite.record.models import AlertState

POLL_INTERVAL_S = 1.0
_Key = tuple[str, str, tuple[tuple[str, str], ...]]  # source, alertname, other labels


def parse_time(value: object) -> float | None:
    """RFC 3339 (Prometheus, Alertmanager) to epoch seconds; None for the zero time or junk."""
    if not isinstance(value, str) or not value or value.startswith("0001-"):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _labels(raw: object) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): str(v) for k, v in raw.items()}


def prometheus_alerts(body: Mapping[str, Any]) -> list[AlertState]:
    """Current alerts from a ``/api/v1/rules?type=alert`` answer (t left to the caller)."""
    out: list[AlertState] = []
    for group in body.get("data", {}).get("groups", []) or []:
        for rule in group.get("rules", []) or []:
            hold = float(rule.get("duration") or 0.0)
            for alert in rule.get("alerts", []) or []:
                labels = _labels(alert.get("labels"))
                state = alert.get("state")
                if state not in ("pending", "firing"):
                    continue
                active = parse_time(alert.get("activeAt"))
                out.append(AlertState(
                    name=labels.pop("alertname", str(rule.get("name", ""))), labels=labels,
                    state=state, source="prometheus", active_at=active,
                    fired_at=active + hold if active is not None and state == "firing" else None))
    return out


def alertmanager_alerts(body: object) -> list[AlertState]:
    """Current alerts from an Alertmanager ``/api/v2/alerts`` answer: firing (active) or
    suppressed (silenced or inhibited); ``fired_at`` is its startsAt."""
    out: list[AlertState] = []
    for alert in body if isinstance(body, list) else []:
        labels = _labels(alert.get("labels"))
        status = alert.get("status") or {}
        state: Literal["suppressed", "firing"] = (
            "suppressed" if status.get("state") == "suppressed" else "firing")
        out.append(AlertState(name=labels.pop("alertname", ""), labels=labels, state=state,
                              source="alertmanager", fired_at=parse_time(alert.get("startsAt"))))
    return out


class AlertWatch:
    """Polls every ``interval_s`` on its own thread; ``on_event`` gets each change. Has the
    ``SampleSource`` shape (start, stop, error), but ``error`` stays None: detection is
    measured, never a reason to abort."""

    error: str | None = None

    def __init__(self, on_event: Callable[[AlertState], object], *, prometheus_url: str | None,
                 alertmanager_url: str | None = None, interval_s: float = POLL_INTERVAL_S,
                 timeout_s: float = 2.0) -> None:
        self.on_event = on_event
        self.prometheus_url = prometheus_url.rstrip("/") if prometheus_url else None
        self.alertmanager_url = alertmanager_url.rstrip("/") if alertmanager_url else None
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.failures = 0
        self.last_failure: str | None = None
        self._seen: dict[_Key, AlertState] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="alert-watch", daemon=True)
        self._thread.start()

    def stop(self, drain: bool = True) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout_s * 2 + 1)

    def _loop(self) -> None:
        with httpx.Client(timeout=self.timeout_s) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                self.poll(client)
                self._stop.wait(max(0.0, self.interval_s - (time.monotonic() - started)))

    def poll(self, client: httpx.Client) -> None:
        """One round: each source read; a source that fails keeps its last known alerts."""
        if self.prometheus_url:
            body = self._get(client, f"{self.prometheus_url}/api/v1/rules",
                             {"type": "alert"})
            if isinstance(body, dict):
                self._update("prometheus", prometheus_alerts(body))
        if self.alertmanager_url:
            body = self._get(client, f"{self.alertmanager_url}/api/v2/alerts", None)
            if isinstance(body, list):
                self._update("alertmanager", alertmanager_alerts(body))

    def _get(self, client: httpx.Client, url: str, params: dict[str, str] | None) -> object:
        try:
            response = client.get(url, params=params)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            self.failures += 1
            self.last_failure = f"{url}: {exc}"
            return None

    def _update(self, source: str, alerts: list[AlertState]) -> None:
        now = time.time()
        current = {_key(a): a for a in alerts}
        for key, alert in current.items():
            before = self._seen.get(key)
            if before is None or before.state != alert.state:
                self.on_event(alert.model_copy(update={"t": now}))
        for key, alert in list(self._seen.items()):
            if key[0] == source and key not in current:
                self.on_event(AlertState(t=now, name=alert.name, labels=alert.labels,
                                         state="resolved", source=alert.source,
                                         active_at=alert.active_at, fired_at=alert.fired_at))
                del self._seen[key]
        self._seen.update(current)


def _key(alert: AlertState) -> _Key:
    return alert.source, alert.name, tuple(sorted(alert.labels.items()))
