"""Production gates through the CLI as a user runs it: confirmation, allowed time windows
(overnight ones too), blast radius, steps of unknown effect and a clean target. Each refusal is
exit 2 with one line naming the gate and the figure; a refused real run leaves nothing behind
(no run directory, no ledger entry, no process)."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from gameday_helpers import (
    ROOT,
    SLOS,
    action,
    cli_command,
    experiment,
    standing_target,
    write_plan,
)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EXPECT = {"availability": {"max_budget_consumed": "1%"}}


def gated_plan(folder: Path, *, tier: str = "production", replicas: int = 2, kills: int = 1,
               safety: dict[str, Any] | None = None) -> Path:
    """A plan whose one scenario kills `kills` replicas, in an environment file we write."""
    method = [action(f"kill-{i}", "kill_replica", index=i) for i in range(kills)]
    method.append({"type": "probe", "name": "alive", "provider": {
        "type": "python", "module": "chaos_suite.faults.local", "func": "replicas_alive"}})
    plan: Path = write_plan(folder, [{"name": "kill", "experiment": experiment("kill", method),
                                "expect": EXPECT}], replicas=replicas, tier=tier)
    env = {"apiVersion": "chaos-suite/v1", "kind": "Environment", "name": "checkout-prod",
           "tier": tier, "target": {"type": "local", "replicas": replicas, "managed": True},
           "safety": safety or {}}
    (folder / "environments" / "test.yaml").write_text(yaml.safe_dump(env), encoding="utf-8")
    return plan


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "CHAOS_SUITE_CONFIRM"}
    environ.update(env or {})
    return subprocess.run(cli_command(*args), cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env=environ)


def dry_run(plan: Path, *extra: str, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    return cli("gameday", "run", str(plan), "--dry-run", "--reports",
               str(plan.parent / "reports"), *extra, env=env)


def assert_refused(result: subprocess.CompletedProcess[str], gate: str, *figures: str) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"chaos-suite: error: refused by gate '{gate}'"), lines[0]
    for figure in figures:
        assert figure in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]


def assert_passed(result: subprocess.CompletedProcess[str], plan: Path) -> None:
    assert result.returncode == 0, result.stderr
    assert "safety gates: passed" in result.stdout
    assert "nothing was injected" in result.stdout
    assert not (plan.parent / "reports").exists()


# ---------------------------------------------------------------- confirmation


def test_production_refused_without_confirmation(tmp_path: Path) -> None:
    plan = gated_plan(tmp_path)
    assert_refused(dry_run(plan), "confirmation", "--confirm production", "got none")


def test_production_confirmed_by_flag_or_environment_variable(tmp_path: Path) -> None:
    plan = gated_plan(tmp_path)
    assert_passed(dry_run(plan, "--confirm", "production"), plan)
    assert_passed(dry_run(plan, env={"CHAOS_SUITE_CONFIRM": "production"}), plan)


def test_confirming_another_environment_is_refused(tmp_path: Path) -> None:
    plan = gated_plan(tmp_path)
    assert_refused(dry_run(plan, "--confirm", "staging"), "confirmation", "got staging")
    assert_refused(dry_run(plan, env={"CHAOS_SUITE_CONFIRM": "staging"}), "confirmation",
                   "got staging")


def test_env_override_to_production_is_gated(tmp_path: Path) -> None:
    # the plan itself names a local environment; --env switches it to a production file
    plan = gated_plan(tmp_path / "plan", tier="local")
    prod = gated_plan(tmp_path / "prod").parent / "environments" / "test.yaml"
    assert_passed(dry_run(plan), plan)
    assert_refused(dry_run(plan, "--env", str(prod)), "confirmation", "(production)")


def test_staging_with_required_confirmation(tmp_path: Path) -> None:
    plan = gated_plan(tmp_path, tier="staging", safety={"require_confirmation": True})
    assert_refused(dry_run(plan), "confirmation", "--confirm staging")
    assert_passed(dry_run(plan, "--confirm", "staging"), plan)


# ---------------------------------------------------------------- time windows


def _weekday(now: datetime, offset_days: int) -> str:
    return DAYS[(now + timedelta(days=offset_days)).weekday()]


def test_outside_allowed_days_is_refused(tmp_path: Path) -> None:
    # yesterday, today and tomorrow are all excluded: true now and a few seconds later
    now = datetime.now(UTC)
    near = {_weekday(now, d) for d in (-1, 0, 1)}
    days = [d for d in DAYS if d not in near]
    plan = gated_plan(tmp_path, safety={"allowed_windows": [{"days": days, "timezone": "UTC"}]})
    line = assert_refused(dry_run(plan, "--confirm", "production"), "time-window", "now is ")
    assert f"{','.join(days)} 00:00-24:00 UTC" in line


def test_inside_allowed_day_passes(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    days = [_weekday(now, d) for d in (-1, 0, 1)]
    plan = gated_plan(tmp_path, safety={"allowed_windows": [
        {"days": days, "start": "00:00", "end": "24:00", "timezone": "UTC"}]})
    assert_passed(dry_run(plan, "--confirm", "production"), plan)


@pytest.mark.parametrize(("zone", "allowed"), [("Etc/GMT-12", True), ("UTC", False)])
def test_window_hours_are_read_in_the_window_time_zone(tmp_path: Path, zone: str,
                                                       allowed: bool) -> None:
    # hours around now in UTC+12, every day: inside in that zone, 12 h away from now in UTC
    hour = datetime.now(ZoneInfo("Etc/GMT-12")).hour
    start, end = max(hour - 1, 0), min(hour + 2, 24)
    window = {"days": list(DAYS), "start": f"{start:02d}:00", "end": f"{end:02d}:00",
              "timezone": zone}
    plan = gated_plan(tmp_path, safety={"allowed_windows": [window]})
    result = dry_run(plan, "--confirm", "production")
    if allowed:
        assert_passed(result, plan)
    else:
        assert_refused(result, "time-window", f"{start:02d}:00-{end:02d}:00 UTC")


# ---------------------------------------------------------------- blast radius


def test_two_kills_exceed_max_replicas(tmp_path: Path) -> None:
    plan = gated_plan(tmp_path, kills=2, safety={"blast_radius": {"max_replicas": 1}})
    assert_refused(dry_run(plan, "--confirm", "production"), "blast-radius",
                   "scenario 'kill'", "takes down 2 replicas", "allows 1")


def test_one_kill_of_two_replicas_exceeds_max_fraction(tmp_path: Path) -> None:
    plan = gated_plan(tmp_path, replicas=2, safety={"blast_radius": {"max_fraction": "34%"}})
    assert_refused(dry_run(plan, "--confirm", "production"), "blast-radius",
                   "1 of 2 replicas (50%)", "allows 34%")


def test_one_kill_of_three_replicas_within_both_limits(tmp_path: Path) -> None:
    plan = gated_plan(tmp_path, replicas=3, safety={
        "blast_radius": {"max_replicas": 1, "max_fraction": "50%"}})
    assert_passed(dry_run(plan, "--confirm", "production"), plan)


def test_blast_radius_applies_to_staging_too(tmp_path: Path) -> None:
    plan = gated_plan(tmp_path, tier="staging", kills=2,
                      safety={"blast_radius": {"max_replicas": 1}})
    assert_refused(dry_run(plan), "blast-radius", "takes down 2 replicas")


# ---------------------------------------------------------------- refused real runs


def _processes_mentioning(text: str) -> list[int]:
    """Pids whose command line mentions `text` (our tmp folders are unique to this test)."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if text.encode() in cmdline:
            found.append(int(entry.name))
    return found


