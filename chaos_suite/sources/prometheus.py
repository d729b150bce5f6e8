"""Server-side SLI counts from Prometheus (``source: {type: prometheus, total, good | bad}``).

Used by the production error-budget gate ("how much of the budget is left over the SLO window?")
and, optionally, to sample per-second counts during a run.

Windowed counts follow one rule (see :func:`increase_over`): a query containing ``{{window}}``
(or Sloth's ``{{.window}}``) is run as written with the window substituted; any other query is
read as a cumulative counter and differenced between the window's two ends, unless the source
says ``counter: false`` (OpenSLO's gauge or already-computed rate), which is read as it is.

Per-second samples of a templated query use a window of ``SAMPLE_WINDOW_S`` (a range function
over one second finds at most one scrape and answers nothing): a ``rate``/``irate`` there is
already per second, any other range function is divided by the window (:func:`sampled_query`).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Self

import httpx

from chaos_suite.errors import InputError, PreflightError
from chaos_suite.files.slo_file import PrometheusSource, SLOSpec
from chaos_suite.slo.budget import burn_rate

# `{{window}}`, `{{ window }}`, Sloth's `{{.window}}`
WINDOW_PLACEHOLDER: Final = re.compile(r"\{\{\s*\.?window\s*\}\}")
# Prometheus answers these error types when the query itself is at fault (bad syntax, or an
# expression that cannot be evaluated, e.g. many-to-many matching): the user must fix the file.
QUERY_ERROR_TYPES: Final = frozenset({"bad_data", "execution"})
# the window a templated query gets for one second's sample: rate(x[1s]) over 1 s scrapes holds
# one point and answers nothing; 5 s holds a few scrapes even when one arrives late
SAMPLE_WINDOW_S: Final = 5.0
# range functions whose value is already per second (the others count over their window)
_PER_SECOND_FUNCTIONS: Final = frozenset({"rate", "irate"})
_QUOTED: Final = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_FUNCTION_BEFORE: Final = re.compile(r"([A-Za-z_]\w*)\s*\($")


class PrometheusClient:
    """Synchronous client for a Prometheus HTTP API at ``url`` (a path prefix is allowed).

    Raises :class:`InputError` when Prometheus rejects a query as malformed and
    :class:`PreflightError` when it cannot be reached, times out or answers a server error.
    Usable as a context manager; ``close()`` releases the connection pool.
    """

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise InputError(f"prometheus url must start with http:// or https://, got {url!r}")
        if not (math.isfinite(timeout_s) and timeout_s > 0):
            raise InputError(f"prometheus timeout must be a positive number, got {timeout_s!r}")
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=timeout_s)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def ready(self) -> bool:
        """Whether Prometheus answers /-/ready with 200 (never raises)."""
        try:
            return self._http.get("/-/ready").status_code == 200
        except httpx.HTTPError:
            return False

    def query(self, promql: str, at: float | None = None) -> float | None:
        """Instant query: the sum of the result vector's values (or the scalar).

        None when the result is empty or not a finite number ("NaN", "+Inf"): no data is
        never read as zero. ``at`` is a Unix time; None means Prometheus's "now".
        """
        form = {"query": promql}
        if at is not None:
            form["time"] = f"{at:.3f}"
        # POST (form-encoded) so long queries never hit URL length limits.
        data = self._api("/api/v1/query", form, promql)
        return _sum_result(data, promql)

    def query_range(self, promql: str, start: float, end: float,
                    step_s: float = 1.0) -> list[list[float]]:
        """Range query: each series' values from ``start`` to ``end`` (Unix times), as floats
        (NaN and ±Inf kept: the caller decides what they mean). An empty list: no series."""
        form = {"query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}",
                "step": f"{step_s:g}"}
        data = self._api("/api/v1/query_range", form, promql)
        result = data.get("result")
        if data.get("resultType") != "matrix" or not isinstance(result, list):
            raise InputError(f"prometheus query {promql!r} returns a {data.get('resultType')}, "
                             "not a number or instant vector")
        try:
            return [[_sample_value(pair) for pair in series["values"]] for series in result]
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise PreflightError(f"prometheus sent a malformed result for {promql!r}: "
                                 f"{exc!r}") from exc

    def _api(self, path: str, form: dict[str, str], promql: str) -> dict[str, Any]:
        try:
            response = self._http.post(path, data=form)
        except httpx.HTTPError as exc:
            raise PreflightError(f"prometheus at {self.url} unreachable: {_describe(exc)}") from exc
        body = _json_or_none(response)
        if response.status_code == 200 and body is not None and body.get("status") == "success":
            data = body.get("data")
            if isinstance(data, dict):
                return data
        if body is not None and body.get("errorType") in QUERY_ERROR_TYPES:
            error = " ".join(str(body.get("error", "")).split())  # keep the message on one line
            raise InputError(f"prometheus rejected query {promql!r}: {error}")
        detail = (body or {}).get("error") or response.text[:200].strip() or "empty body"
        raise PreflightError(f"prometheus at {self.url} unreachable: HTTP {response.status_code} "
                             f"to {path}: {' '.join(str(detail).split())}")

    def increase_over(self, query: str, window_s: float, at: float | None = None,
                      counter: bool = True) -> float | None:
        """How much a counter expression grew over the ``window_s`` seconds ending at ``at``
        (with ``counter=False``: how many events a gauge or rate expression stands for there).

        Rule:

        * If ``query`` contains ``{{window}}`` (or Sloth's ``{{.window}}``), the placeholder is
          replaced by a Prometheus duration (``"2592000s"``; ``"1500ms"`` for fractions) and the
          query runs as written at ``at``: the author chose the range function, e.g.
          ``sum(increase(http_requests_total[{{window}}]))``, and Prometheus's own
          extrapolation and counter-reset handling apply.
        * Otherwise ``query`` is read as a cumulative counter (e.g.
          ``sum(http_requests_total{code=~"5.."})``) and the result is ``Q(at) - Q(at - window)``.
          A missing value at the earlier end counts as 0 (the counter began inside the window).
          Counter resets inside the window are NOT detected in this mode: a reset makes the
          difference too small. When the difference comes out negative (a reset is then certain)
          ``Q(at)``, the count since the reset, is returned as a lower bound.
        * With ``counter=False`` the query is a gauge or a rate (a 0/1 probe result, a count of
          series, ``sum(rate(...))``): never differenced nor passed to ``increase()``. Its
          events over the window are its mean over the window times the window's length
          (:func:`gauge_query`); over one second, its value at ``at``.

        None when there is no data at ``at`` itself.
        """
        if not (math.isfinite(window_s) and window_s > 0):
            raise InputError(f"window must be a positive number of seconds, got {window_s!r}")
        if WINDOW_PLACEHOLDER.search(query):
            return self.query(substitute_window(query, window_s), at)
        if not counter:
            value = self.query(gauge_query(query, window_s), at)
            return None if value is None else value * window_s
        end = time.time() if at is None else at  # one fixed instant for both ends
        now_value = self.query(query, end)
        if now_value is None:
            return None
        before = self.query(query, end - window_s)
        difference = now_value - (before or 0.0)
        return difference if difference >= 0 else now_value


GAUGE_INSTANT_S: Final = 1.0  # up to one second a gauge's value at the end stands for it
GAUGE_POINTS: Final = 1_000  # subquery points over a longer window (28d: one every 40 min)


def gauge_query(query: str, window_s: float) -> str:
    """The query whose value times ``window_s`` is a gauge's events over the window: the value
    itself up to GAUGE_INSTANT_S, else its mean over a subquery of about GAUGE_POINTS steps."""
    if window_s <= GAUGE_INSTANT_S:
        return query
    step = max(1, math.ceil(window_s / GAUGE_POINTS))
    return f"avg_over_time(({query})[{prometheus_duration(window_s)}:{step}s])"


def substitute_window(query: str, window_s: float) -> str:
    """Replace every ``{{window}}``/``{{.window}}`` by a Prometheus duration literal."""
    return WINDOW_PLACEHOLDER.sub(prometheus_duration(window_s), query)


def per_second_template(query: str) -> bool:
    """Whether the range function the ``{{window}}`` placeholder sits in answers per second
    (``rate``, ``irate``), not a count over the window (``increase``, ``count_over_time``...).
    Quoted label values are skipped: a regex like ``code=~"(5..|429)"`` has parentheses too."""
    match = WINDOW_PLACEHOLDER.search(query)
    if match is None:
        return False
    before = _QUOTED.sub('""', query[:match.start()])
    # the innermost open call: the last "(" not closed before the placeholder
    depth = 0
    for i in range(len(before) - 1, -1, -1):
        if before[i] == ")":
            depth += 1
        elif before[i] == "(":
            if depth == 0:
                function = _FUNCTION_BEFORE.search(before[:i + 1])
                return function is not None and function.group(1) in _PER_SECOND_FUNCTIONS
            depth -= 1
    return False


def sampled_query(query: str) -> tuple[str, float | None]:
    """The query a per-second sample sends, and how its value becomes one second's events:
    a templated query over ``SAMPLE_WINDOW_S`` (its value per second as is for a rate, else
    divided by the window; the factor returned), or None: read by :meth:`increase_over` over
    one second (a counter differenced, a gauge read as it is)."""
    if WINDOW_PLACEHOLDER.search(query):
        scale = 1.0 if per_second_template(query) else 1.0 / SAMPLE_WINDOW_S
        return substitute_window(query, SAMPLE_WINDOW_S), scale
    return query, None


def check_query(client: PrometheusClient, query: str, range_s: float,
                at: float | None = None) -> str | None:
    """What is wrong with a query as a source of counts, judged over the last ``range_s``
    seconds at 1 s steps: 'matches no series' (a wrong metric name or label), 'returns NaN or
    infinite values' (a division by zero, say); None when it returns finite numbers. A
    malformed query raises InputError as :meth:`PrometheusClient.query` does."""
    end = time.time() if at is None else at
    series = client.query_range(query, end - range_s, end)
    values = [v for points in series for v in points]
    if not values:
        return f"matches no series over the last {range_s:g} s"
    if not all(math.isfinite(v) for v in values):
        return "returns NaN or infinite values (a division by zero?)"
    return None


def prometheus_duration(seconds: float) -> str:
    """A duration literal Prometheus 2.x parses: whole seconds, else whole milliseconds."""
    millis = round(seconds * 1000)
    if millis <= 0:
        raise InputError(f"window must be at least 1 ms, got {seconds!r} s")
    return f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"


def _describe(exc: httpx.HTTPError) -> str:
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else type(exc).__name__
    text = " ".join(str(exc).split())
    return f"{kind}: {text}" if text else kind


def _json_or_none(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _sample_value(pair: Any) -> float:
    """A ``[timestamp, "value"]`` pair's value; Prometheus sends numbers as strings."""
    return float(pair[1])


def _sum_result(data: dict[str, Any], promql: str) -> float | None:
    kind = data.get("resultType")
    result = data.get("result")
    try:
        if kind == "scalar":
            values = [_sample_value(result)]
        elif kind == "vector" and isinstance(result, list):
            values = [_sample_value(item["value"]) for item in result]
        else:
            raise InputError(f"prometheus query {promql!r} returns a {kind}, not a number or "
                             "instant vector (wrap a range selector in increase() or rate())")
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise PreflightError(f"prometheus sent a malformed result for {promql!r}: {exc!r}") from exc
    if not values or not all(math.isfinite(v) for v in values):
        return None  # no series, or NaN/Inf somewhere: the sum is unknowable
    return math.fsum(values)


# ---------------------------------------------------------------- budget over the SLO window


@dataclass(frozen=True)
class BudgetStatus:
    """An SLO's error budget over its window, read from Prometheus at ``at``.

    ``good``/``total`` are event counts (floats: window queries may extrapolate); 0.0 when a
    query returned nothing. ``error_ratio``, ``consumed`` and ``remaining`` are None when there
    were no events: no data is never a full budget. ``consumed`` = error_ratio / error budget,
    the fraction of the window's budget spent (uncapped: above 1 the budget is overspent);
    ``remaining`` = 1 - consumed (negative when overspent). ``queries`` holds (role, PromQL) as
    sent, placeholders substituted.
    """

    slo: str
    good: float
    total: float
    error_ratio: float | None
    consumed: float | None
    remaining: float | None
    window_seconds: float
    at: float
    queries: tuple[tuple[str, str], ...]

    @property
    def bad(self) -> float:
        return self.total - self.good


def _prometheus_source(spec: SLOSpec) -> PrometheusSource:
    if not isinstance(spec.source, PrometheusSource):
        raise InputError(f"SLO '{spec.name}' has source '{spec.source.type}', not prometheus")
    return spec.source


def _good_total(source: PrometheusSource, client: PrometheusClient, window_s: float,
                at: float) -> tuple[float, float, tuple[tuple[str, str], ...]]:
    """(good, total, queries) over the window ending at ``at``; good is clamped into
    [0, total] because the two queries may see a scrape apart."""
    counter = source.counter
    total = client.increase_over(source.total, window_s, at, counter) or 0.0
    if source.good is not None:
        role, query = "good", source.good
        good = client.increase_over(query, window_s, at, counter) or 0.0
    else:
        role, query = "bad", source.bad or ""
        good = total - (client.increase_over(query, window_s, at, counter) or 0.0)
    queries = (("total", _as_sent(source.total, window_s, counter)),
               (role, _as_sent(query, window_s, counter)))
    return min(max(good, 0.0), total), total, queries


def _as_sent(query: str, window_s: float, counter: bool = True) -> str:
    if WINDOW_PLACEHOLDER.search(query):
        return substitute_window(query, window_s)
    return query if counter else gauge_query(query, window_s)


def budget_status(spec: SLOSpec, client: PrometheusClient,
                  at: float | None = None) -> BudgetStatus:
    """The SLO's budget over its whole window ending at ``at`` (default: now).

    With ``bad`` instead of ``good``, good = total - bad. A total of 0 (or no data) gives
    ``remaining`` None. Raises :class:`InputError` for a non-prometheus SLO or a bad query.
    """
    source = _prometheus_source(spec)
    moment = time.time() if at is None else at
    window = spec.slo.window_seconds
    good, total, queries = _good_total(source, client, window, moment)
    ratio = consumed = remaining = None
    if total > 0:
        ratio = (total - good) / total
        consumed = burn_rate(ratio, spec.slo.objective)  # over the whole window C = BR
        remaining = 1.0 - consumed
    return BudgetStatus(slo=spec.name, good=good, total=total, error_ratio=ratio,
                        consumed=consumed, remaining=remaining, window_seconds=window,
                        at=moment, queries=queries)


def _second_events(client: PrometheusClient, query: str, counter: bool,
                   second: int) -> float | None:
    """One second's events of one query (:func:`sampled_query`); None: no series there."""
    sent, scale = sampled_query(query)
    if scale is None:
        return client.increase_over(query, 1.0, float(second + 1), counter)
    value = client.query(sent, float(second + 1))
    return None if value is None else value * scale


def read_second(spec: SLOSpec, client: PrometheusClient,
                second: int) -> tuple[dict[str, Any] | None, str | None]:
    """:func:`sample_second`'s sample, and the total query as sent when it matched no series
    at that second (None otherwise): "no events" and "the query finds nothing" differ."""
    source = _prometheus_source(spec)
    counter = source.counter
    total = _second_events(client, source.total, counter, second)
    if source.good is not None:
        good = _second_events(client, source.good, counter, second) or 0.0
    else:
        good = (total or 0.0) - (_second_events(client, source.bad or "", counter, second) or 0.0)
    silent = None if total is not None else sampled_query(source.total)[0]
    events = round(total or 0.0)
    if events <= 0:
        return None, silent
    good_events = min(max(round(good), 0), events)  # the queries may see a scrape apart
    return ({"t": second, "source": "prometheus",
             "slis": {spec.name: {"good": good_events, "total": events}}}, None)


def sample_second(spec: SLOSpec, client: PrometheusClient, second: int) -> dict[str, Any] | None:
    """A run-record sample for [second, second + 1): ``{"t", "source": "prometheus", "slis":
    {name: {"good", "total"}}}`` with counts rounded to whole events; None without events.

    Only as fine as the scrape interval: with 1 s scrapes, a second's events may land in the
    neighbouring second, and a templated query averages the ``SAMPLE_WINDOW_S`` seconds up to
    the second's end. Query the past (a second a few scrapes old), not the current second.
    """
    return read_second(spec, client, second)[0]
