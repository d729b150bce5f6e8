"""Cost of chaos_suite's Locust plugin: the same locustfile with and without it, side by side.

    /work/venv/bin/python benchmarks/load_overhead.py [--url URL] [--target stub|local]
        [--seconds 5] [--rounds 2] [--users 8] [--locustfile PATH] [--path /api/products]
        [--min-ratio 0.95] [--json]

Each round runs the load once with the plugin (per-second SLI buckets) and once without
(``"plugin": false``: Locust's own stats only), alternating the order between rounds (ABBA) so
drift on a shared machine hits both sides alike. Throughput is Locust's own request count over
the test's elapsed time, the same measure for both; and, less sensitive to other load on the
machine, the Locust process's CPU time per request. The default locustfile saturates the client
(no wait time) because a paced one would hide any overhead.

Without ``--url`` a target is started here: ``stub`` (tests/support/stub_target.py, one aiohttp
process) or ``local`` (the embedded demo service, chaos_suite.targets.local). Target and Locust
share the cores: read the ratio, not the absolute figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chaos_suite.load.buckets import BucketCounter
from chaos_suite.load.config import SliSpec
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
    try:
        proc.start()
        summary = proc.wait(seconds + 60)
    finally:
        proc.stop()
    requests = int(summary["locust"]["requests"])
    elapsed = float(summary["elapsed_s"]) or 1e-9
    counted = sum(int(s["requests"]) for s in samples) if plugin else None
    cpu_us = 1e6 * float(summary["cpu_s"]) / max(requests, 1)
    return {"plugin": plugin, "requests": requests, "elapsed_s": elapsed,
            "rps": requests / elapsed, "cpu_us_per_request": cpu_us, "counted_by_plugin": counted}


def hot_path_us(n: int = 200_000) -> float:
    """Microseconds per request the plugin adds, measured in-process on the counting path
    (what the plugin's request listener does), with two SLIs as in a typical plan."""
    counter = BucketCounter([SliSpec("availability", "availability"),
                             SliSpec("latency", "latency", threshold_ms=250)])
    now = time.time()
    counter.start(now)
    t0 = time.perf_counter()
    for i in range(n):
        counter.record(now, "GET /api/products", 1.0 + (i & 63), 200 if i & 15 else 503, False)
    return 1e6 * (time.perf_counter() - t0) / n


def _bench(args: argparse.Namespace, url: str, locustfile: Path) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    for rnd in range(args.rounds):
        order = (True, False) if rnd % 2 == 0 else (False, True)
        for plugin in order:
            run = _run_once(locustfile, url, args.users, args.seconds, plugin)
            runs.append(run)
            if not args.json:
                tag = "with plugin   " if plugin else "without plugin"
                extra = (f"  (plugin counted {run['counted_by_plugin']})" if plugin else "")
                print(f"round {rnd + 1} {tag}: {run['rps']:9.1f} req/s  "
                      f"{run['cpu_us_per_request']:6.1f} us CPU/request  "
                      f"{run['requests']} requests in {run['elapsed_s']:.2f}s{extra}",
                      flush=True)

    def mean(key: str, plugin: bool) -> float:
        return statistics.mean(float(r[key]) for r in runs if r["plugin"] is plugin)

    return {
        "url": url, "users": args.users, "seconds": args.seconds, "runs": runs,
        "rps_with_plugin": mean("rps", True), "rps_without_plugin": mean("rps", False),
        "ratio": mean("rps", True) / mean("rps", False),
        "cpu_us_with_plugin": mean("cpu_us_per_request", True),
        "cpu_us_without_plugin": mean("cpu_us_per_request", False),
        # requests one CPU second of the Locust process buys, with / without: the capacity
        # ratio, far less sensitive than req/s to other processes sharing the cores
        "cpu_ratio": mean("cpu_us_per_request", False) / mean("cpu_us_per_request", True),
        "hot_path_us": hot_path_us(),
    }


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
            result = _bench(args, url, locustfile.resolve())
    if args.json:
        print(json.dumps(result))
    else:
        print(f"mean with plugin:    {result['rps_with_plugin']:9.1f} req/s")
        print(f"mean without plugin: {result['rps_without_plugin']:9.1f} req/s")
        print(f"ratio with/without:  {result['ratio']:.3f} (req/s)")
        print(f"CPU per request:     {result['cpu_us_with_plugin']:.1f} us with, "
              f"{result['cpu_us_without_plugin']:.1f} us without")
        print(f"capacity ratio:      {result['cpu_ratio']:.3f} (requests per CPU second)")
        base = result["cpu_us_without_plugin"]
        print(f"plugin hot path:     {result['hot_path_us']:.2f} us/request in-process, i.e. "
              f"ratio ~{base / (base + result['hot_path_us']):.3f} at {base:.0f} us/request")
    if args.min_ratio is not None and result["ratio"] < args.min_ratio:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