REFUSALS: dict[str, tuple[dict[str, Any], list[str]]] = {
    "confirmation": ({}, []),
    "time-window": ({"allowed_windows": [{"days": ["mon"], "start": "00:00", "end": "00:01"},
                                         {"days": ["tue"], "start": "00:00", "end": "00:01"}]},
                    ["--confirm", "production"]),
    "blast-radius": ({"blast_radius": {"max_replicas": 1}}, ["--confirm", "production"]),
}


@pytest.mark.parametrize("gate", sorted(REFUSALS))
def test_refused_real_run_leaves_nothing_behind(tmp_path: Path, isolated_state: Path,
                                                gate: str) -> None:
    safety, extra = REFUSALS[gate]
    if gate == "time-window" and _window_is_open_now():
        pytest.skip("the 1-minute window happens to be open right now")
    plan = gated_plan(tmp_path, kills=2, safety=safety)
    reports = tmp_path / "reports"
    result = cli("gameday", "run", str(plan), "--reports", str(reports), *extra)
    assert_refused(result, gate)
    assert not reports.exists(), list(reports.rglob("*"))
    assert list(isolated_state.rglob("*")) == []  # no ledger entry, run registration, target
    assert _processes_mentioning(str(tmp_path)) == []
    assert _processes_mentioning(str(isolated_state)) == []


