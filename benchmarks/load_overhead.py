"""Cost of chaos_suite's Locust plugin: the same locustfile with and without it, side by side.

    .venv/bin/python benchmarks/load_overhead.py [--url URL] [--target stub|local]
        [--seconds 5] [--rounds 2] [--users 8] [--locustfile PATH] [--path /api/products]
        [--min-ratio 0.95] [--concurrent] [--explain] [--json]

Each round runs the load once with the plugin (per-second SLI buckets) and once without
(``"plugin": false``: Locust's own stats only), alternating the order between rounds (ABBA) so
drift on a shared machine hits both sides alike. Two ratios, with/without, per round (the
median and the spread across rounds are printed, and the ratio of the means): requests per
second, Locust's own request count over the test's elapsed time; and requests per CPU second of
the Locust process, far less sensitive to other processes sharing the cores. The default
locustfile saturates the client (no wait time) because a paced one would hide any overhead.
``--concurrent`` runs both sides of a round at the same time instead (two Locust processes on
one target): other load on the machine then weighs on both alike, which steadies the CPU ratio
(the req/s ratio becomes each side's share of the target).

With the plugin off the worker runs the same (its users-per-second clock, parent watcher and hard
limit greenlets run either way); what the plugin adds is its ``request`` listener, the counting
of what it queued, the emitter greenlet (a few wake-ups a second) and one JSON line a second on
the stdout pipe, which the parent (this process) reads and parses.

The hot-path prediction fires Locust's ``request`` event in a separate process (Locust
monkey-patches the process it is imported in) as FastHttpUser fires it, with and without the
plugin's listener. ``--explain`` adds runs with the plugin's functions timed inside the Locust
process (a ``sitecustomize`` put on that process's PYTHONPATH only), and the parent's CPU time, to
say where the measured difference goes.

Without ``--url`` a target is started here: ``stub`` (tests/support/stub_target.py, one aiohttp
process) or ``local`` (the embedded demo service, chaos_suite.targets.local). Target and Locust
share the cores: read the ratios, not the absolute figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chaos_suite.load.runner import LoadProcess

STUB_TARGET = Path(__file__).resolve().parents[1] / "tests" / "support" / "stub_target.py"

SATURATING = """
from locust import FastHttpUser, constant, task


class Saturate(FastHttpUser):
    wait_time = constant(0)

    @task
    def hit(self):
        self.client.get({path!r})
"""


@contextlib.contextmanager
def _stub_target() -> Iterator[str]:
    proc = subprocess.Popen(
        # test support, not product code: run from the tests' folder by path
        [sys.executable, str(STUB_TARGET), "--port", "0"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the stub target did not start")
        yield str(json.loads(line)["url"])
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@contextlib.contextmanager
def _local_target(tmp: Path) -> Iterator[str]:
    from chaos_suite.targets.local import managed_target  # only when asked for

    with managed_target(tmp / "target") as info:
        yield str(info.url)


def _run_once(locustfile: Path, url: str, users: int, seconds: float, plugin: bool
              ) -> dict[str, Any]:
    samples: list[dict[str, Any]] = []
    config = {
        "locustfile": str(locustfile), "host": url, "plugin": plugin,
        "shape": {"kind": "steady", "users": users, "duration_s": seconds},
        "max_duration_s": seconds + 30,
    }
    proc = LoadProcess(config, samples.append)
    cpu0 = time.process_time()  # this process: mostly the reader threads of the worker's pipes
    try:
        proc.start()
        summary = proc.wait(seconds + 60)
    finally:
        proc.stop()
    parent_cpu = time.process_time() - cpu0
    requests = int(summary["locust"]["requests"])
    elapsed = float(summary["elapsed_s"]) or 1e-9
    counted = sum(int(s["requests"]) for s in samples) if plugin else None
    cpu_us = 1e6 * float(summary["cpu_s"]) / max(requests, 1)
    return {"plugin": plugin, "requests": requests, "elapsed_s": elapsed,
            "rps": requests / elapsed, "cpu_us_per_request": cpu_us,
            "counted_by_plugin": counted,
            "parent_cpu_s": parent_cpu}


# Run in a fresh process (``--hot-path``): Locust must be the first import there.
_HOT_PATH = """
import locust  # first: gevent monkey-patching, as in the worker
import json, sys, time
from locust.event import Events
from chaos_suite.load.buckets import BucketCounter
from chaos_suite.load.config import SliSpec

class Response:  # like FastResponse: status_code is a property
    def __init__(self):
        self._code = 200
    @property
    def status_code(self):
        return self._code

