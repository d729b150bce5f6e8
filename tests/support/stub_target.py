"""A tiny deterministic HTTP target for load tests and the overhead benchmark (test support, not
product code: tests import it as ``support.stub_target``, the benchmark runs this file by path).

Not the demo service (that is ``chaos_suite.targets.local``): this one answers on a fixed schedule
so tests know exactly what the client should have counted, and it counts every answer itself.

Routes (any method):
- ``/ok`` → 200; ``/missing`` → 404; ``/slow`` → 200 after ``slow_ms`` (default 300 ms)
- ``/flaky`` → 503 for every ``error_every``-th request to it (default 10th), else 200
- ``/health``, ``/api/products``, ``/api/cart`` → 200, ``/api/checkout`` → 201 (checkout shape)
- ``/__counts`` → JSON ``{path: {status: n}}`` of everything answered so far (not counted)

Run in a thread (:class:`StubTarget`) or as a process:
``python tests/support/stub_target.py [--port 0]`` prints ``{"url": ...}`` on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import threading
from collections import defaultdict
from collections.abc import Awaitable
from typing import Self

from aiohttp import web

_FIXED: dict[str, int] = {
    "/ok": 200, "/missing": 404, "/health": 200, "/api/products": 200, "/api/cart": 200,
    "/api/checkout": 201,
}
_PRODUCTS = b'[{"sku":"A-1","price":9.5},{"sku":"B-2","price":3.0}]'


class _Counts:
    """Answers per path and status. Only touched from the server's event loop thread."""

    def __init__(self) -> None:
        self.by_path: defaultdict[str, defaultdict[int, int]] = defaultdict(
            lambda: defaultdict(int)
        )

    def snapshot(self) -> dict[str, dict[str, int]]:
        return {p: {str(k): v for k, v in c.items()} for p, c in self.by_path.items()}


COUNTS: web.AppKey[_Counts] = web.AppKey("counts", _Counts)


def make_app(*, error_every: int = 10, slow_ms: float = 300.0) -> web.Application:
    """The aiohttp application; ``app[COUNTS]`` holds what it answered."""
    counts = _Counts()
    flaky_seen = [0]  # per-app, not global: several stubs may run in one process

    async def handle(request: web.Request) -> web.StreamResponse:
        path = request.path
        if path == "/__counts":
            return web.json_response(counts.snapshot())
        if path == "/slow":
            await asyncio.sleep(slow_ms / 1000)
            status = 200
        elif path == "/flaky":
            flaky_seen[0] += 1
            status = 503 if flaky_seen[0] % error_every == 0 else 200
        else:
            status = _FIXED.get(path, 404)
        if request.can_read_body:
            await request.read()
        counts.by_path[path][status] += 1
        body = _PRODUCTS if path == "/api/products" else b'{"ok":true}'
        return web.Response(status=status, body=body, content_type="application/json")

    app = web.Application()
    app[COUNTS] = counts
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


async def _serve(app: web.Application, port: int) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    host_port = runner.addresses[0]  # (host, port) actually bound: port 0 picks a free one
    return runner, int(host_port[1])


class StubTarget:
    """The stub served from a background thread with its own event loop."""

    def __init__(self, *, error_every: int = 10, slow_ms: float = 300.0) -> None:
        self.app = make_app(error_every=error_every, slow_ms=slow_ms)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _call(self, coro: Awaitable[object], timeout: float = 10) -> object:
        return asyncio.run_coroutine_threadsafe(_wrap(coro), self._loop).result(timeout)

    def start(self) -> Self:
        self._thread.start()
        self._runner, self.port = self._call(_serve(self.app, 0))  # type: ignore[misc]
        return self

    def counts(self) -> dict[str, dict[str, int]]:
        """A consistent snapshot, taken on the loop thread."""
        async def snap() -> dict[str, dict[str, int]]:
            return self.app[COUNTS].snapshot()

        return self._call(snap())  # type: ignore[return-value]

    def stop(self) -> None:
        if self._runner is not None:
            self._call(self._runner.cleanup())
            self._runner = None
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def answered(counts: dict[str, dict[str, int]], path: str, status: str | None = None) -> int:
    """From a ``counts()`` snapshot: the requests of ``path`` answered (with ``status``)."""
    by_status = counts.get(path, {})
    return by_status.get(status, 0) if status else sum(by_status.values())


async def _wrap(coro: Awaitable[object]) -> object:
    return await coro


async def _main_async(port: int, error_every: int, slow_ms: float) -> None:
    runner, bound = await _serve(make_app(error_every=error_every, slow_ms=slow_ms), port)
    print(json.dumps({"url": f"http://127.0.0.1:{bound}", "port": bound}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    parent = os.getppid()
    # Poll the parent so a killed benchmark never leaves the stub behind.
    while not stop.is_set() and os.getppid() == parent:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.5)
    await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stub_target.py")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--error-every", type=int, default=10)
    parser.add_argument("--slow-ms", type=float, default=300.0)
    args = parser.parse_args(argv)
    asyncio.run(_main_async(args.port, args.error_every, args.slow_ms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
