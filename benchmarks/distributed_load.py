"""Requests per second the embedded target serves with one Locust process and with a master
and 2 workers, side by side in one run (same target settings, same users, same length).

    python benchmarks/distributed_load.py [--seconds 10] [--users 40]

On one 2-core machine the workers share the cores with the target, so this shows the cost of
the master/worker plumbing and the exactness of the merge rather than added capacity."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _gameday import errors_experiment, run_gameday


def served_per_second(run_dir: Path) -> tuple[float, int]:
    """Mean requests/s over the baseline's full seconds (client-side, merged at the master)."""
    seconds = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    totals = [s["slis"]["availability"]["total"] for s in seconds]
    steady = totals[2:-1] if len(totals) > 4 else totals  # leave out ramp-up and stop
    return sum(steady) / max(1, len(steady)), sum(totals)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--users", type=int, default=300)
    args = parser.parse_args()
    rows = []
    for workers in (0, 2):
        code, run_dir = run_gameday([("zero", errors_experiment(0.0, 1))], users=args.users,
                                    baseline=f"{args.seconds}s", cooldown="1s", workers=workers)
        rate, total = served_per_second(run_dir)
        rows.append((workers, code, rate, total))
    print(f"{'load':<22} {'exit':>4} {'req/s':>8} {'requests':>9}")
    for workers, code, rate, total in rows:
        label = "1 process" if workers == 0 else f"master + {workers} workers"
        print(f"{label:<22} {code:>4} {rate:>8.0f} {total:>9}")
    print(f"ratio 2 workers / 1 process: {rows[1][2] / rows[0][2]:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
