"""`chaos-suite review` over many run directories: wall time and peak memory (the process's
max RSS, from wait4) of the whole command, interpreter start and all three formats included.

    python benchmarks/review.py [--runs 1000,10000] [--services 10] [--keep DIR]

One realistic run directory is recorded and analysed once (the demo gameday's shape: two SLOs,
three scenarios, a 20 KB report.json with its timeline), then cloned with new run ids, start
times, services and verdicts, spread over the reviewed month and the month before, so that
every clone is read (the worst case: a year of nightly runs costs less, since runs before the
previous month are never opened). Every tenth run has action items. Files are in the page
cache (just written): the figures are the review's own cost, not the disk's.

Targets on a 2-core machine: 1,000 runs ≤ 2 s, 10,000 runs ≤ 20 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from chaos_suite.record import (
    ErrorsFault,
    FaultCleared,
    FaultInjected,
    FaultsCleared,
    PhaseEnded,
    PhaseStarted,
    RunEnded,
    RunPlan,
    RunRecordWriter,
    RunStarted,
    Sample,
    SLICounts,
)
from chaos_suite.record.writer import run_id_for
from chaos_suite.report import render_run

MONTH = "2026-11"
START = datetime(2026, 10, 1, tzinfo=UTC).timestamp()  # the month before the reviewed one
SPAN_S = 61 * 86_400  # October and November
VERDICTS = ("as-expected", "as-expected", "as-expected", "worse-than-expected",
            "better-than-expected", "inconclusive")
TARGETS = {1_000: 2.0, 10_000: 20.0}
SCENARIOS = ("kill-replica", "errors-5pct", "latency-300ms")


def template(folder: Path) -> Path:
    """One run recorded through the run record's writer and analysed into report.json."""
    t0 = int(START)
    plan = RunPlan.model_validate({
        "run_id": run_id_for("demo", t0), "gameday": "demo", "service": "checkout",
        "environment": "local",
        "slos": [{"name": "availability", "objective": 0.999, "window_seconds": 2_592_000,
                  "sli": {"kind": "availability"}},
                 {"name": "latency", "objective": 0.99, "window_seconds": 2_592_000,
                  "sli": {"kind": "latency", "threshold_ms": 250}}],
        "baseline_seconds": 10, "cooldown_seconds": 5, "min_events": 100,
        "scenarios": [{"name": name, "experiment": f"experiments/{name}.yaml",
                       "expectations": {"availability": {"max_budget_consumed": 0.001},
                                        "latency": {"max_budget_consumed": 0.002}}}
                      for name in SCENARIOS]})
    run_dir = folder / "template"
    writer = RunRecordWriter(run_dir)
    try:
        writer.plan(plan)
        writer.event(RunStarted(t=t0, run_id=plan.run_id, gameday="demo"))
        writer.event(PhaseStarted(t=t0, phase="baseline"))
        writer.event(PhaseEnded(t=t0 + 10, phase="baseline"))
        t = t0 + 10
        bad: dict[int, int] = {}
        for name in SCENARIOS:
            writer.event(PhaseStarted(t=t, phase="scenario", scenario=name))
            writer.event(FaultInjected(t=t + 2, fault="inject_errors", scenario=name,
                                       detail=ErrorsFault(error_ratio=0.05)))
            writer.event(FaultCleared(t=t + 22, fault="clear_faults", scenario=name,
                                      detail=FaultsCleared(was_active=True)))
            bad.update({second: 50 for second in range(t + 2, t + 22)})
            writer.event(PhaseEnded(t=t + 24, phase="scenario", scenario=name,
                                    status="completed", deviated=False,
                                    steady_state_met_before=True))
            writer.event(PhaseStarted(t=t + 24, phase="cooldown", scenario=name))
            writer.event(PhaseEnded(t=t + 29, phase="cooldown", scenario=name))
            t += 29
        for second in range(t0, t):
            good = 1000 - bad.get(second, 0)
            writer.sample(Sample(t=second, slis={"availability": SLICounts(good=good, total=1000),
                                                 "latency": SLICounts(good=990, total=1000)}))
        writer.event(RunEnded(t=t, status="completed", exit_code=0))
    finally:
        writer.close()
    render_run(run_dir, ("json",))
    return run_dir


def clone_all(source: Path, root: Path, count: int, services: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    plan = json.loads((source / "plan.json").read_text())
    report = json.loads((source / "report.json").read_text())
    for index in range(count):
        t0 = START + SPAN_S * index / count + rng.random() * 60
        service = f"service-{index % services:02d}"
        run_id = f"{run_id_for('demo', t0)}-{index:05d}"
        run_dir = root / service / run_id
        run_dir.mkdir(parents=True)
        plan.update(run_id=run_id, service=service)
        (run_dir / "plan.json").write_text(json.dumps(plan, indent=2))
        report["run"].update(id=run_id, service=service,
                             started=datetime.fromtimestamp(t0, UTC).isoformat()
                             .replace("+00:00", "Z"))
        for scenario in report["scenarios"]:
            for row in scenario["slos"]:
                row["verdict"] = rng.choice(VERDICTS)
                row["observed"]["budget_consumed_attributed"] = rng.uniform(0, 0.002)
        (run_dir / "report.json").write_text(json.dumps(report, indent=2))
        if index % 10 == 0:
            lines = [json.dumps({"id": f"a{index}", "text": "follow up", "owner": "team",
                                 "due": "2026-11-20", "link": None, "done": index % 20 == 0})]
            (run_dir / "action_items.jsonl").write_text("\n".join(lines) + "\n")


def review(root: Path, out: Path) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MiB, first line of output) of one `chaos-suite review`."""
    exe = shutil.which("chaos-suite")
    cmd = [exe] if exe else [sys.executable, "-m", "chaos_suite.cli"]
    cmd += ["review", str(root), "--month", MONTH, "--out", str(out), "--offline"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout = proc.stdout.read().decode() if proc.stdout else ""
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"review failed ({proc.returncode}): {stderr}")
    return elapsed, usage.ru_maxrss / 1024, stdout.splitlines()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", default="1000,10000")
    parser.add_argument("--services", type=int, default=10)
    parser.add_argument("--keep", type=Path, default=None, help="build the runs here, keep them")
    args = parser.parse_args()
    counts = [int(n) for n in args.runs.split(",")]
    base = args.keep or Path(tempfile.mkdtemp(prefix="chaos-suite-review-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    try:
        source = template(base)
        size = (source / "report.json").stat().st_size
        print(f"template run: report.json {size / 1024:.1f} KiB, plan.json "
              f"{(source / 'plan.json').stat().st_size / 1024:.1f} KiB; {args.services} services")
        for count in counts:
            root = base / f"runs-{count}"
            shutil.rmtree(root, ignore_errors=True)
            clone_all(source, root, count, args.services)
            review(root, base / f"warm-{count}")  # once to warm the page cache and imports
            elapsed, peak, line = review(root, base / f"review-{count}")
            target = TARGETS.get(count)
            verdict = "" if target is None else \
                f"  target <= {target:g} s -> {'met' if elapsed <= target else 'NOT met'}"
            print(f"{count:>6} runs  {elapsed:6.2f} s  ({elapsed / count * 1000:.2f} ms/run)  "
                  f"peak RSS {peak:6.1f} MiB{verdict}")
            print(f"        {line}")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
