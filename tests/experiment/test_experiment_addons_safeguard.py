"""An experiment that carries chaostoolkit-addons' safeguards control runs under a gameday, and
the control's interruption (chaoslib.exit.exit_gracefully, SIGUSR1) is an abort like chaos_suite's
own: the rollbacks run, the fault is cleared, nothing is left on the ledger, exit code 3.

The safeguard probes chaos_suite's own SLI probe (chaos_suite.experiment.probes.slo_burn_rate,
which reads the run's live samples through the configuration chaos_suite adds). Skipped
without the extra: pip install -e '.[bench]'."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gameday_helpers import (
    action,
    assert_no_survivors,
    events,
    experiment,
    only_run_dir,
    run_cli,
    run_pids,
    write_plan,
)

pytest.importorskip("chaosaddons.controls.safeguards")

pytestmark = pytest.mark.slow

PROBE = "availability-burn"


def test_addons_safeguard_interrupts_into_rollbacks(tmp_path: Path) -> None:
    safeguard = {
        "name": "safeguard",
        "provider": {"type": "python", "module": "chaosaddons.controls.safeguards",
                     "arguments": {"probes": [{
                         "type": "probe", "name": PROBE, "frequency": 0.2,
                         "tolerance": {"type": "range", "range": [0, 100]},
                         "provider": {"type": "python",
                                      "module": "chaos_suite.experiment.probes",
                                      "func": "slo_burn_rate",
                                      "arguments": {"slo": "availability",
                                                    "objective": 0.999, "window_s": 1}}}]}},
    }
    exp = experiment("50% errors, stopped by the addons safeguard", [
        action("inject", "inject_errors", pause_after=40, ratio=0.5, ttl_s=120),
        action("clear", "clear_faults")], [action("clear", "clear_faults")])
    exp["controls"] = [safeguard]
    plan = write_plan(tmp_path / "plan", [{
        "name": "errors", "experiment": exp,
        "expect": {"availability": {"max_budget_consumed": "5%"}}}], baseline="2s",
        cooldown="1s")  # no `abort:` rule: only the addons control can stop the method
    reports = tmp_path / "reports"

    result = run_cli("gameday", "run", str(plan), "--reports", str(reports), timeout=120)

    assert result.returncode == 3, result.stdout + result.stderr
    run_dir = only_run_dir(reports)
    record = events(run_dir)
    kinds = [e["type"] for e in record]
    injected = kinds.index("fault_injected")
    started = kinds.index("rollbacks_started")
    assert injected < started < kinds.index("fault_cleared", started) \
        < kinds.index("rollbacks_ended")
    # stopped by the addons control, long before the 40 s pause ended, not by chaos_suite
    assert record[started]["t"] - record[injected]["t"] < 20
    assert not [e for e in record if e["type"] == "abort" and e["reason"] == "safeguard"]
    log = (run_dir / "chaostoolkit.log").read_text(encoding="utf-8")
    assert f"Safeguard '{PROBE}' triggered the end of the experiment" in log
    journal = json.loads(next((run_dir / "journals").iterdir()).read_text(encoding="utf-8"))
    assert journal["status"] == "interrupted"
    assert record[-1]["type"] == "run_ended" and record[-1]["exit_code"] == 3
    assert list((run_dir / "ledger").glob("*.json")) == []
    assert_no_survivors(run_pids(run_dir))
