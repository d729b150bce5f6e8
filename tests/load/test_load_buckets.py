"""BucketCounter: classification, per-second emission, flushing, percentiles. Pure, no Locust."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from chaos_suite.load.buckets import (
    HIST_BOUNDS_MS,
    MAX_PATHS_PER_SECOND,
    OTHER_PATHS,
    BucketCounter,
    path_key,
    path_may_match,
    percentile,
)
from chaos_suite.load.config import SliSpec

AVAIL = SliSpec("availability", "availability")
LAT = SliSpec("latency", "latency", threshold_ms=250)
T0 = 1_700_000_000.0


def _counter(*slis: SliSpec) -> BucketCounter:
    c = BucketCounter(slis or (AVAIL, LAT))
    c.start(T0)
    return c


def test_classification_of_statuses_and_errors() -> None:
    c = _counter()
    cases = [  # (status, exception?, response ms)
        (200, False, 10), (201, False, 300),  # good; the second is too slow for latency
        (404, True, 10), (429, True, 10),     # 4xx: the server answered correctly
        (500, True, 10), (503, True, 10),     # 5xx: bad
        (None, True, 5), (0, True, 5),        # connection refused / reset: no status, bad
        (200, True, 10),                      # a locustfile's own failure on a 2xx: good
    ]
    for status, failed, ms in cases:
        c.record(T0 + 0.5, "/x", ms, status, failed)
    (sample,) = c.flush(T0 + 0.9)
    n = len(cases)
    bad = 4
    assert sample["requests"] == n
    assert sample["slis"]["availability"] == {"good": n - bad, "total": n}
    # latency counts only valid (not bad) requests; the 300 ms one is not good
    assert sample["slis"]["latency"] == {"good": n - bad - 1, "total": n - bad}


def test_match_restricts_an_sli_to_request_names() -> None:
    only_checkout = SliSpec("checkout", "availability", match=r"checkout")
    c = _counter(AVAIL, only_checkout)
    c.record(T0, "POST /api/checkout", 3, 503, True)
    c.record(T0, "GET /api/cart", 3, 503, True)
    c.record(T0, "GET /api/products", 3, 200, False)
    (sample,) = c.flush(T0)
    assert sample["slis"]["availability"] == {"good": 1, "total": 3}
    assert sample["slis"]["checkout"] == {"good": 0, "total": 1}


def test_seconds_are_emitted_once_in_order_after_grace_without_gaps() -> None:
    c = _counter()
    c.record(T0 + 0.1, "/a", 1, 200, False)
    c.record(T0 + 2.5, "/a", 1, 200, False)
    assert c.pop_ready(T0 + 1.0) == []           # second T0 just ended: not due yet
    first = c.pop_ready(T0 + 1.06)               # due from its end + 0.05 s
    assert [s["t"] for s in first] == [int(T0)]
    later = c.pop_ready(T0 + 2.9)
    # T0+1 had no request but the test ran: emitted with zeros; T0+2 is still open
    assert [(s["t"], s["requests"]) for s in later] == [(int(T0) + 1, 0)]
    assert later[0]["slis"]["availability"] == {"good": 0, "total": 0}
    assert later[0]["latency_ms"]["p50"] is None
    assert c.pop_ready(T0 + 2.9) == []           # never twice
    rest = c.stop(T0 + 3.5)
    assert [(s["t"], s["requests"]) for s in rest] == [(int(T0) + 2, 1), (int(T0) + 3, 0)]


def test_after_stop_no_empty_trailing_seconds() -> None:
    c = _counter()
    c.record(T0, "/a", 1, 200, False)
    c.stop(T0 + 0.5)
    assert c.pop_ready(T0 + 10) == []
    assert c.flush(T0 + 10) == []
    c.record(T0 + 11, "/a", 1, 200, False)   # e.g. a user's on_stop request
    assert [s["t"] for s in c.flush(T0 + 12)] == [int(T0) + 11]
    assert c.summary()["requests"] == 2


def test_clock_stepping_back_never_reopens_an_emitted_second() -> None:
    c = _counter()
    c.record(T0 + 0.2, "/a", 1, 200, False)
    c.pop_ready(T0 + 1.1)
    c.record(T0 + 0.9, "/a", 1, 200, False)  # wall clock went back
    emitted = c.flush(T0 + 1.5)
    assert [s["t"] for s in emitted] == [int(T0) + 1]
    assert c.summary()["slis"]["availability"] == {"good": 2, "total": 2}


@given(events=st.lists(st.tuples(st.floats(0, 20), st.sampled_from([200, 404, 503, 0]),
                                 st.floats(0, 2000)), max_size=200),
       polls=st.lists(st.floats(0, 25), max_size=10))
def test_totals_equal_events_whatever_the_poll_times(
    events: list[tuple[float, int, float]], polls: list[float]
) -> None:
    c = _counter()
    seen: list[dict[str, object]] = []
    events.sort()
    polls.sort()
    for offset, status, ms in events:
        while polls and polls[0] <= offset:
            seen += c.pop_ready(T0 + polls.pop(0))
        c.record(T0 + offset, "/x", ms, status, status != 200)
    seen += c.stop(T0 + 21)
    ts = [s["t"] for s in seen]
    assert ts == list(range(int(T0), int(T0) + len(ts)))  # contiguous, each once
    assert sum(s["requests"] for s in seen) == len(events)  # type: ignore[misc]
    good = sum(1 for _, status, _ in events if 0 < status < 500)
    assert c.summary()["slis"]["availability"] == {"good": good, "total": len(events)}


def test_percentiles_track_exact_values_within_bucket_resolution() -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(3, 1) for _ in range(5000)]
    c = _counter()
    for v in values:
        c.record(T0, "/x", v, 200, False)
    (sample,) = c.flush(T0)
    ordered = sorted(values)
    bounds = (0.0, *HIST_BOUNDS_MS, float("inf"))
    for q in (50, 95, 99):
        exact = ordered[int(q / 100 * len(ordered)) - 1]
        est = sample["latency_ms"][f"p{q}"]
        # same histogram bucket (or its edge) as the exact value
        i = next(i for i in range(1, len(bounds)) if exact <= bounds[i])
        assert bounds[i - 1] <= est <= min(bounds[i], max(values)) + 1e-6
    assert sample["latency_ms"]["max"] == round(max(values), 3)
    assert sum(sample["latency_hist_ms"].values()) == len(values)


def test_percentile_edge_cases() -> None:
    assert percentile((10, 20), (0, 0, 0), 0.5, 0) is None
    # everything in the overflow bucket: bounded by the observed max
    assert percentile((10, 20), (0, 0, 4), 0.99, 55.0) <= 55.0  # type: ignore[operator]
    assert percentile((10, 20), (0, 0, 4), 0.01, 55.0) >= 20.0  # type: ignore[operator]


def test_many_distinct_names_do_not_grow_the_cache_without_bound() -> None:
    c = _counter(AVAIL, SliSpec("ids", "availability", match=r"/order/\d+"))
    for i in range(12_000):
        c.record(T0, f"/order/{i}", 1, 200, False)
    (sample,) = c.flush(T0)
    assert sample["slis"]["ids"] == {"good": 12_000, "total": 12_000}
    assert len(c._plans) <= 10_000


def test_each_second_counts_its_4xx_answers_and_the_paths_it_reached() -> None:
    c = _counter()
    for status, url in [(200, "http://127.0.0.1:8000/api/cart?x=1"), (404, "/status/404"),
                        (404, "/status/404"), (429, "/api/cart"), (503, "/api/cart"),
                        (None, None)]:
        c.record(T0 + 0.5, "name", 3, status, status != 200, url)
    (sample,) = c.flush(T0 + 0.9)
    assert sample["status_4xx"] == 3  # 404, 404, 429: not the 503, not the unanswered
    assert sample["paths"] == {"/api/cart": 3, "/status/404": 2, OTHER_PATHS: 1}
    assert c.summary()["status_4xx"] == 3
    (empty,) = c.flush(T0 + 1.5)
    assert empty["status_4xx"] == 0 and empty["paths"] == {}


def test_distinct_paths_per_second_are_capped() -> None:
    c = _counter()
    for i in range(MAX_PATHS_PER_SECOND + 10):
        c.record(T0, "name", 1, 200, False, f"/p{i}")
    (sample,) = c.flush(T0)
    assert len(sample["paths"]) == MAX_PATHS_PER_SECOND + 1
    assert sample["paths"][OTHER_PATHS] == 10


def test_path_keys_and_what_they_may_match() -> None:
    assert path_key("http://h:1/api/cart?sku=1#top") == "/api/cart"
    assert path_key("https://h/v2/orders/17/items") == "/v2/orders/*"
    assert path_key("http://h:1") == "/"
    assert path_key("not a url") == OTHER_PATHS
    assert path_key("/" + "a" * 500).endswith("*") and len(path_key("/" + "a" * 500)) == 100
    # an exact key matches as the target matches a fault's prefix; a '*' key is never ruled out
    # when the prefix may lie under it
    assert path_may_match("/api/cart", "/api/") and not path_may_match("/api/cart", "/admin")
    assert not path_may_match("/api/cart", "/api/cart/")
    assert path_may_match("/v2/orders/*", "/v2/orders/17") and path_may_match("/v2/orders/*", "/v2")
    assert not path_may_match("/v2/orders/*", "/v3")
    assert path_may_match(OTHER_PATHS, "/anything")


# -- exactness of the batched counting against a plain reference --------------------------------

_URLS = [None, "/a", "/a?x=1", "http://h:1/b/c/d", "/b/c/e", "not a url", *(f"/p{i}" for i in range(40))]


def _reference(events: list[tuple[float, str, float, int | None, bool, str | None]],
               slis: tuple[SliSpec, ...]) -> dict[int, dict[str, object]]:
    """Per second, what the docstring of buckets.py says a sample counts, request by request."""
    import re as _re

    out: dict[int, dict[str, object]] = {}
    for now, name, ms, status, failed, url in events:
        s = out.setdefault(int(now), {
            "requests": 0, "status_4xx": 0, "paths": {}, "sum": 0.0, "max": 0.0,
            "slis": {sli.name: {"good": 0, "total": 0} for sli in slis}})
        bad = status >= 500 if status else failed
        s["requests"] += 1  # type: ignore[operator]
        s["status_4xx"] += 1 if status and 400 <= status < 500 else 0  # type: ignore[operator]
        paths: dict[str, int] = s["paths"]  # type: ignore[assignment]
        key = path_key(url) if url is not None else OTHER_PATHS
        if key in paths or len(paths) < MAX_PATHS_PER_SECOND:
            paths[key] = paths.get(key, 0) + 1
        else:
            paths[OTHER_PATHS] = paths.get(OTHER_PATHS, 0) + 1
        s["sum"] += ms  # type: ignore[operator]
        s["max"] = max(s["max"], ms)  # type: ignore[type-var]
        for sli in slis:
            if sli.match and not _re.search(sli.match, name):
                continue
            counts = s["slis"][sli.name]  # type: ignore[index]
            if sli.kind == "latency" and sli.threshold_ms is not None:
                if not bad:
                    counts["total"] += 1
                    counts["good"] += ms < sli.threshold_ms
            else:
                counts["total"] += 1
                counts["good"] += not bad
    return out


_SLI_SETS = [
    (AVAIL, LAT),
    (AVAIL, LAT, SliSpec("fast", "latency", threshold_ms=5), SliSpec("lat2", "latency", threshold_ms=250)),
    (AVAIL, SliSpec("checkout", "availability", match="checkout"),
     SliSpec("cart_fast", "latency", threshold_ms=20, match="cart")),
    (),
]


@given(
    events=st.lists(st.tuples(
        st.floats(0, 6, allow_nan=False), st.sampled_from(["GET /cart", "POST /checkout", "x"]),
        st.sampled_from([0, 0.5, 1, 4.99, 5, 19, 20, 250, 20000]),
        st.sampled_from([None, 0, 200, 302, 399, 400, 404, 499, 500, 503]), st.booleans(),
        st.sampled_from(_URLS)), max_size=600),
    polls=st.lists(st.floats(0, 8), max_size=8),
    which=st.integers(0, len(_SLI_SETS) - 1),
)
def test_samples_equal_a_request_by_request_reference(
    events: list[tuple[float, str, float, int | None, bool, str | None]], polls: list[float],
    which: int,
) -> None:
    slis = _SLI_SETS[which]
    c = BucketCounter(slis)
    c.start(T0)
    events = sorted(((T0 + t, *rest) for t, *rest in events), key=lambda e: e[0])
    polls = sorted(T0 + p for p in polls)
    seen: list[dict[str, object]] = []
    for event in events:
        while polls and polls[0] <= event[0]:
            seen += c.pop_ready(polls.pop(0))
        c.record(*event)
    seen += c.stop(T0 + 7)
    expected = _reference(events, slis)
    assert [s["t"] for s in seen] == list(range(int(T0), int(T0) + 8))
    for sample in seen:
        want = expected.get(int(sample["t"]))  # type: ignore[call-overload]
        if want is None:
            assert sample["requests"] == 0 and sample["paths"] == {}
            assert all(v == {"good": 0, "total": 0} for v in sample["slis"].values())  # type: ignore[attr-defined]
            continue
        assert sample["requests"] == want["requests"]
        assert sample["status_4xx"] == want["status_4xx"]
        assert sample["slis"] == want["slis"]
        assert list(sample["paths"].items()) == list(want["paths"].items())  # type: ignore[attr-defined]
        n = int(want["requests"])  # type: ignore[call-overload]
        assert sample["latency_ms"]["mean"] == round(want["sum"] / n, 3)  # type: ignore[index,operator]
        assert sample["latency_ms"]["max"] == round(want["max"], 3)  # type: ignore[index,call-overload]
        assert sum(sample["latency_hist_ms"].values()) == n  # type: ignore[attr-defined]
    assert c.summary()["requests"] == len(events)


class _Response:
    def __init__(self, status: object) -> None:
        self._status = status

    @property
    def status_code(self) -> object:
        return self._status


def test_the_listener_counts_as_record_does_and_readers_see_every_queued_request() -> None:
    clock = [T0 + 0.5]
    by_listener = BucketCounter((AVAIL, LAT))
    by_listener.start(T0)
    on_request = by_listener.listener(lambda: clock[0])
    by_record = _counter()
    n = 3 * 256 + 7  # past a few batches, and some left queued
    for i in range(n):
        status = (200, 404, 503, None, 0, True)[i % 6]
        failed = i % 4 == 0
        url = ("/a", "http://h/b/c/d", None, 17)[i % 4]
        ms = float(i % 300)
        clock[0] = T0 + 0.5 + i / n
        on_request(request_type="GET", name="n", response_time=ms, response_length=0,
                   response=_Response(status) if i % 7 else None, context={},
                   exception=RuntimeError() if failed else None, start_time=0.0, url=url,
                   some_custom_key=1)
        by_record.record(clock[0], "n", ms,
                         status if type(status) is int and i % 7 else None, failed,
                         url if isinstance(url, str) else None)
    # nothing read yet, still queued: the readers count it first
    assert by_listener._pending
    got, want = by_listener.flush(T0 + 1.9), by_record.flush(T0 + 1.9)
    assert got == want and sum(int(s["requests"]) for s in got) == n
    assert by_listener.summary() == by_record.summary()
