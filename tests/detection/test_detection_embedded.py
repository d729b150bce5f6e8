"""The embedded detection stack (environment `detection: {embedded: true}`): a shortened copy of
gamedays/demo-detection.yaml through the CLI starts its own Prometheus and Alertmanager, the
errors scenario is detected and paged, the mild one is quiet, and nothing of the run is left;
without the binaries the run exits 2 with the install command and starts nothing."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from gameday_helpers import ROOT, action, assert_no_survivors, experiment, only_run_dir, run_cli, run_pids

pytestmark = pytest.mark.slow


def _short_demo(folder: Path) -> Path:
    """demo-detection.yaml with shorter phases; its environment and SLO file unchanged."""
    (folder / "environments").mkdir(parents=True)
    shutil.copy(ROOT / "gamedays/environments/local-detection.yaml", folder / "environments")
    plan = yaml.safe_load((ROOT / "gamedays/demo-detection.yaml").read_text())
    plan.update(slos=str(ROOT / "gamedays/slos/checkout-prometheus.yaml"), baseline="5s",
                cooldown="6s", min_events=100)
    plan["load"]["locustfile"] = str(ROOT / "loadtests/checkout.py")
    (folder / "errors.json").write_text(json.dumps(experiment("10% errors", [
        action("inject", "inject_errors", pause_after=14, ratio=0.1, ttl_s=120),
        action("clear", "clear_faults")], [action("clear", "clear_faults")])))
    errors, mild = plan["scenarios"]
    errors["experiment"] = "errors.json"
    errors["expect"]["availability"].pop("min_budget_consumed")
    errors["expect"]["availability"]["max_budget_consumed"] = "1%"
    mild["experiment"] = str(ROOT / "experiments/local-kill-replica.yaml")
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return path


def _processes_naming(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if text in cmdline:
                found.append(int(entry.name))
    return found


def test_embedded_stack_detects_pages_and_leaves_nothing(isolated_state: Path,
                                                         tmp_path: Path) -> None:
    for binary in ("prometheus", "prometheus-alertmanager"):
        if shutil.which(binary) is None:
            pytest.skip(f"{binary} not installed")
    plan = _short_demo(tmp_path / "plan")
    reports = tmp_path / "reports"
    # a relative --reports, as the README's command (default reports/) gives it
    done = run_cli("gameday", "run", str(plan), "--reports", "reports", timeout=200,
                   cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # the end of the run says the detection beside each verdict
    assert "→ as-expected; detected: fired " in done.stdout, done.stdout[-2000:]
    assert "→ as-expected; quiet-as-expected" in done.stdout, done.stdout[-2000:]
    run_dir = only_run_dir(reports)
    report = json.loads((run_dir / "report.json").read_text())
    by_name = {s["name"]: s for s in report["scenarios"]}
    detected = by_name["errors-5pct"]["detection"]["slos"][0]
    assert detected["verdict"] == "detected", detected
    assert 0 < detected["time_to_detect_seconds"] <= detected["time_to_page_seconds"] <= 20
    # the report's prediction, from the observed burn rate and the same windows and intervals,
    # agrees with the measured time to detect within the prediction's stated resolution
    predicted = by_name["errors-5pct"]["slos"][0]["predicted_coverage"]
    assert predicted["window_set"] == "gameday-short"
    assert predicted["evaluation_interval_seconds"] == predicted["scrape_interval_seconds"] == 1
    print("predicted", predicted["page_after_seconds"], "measured",
          detected["time_to_detect_seconds"], predicted["text"])
    assert abs(predicted["page_after_seconds"] - detected["time_to_detect_seconds"]) \
        <= predicted["resolution_seconds"], (predicted, detected)
    quiet = by_name["kill-replica"]["detection"]["slos"][0]
    assert quiet["verdict"] == "quiet-as-expected", quiet
    assert quiet["time_to_detect_seconds"] is None
    rules = (run_dir / "detection" / "rules.yaml").read_text()
    assert "ErrorBudgetBurn" in rules and "30s" in rules
    # nothing of the run is left: target, Locust, and the Prometheus/Alertmanager of its folder
    assert_no_survivors(run_pids(run_dir))
    assert _processes_naming(str(run_dir)) == []
    assert not list((isolated_state / "runs").glob("*.json"))


def test_missing_binaries_exit_2_with_the_install_command(isolated_state: Path,
                                                          tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    bare = tmp_path / "bin"  # a PATH without prometheus and prometheus-alertmanager
    bare.mkdir()
    monkeypatch.setenv("PATH", str(bare))
    reports = tmp_path / "reports"
    done = run_cli("gameday", "run", str(ROOT / "gamedays/demo-detection.yaml"),
                   "--reports", str(reports), timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "apt-get install prometheus prometheus-alertmanager" in done.stderr
    assert "prometheus and prometheus-alertmanager" in done.stderr
    assert not reports.exists() or not any(reports.iterdir())
    assert os.environ["PATH"] == str(bare)
