"""A small synchronous client for the local target's admin API."""

from __future__ import annotations

import signal
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from chaos_suite.errors import InputError, PreflightError

if TYPE_CHECKING:
    import httpx



RUN_HEADER = "X-Chaos-Suite-Run"


class LocalTargetClient:
    """Talks to ``admin_url`` (e.g. ``http://127.0.0.1:PORT``).

    Raises :class:`PreflightError` when the target cannot be reached or answers an error, and
    :class:`InputError` when it refuses a request as malformed (HTTP 400). Usable as a context
    manager; ``close()`` releases the connection pool.
    """

    def __init__(self, admin_url: str, timeout_s: float = 5, run_id: str | None = None) -> None:
        import httpx  # lazily: replicas import this package and must start fast

        self.admin_url = admin_url.rstrip("/")
        # the run a fault change belongs to: the target keeps who changed its fault last, so a
        # run can tell its own changes from anyone else's
        headers = {RUN_HEADER: run_id} if run_id else {}
        self._http = httpx.Client(base_url=self.admin_url, timeout=timeout_s, headers=headers)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        import httpx

        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise PreflightError(
                f"local target admin API at {self.admin_url} is unreachable: {exc!r}") from exc
        if response.status_code == 400:
            raise InputError(f"local target refused {method} {path}: {_error_text(response)}")
        if response.status_code >= 300:
            raise PreflightError(f"local target answered {response.status_code} to {method} "
                                 f"{path}: {_error_text(response)}")
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise PreflightError(f"local target sent non-JSON to {method} {path}") from exc

    def status(self) -> dict[str, Any]:
        """Replicas (index, pid, running, alive, restarts), fault, ports, urls."""
        result: dict[str, Any] = self._json("GET", "/admin/status")
        return result

    def set_fault(self, *, error_ratio: float | None = 0.0, latency_ms: float | None = 0.0,
                  ttl_s: float | None = None, paths: list[str] | None = None) -> dict[str, Any]:
        """Set the fault. ``None`` leaves that kind as it is; 0 switches it off. ``ttl_s`` and
        ``paths`` (prefixes; default every path but /health) apply to the kinds given here."""
        body: dict[str, Any] = {"ttl_s": ttl_s}
        if error_ratio is not None:
            body["error_ratio"] = error_ratio
        if latency_ms is not None:
            body["latency_ms"] = latency_ms
        if paths:
            body["paths"] = paths
        result: dict[str, Any] = self._json("POST", "/admin/faults", json=body)
        return result

    def clear_faults(self) -> dict[str, Any]:
        """Idempotent; ``cleared`` says whether a fault was active."""
        result: dict[str, Any] = self._json("DELETE", "/admin/faults")
        return result

    def counters(self, since: float | None = None,
                 until: float | None = None) -> list[dict[str, Any]]:
        """Per-second server counters summed across replicas, oldest first:
        ``{"t", "total", "errors" (5xx), "status_classes", "latency_sum", "hist"}``.
        ``hist`` is cumulative (``hist["0.3"]``: answered within 300 ms; ``"+Inf"`` = total).
        A second t covers [t, t+1); it is included when it ends after ``since``."""
        params = {k: v for k, v in (("since", since), ("until", until)) if v is not None}
        seconds: list[dict[str, Any]] = self._json("GET", "/admin/counters",
                                                   params=params)["seconds"]
        return seconds

    def metrics(self) -> str:
        return self._request("GET", "/metrics").text

    def kill_replica(self, index: int | None = None, sig: int = signal.SIGKILL) -> int:
        """Signal a replica process (a random running one when index is None); returns its pid."""
        result = self._json("POST", "/admin/replicas/kill",
                            json={"index": index, "signal": int(sig)})
        return int(result["pid"])

    def wait_all_alive(self, timeout_s: float = 10, *,
                       exclude_pids: frozenset[int] = frozenset()) -> dict[str, Any]:
        """Poll until every replica serves (and none has a pid in ``exclude_pids``)."""
        deadline = time.monotonic() + timeout_s
        while True:
            status = self.status()
            replicas = status["replicas"]
            if all(r["alive"] and r["pid"] not in exclude_pids for r in replicas):
                return status
            if time.monotonic() >= deadline:
                down = [r["index"] for r in replicas if not r["alive"]]
                raise PreflightError(f"replicas {down} of {self.admin_url} not alive after "
                                     f"{timeout_s:g}s")
            time.sleep(0.05)


def _error_text(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", response.text))
    except (ValueError, AttributeError):
        return response.text[:200]
