"""Per-second SLI buckets counted from individual requests. Pure: no Locust, no clock.

The plugin registers :meth:`BucketCounter.listener` for Locust's ``request`` event: per request
it only queues what it read (one tuple appended); the queue is counted in batches (a dict lookup
or two for the path, a few integer adds, one ``bisect`` per request), and before anything reads
the buckets, so that the samples are exactly those of counting each request as it completed.
:meth:`BucketCounter.record` queues the same way, taking the time as an argument, and
:meth:`BucketCounter.pop_ready` is called a few times a second; the tests drive the clock.

Classification (docs/architecture.md §1):
- availability: bad = (an exception and no HTTP status) or status >= 500; a 4xx is good (the
  server answered correctly). total = every request the SLI matches.
- latency: valid = requests that are not bad per availability; good = valid and faster than
  ``threshold_ms`` (strictly).

A bucket ``t`` holds requests that *completed* in ``[t, t+1)`` (epoch seconds). Each second is
emitted exactly once, in order, with no gaps (a second without completed requests is emitted
with zero counts: "load ran, nothing completed" differs from "no data").

Besides the SLIs, each second says what the load reached, so that the report can tell a fault
measured from one the load never saw (docs/architecture.md §8):
- ``status_4xx``: requests answered 400-499 (good for availability, yet a load whose requests
  mostly get them is not exercising the service);
- ``paths``: requests per path key (:func:`path_key`), at most ``MAX_PATHS_PER_SECOND`` keys a
  second; the rest are counted under ``OTHER_PATHS``.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import Any

from chaos_suite.load.config import SliSpec

log = logging.getLogger(__name__)

# Upper bounds (inclusive, ms) of the per-second latency histogram; one overflow bucket beyond.
HIST_BOUNDS_MS: tuple[float, ...] = (
    1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 250, 300, 400, 500, 750,
    1000, 1500, 2000, 3000, 5000, 10000,
)
# Completed seconds are emitted this long after their end: events fire synchronously with the
# time they read, so 50 ms is margin for a scheduler that ran late, not for in-flight requests.
EMIT_GRACE_S = 1.05
# Request names seen are cached with the SLIs they match; past this many distinct names (URLs
# with ids in them) matching is recomputed per request instead of growing memory without bound.
_NAME_CACHE_MAX = 10_000
# Requests queued by the listener before they are counted (see BucketCounter.listener).
_BATCH = 256

# Path keys: the request's URL path (no query) cut after PATH_SEGMENTS segments and at
# MAX_PATH_KEY_CHARS characters. A key ending in '*' stands for every path starting with what
# precedes the '*'; OTHER_PATHS ('*' alone) for any path at all (no URL, or past the per-second
# cap), so that whoever reads the keys can only ever be unsure, never wrong.
PATH_SEGMENTS = 2
MAX_PATH_KEY_CHARS = 100
MAX_PATHS_PER_SECOND = 32
OTHER_PATHS = "*"

# Bucket layout: [requests, sum_ms, max_ms, 4xx answers, hist..., (good, total) per SLI,
# bad requests, then per distinct latency threshold: valid requests faster than it]. The last
# part is what the per-request path counts when no SLI has a ``match`` (every request counts
# for every SLI): the (good, total) pairs are derived from it once per second (_settle).
_REQ, _SUM, _MAX, _C4XX, _HIST = 0, 1, 2, 3, 4


class BucketCounter:
    """Counts requests into per-second buckets for a fixed list of SLIs."""

    def __init__(self, slis: Sequence[SliSpec], bounds_ms: Sequence[float] = HIST_BOUNDS_MS):
        self._slis = tuple(slis)
        self._bounds = tuple(float(b) for b in bounds_ms)
        self._sli_base = _HIST + len(self._bounds) + 1
        self._patterns = [re.compile(s.match) if s.match else None for s in self._slis]
        # No SLI restricted to some request names: every request counts for every SLI, so the
        # per-request path only counts bad requests and, per latency threshold, fast valid ones.
        self._uniform = all(p is None for p in self._patterns)
        self._thresholds = tuple(sorted({t for s in self._slis if (t := _threshold(s)) is not None}))
        self._bad = self._sli_base + 2 * len(self._slis)
        self._width = self._bad + 1 + len(self._thresholds)
        # (offset of good, threshold or None for availability) per SLI, per request name.
        self._plans: dict[str, tuple[tuple[int, float | None], ...]] = {}
        self._buckets: dict[int, list[float]] = {}
        self._paths: dict[int, dict[str, int]] = {}  # per second: path key -> requests
        self._path_keys: dict[str, str] = {}  # URL -> its path key, bounded like _plans
        self._next: int | None = None  # first second not emitted yet
        self._running = False  # between start() and stop(): empty seconds are emitted too
        # the second counted last and its bucket: most requests land in the same one
        self._cur_s: int | None = None
        self._cur_b: list[float] = []
        self._cur_paths: dict[str, int] = {}
        # requests not counted yet: (time, name, ms, status, failed, path key), see listener()
        self._pending: list[tuple[float, str, Any, Any, bool, Any]] = []
        self.totals: list[float] = [0] * self._width
        self.emitted = 0

    # -- counting ---------------------------------------------------------------------------

    def _plan_for(self, name: str) -> tuple[tuple[int, float | None], ...]:
        plan = self._plans.get(name)
        if plan is None:
            plan = tuple(
                (self._sli_base + 2 * i, _threshold(sli))
                for i, (sli, pat) in enumerate(zip(self._slis, self._patterns, strict=True))
                if pat is None or pat.search(name)
            )
            if len(self._plans) < _NAME_CACHE_MAX:
                self._plans[name] = plan
        return plan

    def start(self, now: float) -> None:
        """The test (re)started: from now on every second is emitted, even an empty one."""
        self._drain()
        s = int(now)
        if self._next is not None:
            # Skip the stopped interval, but never past a second that still holds requests.
            s = min(max(self._next, s), min(self._buckets, default=s))
        self._next = s
        self._running = True
        self._cur_s = None

    def stop(self, now: float) -> list[dict[str, Any]]:
        """The test stopped: emit everything through the current second, stop filling gaps."""
        out = self.flush(now)
        self._running = False
        return out

    def _open(self, s: int) -> tuple[list[float], dict[str, int]]:
        """The bucket (and path counts) a request completed in second ``s`` goes to."""
        raw = s
        nxt = self._next
        if nxt is None:
            self._next = nxt = s
        elif s < nxt:
            # Only a wall clock stepping back can get here; never re-open an emitted second.
            s = nxt
        b = self._buckets.get(s)
        if b is None:
            b = self._buckets[s] = [0] * self._width
            paths = self._paths[s] = {}
        else:
            paths = self._paths[s]
        self._cur_s, self._cur_b, self._cur_paths = raw, b, paths
        return b, paths

    def record(
        self, now: float, name: str, response_time_ms: float, status: int | None, failed: bool,
        url: str | None = None,
    ) -> None:
        """Count one completed request. ``status`` 0/None means no HTTP answer; ``url`` is the
        requested URL (absolute or a path; None: unknown, counted under OTHER_PATHS).

        Queued like the plugin's requests (:meth:`listener`) and counted with them."""
        self._pending.append((now, name, response_time_ms, status, failed, self._key_of(url)))
        if len(self._pending) >= _BATCH:
            self._drain()

    def listener(self, clock: Callable[[], float]) -> Callable[..., None]:
        """A function with the signature of Locust's ``request`` event that counts each request
        at ``clock()`` (its completion: events fire as the request completes).

        The hot path, so it only queues what it reads (a tuple appended to a list); the queue
        is counted every ``_BATCH`` requests and before anything reads the buckets. Counting
        many at once is cheaper than one by one between two requests, whose HTTP client code
        has pushed the counting code and data out of the CPU's caches.
        """
        pending = self._pending
        append = pending.append
        drain = self._drain
        path_keys = self._path_keys
        key_of = self._key_of

        def on_request(
            request_type: Any = None,
            name: str = "",
            response_time: float | None = None,
            response_length: Any = None,
            response: Any = None,
            context: Any = None,
            exception: BaseException | None = None,
            start_time: Any = None,
            url: Any = None,
            **_kwargs: Any,  # Locust's keywords are all named above: this stays empty
        ) -> None:
            # the URL's path key now: the URL itself (a new string per request) need not stay
            key = path_keys.get(url) if type(url) is str else OTHER_PATHS
            append((clock(), name, response_time, getattr(response, "status_code", None),
                    exception is not None, key if key is not None else key_of(url)))
            if len(pending) >= _BATCH:
                drain()

        return on_request

    def _key_of(self, url: Any) -> str:
        """The path key a request's URL counts under (cached). Locust's HTTP clients pass the
        URL requested; other clients may pass none, or something else: 'any path'."""
        if type(url) is not str:
            return OTHER_PATHS
        key = self._path_keys.get(url)
        if key is None:
            key = path_key(url)
            if len(self._path_keys) < _NAME_CACHE_MAX:
                self._path_keys[url] = key
        return key

    def _drain(self) -> None:
        """Count the queued requests, in order (as if each was counted when it completed:
        nothing else changes the buckets in between, every reader drains first)."""
        pending = self._pending
        if not pending:
            return
        bounds = self._bounds
        plans = self._plans
        uniform = self._uniform
        bad_at = self._bad
        thresholds = self._thresholds
        cur_s = self._cur_s
        b = self._cur_b
        paths = self._cur_paths
        for now, name, ms, status, failed, url in pending:
            try:
                s = int(now)
                if s != cur_s:
                    b, paths = self._open(s)
                    cur_s = s
                b[_REQ] += 1
                if type(status) is not int or not status:  # no HTTP answer
                    bad = failed
                elif status < 400:
                    bad = False
                elif status < 500:
                    b[_C4XX] += 1
                    bad = False
                else:
                    bad = True
                key = url  # its path key (see listener(), record())
                if key in paths:
                    paths[key] += 1
                elif len(paths) < MAX_PATHS_PER_SECOND:
                    paths[key] = 1
                else:
                    paths[OTHER_PATHS] = paths.get(OTHER_PATHS, 0) + 1
                if not ms:
                    ms = 0.0
                b[_SUM] += ms
                if ms > b[_MAX]:
                    b[_MAX] = ms
                b[_HIST + bisect_left(bounds, ms)] += 1
                if uniform:  # every SLI counts every request: _settle derives (good, total)
                    if bad:
                        b[bad_at] += 1
                        continue
                    i = bad_at
                    for threshold in thresholds:
                        i += 1
                        if ms < threshold:
                            b[i] += 1
                    continue
                plan = plans.get(name)
                if plan is None:
                    plan = self._plan_for(name)
                for off, threshold_or_none in plan:
                    if threshold_or_none is None:
                        b[off + 1] += 1
                        if not bad:
                            b[off] += 1
                    elif not bad:
                        b[off + 1] += 1
                        if ms < threshold_or_none:
                            b[off] += 1
            except Exception:  # a request event with values of unexpected types
                log.exception("request not counted: %r", (now, name, ms, status, failed, url))
        pending.clear()

    def _settle(self, b: list[float]) -> None:
        """Fill a finished bucket's (good, total) per SLI from what record() counted."""
        if not self._uniform:
            return
        n = b[_REQ]
        valid = n - b[self._bad]
        fast = {t: b[self._bad + 1 + j] for j, t in enumerate(self._thresholds)}
        for i, sli in enumerate(self._slis):
            off = self._sli_base + 2 * i
            threshold = _threshold(sli)
            if threshold is None:
                b[off], b[off + 1] = valid, n
            else:
                b[off], b[off + 1] = fast[threshold], valid

    # -- emitting ---------------------------------------------------------------------------

    def pop_ready(self, now: float, grace_s: float = EMIT_GRACE_S) -> list[dict[str, Any]]:
        """Samples for every second that ended at least ``grace_s`` ago, oldest first.

        While stopped, only seconds that hold requests are due (no empty trailing seconds).
        """
        self._drain()
        if self._next is None:
            return []
        last = int(now - grace_s)
        if not self._running:
            self._skip_idle()
            last = min(last, max(self._buckets, default=self._next - 1))
        return self._emit_through(last)

    def flush(self, now: float) -> list[dict[str, Any]]:
        """Samples for everything left, including the current (partial) second if running."""
        self._drain()
        if self._next is None:
            return []
        if not self._running:
            self._skip_idle()
        last = max(self._buckets, default=self._next - 1)
        if self._running:
            last = max(last, int(now))
        return self._emit_through(last)

    def _skip_idle(self) -> None:
        """While stopped, seconds without requests are not "empty load": skip them."""
        if self._buckets and self._next is not None:
            self._next = max(self._next, min(self._buckets))

    def next_due(self, grace_s: float = EMIT_GRACE_S) -> float | None:
        """Epoch time at which the next second becomes ready, or None before the start."""
        self._drain()
        return None if self._next is None else self._next + grace_s

    def _emit_through(self, last: int) -> list[dict[str, Any]]:
        assert self._next is not None
        self._cur_s = None  # the seconds record() may reach change below
        out = []
        for s in range(self._next, last + 1):
            b = self._buckets.pop(s, None) or [0] * self._width
            self._settle(b)
            for i, v in enumerate(b):
                self.totals[i] = max(self.totals[i], v) if i == _MAX else self.totals[i] + v
            out.append(self._sample(s, b, self._paths.pop(s, {})))
        self._next = max(self._next, last + 1)
        self.emitted += len(out)
        return out

    # -- formatting -------------------------------------------------------------------------

    def _slis_json(self, b: Sequence[float]) -> dict[str, dict[str, int]]:
        return {
            sli.name: {
                "good": int(b[self._sli_base + 2 * i]),
                "total": int(b[self._sli_base + 2 * i + 1]),
            }
            for i, sli in enumerate(self._slis)
        }

    def _latency_json(self, b: Sequence[float]) -> dict[str, float | None]:
        hist = [int(c) for c in b[_HIST : self._sli_base]]
        n = int(b[_REQ])
        if n == 0:
            return {"p50": None, "p95": None, "p99": None, "mean": None, "max": None}
        out = {f"p{q}": percentile(self._bounds, hist, q / 100, b[_MAX]) for q in (50, 95, 99)}
        return {**out, "mean": round(b[_SUM] / n, 3), "max": round(b[_MAX], 3)}

    def _hist_json(self, b: Sequence[float]) -> dict[str, int]:
        labels = [_label(x) for x in self._bounds] + ["+Inf"]
        return {labels[i]: int(c) for i, c in enumerate(b[_HIST : self._sli_base]) if c}

    def _sample(self, s: int, b: Sequence[float], paths: dict[str, int]) -> dict[str, Any]:
        return {
            "t": s,
            "source": "load",
            "slis": self._slis_json(b),
            "latency_ms": self._latency_json(b),
            "latency_hist_ms": self._hist_json(b),
            "requests": int(b[_REQ]),
            "status_4xx": int(b[_C4XX]),
            "paths": paths,
        }

    def summary(self) -> dict[str, Any]:
        """Totals over every emitted second (for the final ``done`` line)."""
        return {
            "requests": int(self.totals[_REQ]),
            "status_4xx": int(self.totals[_C4XX]),
            "slis": self._slis_json(self.totals),
            "latency_ms": self._latency_json(self.totals),
            "buckets": self.emitted,
        }


