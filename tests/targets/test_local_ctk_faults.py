"""chaos_suite.faults.local as Chaos Toolkit python providers, called directly and by `chaos run`.

chaoslib is only ever imported in child processes here: importing it into the pytest process
could break a later in-process Locust import (gevent patch order, DESIGN §7).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType

import pytest

from chaos_suite.faults import local as faults
from chaos_suite.targets.local import LocalTargetClient, LocalTargetInfo, managed_target


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTargetInfo]:
    with managed_target(tmp_path_factory.mktemp("ctk") / "target", replicas=2,
                        restart_delay_s=1.0) as info:
        yield info


@pytest.fixture
def events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "events.jsonl"
    monkeypatch.setenv("CHAOS_SUITE_EVENTS_FILE", str(path))
    monkeypatch.setenv("CHAOS_SUITE_SCENARIO", "s1")
    monkeypatch.delenv("CHAOS_SUITE_ADMIN_URL", raising=False)
    return path


def read_events(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_inject_and_clear_apply_and_log_the_fault_window(target: LocalTargetInfo,
                                                         events: Path) -> None:
    out = faults.inject_errors(ratio=0.3, ttl_s=60, admin_url=target.admin_url)
    assert out["state"]["error_ratio"] == 0.3 and out["state"]["error_expires_at"]
    out = faults.inject_latency(latency_ms=50, admin_url=target.admin_url)
    assert out["state"]["latency_ms"] == 50 and out["state"]["error_ratio"] == 0.3
    with LocalTargetClient(target.admin_url) as admin:
        assert admin.status()["fault"]["active"]
        assert faults.clear_faults(admin_url=target.admin_url)["was_active"] is True
        assert not admin.status()["fault"]["active"]
    assert faults.clear_faults(admin_url=target.admin_url)["was_active"] is False
    logged = read_events(events)
    assert [(e["type"], e["fault"]) for e in logged] == [
        ("fault_injected", "inject_errors"), ("fault_injected", "inject_latency"),
        ("fault_cleared", "clear_faults"), ("fault_cleared", "clear_faults")]
    assert all(e["scenario"] == "s1" for e in logged)
    assert logged[0]["detail"] == {"error_ratio": 0.3, "ttl_s": 60.0, "paths": []}
    times = [float(e["t"]) for e in logged]  # type: ignore[arg-type]
    assert times == sorted(times)


def test_kill_replica_probe_and_its_revert(target: LocalTargetInfo, events: Path) -> None:
    config = {"chaos_suite_admin_url": target.admin_url}
    assert faults.replicas_alive(configuration=config) == 2
    killed = faults.kill_replica(index=0, configuration=config)
    assert killed["index"] == 0 and killed["signal"] == "SIGKILL"
    assert faults.wait_replicas_alive(timeout_s=15, configuration=config) == 2
    with LocalTargetClient(target.admin_url) as admin:
        replica = admin.status()["replicas"][0]
    assert replica["pid"] != killed["pid"] and replica["restarts"] >= 1
    assert read_events(events)[0]["detail"] == {"index": 0, "pid": killed["pid"],
                                                "signal": "SIGKILL"}


def test_target_is_found_by_env_and_by_the_standing_target_json(
        target: LocalTargetInfo, events: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAOS_SUITE_ADMIN_URL", target.admin_url)
    assert faults.replicas_alive() == 2
    monkeypatch.delenv("CHAOS_SUITE_ADMIN_URL")
    monkeypatch.setenv("CHAOS_SUITE_STATE_DIR", str(target.state_dir.parent))  # <dir>/target
    assert faults.replicas_alive() == 2


def test_reverts_are_an_immutable_mapping_onto_this_module() -> None:
    assert isinstance(faults.REVERTS, MappingProxyType)
    for func, revert in faults.REVERTS.items():
        assert callable(getattr(faults, func)) and callable(getattr(faults, revert))
    with pytest.raises(TypeError):
        faults.REVERTS["inject_errors"] = "nothing"  # type: ignore[index]


UNREACHABLE = """
import socket
from chaoslib.exceptions import ActivityFailed
from chaos_suite.faults import local
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
for call in (lambda: local.inject_errors(0.1, admin_url=f"http://127.0.0.1:{port}"),
             lambda: local.inject_errors(1.5, admin_url=f"http://127.0.0.1:{port}"),
             lambda: local.clear_faults()):
    try:
        call()
    except ActivityFailed as exc:
        print("ActivityFailed:", exc)
