"""Bad input the CLI used to accept and then fail on late (mid-run, after a fault was injected)
or crash on with a traceback: each is refused up front, exit 2, with one line on stderr naming
the file and the field (or the option), and nothing is started."""

from __future__ import annotations

import errno
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaos_suite.cli import main
from chaos_suite.files.common import MAX_FILE_BYTES

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "data" / "broken"
GAMEDAYS = ROOT / "gamedays"


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chaos_suite.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def refused(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit 2, no traceback, exactly one line on stderr holding every needle; returns it."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def demo_plan() -> dict[str, Any]:
    """The demo plan with every path absolute, so it resolves from any folder."""
    plan = yaml.safe_load((GAMEDAYS / "demo.yaml").read_text(encoding="utf-8"))
    plan["slos"] = str(GAMEDAYS / "slos" / "checkout.yaml")
    plan["load"]["locustfile"] = str(ROOT / "loadtests" / "checkout.py")
    for scenario in plan["scenarios"]:
        scenario["experiment"] = str((GAMEDAYS / scenario["experiment"]).resolve())
    assert isinstance(plan, dict)
    return plan


def write_plan(folder: Path, plan: dict[str, Any]) -> Path:
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return path


def dry_run(plan: Path, reports: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return cli("gameday", "run", str(plan), "--dry-run", "--reports", str(reports), *extra)


# ---------------------------------------------------------------- files


def test_invalid_regex_in_load_source_is_refused(tmp_path: Path) -> None:
    slos = BROKEN / "bad-regex.yaml"
    refused(cli("validate", str(slos)), str(slos), "slos[0].source.match",
            "invalid regular expression")
    plan = demo_plan()
    plan["slos"] = str(slos)
    reports = tmp_path / "reports"
    refused(dry_run(write_plan(tmp_path, plan), reports), str(slos), "slos[0].source.match")
    assert not reports.exists()


def test_billion_laughs_experiment_is_refused_before_anything_starts(tmp_path: Path) -> None:
    experiment = BROKEN / "billion-laughs.yaml"
    refused(cli("validate", str(experiment)), str(experiment), "configuration.f",
            "YAML too large")
    plan = demo_plan()
    plan["scenarios"] = plan["scenarios"][:1]
    plan["scenarios"][0]["experiment"] = str(experiment)
    path = write_plan(tmp_path, plan)
    reports = tmp_path / "reports"
    refused(dry_run(path, reports), str(experiment), "configuration.f")
    # not a dry run either: refused while resolving the plan, before the target is started
    refused(cli("gameday", "run", str(path), "--reports", str(reports)), str(experiment))
    assert not reports.exists()


def test_self_referencing_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cycle.yaml"
    path.write_text("kind: SLOs\nservice: s\nslos: &loop [*loop]\n", encoding="utf-8")
    refused(cli("validate", str(path)), str(path), "slos: ", "cycle")


def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo.yaml"
    os.mkfifo(path)
    return path


def oversized(tmp_path: Path) -> Path:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    return path


@pytest.mark.parametrize(("make", "problem"), [
    (lambda _: Path("/dev/zero"), "not a regular file"),
    (fifo, "not a regular file"),
    (oversized, "file too large: more than 1024 KiB"),
], ids=["dev-zero", "fifo", "oversized"])
def test_endless_and_oversized_files_are_refused(tmp_path: Path, make: Any, problem: str) -> None:
    path: Path = make(tmp_path)
    refused(cli("validate", str(path)), f"{path}: {problem}")
    reports = tmp_path / "reports"
    refused(dry_run(path, reports), f"{path}: {problem}")
    assert not reports.exists()


def test_plan_pointing_at_a_device_names_the_field(tmp_path: Path) -> None:
    plan = demo_plan()
    plan["scenarios"][0]["experiment"] = "/dev/zero"
    path = write_plan(tmp_path, plan)
    reports = tmp_path / "reports"
    refused(dry_run(path, reports), f"{path}: scenarios[0].experiment: ", "not a regular file")
    assert not reports.exists()


@pytest.mark.parametrize(("where", "value", "problem"), [
    (("baseline",), "1000000w", "at most 24h"),
    (("baseline",), 1e300, "at most 24h"),
    (("baseline",), -5, "must be positive and finite"),
    (("cooldown",), "25h", "at most 24h"),
    (("scenarios", 0, "cooldown"), "2d", "at most 24h"),
    (("abort", "long_window"), "4w", "at most 24h"),
    (("hypothesis", "window"), math.nan, "must be positive and finite"),
    (("load", "shape", "spike_for"), "1000000w", "at most 24h"),
], ids=lambda v: ".".join(map(str, v)) if isinstance(v, tuple) else str(v))
def test_durations_out_of_bounds_are_refused(tmp_path: Path, where: tuple[Any, ...], value: Any,
                                             problem: str) -> None:
    plan = demo_plan()
    node = plan
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = value
    path = write_plan(tmp_path, plan)
    field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where).lstrip(".")
    reports = tmp_path / "reports"
    refused(dry_run(path, reports), f"{path}: {field}: ", problem)
    assert not reports.exists()


def test_slo_window_beyond_five_years_is_refused(tmp_path: Path) -> None:
    slos = BROKEN / "long-window.yaml"
    refused(cli("validate", str(slos)), str(slos), "slos[0].window", "at most 1825d (5 years)")
    text = (GAMEDAYS / "slos" / "checkout-openslo.yaml").read_text(encoding="utf-8")
    openslo = tmp_path / "openslo.yaml"
    openslo.write_text(text.replace("duration: 28d", "duration: 1000000w"), encoding="utf-8")
    refused(cli("validate", str(openslo)), str(openslo), "spec.timeWindow[0].duration",
            "at most 1825d")


@pytest.mark.parametrize(("where", "value", "field"), [
    (("name",), "g" * 300, "name"),
    (("scenarios", 0, "name"), "kill-replica-" + "x" * 287, "scenarios[0].name"),
    (("name",), "demo/../../etc", "name"),
], ids=["gameday-300", "scenario-300", "gameday-slash"])
def test_names_used_in_file_names_are_capped(tmp_path: Path, where: tuple[Any, ...], value: str,
                                             field: str) -> None:
    plan = demo_plan()
    node = plan
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = value
    path = write_plan(tmp_path, plan)
    reports = tmp_path / "reports"
    refused(cli("validate", str(path)), f"{path}: {field}: ")
    # a real run, not a dry run: this one used to inject the fault and lose the journal
    refused(cli("gameday", "run", str(path), "--reports", str(reports)), f"{path}: {field}: ")
    assert not reports.exists()


def test_long_scenario_name_file_is_refused() -> None:
    path = BROKEN / "long-scenario-name.yaml"
    refused(cli("validate", str(path)), str(path), "scenarios[0].name",
            "at most 63 characters")


def test_slo_name_is_capped(tmp_path: Path) -> None:
    slos = tmp_path / "slos.yaml"
    slos.write_text(f"kind: SLOs\nservice: s\nslos:\n  - name: {'a' * 64}\n    objective: 0.99\n",
                    encoding="utf-8")
    refused(cli("validate", str(slos)), str(slos), "slos[0].name", "at most 63 characters")


def test_names_at_the_cap_are_accepted(tmp_path: Path) -> None:
    plan = demo_plan()
    plan["name"] = "g" * 63
    plan["scenarios"][0]["name"] = "s" * 63
    result = cli("validate", str(write_plan(tmp_path, plan)))
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------- options


def test_schema_out_existing_file_is_refused(tmp_path: Path) -> None:
    existing = tmp_path / "schemas"
    existing.write_text("keep\n", encoding="utf-8")
    refused(cli("schema", "--out", str(existing)), "--out", str(existing))
    assert existing.read_text(encoding="utf-8") == "keep\n"
    refused(cli("schema", "--out", str(existing / "sub")), "--out", str(existing / "sub"))


@pytest.mark.parametrize(("option", "value"), [
    ("--restart-delay", "nan"), ("--restart-delay", "inf"), ("--restart-delay", "-1"),
    ("--restart-delay", "1e9"), ("--replicas", "0"), ("--port", "70000"),
])
def test_target_up_refuses_out_of_range_options(tmp_path: Path, option: str, value: str) -> None:
    state = tmp_path / "target"
    refused(cli("target", "up", "--detach", "--state-dir", str(state), option, value), option)
    assert not state.exists()  # no supervisor was started: it would write target.json here


def test_recover_refuses_a_state_dir_that_is_a_file(tmp_path: Path) -> None:
    file = tmp_path / "state"
    file.write_text("", encoding="utf-8")
    result = cli("recover", "--state-dir", str(file))
    refused(result, "--state-dir", str(file), "is not a folder")
    assert "nothing to recover" not in result.stdout


def test_recover_refuses_a_ledger_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "ledger").write_text("", encoding="utf-8")
    refused(cli("recover", "--state-dir", str(tmp_path)), "--state-dir",
            str(tmp_path / "ledger"), "is not a folder")


