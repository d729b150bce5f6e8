"""A run directory written by a real demo run before the run record became one typed contract
(tests/data/runs/pre-v1-demo, committed as it was written, logs left out) must re-render to the
same figures: the report is recomputed from the record alone, whatever version wrote it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from chaos_suite.report import render_run

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "runs" / "pre-v1-demo"


def figures(report: dict[str, Any]) -> dict[str, Any]:
    """Everything of report/v1 that is a figure or a verdict (not wording)."""
    out: dict[str, Any] = {"run": {k: report["run"][k] for k in ("status", "exit_code")},
                           "slos": report["slos"]}
    for scenario in report["scenarios"]:
        for row in scenario["slos"]:
            out[f"{scenario['name']}/{row['slo']}"] = {
                "counts": row["counts"], "observed": row["observed"],
                "expected": row["expected"], "verdict": row["verdict"]}
        out[f"{scenario['name']}/fault"] = scenario["fault"]
        out[f"{scenario['name']}/status"] = (scenario["status"], scenario["deviated"])
    return out


def test_pre_contract_run_directory_re_renders_to_the_same_figures(tmp_path: Path) -> None:
    run_dir = tmp_path / FIXTURE.name
    shutil.copytree(FIXTURE, run_dir)
    before = json.loads((FIXTURE / "report.json").read_text(encoding="utf-8"))
    written = render_run(run_dir, ("json", "md", "junit", "html"))
    after = json.loads(written["json"].read_text(encoding="utf-8"))
    assert after["schema"] == "chaos-suite/report/v1"
    assert figures(after) == figures(before)
    verdicts = {k: v["verdict"] for k, v in figures(after).items() if isinstance(v, dict)
                and "verdict" in v}
    assert len(verdicts) == 6 and set(verdicts.values()) == {"as-expected"}
