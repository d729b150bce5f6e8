"""The "checkout" service one replica serves: tiny aiohttp handlers, fault injection, counting.

Throughput matters (Locust pushes ~10k req/s on two cores), so handlers answer precomputed bytes,
instrumentation is a plain wrapper (cheaper than an aiohttp middleware) and the fault is re-read
from the shared state file only when its generation changes (one 8-byte read per request).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

from chaos_suite.targets.local.state import (
    BUCKET_BOUNDS,
    IDX_HIST0,
    IDX_LAT_SUM,
    FaultSpec,
    StateFile,
    new_counts,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

KNOWN_PATHS: Final = frozenset({"/health", "/api/products", "/api/checkout", "/api/cart"})
# /status/<code> answers that status: a deliberate 4xx (or 5xx) for tests and demos of what a
# load that gets no real answers looks like
STATUS_PREFIX: Final = "/status/"
_ANY_PATH: Final = b'{"ok":true}'
_JSON: Final = "application/json"
_PRODUCTS: Final = json.dumps({"products": [
    {"id": "sku-1", "name": "coffee beans", "price": 12.5},
    {"id": "sku-2", "name": "grinder", "price": 89.0},
    {"id": "sku-3", "name": "filter papers", "price": 4.2},
]}).encode()
_CART: Final = json.dumps({"items": [{"id": "sku-1", "qty": 2}], "total": 25.0}).encode()
_INJECTED: Final = b'{"error":"injected fault"}'


class Recorder:
    """Per-second counts by completion time, accumulated in memory between flushes."""

    def __init__(self) -> None:
        self.pending: dict[int, list[float]] = {}

    def record(self, status: int, duration: float, now: float) -> None:
        second = int(now)
        row = self.pending.get(second)
        if row is None:
            row = self.pending[second] = new_counts()
        row[0] += 1
        status_class = status // 100
        if 1 <= status_class <= 5:
            row[status_class] += 1  # IDX_CLASS0 == 1, so class c lives at index c
        row[IDX_LAT_SUM] += duration
        row[IDX_HIST0 + bisect_left(BUCKET_BOUNDS, duration)] += 1

    def take(self) -> dict[int, list[float]]:
        pending, self.pending = self.pending, {}
        return pending


class FaultView:
    """The current fault, re-parsed only when the supervisor has changed it."""

    def __init__(self, state: StateFile) -> None:
        self._state = state
        self._raw_generation = -1
        self._fault = FaultSpec()

    def current(self) -> FaultSpec:
        raw = self._state.fault_generation()
        if raw != self._raw_generation:
            self._fault = self._state.read_fault()
            self._raw_generation = raw
        return self._fault


def _applies(paths: tuple[str, ...], path: str) -> bool:
    return not paths or path.startswith(paths)


class Replica:
    """Builds the aiohttp application of replica ``index`` around the shared state."""

    def __init__(self, index: int, pid: int, state: StateFile) -> None:
        self.index = index
        self.recorder = Recorder()
        self.faults = FaultView(state)
        self._rng = random.Random()
        self._orders = itertools.count(1)
        self._health = json.dumps({"status": "ok", "replica": index, "pid": pid}).encode()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024)
        # /health is neither faulted nor counted: readiness checks and synthetic probes must not
        # show up in the ground truth that client-side counts are compared against.
        app.router.add_get("/health", self._health_handler)
        app.router.add_get("/api/products", self._instrument(self._products))
        app.router.add_post("/api/checkout", self._instrument(self._checkout))
        app.router.add_get("/api/cart", self._instrument(self._cart))
        # Any other path is served (200, a small JSON body) and faulted like the routes above:
        # a locustfile written for another service still gets real answers, and a fault lands
        # on what it requests. Counted too, so the server-side totals include every request.
        app.router.add_route("*", "/{tail:.*}", self._instrument(self._any_path))
        return app

    def _instrument(self, handler: Handler, *, faultable: bool = True) -> Handler:
        recorder, faults, rng = self.recorder, self.faults, self._rng

        async def wrapped(request: web.Request) -> web.StreamResponse:
            started = time.perf_counter()
            response: web.StreamResponse | None = None
            if faultable:
                response = await _apply_fault(faults.current(), request.path, rng)
            if response is None:
                try:
                    response = await handler(request)
                except web.HTTPException as exc:  # e.g. a body over client_max_size
                    response = web.Response(status=exc.status, body=b'{"error":"bad request"}',
                                            content_type=_JSON)
                except Exception:  # noqa: BLE001 - a handler bug must still be answered and counted
                    response = web.Response(status=500, body=b'{"error":"internal"}',
                                            content_type=_JSON)
            recorder.record(response.status, time.perf_counter() - started, time.time())
            return response

        return wrapped

    async def _health_handler(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=self._health, content_type=_JSON)

    async def _products(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=_PRODUCTS, content_type=_JSON)

    async def _cart(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=_CART, content_type=_JSON)

    async def _checkout(self, request: web.Request) -> web.StreamResponse:
        try:
            order = json.loads(await request.read() or b"null")
        except ValueError:
            order = None
        if not isinstance(order, dict):
            return web.Response(status=400, body=b'{"error":"expected a JSON object"}',
                                content_type=_JSON)
        items = order.get("items")
        order_id = f"{self.index}-{next(self._orders)}"
        body = json.dumps({"order_id": order_id,
                           "items": len(items) if isinstance(items, list) else 0})
        return web.Response(status=201, body=body.encode(), content_type=_JSON)

    async def _any_path(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path in KNOWN_PATHS:  # a known route with another method
            return web.Response(status=405, body=b'{"error":"method not allowed"}',
                                content_type=_JSON)
        if path.startswith(STATUS_PREFIX):
            code = path[len(STATUS_PREFIX):]
            if code.isascii() and code.isdigit() and 200 <= int(code) <= 599:
                status = int(code)
                if status in (204, 205, 304):  # answers that carry no body
                    return web.Response(status=status)
                return web.Response(status=status, body=b'{"status":%d}' % status,
                                    content_type=_JSON)
            return web.Response(status=400, body=b'{"error":"expected /status/<200-599>"}',
                                content_type=_JSON)
        return web.Response(body=_ANY_PATH, content_type=_JSON)


async def _apply_fault(fault: FaultSpec, path: str, rng: random.Random) -> web.Response | None:
    """Sleep for injected latency, then maybe answer 503. None: serve normally."""
    if not fault.generation:
        return None
    now = time.time()
    latency_ms = fault.latency_ms_at(now)
    if latency_ms > 0 and _applies(fault.latency_paths, path):
        await asyncio.sleep(latency_ms / 1000.0)
    ratio = fault.error_ratio_at(now)
    if ratio > 0 and _applies(fault.error_paths, path) and rng.random() < ratio:
        return web.Response(status=503, body=_INJECTED, content_type=_JSON)
    return None
