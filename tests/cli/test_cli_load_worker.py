"""`chaos-suite load worker`: bad input is one line and exit 2, before Locust is started."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