def test_recover_refuses_a_missing_state_dir(tmp_path: Path) -> None:
    refused(cli("recover", "--state-dir", str(tmp_path / "typo")), "--state-dir", "does not exist")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_recover_refuses_an_unreadable_state_dir(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o000)
    try:
        refused(cli("recover", "--state-dir", str(state)), "--state-dir", "cannot read")
    finally:
        state.chmod(0o700)


def test_recover_an_empty_state_dir_still_says_nothing(tmp_path: Path) -> None:
    result = cli("recover", "--state-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "nothing to recover"


# ---------------------------------------------------------------- last resort in main()


def test_os_error_is_one_line_naming_the_path(tmp_path: Path) -> None:
    # a run directory whose notes file is a folder: open() fails with EISDIR
    (tmp_path / "plan.json").write_text("{}", encoding="utf-8")
    (tmp_path / "notes.jsonl").mkdir()
    refused(cli("gameday", "note", str(tmp_path), "replica 2 restarted"),
            f"{tmp_path / 'notes.jsonl'}: Is a directory")


def run_main(*argv: str) -> int:
    try:
        main(list(argv))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


def test_os_error_before_anything_started_is_exit_2(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    def full_disk(path: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "/var/x\ny.yaml")

    monkeypatch.setattr("chaos_suite.files.loader.validate_file", full_disk)
    assert run_main("validate", "gamedays/demo.yaml") == 2
    err = capsys.readouterr().err
    assert err.splitlines() == ["chaos-suite: error: '/var/x\\ny.yaml': No space left on device"]


def test_os_error_once_something_started_is_exit_4(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    def full_disk(state_dir: Path | None, **_: object) -> list[str]:
        raise OSError(errno.ENOSPC, "No space left on device", "/state/ledger/e.json")

    monkeypatch.setattr("chaos_suite.safety.recover.recover_all", full_disk)
    monkeypatch.setattr("chaos_suite.cli._may_have_started", False)
    assert run_main("recover") == 4
    err = capsys.readouterr().err
    assert err.splitlines() == ["chaos-suite: error: /state/ledger/e.json: No space left on device"]


def test_unexpected_exception_is_internal_error_with_traceback_file(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        isolated_state: Path) -> None:
    def bug(path: Path) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr("chaos_suite.files.loader.validate_file", bug)
    assert run_main("validate", "gamedays/demo.yaml") == 4
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    prefix = "chaos-suite: error: internal error: RuntimeError: boom (traceback in "
    assert lines[0].startswith(prefix) and lines[0].endswith(")"), lines[0]
    trace = Path(lines[0].removeprefix(prefix)[:-1])
    assert trace.parent == isolated_state / "crashes"
    text = trace.read_text(encoding="utf-8")
    assert "Traceback" in text and "second line" in text
    assert trace.stat().st_mode & 0o077 == 0  # private: it may quote the environment
