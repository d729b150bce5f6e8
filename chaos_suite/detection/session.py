"""Detection during one run, as the runner starts and stops it: the alert watch (Prometheus
and Alertmanager polled), the webhook receiver, for a quiet gameday the silence, and at the end
Prometheus's ``ALERTS`` over the run (detection/history.py).

Nothing here stops a run: a part that fails to start is recorded as an error event and the
run goes on without it (detection is measured, not a safety net)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx

from chaos_suite.detection import silence as am_silence
from chaos_suite.detection.history import read_history
from chaos_suite.detection.watch import AlertWatch
from chaos_suite.detection.webhook import WebhookReceiver
from chaos_suite.files.environment import EnvironmentModel
from chaos_suite.record.models import ErrorEvent, Event, SilenceEvent

# a silence ends by itself this long after the run's expected end, should all else fail
SILENCE_MARGIN_S = 600.0


class DetectionSession:
    def __init__(self, env: EnvironmentModel, record: Callable[[Event], object], *, run_id: str,
                 ledger_dirs: list[Path], expected_duration_s: float) -> None:
        self.env = env
        self.record = record
        self.run_id = run_id
        self.ledger_dirs = ledger_dirs
        self.expected_duration_s = expected_duration_s
        self.watch: AlertWatch | None = None
        self.webhook: WebhookReceiver | None = None
        self.silence: tuple[str, str, str] | None = None  # (url, id, ledger entry id)
        self.started: float | None = None

    @staticmethod
    def wanted(env: EnvironmentModel) -> bool:
        return env.detection is not None or env.sources.alertmanager is not None

    def start(self) -> None:
        self.started = time.time()
        prom = self.env.sources.prometheus
        am = self.env.sources.alertmanager
        config = self.env.detection
        if config is not None and config.silence and am is not None:
            self._create_silence(am.url, config.silence)
        if config is not None and config.webhook_port is not None:
            try:
                self.webhook = WebhookReceiver(self.record, config.webhook_port,
                                               config.webhook_host)
                self.webhook.start()
            except OSError as exc:
                self.webhook = None
                self.record(ErrorEvent(reason=f"detection: cannot receive Alertmanager's webhook "
                                       f"on {config.webhook_host}:{config.webhook_port}: {exc}"))
        if prom is not None or am is not None:
            self.watch = AlertWatch(self.record, prometheus_url=prom.url if prom else None,
                                    alertmanager_url=am.url if am else None)
            self.watch.start()

    def stop(self) -> None:
        """Everything stops even when a part fails; the silence goes last."""
        if self.watch is not None:
            self.watch.stop()
            if self.watch.failures:
                self.record(ErrorEvent(reason=f"detection: {self.watch.failures} alert polls "
                                       f"failed (last: {self.watch.last_failure})"))
        self._read_history()
        if self.webhook is not None:
            self.webhook.stop()
        if self.silence is not None:
            self._remove_silence()

    def _read_history(self) -> None:
        """Prometheus's ALERTS over the run (detection/history.py), recorded once."""
        prom = self.env.sources.prometheus
        if prom is None or self.started is None:
            return
        now = time.time()
        try:
            history = read_history(prom.url, self.started, now)
        except (httpx.HTTPError, ValueError) as exc:
            self.record(ErrorEvent(reason=f"detection: ALERTS over the run not read: {exc}"))
            return
        for event in history:
            self.record(event.model_copy(update={"t": now}))

    def _create_silence(self, url: str, matchers: dict[str, str]) -> None:
        from chaos_suite.safety import ledger

        now = time.time()
        try:
            silence_id = am_silence.create_silence(
                url, matchers, starts_at=now,
                ends_at=now + self.expected_duration_s + SILENCE_MARGIN_S,
                comment=f"chaos-suite gameday run {self.run_id}: quiet gameday")
        except Exception as exc:  # noqa: BLE001 - said and recorded; the run goes on paging
            self.record(SilenceEvent(action="failed", matchers=matchers, error=str(exc)))
            return
        entry = ledger.new_entry(run_id=self.run_id, scenario=None, fault="alertmanager-silence",
                                 target=f"alertmanager:{url}",
                                 revert=am_silence.revert_spec(url, silence_id),
                                 detail={"silence_id": silence_id, "matchers": matchers})
        try:
            ledger.record(entry, self.ledger_dirs)
        except OSError as exc:  # no ledger entry: no silence that outlives a crash
            am_silence.remove_silence(url, silence_id)
            self.record(SilenceEvent(action="failed", matchers=matchers, error=str(exc)))
            return
        self.silence = (url, silence_id, entry.id)
        self.record(SilenceEvent(action="created", silence_id=silence_id, matchers=matchers))

    def _remove_silence(self) -> None:
        from chaos_suite.safety import ledger

        assert self.silence is not None
        url, silence_id, entry_id = self.silence
        try:
            am_silence.remove_silence(url, silence_id)
        except Exception as exc:  # noqa: BLE001 - the ledger keeps it for the replay/recover
            self.record(SilenceEvent(action="failed", silence_id=silence_id, error=str(exc)))
            return
        ledger.clear(entry_id, self.ledger_dirs, how="removed at the end of the run")
        self.silence = None
        self.record(SilenceEvent(action="removed", silence_id=silence_id))
