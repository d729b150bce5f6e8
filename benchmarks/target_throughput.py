"""Throughput of the local target under Locust FastHttpUser, server vs client counts.

    /work/venv/bin/python benchmarks/target_throughput.py [--seconds 8] [--users 20] [--replicas 2]

Starts a target in a temp dir, runs ``locust --headless`` (its own process: gevent stays there)
against GET /api/products, then prints requests/s as Locust saw them and as the server counted
them. The target and Locust share the cores, so read the figures as a ratio, not an absolute.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from chaos_suite.targets.local import LocalTargetClient, managed_target

LOCUSTFILE = """
from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser


class Shopper(FastHttpUser):
    wait_time = constant(0)

    @task
    def products(self):
        self.client.get("/api/products")
"""


def cpu_seconds(pids: tuple[int, ...]) -> float:
    """utime + stime of the replicas, from /proc (Linux)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--processes", type=int, default=1, help="Locust processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, \
            managed_target(Path(tmp) / "target", replicas=args.replicas) as info:
        locustfile = Path(tmp) / "locustfile.py"
        locustfile.write_text(LOCUSTFILE)
        started = time.time()
        cpu_before = cpu_seconds(info.replica_pids)
        cmd = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
               "-u", str(args.users), "-r", str(args.users), "-t", f"{args.seconds}s",
               "-H", info.url, "--only-summary", "--json", "--loglevel", "ERROR"]
        if args.processes > 1:
            cmd += ["--processes", str(args.processes)]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.seconds + 60)
        ended = time.time()
        cpu_used = cpu_seconds(info.replica_pids) - cpu_before
        stats = json.loads(out.stdout or "[]")
        client_total = sum(int(s["num_requests"]) for s in stats)
        client_failures = sum(int(s["num_failures"]) for s in stats)
        time.sleep(0.3)  # one flush interval and then some
        with LocalTargetClient(info.admin_url) as client:
            rows = client.counters(since=started, until=ended + 1)
        server_total = sum(r["total"] for r in rows)
        busy = [r["total"] for r in rows]
        peak = max(busy) if busy else 0
        print(f"replicas={args.replicas} users={args.users} seconds={args.seconds}")
        print(f"client: {client_total} requests, {client_failures} failures, "
              f"{client_total / args.seconds:.0f} req/s")
        print(f"server: {server_total} requests counted, peak second {peak} req/s, "
              f"{cpu_used / max(server_total, 1) * 1e6:.0f} µs replica CPU per request "
              f"(≈{max(server_total, 1) / max(cpu_used, 1e-9):.0f} req/s per busy core)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
