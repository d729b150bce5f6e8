"""`chaos-suite slo explain`: figures exact in JSON, rounded for people in text, and a note
wherever the alert table is empty or short."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chaos_suite.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_json_figures_carry_no_float_noise() -> None:
    result = cli("slo", "explain", "gamedays/slos/checkout.yaml", "--format", "json")
    assert result.returncode == 0, result.stderr
    # 1 − 0.999 and 0.001 × 30 days, written as a person would: no 0.0010000000000000009
    assert '"error_budget": 0.001,' in result.stdout
    assert '"full_outage_seconds": 2592.0,' in result.stdout
    availability = json.loads(result.stdout)[0]
    assert availability["error_budget"] == 0.001 and availability["full_outage_seconds"] == 2592


def test_text_figures_are_rounded_for_people() -> None:
    text = cli("slo", "explain", "gamedays/slos/checkout.yaml").stdout
    assert "error budget   0.001 of events = 2592 s of full outage per window (43m12s)" in text
    assert "objective      99.9% over 30d" in text


def test_a_window_too_short_for_any_alert_says_why(tmp_path: Path) -> None:
    path = tmp_path / "short.yaml"
    path.write_text("kind: SLOs\nservice: s\nslos:\n  - {name: blip, objective: 0.99, window: 1m}\n",
                    encoding="utf-8")
    text = cli("slo", "explain", str(path)).stdout
    assert "severity  long" not in text  # no empty table header
    assert "(no alert row fits: the shortest workbook alert looks back 1h, longer than this " \
           "window" in text
    [item] = json.loads(cli("slo", "explain", str(path), "--format", "json").stdout)
    assert item["alerts"] == [] and "looks back 1h" in item["alerts_note"]


def test_rows_longer_than_the_window_are_left_out_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "two-days.yaml"
    path.write_text("kind: SLOs\nservice: s\nslos:\n  - {name: short, objective: 0.99, window: 2d}\n",
                    encoding="utf-8")
    [item] = json.loads(cli("slo", "explain", str(path), "--format", "json").stdout)
    # the 3-day ticket row cannot fit a 2-day window; 2% in 1h of 2 days is a burn rate of 0.96
    assert [r["long_window_seconds"] for r in item["alerts"]] == [3_600, 21_600, 86_400]
    assert item["alerts"][0]["burn_rate"] == 0.96
    assert item["alerts_note"] == "rows whose long window exceeds the SLO window are left out"


def test_own_format_window_1M_is_refused_not_a_minute(tmp_path: Path) -> None:
    path = tmp_path / "month.yaml"
    path.write_text("kind: SLOs\nservice: s\nslos:\n  - {name: m, objective: 0.99, window: 1M}\n",
                    encoding="utf-8")
    result = cli("validate", str(path))
    assert result.returncode == 2
    assert "slos[0].window:" in result.stderr and "'M' is a month" in result.stderr