"""


def test_unreachable_or_missing_target_raises_activity_failed(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "CHAOS_SUITE_STATE_DIR": str(tmp_path / "none")}
    out = subprocess.run([sys.executable, "-c", UNREACHABLE], capture_output=True, text=True,
                         timeout=60, env=env)
    lines = out.stdout.splitlines()
    assert len(lines) == 3, out.stderr
    assert "unreachable" in lines[0]
    assert "between 0 and 1" in lines[1]
    assert "no local target found" in lines[2]


def experiment(admin_url: str) -> dict[str, object]:
    def provider(func: str, **arguments: object) -> dict[str, object]:
        return {"type": "python", "module": "chaos_suite.faults.local", "func": func,
                "arguments": arguments}

    return {
        "title": "errors and a replica kill on the local target",
        "description": "chaos_suite.faults.local under plain `chaos run`",
        "configuration": {"chaos_suite_admin_url": admin_url},
        "steady-state-hypothesis": {"title": "all replicas serve", "probes": [
            {"type": "probe", "name": "replicas", "tolerance": 2,
             "provider": provider("replicas_alive")}]},
        "method": [
            {"type": "action", "name": "errors", "provider": provider("inject_errors",
                                                                      ratio=0.5, ttl_s=60)},
            {"type": "action", "name": "kill", "provider": provider("kill_replica", index=1)},
        ],
        "rollbacks": [
            {"type": "action", "name": "clear", "provider": provider("clear_faults")},
            {"type": "action", "name": "heal", "provider": provider("wait_replicas_alive",
                                                                    timeout_s=20)},
        ],
    }


def test_plain_chaos_run_injects_deviates_and_rolls_back(target: LocalTargetInfo, tmp_path: Path) -> None:
    exp, journal, events = tmp_path / "exp.json", tmp_path / "journal.json", tmp_path / "ev.jsonl"
    exp.write_text(json.dumps(experiment(target.admin_url)))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "CHAOS_SUITE_EVENTS_FILE": str(events),
           "CHAOS_SUITE_SCENARIO": "ctk"}
    chaos = Path(sys.executable).parent / "chaos"
    out = subprocess.run([str(chaos), "--no-version-check", "--log-file", str(tmp_path / "c.log"),
                          "run", "--journal-path", str(journal), "--rollback-strategy", "always",
                          str(exp)], capture_output=True, text=True, timeout=120, env=env,
                         cwd=tmp_path)
    # Right after the kill one replica is down (restart delay 1 s): the hypothesis deviates,
    # `chaos` exits 1, and the rollbacks still clear the fault and wait for the replica.
    assert out.returncode == 1, out.stdout + out.stderr
    result = json.loads(journal.read_text())
    assert result["deviated"] is True
    assert result["steady_states"]["before"]["steady_state_met"] is True
    assert result["steady_states"]["after"]["probes"][0]["output"] == 1
    assert [r["status"] for r in result["run"]] == ["succeeded", "succeeded"]
    assert [r["status"] for r in result["rollbacks"]] == ["succeeded", "succeeded"]
    assert result["run"][1]["output"]["index"] == 1
    with LocalTargetClient(target.admin_url) as admin:
        status = admin.status()
    assert not status["fault"]["active"] and status["replicas_alive"] == 2
    logged = [(e["type"], e["fault"], e["scenario"]) for e in read_events(events)]
    assert logged == [("fault_injected", "inject_errors", "ctk"),
                      ("fault_injected", "kill_replica", "ctk"),
                      ("fault_cleared", "clear_faults", "ctk")]
