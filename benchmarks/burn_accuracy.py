"""Burn accuracy: the attributed budget consumption chaos_suite measures client-side (Locust
plugin) against the embedded target's own server-side counters, for injected error ratios of
1%, 5% and 20%, in one gameday (same machine, same minute, side by side).

    python benchmarks/burn_accuracy.py [--seconds 15] [--users 20]

Also prints the figure the arithmetic predicts for the nominal ratio (ratio/B · Δt/P), which
differs from both by the randomness of which requests fail and by the fault window's length.
"""

from __future__ import annotations

import argparse

from _gameday import errors_experiment, run_gameday

from chaos_suite.report.truth import compare_with_server

WINDOW_S = 30 * 86400
BUDGET = 0.001


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--users", type=int, default=20)
    args = parser.parse_args()
    ratios = [0.01, 0.05, 0.20]
    code, run_dir = run_gameday(
        [(f"errors-{round(r * 100)}pct", errors_experiment(r, args.seconds)) for r in ratios],
        users=args.users)
    rows = {r["scenario"]: r for r in compare_with_server(run_dir)}
    print(f"run: {run_dir} (exit {code})")
    print(f"{'injected':>8}  {'client (attributed)':>20}  {'server truth':>14}  "
          f"{'client/server':>13}  {'nominal':>10}  events client/server")
    worst = 0.0
    for ratio in ratios:
        row = rows[f"errors-{round(ratio * 100)}pct"]
        client, server = row["client_attributed"], row["server_attributed"]
        nominal = ratio / BUDGET * args.seconds / WINDOW_S
        quotient = client / server if server else float("nan")
        worst = max(worst, abs(quotient - 1))
        print(f"{ratio:>8.0%}  {client * 100:>19.5f}%  {server * 100:>13.5f}%  "
              f"{quotient:>13.4f}  {nominal * 100:>9.5f}%  "
              f"{(row['client_counts'] or {}).get('total')}/{row['server_counts']['total']}")
    print(f"worst |client/server - 1| = {worst:.4%}  (target < 1%: "
          f"{'met' if worst < 0.01 else 'NOT met'})")


if __name__ == "__main__":
    main()
