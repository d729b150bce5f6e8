"""`target up/status/down --state-dir X` and $CHAOS_SUITE_STATE_DIR=X name the same place: the
target lives in X/target, where a run with that state directory looks for it (one resolution,
safety.state.target_dir)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaos_suite.safety.state import target_dir
from chaos_suite.targets.local import default_state_dir, stop_target

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, state_env: Path) -> subprocess.CompletedProcess[str]:
    # the environment is passed to the child, never set in this process
    env = {**os.environ, "CHAOS_SUITE_STATE_DIR": str(state_env)}
    return subprocess.run([sys.executable, "-m", "chaos_suite.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def up(state_env: Path, *state_dir: str) -> None:
    result = cli("target", "up", "--detach", "--port", "0", "--admin-port", "0", "--replicas", "1",
                 *state_dir, state_env=state_env)
    assert result.returncode == 0, result.stdout + result.stderr


def status(state_env: Path, *state_dir: str) -> dict[str, object] | None:
    result = cli("target", "status", *state_dir, state_env=state_env)
    if result.returncode == 1 and "not running" in result.stdout:
        return None
    assert result.returncode == 0, result.stdout + result.stderr
    parsed: dict[str, object] = json.loads(result.stdout)
    return parsed


@pytest.fixture()
def folders(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """Two state directories; whatever a test started in either is stopped afterwards."""
    first, second = tmp_path / "first", tmp_path / "second"
    try:
        yield first, second
    finally:
        for folder in (first, second):
            stop_target(target_dir(folder), timeout_s=10)


def test_state_dir_option_and_environment_name_the_same_target(
        folders: tuple[Path, Path]) -> None:
    chosen, other = folders
    up(other, "--state-dir", str(chosen))  # the option wins over the environment
    assert (chosen / "target" / "target.json").is_file()
    by_option = status(other, "--state-dir", str(chosen))
    by_env = status(chosen)  # no option: $CHAOS_SUITE_STATE_DIR
    assert by_option is not None and by_env is not None
    assert by_option["state_dir"] == by_env["state_dir"] == str((chosen / "target").resolve())
    assert by_option["supervisor_pid"] == by_env["supervisor_pid"]
    assert status(other) is None  # nothing under the other state directory
    down = cli("target", "down", state_env=chosen)
    assert down.stdout.strip() == "target down", down.stdout + down.stderr
    assert status(other, "--state-dir", str(chosen)) is None


def test_without_the_option_the_target_lives_under_the_environment_state_dir(
        folders: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    state, _ = folders
    up(state)
    assert (state / "target" / "target.json").is_file()
    found = status(state, "--state-dir", str(state))
    assert found is not None and found["state_dir"] == str((state / "target").resolve())
    # what a run (gameday targets, faults.local) reads with the same environment
    monkeypatch.setenv("CHAOS_SUITE_STATE_DIR", str(state))
    assert default_state_dir() == target_dir() == state / "target"
    down = cli("target", "down", "--state-dir", str(state), state_env=state / "elsewhere")
    assert down.stdout.strip() == "target down", down.stdout + down.stderr