def fire_loop(fire, n):
    response, context, url = Response(), {}, "http://127.0.0.1:8089/api/products"
    t0 = time.thread_time()
    for i in range(n):
        fire(request_type="GET", name="/api/products", context=context, response=response,
             exception=None, start_time=1.7e9, url=url, response_length=58,
             response_time=1.0 + (i & 63))
    return (time.thread_time() - t0) / n

n, repeats = int(sys.argv[1]), int(sys.argv[2])
plain = Events().request
counted = Events().request
counter = BucketCounter([SliSpec("availability", "availability"),
                         SliSpec("latency", "latency", threshold_ms=250)])
counter.start(time.time())
counted.add_listener(counter.listener(time.time))
without, with_ = [], []
for _ in range(repeats):
    without.append(fire_loop(plain.fire, n))
    with_.append(fire_loop(counted.fire, n))
    counter.pop_ready(time.time() + 10)  # the emitter's share, once in a while
print(json.dumps({"hot_path_us": 1e6 * (min(with_) - min(without)),
                  "fire_us": 1e6 * min(without)}))
"""


def hot_path_us(n: int = 50_000, repeats: int = 7) -> float:
    """Microseconds per request the plugin adds in-process: Locust's ``request`` event fired as
    FastHttpUser fires it, with the plugin's listener (queueing, and the batched counting) and
    without; best of ``repeats`` in thread CPU time, in a separate process."""
    out = subprocess.run([sys.executable, "-c", _HOT_PATH, str(n), str(repeats)],
                         capture_output=True, text=True, check=True)
    return float(json.loads(out.stdout)["hot_path_us"])


# Put on the Locust process's PYTHONPATH by --explain only: times the plugin's functions there.
_EXPLAIN_HOOK = """
import os
_out = os.environ.get("CHAOS_SUITE_EXPLAIN_OUT")
if _out:
    import atexit, importlib.abc, importlib.machinery, json, sys, time

    _pc = time.perf_counter
    _acc = {"listener_s": 0.0, "listener_n": 0, "count_s": 0.0, "count_in_listener_s": 0.0,
            "second_s": 0.0, "write_s": 0.0, "samples": 0, "wakeups": 0}
    _in_listener = [False]

    def _patch(plugin):
        counter_cls = plugin.BucketCounter
        make_listener, drain = counter_cls.listener, counter_cls._drain

        def listener(self, clock):
            inner = make_listener(self, clock)
            def timed(**kw):
                _in_listener[0] = True
                t = _pc()
                inner(**kw)
                _acc["listener_s"] += _pc() - t
                _acc["listener_n"] += 1
                _in_listener[0] = False
            return timed

        def timed_drain(self):
            t = _pc()
            drain(self)
            d = _pc() - t
            _acc["count_s"] += d
            if _in_listener[0]:
                _acc["count_in_listener_s"] += d

        def timed_reader(name):
            original = getattr(counter_cls, name)
            def reader(self, *a, **k):
                t = _pc()
                out = original(self, *a, **k)
                _acc["second_s"] += _pc() - t  # includes its drain, subtracted in the report
                _acc["wakeups"] += name == "pop_ready"
                return out
            setattr(counter_cls, name, reader)

        emit = plugin.SliPlugin._emit
        def timed_emit(self, samples):
            t = _pc()
            emit(self, samples)
            _acc["write_s"] += _pc() - t
            _acc["samples"] += len(samples)

        counter_cls.listener = listener
        counter_cls._drain = timed_drain
        for name in ("pop_ready", "flush", "next_due"):
            timed_reader(name)
        plugin.SliPlugin._emit = timed_emit

    class _Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != "chaos_suite.load.plugin":
                return None
            sys.meta_path.remove(self)
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            if spec is None or spec.loader is None:
                return spec
            exec_module = spec.loader.exec_module
            def exec_and_patch(module):
                exec_module(module)
                _patch(module)
            spec.loader.exec_module = exec_and_patch
            return spec

    sys.meta_path.insert(0, _Finder())
    atexit.register(lambda: open(f"{_out}.{os.getpid()}", "w").write(json.dumps(_acc)))
