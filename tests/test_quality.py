"""The code base stays mypy-clean (strict) and ruff-clean: checked like any other behaviour."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_strict_clean(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path), "chaos_suite"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_clean() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "chaos_suite", "tests", "benchmarks"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_import_time_side_effects() -> None:
    """Importing every module of the package starts nothing and patches nothing (gevent stays in
    the Locust process)."""
    code = (
        "import importlib, pkgutil, sys, chaos_suite\n"
        "skip = {'chaos_suite.load.worker', 'chaos_suite.load.plugin', 'chaos_suite.load.shapes',\n"
        "        'chaos_suite.load.distributed'}  # modules of the Locust process only\n"
        "for m in pkgutil.walk_packages(chaos_suite.__path__, 'chaos_suite.'):\n"
        "    if m.name not in skip and not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
        "import threading\n"
        "assert 'gevent' not in sys.modules, 'gevent imported'\n"
        "assert threading.active_count() == 1, threading.enumerate()\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
