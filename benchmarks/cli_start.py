"""Median start-up time of `chaos-suite --help` next to `python -c pass`, measured side by side.

    python benchmarks/cli_start.py [--rounds 15]

Target: chaos-suite --help ≤ 0.3 s on a 2-core machine (the ratio shows the cost over bare Python).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    exe = shutil.which("chaos-suite")
    cli = [exe, "--help"] if exe else [sys.executable, "-m", "chaos_suite.cli", "--help"]
    bare = [sys.executable, "-c", "pass"]
    timed(cli), timed(bare)  # warm the page cache
    cli_times, bare_times = [], []
    for _ in range(args.rounds):  # interleaved so both see the same machine noise
        cli_times.append(timed(cli))
        bare_times.append(timed(bare))
    c, b = statistics.median(cli_times), statistics.median(bare_times)
    print(f"chaos-suite --help  median {c * 1000:7.1f} ms  ({args.rounds} rounds)")
    print(f"python -c pass      median {b * 1000:7.1f} ms")
    print(f"ratio               {c / b:7.2f}x   target: chaos-suite --help <= 300 ms "
          f"-> {'met' if c <= 0.3 else 'NOT met'}")


if __name__ == "__main__":
    main()
