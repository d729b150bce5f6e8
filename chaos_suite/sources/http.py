"""Synthetic HTTP probes for SLOs whose source is `http` (files/slo_file.py: HttpSource).

chaos_suite sends these requests itself, at each SLO's fixed rate whatever the load does, so
the SLI is measured even where Locust sends nothing (a health endpoint, another service) and a
fault that stalls the load does not stall the measurement. Each request is counted by the SLI's
rule (docs/architecture.md §1):

- availability: total = every request; good = an HTTP answer below 500 whose status class is
  in the source's `good_status` (a connection error or a timeout is bad);
- latency: valid = good by the availability rule; good = valid and strictly faster than
  `threshold_ms` (the whole response, body included). A timeout is not valid, so the timeout
  must exceed the threshold, or a slow target would look like no data.

Samples have the shape of every other source's (report/series.py: Sample): one per completed
epoch second, ``{"t": second, "source": "http", "slis": {name: {"good": g, "total": n}}}``,
bucketed by completion time like the load's (§7.2), empty seconds included, each second once.

Requests go out on a grid aligned to the epoch, at ``(k + 1/2) / rate`` seconds: the pace never
drifts with response times (a slow answer does not delay the next probe, so a slow target
is not under-sampled), and at whole-number rates no request starts at a second's edge.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from chaos_suite.errors import PreflightError
from chaos_suite.files.slo_file import HttpSource, SLOSpec
from chaos_suite.slo.model import SLIKind

if TYPE_CHECKING:
    import httpx

SOURCE = "http"
TICK_S = 0.1  # the probe loop's longest sleep: how late a stop() or a due request is seen
STOP_GRACE_S = 3.0  # stop()'s join bound on top of the longest request timeout
MAX_CONNECTIONS = 512  # a cap on sockets, well under the usual 1024 open files
# answers that mean the probe itself is wrong (a typo in the path, HEAD on a GET-only route):
# by the availability rule they would count as good, so a run would measure nothing real
MISCONFIGURED = {404: "not found", 405: "method not allowed"}


def http_slos(specs: list[SLOSpec]) -> list[SLOSpec]:
    return [s for s in specs if isinstance(s.source, HttpSource)]


def join_url(base_url: str, path: str) -> str:
    """`path` under `base_url`, keeping any path prefix the base has (http://h/app + /x →
    http://h/app/x, where urljoin would drop /app)."""
    return base_url.rstrip("/") + path


def shown_url(url: str) -> str:
    """The URL without user:password, for messages and events."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True)
class Probe:
    """One SLO's probe, resolved against the target's URL."""

    name: str
    url: str
    method: str
    rate: float
    timeout_s: float
    good_classes: frozenset[int]  # leading digits of the statuses that count as answered
    threshold_ms: float | None  # a latency SLI's; None for availability

    def classify(self, status: int | None, elapsed_ms: float) -> tuple[int, int]:
        """(good, total) that one request adds; `status` None when there was no answer."""
        answered = status is not None and status < 500 and status // 100 in self.good_classes
        if self.threshold_ms is None:
            return int(answered), 1
        if not answered:
            return 0, 0
        return int(elapsed_ms < self.threshold_ms), 1


def probe_for(spec: SLOSpec, base_url: str | None) -> Probe:
    """The probe of one http SLO; PreflightError (naming the SLO) when it cannot run."""
    source = spec.source
    if not isinstance(source, HttpSource):
        raise PreflightError(f"SLO '{spec.name}' is not measured by an http source")
    if source.url is not None:
        url = source.url
    elif base_url is not None and source.path is not None:
        url = join_url(base_url, source.path)
    else:
        raise PreflightError(f"SLO '{spec.name}': http source path {source.path} needs the "
                             "target's URL, and the target has none")
    threshold = spec.slo.sli.threshold_ms if spec.slo.sli.kind is SLIKind.LATENCY else None
    if threshold is not None and source.timeout * 1000 <= threshold:
        raise PreflightError(
            f"SLO '{spec.name}': http source timeout {source.timeout:g}s is not above the "
            f"latency threshold {threshold:g} ms: a slow answer would time out and count as no "
            "data; raise the timeout")
    return Probe(name=spec.name, url=url, method=source.method, rate=source.per_second,
                 timeout_s=source.timeout,
                 good_classes=frozenset(int(c[0]) for c in source.good_status),
                 threshold_ms=threshold)


def _problem(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc).splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def check_reachable(specs: list[SLOSpec], base_url: str | None) -> None:
    """Pre-flight: one request per http SLO; no answer (or a 404/405, a probe that measures
    nothing real) is a PreflightError naming the SLO and the URL. A 5xx passes: the target is
    there, and its errors are what the baseline is for."""
    import httpx

    probes = [probe_for(spec, base_url) for spec in http_slos(specs)]
    if not probes:
        return
    with httpx.Client(follow_redirects=False) as client:
        for probe in probes:
            where = f"SLO '{probe.name}': http source {shown_url(probe.url)}"
            try:
                # headers only: reachability, not the body, is in question
                with client.stream(probe.method, probe.url, timeout=probe.timeout_s) as response:
                    status = response.status_code
            except (httpx.HTTPError, httpx.StreamError, OSError) as exc:
                raise PreflightError(f"{where} is unreachable: {_problem(exc)}") from None
            if status in MISCONFIGURED:
                raise PreflightError(f"{where} answered {status} ({MISCONFIGURED[status]}): "
                                     "check its url or path and method")


class HttpProber:
    """Probes every http SLO of `specs` on a daemon thread; `on_sample` gets each second.

    `error` is set when it cannot run (a path with no `base_url`, a timeout not above a latency
    threshold, a failure of the thread itself); a target that does not answer is no error, it is
    what the probes measure (bad events)."""

    def __init__(self, specs: list[SLOSpec], on_sample: Callable[[dict[str, Any]], None], *,
                 base_url: str | None = None, clock: Callable[[], float] = time.time) -> None:
        self._on_sample = on_sample
        self._clock = clock
        self.error: str | None = None
        self.probes: list[Probe] = []
        try:
            self.probes = [probe_for(spec, base_url) for spec in http_slos(specs)]
        except PreflightError as exc:
            self.error = str(exc)
        self.totals: dict[str, dict[str, int]] = {
            p.name: {"good": 0, "total": 0} for p in self.probes}
        self._buckets: dict[int, dict[str, list[int]]] = {}
        self._next_emit: int | None = None  # the first second not emitted yet
        self._stop = threading.Event()
        self._ready = threading.Event()  # the loop runs (or the thread ended)
        self._drain = True
        self.started_at: float | None = None  # the clock when the first slot was planned
        self._longest_timeout = max((p.timeout_s for p in self.probes), default=0.0)
        self._thread = threading.Thread(target=self._main, name="chaos-suite-http-probe",
                                        daemon=True)

    @property
    def urls(self) -> dict[str, str]:
        """SLO name → probed URL (credentials removed), for the run's events."""
        return {p.name: shown_url(p.url) for p in self.probes}

    def start(self, ready_timeout_s: float = 5.0) -> None:
        """Start probing and return once the first slots are planned (or `ready_timeout_s`
        passed), so that what follows is measured from its start; does nothing when there is
        nothing to probe or `error` is set."""
        if self.probes and self.error is None and self._thread.ident is None:
            self._thread.start()
            self._ready.wait(ready_timeout_s)

    def stop(self, drain: bool = True) -> None:
        """Stop sending. With `drain`, requests in flight finish (each within its timeout) and
        every second through the current one is emitted; without, they are cancelled and no
        further sample is emitted. Returns within the longest timeout + STOP_GRACE_S."""
        self._drain = drain
        self._stop.set()
        if self._thread.ident is None:  # never started
            return
        bound = (self._longest_timeout if drain else 0.0) + STOP_GRACE_S
        self._thread.join(timeout=bound)
        if self._thread.is_alive() and self.error is None:
            self.error = f"http source did not stop within {bound:g} s"

    # ------------------------------------------------------------------------ the thread

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except Exception as exc:  # noqa: BLE001 - the runner reads `error`; a thread dies silently
            self.error = f"http source failed: {_problem(exc)}"
        finally:
            self._ready.set()

    async def _run(self) -> None:
        import httpx

        wanted = sum(math.ceil(p.rate * p.timeout_s) + 2 for p in self.probes)
        connections = min(MAX_CONNECTIONS, wanted)
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        tasks: set[asyncio.Task[None]] = set()
        async with httpx.AsyncClient(limits=limits, follow_redirects=False) as client:
            now = self.started_at = self._clock()
            self._next_emit = int(now)
            slots = [self._slot_after(p, now) for p in self.probes]
            self._ready.set()
            while not self._stop.is_set():
                now = self._clock()
                for i, probe in enumerate(self.probes):
                    slots[i] = self._fire_due(client, probe, slots[i], now, tasks)
                self._emit_through(int(now) - 1)
                due = min((k + 0.5) / p.rate for k, p in zip(slots, self.probes, strict=True))
                wake = min(due, self._next_emit + 1) - self._clock()
                await asyncio.sleep(min(TICK_S, max(0.0, wake)))
            if self._drain:
                if tasks:
                    await asyncio.wait(tasks, timeout=self._longest_timeout + 1)
                self._emit_through(int(self._clock()))
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=1.0)

    @staticmethod
    def _slot_after(probe: Probe, now: float) -> int:
        """The first grid slot k whose time (k + 1/2) / rate is at or after `now`."""
        return math.ceil(now * probe.rate - 0.5)

    def _fire_due(self, client: httpx.AsyncClient, probe: Probe, slot: int, now: float,
                  tasks: set[asyncio.Task[None]]) -> int:
        """Send the requests whose slots have come; returns the next slot."""
        # a loop that ran late (a starved core) catches up on at most a second of slots; past
        # that, and after the wall clock stepped either way, the grid restarts at `now`
        burst = math.ceil(probe.rate) + 1
        period = 1.0 / probe.rate
        if (slot + 0.5) * period > now + period + 1.0:
            slot = self._slot_after(probe, now)
        fired = 0
        while (slot + 0.5) * period <= now and fired < burst:
            task = asyncio.get_running_loop().create_task(self._probe_once(client, probe))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            slot += 1
            fired += 1
        if (slot + 0.5) * period <= now:
            slot = self._slot_after(probe, now)
        return slot

    async def _probe_once(self, client: httpx.AsyncClient, probe: Probe) -> None:
        import httpx

        status: int | None = None
        started = time.perf_counter()
        try:
            # the client's timeout is per phase (connect, each read); this bounds the whole
            async with asyncio.timeout(probe.timeout_s):
                async with client.stream(probe.method, probe.url,
                                         timeout=probe.timeout_s) as response:
                    async for _ in response.aiter_raw():
                        pass  # read to the end, keeping nothing: latency is the whole answer
                    status = response.status_code
        except (httpx.HTTPError, httpx.StreamError, TimeoutError, OSError):
            status = None
        elapsed_ms = (time.perf_counter() - started) * 1000
        good, total = probe.classify(status, elapsed_ms)
        self._count(probe.name, good, total)

    def _count(self, name: str, good: int, total: int) -> None:
        second = int(self._clock())
        if self._next_emit is not None and second < self._next_emit:
            second = self._next_emit  # a clock stepping back never reopens an emitted second
        bucket = self._buckets.setdefault(second, {})
        counts = bucket.setdefault(name, [0, 0])
        counts[0] += good
        counts[1] += total

    def _emit_through(self, last: int) -> None:
        """Emit every second up to `last` not emitted yet, in order, empty ones too."""
        if self._next_emit is None:
            return
        while self._next_emit <= last:
            second = self._next_emit
            bucket = self._buckets.pop(second, {})
            slis: dict[str, dict[str, int]] = {}
            for probe in self.probes:
                good, total = bucket.get(probe.name, (0, 0))
                slis[probe.name] = {"good": good, "total": total}
                self.totals[probe.name]["good"] += good
                self.totals[probe.name]["total"] += total
            self._next_emit = second + 1
            self._on_sample({"t": second, "source": SOURCE, "slis": slis})
