"""The CLI as a user runs it: a subprocess, its exit code, its stdout and stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "data" / "broken"


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chaos_suite.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_bundled_examples_validate() -> None:
    result = cli("validate", "gamedays", "experiments")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok: ") >= 8
    assert result.stderr == ""


def test_broken_files_exit_2_one_line_each() -> None:
    result = cli("validate", str(BROKEN))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    files = sorted(p.name for p in BROKEN.iterdir())
    assert len(lines) == len(files)
    assert "Traceback" not in result.stderr
    expected_fields = {
        "bad-yaml.yaml": "malformed YAML: line",
        "unknown-field.yaml": "slos[0].windw: unknown field",
        "objective-100.yaml": "slos[0].objective: objective must be below 1.0",
        "negative-window.yaml": "slos[0].window:",
        "missing-experiment.yaml": "scenarios[0].experiment: required field is missing",
        "unknown-slo.yaml": "scenarios[0].expect.availabilty: unknown SLO",
        "bad-experiment.json": "requires a method",
        "openslo-calendar.yaml": "spec.timeWindow[0].isRolling",
        "bad-regex.yaml": "slos[0].source.match: invalid regular expression",
        "billion-laughs.yaml": "configuration.f: YAML too large",
        "long-baseline.yaml": "baseline: duration '1000000w' is too long: at most 24h",
        "long-scenario-name.yaml": "scenarios[0].name: String should have at most 63 characters",
        "long-window.yaml": "slos[0].window: duration '1826d' is too long: at most 1825d",
    }
    for line in lines:
        name = next(n for n in files if n in line)
        assert expected_fields[name] in line, line


def test_missing_file_is_one_line_exit_2() -> None:
    result = cli("validate", "nope.yaml")
    assert result.returncode == 2
    assert "nope.yaml: file not found" in result.stderr


def test_slo_explain_openslo_text_and_json() -> None:
    text = cli("slo", "explain", "gamedays/slos/checkout-openslo.yaml")
    assert text.returncode == 0, text.stderr
    assert "2419.2 s of full outage" in text.stdout
    assert "13.44" in text.stdout
    data = json.loads(cli("slo", "explain", "gamedays/slos/checkout-openslo.yaml",
                          "--format", "json").stdout)
    row = data[0]
    assert row["error_budget"] == pytest.approx(0.001)
    assert row["full_outage_seconds"] == pytest.approx(2419.2)
    page = row["alerts"][0]
    assert (page["long_window_seconds"], page["short_window_seconds"]) == (3600, 300)
    assert page["burn_rate"] == pytest.approx(13.44)


def test_schema_written_and_usable(tmp_path: Path) -> None:
    result = cli("schema", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["environment.schema.json", "gameday.schema.json", "run.schema.json",
                     "slos.schema.json"]
    gameday = json.loads((tmp_path / "gameday.schema.json").read_text(encoding="utf-8"))
    assert gameday["additionalProperties"] is False
    assert "scenarios" in gameday["required"]


def test_unknown_flag_is_usage_error_exit_2() -> None:
    result = cli("validate", "--frobnicate", "x")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1


def test_help_does_not_import_heavy_modules() -> None:
    code = ("import sys; from chaos_suite.cli import cli; "
            "heavy=[m for m in ('locust','gevent','kubernetes','chaoslib','pydantic','rich') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
