"""Abort latency: time from the sample that crossed the abort rule to the start of the
rollbacks, median over repeated real runs (50% errors against a burn-rate rule of 100).

    python benchmarks/abort_latency.py [--runs 5]

Two clocks are printed: from the crossing sample's arrival at the runner, and from the end of
the second the sample describes (which adds Locust's ≈1 s bucket emission delay).
Target: median ≤ 2 s at 1 s sampling.
"""

from __future__ import annotations

import argparse
import statistics

from _gameday import errors_experiment, events, run_gameday


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from_arrival, from_second_end, codes = [], [], []
    for _ in range(args.runs):
        code, run_dir = run_gameday(
            [("errors-50pct", errors_experiment(0.5, 40))], baseline="3s", cooldown="1s",
            abort={"burn_rate": 100, "long_window": "6s", "short_window": "2s"})
        codes.append(code)
        record = events(run_dir)
        abort = next(e for e in record if e["type"] == "abort")
        rollback = next(e for e in record if e["type"] == "rollbacks_started")
        sample = abort["detail"]["sample"]
        from_arrival.append(rollback["t"] - sample["arrived"])
        from_second_end.append(rollback["t"] - (sample["t"] + 1))
    print(f"runs: {args.runs}, exit codes {codes} (3 = aborted)")
    print(f"crossing sample arrival -> rollbacks start: median {statistics.median(from_arrival):.3f} s "
          f"(min {min(from_arrival):.3f}, max {max(from_arrival):.3f})")
    print(f"end of crossing second  -> rollbacks start: median "
          f"{statistics.median(from_second_end):.3f} s (min {min(from_second_end):.3f}, "
          f"max {max(from_second_end):.3f})")
    med = statistics.median(from_arrival)
    print(f"target: median <= 2 s -> {'met' if med <= 2 else 'NOT met'}")


if __name__ == "__main__":
    main()