def _window_is_open_now() -> bool:
    now = datetime.now(UTC)
    return now.weekday() in (0, 1) and now.hour == 0 and now.minute == 0


# ---------------------------------------------------------------- bad input in real runs

LONG = "a" * 300
BAD_COMMANDS: dict[str, tuple[list[str], str]] = {
    # id: (command line with {placeholders}, text the one error line must hold)
    "unknown-flag": (["gameday", "run", "{plan}", "--bogus"], "--bogus"),
    "flag-without-value": (["gameday", "run", "{plan}", "--confirm"], "--confirm"),
    "unknown-env": (["gameday", "run", "{plan}", "--env", "no-such-env"], "no-such-env"),
    "missing-plan": (["gameday", "run", "{dir}/nope.yaml"], "nope.yaml"),
    "reports-under-a-file": (["gameday", "run", "{plan}", "--reports", "/dev/null/x"], "--reports"),
    "reports-name-too-long": (["gameday", "run", "{plan}", "--reports", f"{{dir}}/{LONG}/x"],
                              "--reports"),
    "unknown-slo-flag": (["run", "{exp}", "--slos", "{slos}", "--slo", "nope"], "nope"),
    "users-not-a-number": (["run", "{exp}", "--slos", "{slos}", "--users", "abc"], "--users"),
    "users-negative": (["run", "{exp}", "--slos", "{slos}", "--users", "-5"], "users"),
    "baseline-forever": (["run", "{exp}", "--slos", "{slos}", "--baseline", "forever"],
                         "baseline"),
    "max-budget-nan": (["run", "{exp}", "--slos", "{slos}", "--max-budget", "NaN"],
                       "--max-budget"),
    "plan-with-nan-objective": (["gameday", "run", "{nan_plan}"], "objective"),
}


