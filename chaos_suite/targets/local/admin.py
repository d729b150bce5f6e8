"""The admin API of the local target (served by the supervisor) and its request parsing.

    GET    /admin/status            replicas (index, pid, running, alive, restarts), fault, ports
    POST   /admin/faults            {"error_ratio", "latency_ms", "ttl_s", "paths"}: each kind given
                                    is set (0 switches it off), a kind not given is left alone
    DELETE /admin/faults            clears every fault; idempotent, 200 either way
    GET    /admin/counters          ?since=&until= (epoch s): per-second counters over replicas
    POST   /admin/replicas/kill     {"index": int | null, "signal": "SIGKILL" | 9 | ...}
    GET    /metrics                 Prometheus text format, cumulative counters

A malformed request is answered 400 with {"error": "..."}.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from chaos_suite.targets.local.metrics import per_second, prometheus_text

if TYPE_CHECKING:
    from chaos_suite.targets.local.supervisor import Supervisor

MAX_LATENCY_MS: Final = 120_000.0
KILL_SIGNALS: Final = frozenset({signal.SIGKILL, signal.SIGTERM, signal.SIGINT})


class BadRequest(ValueError):
    """A malformed admin request (answered with HTTP 400)."""


@dataclass(frozen=True)
class FaultRequest:
    error_ratio: float | None
    latency_ms: float | None
    ttl_s: float | None
    paths: tuple[str, ...]


def _number(body: dict[str, Any], key: str, low: float, high: float) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise BadRequest(f"{key} must be a number between {low:g} and {high:g}, got {value!r}")
    return float(value)


def parse_fault_request(body: Any) -> FaultRequest:
    if not isinstance(body, dict):
        raise BadRequest("expected a JSON object")
    unknown = set(body) - {"error_ratio", "latency_ms", "ttl_s", "paths"}
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(sorted(unknown))}")
    ratio = _number(body, "error_ratio", 0.0, 1.0)
    latency = _number(body, "latency_ms", 0.0, MAX_LATENCY_MS)
    if ratio is None and latency is None:
        raise BadRequest("give error_ratio and/or latency_ms")
    ttl = body.get("ttl_s")
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or ttl <= 0):
        raise BadRequest(f"ttl_s must be a positive number of seconds or null, got {ttl!r}")
    paths = body.get("paths") or []
    if not isinstance(paths, list) or not all(isinstance(p, str) and p.startswith("/")
                                              for p in paths):
        raise BadRequest("paths must be a list of path prefixes starting with '/'")
    return FaultRequest(ratio, latency, float(ttl) if ttl is not None else None, tuple(paths))


def parse_signal(value: Any) -> signal.Signals:
    try:
        sig = signal.Signals[value] if isinstance(value, str) else signal.Signals(value)
    except (KeyError, ValueError):
        raise BadRequest(f"unknown signal {value!r}") from None
    if sig not in KILL_SIGNALS:
        raise BadRequest(f"signal must be one of {sorted(s.name for s in KILL_SIGNALS)}")
    return sig


def _float_query(request: web.Request, key: str) -> float | None:
    raw = request.query.get(key)
    if raw in (None, ""):
        return None
    try:
        return float(raw)
    except ValueError:
        raise BadRequest(f"{key} must be an epoch time in seconds, got {raw!r}") from None


def _run_of(request: web.Request) -> str | None:
    """The run a fault change comes from (header X-Chaos-Suite-Run); None for anyone else."""
    value = request.headers.get("X-Chaos-Suite-Run", "")[:200]
    return value or None


async def _json_body(request: web.Request) -> Any:
    try:
        return await request.json() if await request.read() else {}
    except ValueError:
        raise BadRequest("body is not valid JSON") from None


def admin_app(sup: Supervisor) -> web.Application:
    routes = web.RouteTableDef()

    @routes.get("/admin/status")
    async def status(request: web.Request) -> web.Response:
        return web.json_response(sup.status())

    @routes.post("/admin/faults")
    async def set_fault(request: web.Request) -> web.Response:
        body = await _json_body(request)
        state = sup.set_fault(parse_fault_request(body), _run_of(request))
        print(f"supervisor: fault set {json.dumps(body)}", file=sys.stderr, flush=True)
        return web.json_response(state)

    @routes.delete("/admin/faults")
    async def clear_fault(request: web.Request) -> web.Response:
        return web.json_response(sup.clear_fault(_run_of(request)))

    @routes.get("/admin/counters")
    async def counters(request: web.Request) -> web.Response:
        since, until = _float_query(request, "since"), _float_query(request, "until")
        rows = per_second(sup.snapshots(since), until)
        return web.json_response({"seconds": rows, "replicas": len(sup.replicas)})

    @routes.post("/admin/replicas/kill")
    async def kill(request: web.Request) -> web.Response:
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise BadRequest("expected a JSON object")
        index = body.get("index")
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
            raise BadRequest(f"index must be null or an integer, got {index!r}")
        return web.json_response(sup.kill(index, parse_signal(body.get("signal", "SIGKILL"))))

    @routes.get("/metrics")
    async def metrics(request: web.Request) -> web.Response:
        up = sum(1 for r in sup.replicas if sup.alive(r))
        text = prometheus_text(sup.snapshots(None, with_rows=False), sup.state.read_fault(), up,
                               time.time())
        return web.Response(text=text, content_type="text/plain", charset="utf-8",
                            headers={"X-Content-Type-Options": "nosniff"})

    @web.middleware
    async def errors(request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
            return response
        except BadRequest as exc:
            return web.json_response({"error": str(exc)}, status=400)

    app = web.Application(middlewares=[errors])
    app.add_routes(routes)
    return app


