"""Server-side samples during a run, for SLOs whose source is Prometheus: every second, the
counts of a second that is `lag_s` old (Prometheus needs a few scrapes before a second is
complete), fed to the same sink as the load's samples."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from chaos_suite.errors import ChaosSuiteError, PreflightError
from chaos_suite.files.environment import PrometheusConfig
from chaos_suite.files.slo_file import PrometheusSource, SLOSpec

LAG_S = 4  # seconds behind the wall clock: 1 s scrapes + Prometheus's ingestion delay


def prometheus_slos(specs: list[SLOSpec]) -> list[SLOSpec]:
    return [s for s in specs if isinstance(s.source, PrometheusSource)]


def preflight(specs: list[SLOSpec], config: PrometheusConfig | None) -> None:
    """Before anything starts: the source is configured, answers, and every query is valid
    PromQL (a bad query is an input error, exit 2)."""
    if not specs:
        return
    if config is None:
        raise PreflightError(f"SLO '{specs[0].name}' reads from prometheus, but the environment "
                             "has no sources.prometheus.url")
    from chaos_suite.sources.prometheus import PrometheusClient

    with PrometheusClient(config.url, config.timeout) as client:
        for spec in specs:
            source = spec.source
            assert isinstance(source, PrometheusSource)
            for query in (source.total, source.good, source.bad):
                if query:
                    client.query(query)


class PrometheusSampler:
    def __init__(self, specs: list[SLOSpec], config: PrometheusConfig,
                 on_sample: Callable[[dict[str, Any]], None], lag_s: int = LAG_S) -> None:
        self._specs = specs
        self._config = config
        self._on_sample = on_sample
        self._lag = lag_s
        self._stop = threading.Event()
        self._next = int(time.time()) - lag_s
        self.error: str | None = None
        self._thread = threading.Thread(target=self._loop, name="chaos-suite-prometheus",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _emit_until(self, client: Any, last: int) -> None:
        from chaos_suite.sources.prometheus import sample_second

        while self._next <= last:
            merged: dict[str, Any] = {"t": self._next, "source": "prometheus", "slis": {}}
            for spec in self._specs:
                sample = sample_second(spec, client, self._next)
                merged["slis"].update(sample["slis"] if sample else
                                      {spec.name: {"good": 0, "total": 0}})
            self._on_sample(merged)
            self._next += 1

    def _loop(self) -> None:
        from chaos_suite.sources.prometheus import PrometheusClient

        with PrometheusClient(self._config.url, self._config.timeout) as client:
            while not self._stop.wait(1.0):
                try:
                    self._emit_until(client, int(time.time()) - self._lag)
                except ChaosSuiteError as exc:
                    self.error = f"prometheus source lost mid-run: {exc}"
                    return

    def stop(self, drain: bool = True) -> None:
        """Stop; with `drain`, wait out the lag so the run's last seconds are sampled too."""
        end = int(time.time())
        if drain and self.error is None:
            time.sleep(min(self._lag + 1, 6))
        self._stop.set()
        self._thread.join(timeout=10)
        if drain and self.error is None:
            from chaos_suite.sources.prometheus import PrometheusClient

            try:
                with PrometheusClient(self._config.url, self._config.timeout) as client:
                    self._emit_until(client, end)
            except ChaosSuiteError as exc:
                self.error = str(exc)