def _threshold(sli: SliSpec) -> float | None:
    """A latency SLI's threshold; None: the SLI counts like availability."""
    return sli.threshold_ms if sli.kind == "latency" else None


def path_key(url: str | None) -> str:
    """The path key of a requested URL (see PATH_SEGMENTS): '/api/cart?x=1' -> '/api/cart',
    'http://h:1/v2/orders/17' -> '/v2/orders/*'; OTHER_PATHS when there is no path to read."""
    if not url:
        return OTHER_PATHS
    if url.startswith("/"):
        path = url
    else:
        scheme = url.find("://")
        if scheme < 0:
            return OTHER_PATHS
        slash = url.find("/", scheme + 3)
        path = url[slash:] if slash >= 0 else "/"
    for mark in ("?", "#"):
        cut = path.find(mark)
        if cut >= 0:
            path = path[:cut]
    parts = path.split("/", PATH_SEGMENTS + 1)
    if len(parts) > PATH_SEGMENTS + 1:
        path = "/".join(parts[: PATH_SEGMENTS + 1]) + "/*"
    if len(path) > MAX_PATH_KEY_CHARS:
        path = path[: MAX_PATH_KEY_CHARS - 1] + "*"
    return path or "/"


def path_may_match(key: str, prefix: str) -> bool:
    """Whether a request counted under path key ``key`` may have had a path starting with
    ``prefix`` (how the target matches a fault's paths). Never False when it may have."""
    if key.endswith("*"):
        stem = key[:-1]
        return stem.startswith(prefix) or prefix.startswith(stem)
    return key.startswith(prefix)


def _label(bound: float) -> str:
    return str(int(bound)) if bound == int(bound) else str(bound)


def percentile(
    bounds: Sequence[float], counts: Sequence[int], q: float, max_ms: float
) -> float | None:
    """The q-quantile estimated from a histogram, interpolating linearly inside a bucket.

    ``counts[i]`` counts values in ``(bounds[i-1], bounds[i]]``; the last count is the overflow
    above ``bounds[-1]``, whose upper end is the observed ``max_ms``. Accurate to a bucket's
    width, which is what a mergeable per-second summary can offer.
    """
    n = sum(counts)
    if n == 0:
        return None
    rank = q * n
    cum = 0
    for i, c in enumerate(counts):
        if c and cum + c >= rank:
            lower = bounds[i - 1] if i > 0 else 0.0
            upper = bounds[i] if i < len(bounds) else max(max_ms, lower)
            upper = min(upper, max_ms) if max_ms >= lower else upper
            value = lower + (upper - lower) * max(rank - cum, 0) / c
            return round(value, 3)
        cum += c
    return round(max_ms, 3)