@pytest.mark.parametrize("case", sorted(BAD_COMMANDS))
def test_bad_flags_and_files_start_nothing(tmp_path: Path, isolated_state: Path,
                                           case: str) -> None:
    """Real runs (no --dry-run) with bad input: exit 2, one line, no run directory, no state."""
    slos = yaml.safe_load((ROOT / "gamedays" / "slos" / "checkout.yaml").read_text("utf-8"))
    slos["slos"][0]["objective"] = float("nan")
    (tmp_path / "nan-slos.yaml").write_text(yaml.safe_dump(slos), encoding="utf-8")
    plan = gated_plan(tmp_path / "plan", tier="local")
    nan_plan = yaml.safe_load(plan.read_text(encoding="utf-8"))
    nan_plan["slos"] = str(tmp_path / "nan-slos.yaml")
    (tmp_path / "nan-plan.yaml").write_text(yaml.safe_dump(nan_plan), encoding="utf-8")
    values = {"plan": str(plan), "dir": str(tmp_path), "slos": str(SLOS),
              "exp": str(ROOT / "experiments" / "local-kill-replica.yaml"),
              "nan_plan": str(tmp_path / "nan-plan.yaml")}
    template, expected = BAD_COMMANDS[case]
    args = [a.format(**values) for a in template]
    reports = tmp_path / "reports"
    if "--reports" not in args:  # right after the positional file, before any broken flag
        at = next(i for i, a in enumerate(args) if "/" in a) + 1
        args[at:at] = ["--reports", str(reports)]
    result = cli(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("chaos-suite: error: "), result.stderr
    assert expected in lines[0], lines[0]
    assert not reports.exists()
    assert list(isolated_state.rglob("*")) == []
    assert _processes_mentioning(str(tmp_path)) == []


# ---------------------------------------------------------------- overnight windows


def overnight_plan(folder: Path, window: dict[str, Any]) -> Path:
    return gated_plan(folder, tier="staging", safety={"allowed_windows": [window]})


OVERNIGHT = {"days": ["mon"], "start": "23:00", "end": "05:00", "timezone": "UTC"}


@pytest.mark.parametrize(("moment", "inside"), [
    ("2024-01-01T23:00", True),   # Monday, at the start
    ("2024-01-02T00:35", True),   # Tuesday after midnight: Monday's window
    ("2024-01-02T04:59", True),
    ("2024-01-02T05:00", False),  # the end is not in the window
    ("2024-01-02T12:00", False),
    ("2024-01-01T22:59", False),
    ("2024-01-01T00:35", False),  # Monday after midnight: Sunday's window, not listed
    ("2024-01-02T23:30", False),  # Tuesday night: Tuesday is not listed
])
def test_overnight_window_belongs_to_the_day_it_starts(moment: str, inside: bool) -> None:
    from chaos_suite.files.environment import TimeWindow
    from chaos_suite.safety.gates import in_window

    now = datetime.fromisoformat(moment).replace(tzinfo=UTC)
    assert in_window(TimeWindow.model_validate(OVERNIGHT), now) is inside


def test_overnight_window_in_its_time_zone() -> None:
    from chaos_suite.files.environment import TimeWindow
    from chaos_suite.safety.gates import in_window

    window = TimeWindow.model_validate({**OVERNIGHT, "timezone": "Europe/Berlin"})
    # 23:35 UTC on Monday is 00:35 on Tuesday in Berlin (winter): inside Monday's window
    assert in_window(window, datetime(2024, 1, 1, 23, 35, tzinfo=UTC))
    assert not in_window(window, datetime(2024, 1, 2, 4, 30, tzinfo=UTC))  # 05:30 in Berlin


def test_check_windows_allows_00_35_and_refuses_noon(tmp_path: Path) -> None:
    from chaos_suite.errors import GateRefused
    from chaos_suite.files.loader import resolve_plan
    from chaos_suite.safety.gates import check_windows

    resolved = resolve_plan(overnight_plan(tmp_path, OVERNIGHT))
    check_windows(resolved, datetime(2024, 1, 2, 0, 35, tzinfo=UTC))
    with pytest.raises(GateRefused) as refused:
        check_windows(resolved, datetime(2024, 1, 2, 12, 0, tzinfo=UTC))
    assert refused.value.gate == "time-window"
    assert "mon 23:00-05:00 UTC" in str(refused.value)


@pytest.mark.parametrize(("starts", "allowed"), [("yesterday", True), ("today", False)])
def test_overnight_window_through_the_cli(tmp_path: Path, starts: str, allowed: bool) -> None:
    # a zone where it is now just past midnight, and a window 23:00-02:00 that started
    # yesterday there: open now; listed under today it opens only tonight
    offset = -datetime.now(UTC).hour % 24
    offset = offset - 24 if offset > 14 else offset
    zone = f"Etc/GMT{-offset:+d}" if offset else "UTC"
    local = datetime.now(ZoneInfo(zone))
    day = _weekday(local, -1 if starts == "yesterday" else 0)
    plan = overnight_plan(tmp_path, {"days": [day], "start": "23:00", "end": "02:00",
                                     "timezone": zone})
    result = dry_run(plan)
    if allowed:
        assert_passed(result, plan)
    else:
        assert_refused(result, "time-window", f"{day} 23:00-02:00 {zone}")


def test_window_with_start_equal_to_end_is_refused_as_input(tmp_path: Path) -> None:
    plan = overnight_plan(tmp_path, {**OVERNIGHT, "end": "23:00"})
    result = cli("validate", str(plan.parent / "environments" / "test.yaml"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "safety.allowed_windows[0].end" in result.stdout + result.stderr
    assert "00:00, end 24:00" in result.stdout + result.stderr


# ---------------------------------------------------------------- steps of unknown effect


def unknown_plan(folder: Path, step: dict[str, Any], *, tier: str = "staging",
                 safety: dict[str, Any] | None = None) -> Path:
    """A plan whose one scenario has a known probe and `step`, in an environment of `tier`."""
    probe = {"type": "probe", "name": "alive", "provider": {
        "type": "python", "module": "chaos_suite.faults.local", "func": "replicas_alive"}}
    plan: Path = write_plan(folder, [{"name": "custom", "expect": EXPECT,
                                      "experiment": experiment("custom", [probe, step])}],
                            tier=tier)
    env = {"kind": "Environment", "name": "custom-env", "tier": tier,
           "target": {"type": "local", "replicas": 2, "managed": True}, "safety": safety or {}}
    (folder / "environments" / "test.yaml").write_text(yaml.safe_dump(env), encoding="utf-8")
    return plan


WIPE = {"type": "action", "name": "wipe",
        "provider": {"type": "process", "path": "rm", "arguments": ["-rf", "/nonexistent/x"]}}


def test_process_step_in_staging_is_refused_without_allowance(tmp_path: Path) -> None:
    plan = unknown_plan(tmp_path, WIPE)
    assert_refused(dry_run(plan), "unknown-step", "scenario 'custom'", "action 'wipe'",
                   "executable 'rm'", "['-rf', '/nonexistent/x']",
                   "safety.allow_steps lists 'wipe' or 'process:rm'")


@pytest.mark.parametrize("entry", ["wipe", "process:rm"])
def test_process_step_allowed_by_its_name_or_its_executable(tmp_path: Path, entry: str) -> None:
    plan = unknown_plan(tmp_path, WIPE, safety={"allow_steps": [entry]})
    result = dry_run(plan)
    assert_passed(result, plan)
    assert f"rm -rf /nonexistent/x  · unknown effect (allowed by safety.allow_steps '{entry}')" \
        in result.stdout


def test_allowance_for_another_executable_or_step_does_not_count(tmp_path: Path) -> None:
    plan = unknown_plan(tmp_path, WIPE, safety={"allow_steps": ["process:/bin/rm", "other"]})
    assert_refused(dry_run(plan), "unknown-step", "action 'wipe'")


@pytest.mark.parametrize("step", [
    {"type": "action", "name": "kill-by-api", "provider": {
        "type": "http", "method": "POST", "url": "http://127.0.0.1:1/admin/replicas/kill"}},
    {"type": "probe", "name": "cleanup", "provider": {
        "type": "python", "module": "shutil", "func": "rmtree",
        "arguments": {"path": "/nonexistent/x"}}},
], ids=["http", "python-of-another-module"])
def test_http_and_unknown_python_steps_are_refused_in_production(
        tmp_path: Path, step: dict[str, Any]) -> None:
    plan = unknown_plan(tmp_path, step, tier="production")
    line = assert_refused(dry_run(plan, "--confirm", "production"), "unknown-step",
                          f"{step['type']} '{step['name']}'", "production environment")
    assert ("POST http://127.0.0.1:1/admin/replicas/kill" in line) or ("shutil.rmtree" in line)
    plan = unknown_plan(tmp_path, step, tier="production",
                        safety={"allow_steps": [step["name"]]})
    assert_passed(dry_run(plan, "--confirm", "production"), plan)


def test_unknown_steps_run_on_the_local_tier_but_are_shown(tmp_path: Path) -> None:
    plan = unknown_plan(tmp_path, WIPE, tier="local")
    result = dry_run(plan)
    assert_passed(result, plan)
    assert "action wipe: process rm -rf /nonexistent/x  · unknown effect (allowed on the local " \
           "tier)" in result.stdout


def test_known_faults_probes_and_reverts_need_no_allowance(tmp_path: Path) -> None:
    # the shipped experiments: chaos_suite's faults, its probes and clear_faults / wait reverts
    plan = write_plan(tmp_path, [{"name": name, "expect": EXPECT, "experiment": yaml.safe_load(
        (ROOT / "experiments" / f"{name}.yaml").read_text(encoding="utf-8"))}
        for name in ("local-kill-replica", "local-inject-errors", "local-inject-latency",
                     "k8s-cordon-node")], tier="staging")
    assert_passed(dry_run(plan), plan)


def test_empty_allowance_is_refused_as_input(tmp_path: Path) -> None:
    plan = unknown_plan(tmp_path, WIPE, safety={"allow_steps": ["process:"]})
    result = cli("validate", str(plan.parent / "environments" / "test.yaml"))
    assert result.returncode == 2
    assert "safety.allow_steps" in result.stdout + result.stderr


# ---------------------------------------------------------------- a clean target


def standing_plan(folder: Path) -> Path:
    return write_plan(folder, [{"name": "errors", "expect": EXPECT, "experiment": experiment(
        "errors", [action("inject", "inject_errors", ratio=0.1, ttl_s=60),
                   action("clear", "clear_faults")])}], managed=False, tier="staging")


def plant_pending_revert(state: Path, admin_url: str) -> str:
    """A crashed run's ledger entry for the standing target at `admin_url`; its entry id."""
    from chaos_suite.safety import ledger
    from chaos_suite.safety.state import ledger_dir

    entry = ledger.new_entry(run_id="20240101T000000Z-crashed", scenario="errors",
                             fault="inject_errors", target=f"local:{admin_url}",
                             revert={"kind": "python", "module": "chaos_suite.faults.local",
                                     "func": "clear_faults", "arguments": {}})
    ledger.record(entry, [ledger_dir(state)])
    return entry.id


def fake_standing_target(state: Path) -> str:
    """target.json of a standing target nothing answers for: the ledger key is all the pending
    check reads."""
    admin = "http://127.0.0.1:9/"
    (state / "target").mkdir(parents=True)
    (state / "target" / "target.json").write_text(json.dumps({
        "url": "http://127.0.0.1:9", "admin_url": admin, "port": 9, "admin_port": 9,
        "supervisor_pid": 999999}), encoding="utf-8")
    return admin


def test_dry_run_refuses_a_target_with_pending_reverts(tmp_path: Path,
                                                       isolated_state: Path) -> None:
    admin = fake_standing_target(isolated_state)
    entry_id = plant_pending_revert(isolated_state, admin)
    plan = standing_plan(tmp_path)
    assert_refused(dry_run(plan), "pending-reverts", f"target local:{admin}", "inject_errors",
                   "run 20240101T000000Z-crashed", entry_id, "chaos-suite recover", "--recover")
    reports = tmp_path / "reports"
    real = cli("gameday", "run", str(plan), "--reports", str(reports))
    assert_refused(real, "pending-reverts", entry_id)  # the same check, the same words
    assert not reports.exists()


def test_recover_first_leaves_pending_reverts_to_the_run(tmp_path: Path,
                                                         isolated_state: Path) -> None:
    from chaos_suite.errors import GateRefused
    from chaos_suite.files.loader import resolve_plan
    from chaos_suite.safety.gates import check_gates, check_target_clean

    admin = fake_standing_target(isolated_state)
    plant_pending_revert(isolated_state, admin)
    resolved = resolve_plan(standing_plan(tmp_path))
    with pytest.raises(GateRefused, match="pending reverts"):
        check_gates(resolved, confirm=None)
    with pytest.raises(GateRefused, match="pending reverts"):
        check_target_clean(resolved)
    assert check_gates(resolved, confirm=None, recover_first=True) == []


@pytest.mark.slow
def test_dry_run_refuses_a_standing_target_with_an_active_fault(tmp_path: Path) -> None:
    from chaos_suite.targets.local import LocalTargetClient

    plan = standing_plan(tmp_path)
    with standing_target() as status, LocalTargetClient(str(status["admin_url"])) as client:
        client.set_fault(error_ratio=0.3, latency_ms=None, ttl_s=60)
        assert_refused(dry_run(plan), "active-fault", str(status["admin_url"]),
                       "error_ratio 0.3")
        client.clear_faults()
        assert_passed(dry_run(plan), plan)


def test_controls_of_the_experiment_are_steps_of_unknown_effect(tmp_path: Path) -> None:
    # a control's hooks run around every activity: they can inject as well as any step
    plan = unknown_plan(tmp_path, {"type": "probe", "name": "alive-again", "provider": {
        "type": "python", "module": "chaos_suite.faults.local", "func": "replicas_alive"}})
    exp_file = tmp_path / "custom.json"
    exp = json.loads(exp_file.read_text(encoding="utf-8"))
    exp["controls"] = [{"name": "my-hooks", "provider": {"type": "python", "module": "string"}}]
    exp_file.write_text(json.dumps(exp), encoding="utf-8")
    assert_refused(dry_run(plan), "unknown-step", "control 'my-hooks'", "python string")