"""


def _explain_run(locustfile: Path, url: str, users: int, seconds: float, tmp: Path
                 ) -> dict[str, Any]:
    """One run with the plugin, its functions timed inside the Locust process."""
    hook = tmp / "explain-hook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(_EXPLAIN_HOOK)
    out = tmp / "explain-out"
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "CHAOS_SUITE_EXPLAIN_OUT")}
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(hook), saved["PYTHONPATH"]) if p)
    os.environ["CHAOS_SUITE_EXPLAIN_OUT"] = str(out)
    try:
        run = _run_once(locustfile, url, users, seconds, True)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    files = list(tmp.glob("explain-out.*"))
    acc: dict[str, float] = {}
    for f in files:
        for k, v in json.loads(f.read_text()).items():
            acc[k] = acc.get(k, 0) + v
        f.unlink()
    n = max(run["requests"], 1)
    count_outside = acc.get("count_s", 0.0) - acc.get("count_in_listener_s", 0.0)
    return {
        **run,
        "queue_us": 1e6 * (acc.get("listener_s", 0.0) - acc.get("count_in_listener_s", 0.0)) / n,
        "count_us": 1e6 * acc.get("count_s", 0.0) / n,
        "second_us": 1e6 * (acc.get("second_s", 0.0) - count_outside) / n,
        "write_us": 1e6 * acc.get("write_s", 0.0) / n,
        "second_ms_per_s": 1e3 * (acc.get("second_s", 0.0) - count_outside
                                  + acc.get("write_s", 0.0)) / run["elapsed_s"],
        "samples": acc.get("samples", 0), "wakeups": acc.get("wakeups", 0),
    }


def _run_concurrently(locustfile: Path, url: str, users: int, seconds: float,
                      order: tuple[bool, bool]) -> dict[bool, dict[str, Any]]:
    """Both sides at the same time (two Locust processes, one target): whatever else runs on
    the machine then weighs on both alike, which ABBA only evens out over many rounds. Each side
    gets about half the target, so read the CPU ratio; the req/s ratio is a share here."""
    out: dict[bool, dict[str, Any]] = {}
    errors: list[BaseException] = []

    def side(plugin: bool) -> None:
        try:
            out[plugin] = _run_once(locustfile, url, users, seconds, plugin)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=side, args=(plugin,)) for plugin in order]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return out


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _bench(args: argparse.Namespace, url: str, locustfile: Path, tmp: Path) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (with, without) per round
    for rnd in range(args.rounds):
        order = (True, False) if rnd % 2 == 0 else (False, True)
        by_side: dict[bool, dict[str, Any]] = {}
        if args.concurrent:
            by_side = _run_concurrently(locustfile, url, args.users, args.seconds, order)
        for plugin in order:
            run = by_side.get(plugin) or _run_once(locustfile, url, args.users, args.seconds,
                                                   plugin)
            runs.append(run)
            by_side[plugin] = run
            if not args.json:
                tag = "with plugin   " if plugin else "without plugin"
                extra = (f"  (plugin counted {run['counted_by_plugin']})" if plugin else "")
                print(f"round {rnd + 1} {tag}: {run['rps']:9.1f} req/s  "
                      f"{run['cpu_us_per_request']:6.1f} us CPU/request  "
                      f"{run['requests']} requests in {run['elapsed_s']:.2f}s{extra}",
                      flush=True)
        pairs.append((by_side[True], by_side[False]))

    def mean(key: str, plugin: bool) -> float:
        return statistics.mean(float(r[key]) for r in runs if r["plugin"] is plugin)

    rps_ratios = [w["rps"] / wo["rps"] for w, wo in pairs]
    cpu_ratios = [wo["cpu_us_per_request"] / w["cpu_us_per_request"] for w, wo in pairs]
    cpu_diffs = [w["cpu_us_per_request"] - wo["cpu_us_per_request"] for w, wo in pairs]
    result: dict[str, Any] = {
        "url": url, "users": args.users, "seconds": args.seconds, "rounds": args.rounds,
        "concurrent": args.concurrent,
        "runs": runs,
        "rps_with_plugin": mean("rps", True), "rps_without_plugin": mean("rps", False),
        # ratios of the means (as before), and per round: median and spread
        "ratio": mean("rps", True) / mean("rps", False),
        "cpu_us_with_plugin": mean("cpu_us_per_request", True),
        "cpu_us_without_plugin": mean("cpu_us_per_request", False),
        # requests one CPU second of the Locust process buys, with / without: the capacity
        # ratio, far less sensitive than req/s to other processes sharing the cores
        "cpu_ratio": mean("cpu_us_per_request", False) / mean("cpu_us_per_request", True),
        "rps_ratio_rounds": _spread(rps_ratios),
        "cpu_ratio_rounds": _spread(cpu_ratios),
        "cpu_us_added_rounds": _spread(cpu_diffs),
        "parent_cpu_us_with_plugin": 1e6 * sum(r["parent_cpu_s"] for r in runs if r["plugin"])
        / max(sum(r["requests"] for r in runs if r["plugin"]), 1),
        "parent_cpu_us_without_plugin": 1e6 * sum(r["parent_cpu_s"] for r in runs
                                                  if not r["plugin"])
        / max(sum(r["requests"] for r in runs if not r["plugin"]), 1),
        "hot_path_us": hot_path_us(),
    }
    if args.explain:
        explained = [_explain_run(locustfile, url, args.users, args.seconds, tmp)
                     for _ in range(args.explain_runs)]
        keys = ("queue_us", "count_us", "second_us", "write_us", "second_ms_per_s")
        result["explain"] = {k: statistics.median(float(e[k]) for e in explained)
                             for k in keys}
        result["explain"]["runs"] = explained
    return result


def _print(result: dict[str, Any]) -> None:
    def spread(key: str, fmt: str = ".3f") -> str:
        d = result[key]
        return (f"median {d['median']:{fmt}} (rounds {d['min']:{fmt}} .. {d['max']:{fmt}})")

    base = result["cpu_us_without_plugin"]
    hot = result["hot_path_us"]
    how = ("both sides at once (req/s: each side's share of one target)"
           if result["concurrent"] else "ABBA")
    print(f"rounds: {result['rounds']} x {result['seconds']:g} s each side, "
          f"{result['users']} users, {how}")
    print(f"mean req/s:          {result['rps_with_plugin']:9.1f} with, "
          f"{result['rps_without_plugin']:9.1f} without")
    print(f"CPU per request:     {result['cpu_us_with_plugin']:.1f} us with, "
          f"{base:.1f} us without; added per round {spread('cpu_us_added_rounds', '.1f')} us")
    print("ratio with/without   req/s                                   "
          "requests per CPU second")
    print(f"  of the means       {result['ratio']:.3f}"
          f"{'':34}{result['cpu_ratio']:.3f}")
    print(f"  per round          {spread('rps_ratio_rounds'):40}{spread('cpu_ratio_rounds')}")
    print(f"hot path in-process: {hot:.2f} us/request (Locust's request event with the "
          f"listener, batched counting included), i.e. ratio ~{base / (base + hot):.3f} at "
          f"{base:.0f} us/request")
    print(f"parent (pipe readers) CPU: {result['parent_cpu_us_with_plugin']:.2f} us/request "
          f"with, {result['parent_cpu_us_without_plugin']:.2f} without (not in the Locust "
          "process's CPU; shares the cores)")
    ex = result.get("explain")
    if ex:
        inside = ex["queue_us"] + ex["count_us"] + ex["second_us"] + ex["write_us"]
        added = result["cpu_us_added_rounds"]["median"]
        print(f"explain (median of {len(ex['runs'])} timed runs, us per request inside the "
              "Locust process):")
        print(f"  listener, queueing:               {ex['queue_us']:.2f}")
        print(f"  counting the queue (batched):     {ex['count_us']:.2f}")
        print(f"  per-second samples (build):       {ex['second_us']:.2f}")
        print(f"  per-second write (JSON, pipe):    {ex['write_us']:.2f}  "
              f"(all per-second work: {ex['second_ms_per_s']:.2f} ms a second)")
        print(f"  sum {inside:.2f} (timers add some) vs measured {added:.2f} us/request added; "
              f"the rest, {added - inside:.2f}, is the event dispatch to one more listener "
              "and Locust's own code running with colder caches, or noise")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--url", help="an existing target; otherwise one is started")
    parser.add_argument("--target", choices=("stub", "local"), default="stub")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=2, help="pairs of runs (>= 2)")
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--locustfile", type=Path, help="default: a saturating GET of --path")
    parser.add_argument("--path", default="/api/products")
    parser.add_argument("--min-ratio", type=float, default=None,
                        help="exit 1 when with/without is below this")
    parser.add_argument("--concurrent", action="store_true",
                        help="run both sides of a round at the same time (steadier CPU ratio "
                        "on a shared machine)")
    parser.add_argument("--explain", action="store_true",
                        help="also time the plugin's parts inside the Locust process")
    parser.add_argument("--explain-runs", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    args = parser.parse_args(argv)
    args.rounds = max(args.rounds, 2)

    with tempfile.TemporaryDirectory(prefix="load-overhead-") as tmpdir:
        tmp = Path(tmpdir)
        locustfile = args.locustfile
        if locustfile is None:
            locustfile = tmp / "saturate.py"
            locustfile.write_text(SATURATING.format(path=args.path))
        with contextlib.ExitStack() as stack:
            url = args.url
            if url is None:
                target = _local_target(tmp) if args.target == "local" else _stub_target()
                url = stack.enter_context(target)
            result = _bench(args, url, locustfile.resolve(), tmp)
    if args.json:
        print(json.dumps(result))
    else:
        _print(result)
    if args.min_ratio is not None and result["ratio"] < args.min_ratio:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
