"""The shipped experiments stay plain Chaos Toolkit files: `chaos validate` accepts them and
`chaos run` runs their actions and rollbacks against a standing local target."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from gameday_helpers import ROOT

pytestmark = pytest.mark.slow

CHAOS = str(Path(sys.executable).parent / "chaos")
EXPERIMENTS = sorted((ROOT / "experiments").glob("*.yaml"))





def chaos(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHAOS, "--no-version-check", "--no-log-file", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.name)
def test_chaos_validate_accepts_shipped_experiments(path: Path, tmp_path: Path) -> None:
    result = chaos("validate", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_chaos_run_injects_and_rolls_back(standing: dict[str, object],
                                          tmp_path: Path) -> None:
    admin = str(standing["admin_url"])
    for name in ("local-kill-replica.yaml", "local-inject-errors.yaml"):
        journal_path = tmp_path / f"{name}.journal.json"
        result = chaos("run", "--journal-path", str(journal_path), str(ROOT / "experiments" / name),
                       cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        journal = json.loads(journal_path.read_text(encoding="utf-8"))
        assert journal["status"] == "completed"
        assert all(r["status"] == "succeeded" for r in journal["run"]), journal["run"]
        assert journal["rollbacks"] and all(r["status"] == "succeeded" for r in journal["rollbacks"])
    status = httpx.get(f"{admin}/admin/status", timeout=5).json()
    assert status["fault"]["active"] is False
    assert status["replicas_alive"] == len(status["replicas"])
    assert any(r["restarts"] >= 1 for r in status["replicas"])  # the kill really happened
    # the errors experiment really injected 5%: the inject action's own output, and the target's
    # fault state it returned (what the supervisor answered, not what was asked), both say so
    errors = json.loads((tmp_path / "local-inject-errors.yaml.journal.json").read_text())
    inject = [r for r in errors["run"] if r["activity"]["name"] == "inject-5pct-errors"]
    assert len(inject) == 1, [r["activity"]["name"] for r in errors["run"]]
    output = inject[0]["output"]
    assert output["fault"] == "inject_errors"
    assert output["error_ratio"] == 0.05 and output["ttl_s"] == 120
    assert output["state"]["active"] is True and output["state"]["error_ratio"] == 0.05
