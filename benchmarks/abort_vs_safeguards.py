"""Abort latency side by side: chaos_suite's safeguard (the plan's `abort:` rule) against the
chaostoolkit-addons safeguards control (chaosaddons.controls.safeguards) probing the same SLI
with the same rule, same fault (50% errors), runs alternated A B A B ... in one invocation.

    .venv/bin/pip install -e '.[bench]'   # chaostoolkit-addons
    .venv/bin/python benchmarks/abort_vs_safeguards.py [--runs 6] [--frequency 0.1]
        [--a-interval 1]

A  plan `abort: {burn_rate: 100, long_window: 6s, short_window: 2s}`: chaos_suite's safeguard
   evaluates Locust's per-second samples every plan `safeguard_interval` (1 s, the default;
   --a-interval).
B  no `abort:` in the plan; the experiment carries the addons control with one `frequency`
   probe (benchmarks/_sli_probe.py) judging the same rule over the target's server-side
   per-second counters. The addons accept any positive frequency (0 means "run once"); each
   cycle runs the probe, waits `frequency`, then acts on that probe's result.

Both sides are measured from the same reference: the end of the first second at which the rule
holds in the run's recorded per-second SLI (samples.jsonl; the server's counters,
server_counters.json, are printed as a cross-check), to chaos_suite's `rollbacks_started`
event (written by its experiment control for any interruption). A B run counts only if the
addons safeguard stopped it (its log line, journal status `interrupted`, no chaos_suite abort
event but its after-the-fact "experiment interrupted") and the rollbacks cleared the fault.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from _gameday import ROOT, errors_experiment, events, run_gameday
from _sli_probe import LOG_ENV, judge

BURN_RATE = 100.0
LONG_S, SHORT_S = 6, 2
RULE = {"burn_rate": BURN_RATE, "long_window": f"{LONG_S}s", "short_window": f"{SHORT_S}s"}
PROBE_NAME = "sli-burn-rate"
BENCH_DIR = Path(__file__).resolve().parent


def objective() -> float:
    slos = yaml.safe_load((ROOT / "gamedays/slos/checkout.yaml").read_text())["slos"]
    text = str(next(s for s in slos if s["name"] == "availability")["objective"])
    return float(text.rstrip("%")) / 100 if text.endswith("%") else float(text)


def safeguarded(experiment: dict[str, Any], frequency: float, objective: float) -> dict[str, Any]:
    """The experiment with the addons safeguards control probing the rule every `frequency` s."""
    probe = {"type": "probe", "name": PROBE_NAME, "frequency": frequency, "tolerance": True,
             "provider": {"type": "python", "module": "_sli_probe", "func": "burn_rate_ok",
                          "arguments": {"objective": objective, "burn_rate": BURN_RATE,
                                        "long_window_s": LONG_S, "short_window_s": SHORT_S}}}
    control = {"name": "safeguard",
               "provider": {"type": "python", "module": "chaosaddons.controls.safeguards",
                            "arguments": {"probes": [probe]}}}
    return {**experiment, "controls": [control]}


def first_crossing(rows: dict[int, tuple[int, int]], from_second: int, objective: float
                   ) -> int | None:
    """The first second >= from_second at which the rule holds over `rows`."""
    for second in sorted(s for s in rows if s >= from_second):
        if judge(rows, second, objective=objective, burn_rate=BURN_RATE,
                 long_window_s=LONG_S, short_window_s=SHORT_S)[2]:
            return second
    return None


def sample_rows(run_dir: Path) -> dict[int, tuple[int, int]]:
    rows: dict[int, tuple[int, int]] = {}
    for line in (run_dir / "samples.jsonl").read_text().splitlines():
        sample = json.loads(line)
        counts = sample.get("slis", {}).get("availability")
        if counts:
            rows[int(sample["t"])] = (int(counts["good"]), int(counts["total"]))
    return rows


def server_rows(run_dir: Path) -> dict[int, tuple[int, int]]:
    return {int(r["t"]): (int(r["total"]) - int(r["errors"]), int(r["total"]))
            for r in json.loads((run_dir / "server_counters.json").read_text())}


@dataclass
class Run:
    side: str
    code: int
    latency: float  # end of the crossing second (samples.jsonl) -> rollbacks_started
    latency_server: float  # the same from server_counters.json
    detected: float  # end of the crossing second -> the mechanism saw it (abort / probe log)
    arrived: float | None  # A: end of the crossing second -> its Locust sample reached the runner
    crossing: int
    run_dir: Path


def measure(side: str, code: int, run_dir: Path, objective: float, probe_log: Path | None
            ) -> Run:
    record = events(run_dir)
    injected = next(e for e in record if e["type"] == "fault_injected")
    rollbacks = next(e for e in record if e["type"] == "rollbacks_started")
    cleared = [e for e in record if e["type"] == "fault_cleared" and e["t"] >= rollbacks["t"]]
    if not cleared:
        raise SystemExit(f"{side}: the rollbacks did not clear the fault ({run_dir})")
    aborts = [e for e in record if e["type"] == "abort"]
    journal = json.loads(next((run_dir / "journals").iterdir()).read_text())
    if journal.get("status") != "interrupted":
        raise SystemExit(f"{side}: journal status {journal.get('status')!r} ({run_dir})")
    start = int(injected["t"])
    crossing = first_crossing(sample_rows(run_dir), start, objective)
    crossing_server = first_crossing(server_rows(run_dir), start, objective)
    if crossing is None or crossing_server is None:
        raise SystemExit(f"{side}: no crossing in the recorded SLI ({run_dir})")
    if side == "A":
        if not aborts or aborts[0]["reason"] != "safeguard":
            raise SystemExit(f"A: not stopped by chaos_suite's safeguard ({run_dir})")
        seen = float(aborts[0]["t"])
        sample = aborts[0]["detail"]["sample"]
        if sample["t"] != crossing:
            print(f"  (A: the safeguard tripped on second {sample['t']}, the recorded samples "
                  f"cross at {crossing})")
        arrived = None if sample.get("arrived") is None else sample["arrived"] - (crossing + 1)
    else:
        log = (run_dir / "chaostoolkit.log").read_text()
        # chaos_suite records the interruption after the fact ("experiment interrupted")
        ours = [e for e in aborts if e["reason"] != "experiment interrupted"]
        if ours or f"Safeguard '{PROBE_NAME}' triggered the end of the experiment" not in log:
            raise SystemExit(f"B: not stopped by the addons safeguard ({run_dir})")
        assert probe_log is not None
        lines = [json.loads(x) for x in probe_log.read_text().splitlines()]
        seen = next(float(x["t"]) for x in lines if x["fires"])
        arrived = None
    t = float(rollbacks["t"])
    return Run(side, code, t - (crossing + 1), t - (crossing_server + 1), seen - (crossing + 1),
               arrived, crossing, run_dir)


def stats(values: list[float]) -> str:
    return (f"median {statistics.median(values):.3f} s (min {min(values):.3f}, "
            f"max {max(values):.3f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=6, help="runs per side (alternated)")
    parser.add_argument("--frequency", type=float, default=0.1,
                        help="the addons probe's frequency, seconds (default 0.1: the target's "
                             "counter flush period; the addons accept any positive value)")
    parser.add_argument("--a-interval", type=float, default=1.0,
                        help="A's plan safeguard_interval, seconds (default 1, chaos_suite's "
                             "default; its samples change once a second)")
    parser.add_argument("--keep", action="store_true", help="keep the run directories")
    args = parser.parse_args()
    if args.frequency <= 0 or args.a_interval <= 0:
        parser.error("--frequency and --a-interval must be positive (the addons treat a "
                     "frequency of 0 as 'run once')")
    try:
        import chaosaddons.controls.safeguards  # noqa: F401
    except ImportError:
        raise SystemExit("needs chaostoolkit-addons: pip install -e '.[bench]'") from None
    obj = objective()
    print(f"rule: burn rate > {BURN_RATE:g} over {LONG_S} s and {SHORT_S} s "
          f"(error ratio > {BURN_RATE * (1 - obj):.3f}), fault: 50% errors; "
          f"A evaluates every {args.a_interval:g} s, B probes every {args.frequency:g} s")
    base = Path(tempfile.mkdtemp(prefix="cs-abort-vs-"))
    runs: list[Run] = []
    try:
        for i in range(2 * args.runs):
            side = "AB"[i % 2]
            folder = base / f"{i:02d}-{side}"
            experiment = errors_experiment(0.5, 40)
            probe_log = None
            extra: dict[str, str] = {}
            if side == "B":
                experiment = safeguarded(experiment, args.frequency, obj)
                probe_log = folder / "probe.jsonl"
                path = os.pathsep.join(p for p in (str(BENCH_DIR), os.environ.get("PYTHONPATH"))
                                       if p)
                extra = {"PYTHONPATH": path, LOG_ENV: str(probe_log)}
            folder.mkdir(parents=True)
            code, run_dir = run_gameday(
                [("errors-50pct", experiment)], baseline="3s", cooldown="1s",
                abort=RULE if side == "A" else None, workdir=folder, extra_env=extra,
                plan_extra={"safeguard_interval": args.a_interval} if side == "A" else None)
            run = measure(side, code, run_dir, obj, probe_log)
            runs.append(run)
            came = "" if run.arrived is None else f"sample arrived +{run.arrived:.3f} s, "
            print(f"run {i + 1:2d} {side}: exit {code}, crossing second {run.crossing}, {came}"
                  f"seen +{run.detected:.3f} s, rollbacks start +{run.latency:.3f} s "
                  f"(server-counter reference +{run.latency_server:.3f} s)", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    a = [r for r in runs if r.side == "A"]
    b = [r for r in runs if r.side == "B"]
    print(f"\nend of the crossing second -> rollbacks start, {args.runs} runs per side:")
    print(f"A chaos_suite safeguard ({args.a_interval:g} s interval, Locust samples): "
          f"{stats([r.latency for r in a])}; exit codes {[r.code for r in a]}")
    print(f"B addons safeguards (frequency {args.frequency:g} s, server counters): "
          f"{stats([r.latency for r in b])}; exit codes {[r.code for r in b]}")
    print(f"  crossing seen: A {stats([r.detected for r in a])}; B {stats([r.detected for r in b])}")
    delays = [r.arrived for r in a if r.arrived is not None]
    if delays:
        print(f"  A's crossing sample reached the runner: {stats(delays)}")
    print(f"  server-counter reference: A {stats([r.latency_server for r in a])}; "
          f"B {stats([r.latency_server for r in b])}")
    med_a = statistics.median(r.latency for r in a)
    med_b = statistics.median(r.latency for r in b)
    if med_b > 0:
        print(f"ratio of medians A/B: {med_a / med_b:.2f}")


if __name__ == "__main__":
    main()
