"""Server-side samples during a run, for SLOs whose source is Prometheus: every second, the
counts of a second that is `lag_s` old (Prometheus needs a few scrapes before a second is
complete), fed to the same sink as the load's samples. Before anything starts, `preflight`
evaluates every query as the sampler will send it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from chaos_suite.errors import ChaosSuiteError, InputError, PreflightError
from chaos_suite.files.environment import PrometheusConfig
from chaos_suite.files.slo_file import PrometheusSource, SLOSpec

LAG_S = 4  # seconds behind the wall clock: 1 s scrapes + Prometheus's ingestion delay
# how far back preflight evaluates each query: a few scrape intervals, so that one missed
# scrape or a rate window just opening is not taken for a query that matches nothing
PREFLIGHT_RANGE_S = 30.0


def prometheus_slos(specs: list[SLOSpec]) -> list[SLOSpec]:
    return [s for s in specs if isinstance(s.source, PrometheusSource)]


def preflight(specs: list[SLOSpec], config: PrometheusConfig | None) -> None:
    """Before anything starts (the dry run too): the source is configured and answers, and
    every query, as the sampler will send it (a `{{window}}` filled), is valid PromQL and
    returns finite numbers over the last PREFLIGHT_RANGE_S: else exit 2 naming the SLO and
    the query. A `bad` query may match no series yet (a counter of errors is often created at
    the first error); a `total` or `good` query that matches nothing would measure nothing."""
    if not specs:
        return
    if config is None:
        raise PreflightError(f"SLO '{specs[0].name}' reads from prometheus, but the environment "
                             "has no sources.prometheus.url")
    from chaos_suite.sources.prometheus import PrometheusClient, check_query, sampled_query

    with PrometheusClient(config.url, config.timeout) as client:
        for spec in specs:
            source = spec.source
            assert isinstance(source, PrometheusSource)
            for role, query in (("total", source.total), ("good", source.good),
                                ("bad", source.bad)):
                if not query:
                    continue
                sent = sampled_query(query)[0]
                problem = check_query(client, sent, PREFLIGHT_RANGE_S)
                if problem is None or (role == "bad" and problem.startswith("matches no")):
                    continue
                raise InputError(f"SLO '{spec.name}': prometheus {role} query {sent!r} "
                                 f"{problem}")


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
        # SLO -> its total query as sent, while that query matches no series
        self._no_series: dict[str, str] = {}
        self._thread = threading.Thread(target=self._loop, name="chaos-suite-prometheus",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def silence(self) -> str | None:
        """Why an SLO of this source measures nothing, when its query matches no series (as
        opposed to counting no events): for the runner to say instead of 'target unreachable'."""
        silent = list(self._no_series.items())  # copied: the sampler thread updates it
        if not silent:
            return None
        name, query = silent[0]
        return f"SLO '{name}': prometheus query {query!r} matches no series"

    def _emit_until(self, client: Any, last: int) -> None:
        from chaos_suite.sources.prometheus import read_second

        while self._next <= last:
            merged: dict[str, Any] = {"t": self._next, "source": "prometheus", "slis": {}}
            for spec in self._specs:
                sample, silent = read_second(spec, client, self._next)
                merged["slis"].update(sample["slis"] if sample else
                                      {spec.name: {"good": 0, "total": 0}})
                if silent is None:
                    self._no_series.pop(spec.name, None)
                else:
                    self._no_series[spec.name] = silent
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
