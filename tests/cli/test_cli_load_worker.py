"""`chaos-suite load worker`: bad input is one line and exit 2, before Locust is started. The
plan's distributed-load keys (workers, local_workers, master_bind, master_port, workers_timeout):
what does not fit is one line naming the field; the dry run prints the remote workers' command."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("args", "says"), [
    (["--master", "nope", "loadtests/checkout.py"], "--master: expected HOST:PORT"),
    (["--master", "127.0.0.1:99999", "loadtests/checkout.py"], "--master: expected HOST:PORT"),
    (["--master", "127.0.0.1:5557", "loadtests/missing.py"], "no such locustfile"),
])
def test_bad_worker_input_is_one_line_exit_2(args: list[str], says: str) -> None:
    done = subprocess.run([sys.executable, "-m", "chaos_suite.cli", "load", "worker", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0]


def _demo_plan(tmp_path: Path, **load: object) -> Path:
    """The demo gameday (with its SLOs, environments, experiments, locustfile) under tmp_path, its load
    section given ``load`` too."""
    for folder in ("gamedays", "loadtests", "experiments"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    path = tmp_path / "gamedays" / "demo.yaml"
    plan = yaml.safe_load(path.read_text(encoding="utf-8"))
    plan["load"].update(load)
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(("load", "says"), [
    ({"workers": 2, "local_workers": 3}, "load: local_workers must be <= workers (2)"),
    ({"workers": 3, "local_workers": 1, "master_bind": "0.0.0.0"},
     "load: master_port 2 remote workers (workers 3 - local_workers 1) need a fixed port"),
    ({"workers": 2, "local_workers": 0, "master_port": 5557},
     "load: master_bind remote workers need the address the master listens on"),
    ({"workers": 2, "master_bind": "my-host"}, "load: master_bind must be an IPv4 address"),
    ({"master_port": 5557}, "load: master_port needs workers"),
    ({"workers_timeout": "5s"}, "load: workers_timeout needs workers"),
    ({"workers": 2, "master_port": 70000}, "load.master_port"),
    ({"workers": 2, "min_workers": 3}, "load: min_workers must be <= workers (2)"),
    ({"min_workers": 1}, "load: min_workers needs workers"),
])
def test_distributed_plan_keys_that_do_not_fit_are_one_line_exit_2(
        tmp_path: Path, load: dict[str, object], says: str) -> None:
    done = subprocess.run([sys.executable, "-m", "chaos_suite.cli", "validate",
                           str(_demo_plan(tmp_path, **load))],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1 and says in lines[0], lines


def test_the_dry_run_prints_what_each_remote_machine_runs(tmp_path: Path) -> None:
    plan = _demo_plan(tmp_path, workers=3, local_workers=1, master_bind="0.0.0.0",
                      master_port=5557, workers_timeout="2m")
    assert subprocess.run([sys.executable, "-m", "chaos_suite.cli", "validate", str(plan)],
                          cwd=tmp_path, capture_output=True, timeout=60).returncode == 0
    done = subprocess.run([sys.executable, "-m", "chaos_suite.cli", "gameday", "run", str(plan),
                           "--dry-run"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "load: 3 Locust workers, 2 remote" in out
    assert "  chaos-suite load worker --master HOST:5557 loadtests/checkout.py\n" in out
    assert "takes any worker that connects there" in out  # 0.0.0.0: the security note
    assert "nothing was injected" in out
