"""Helpers for the SLO intake tests: the data folder, a fixed "now" (calendar windows depend on
it), reading files onto the model at that instant, and the CLI as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from chaos_suite.files.documents import load_documents
from chaos_suite.files.slo_file import SLOSpec
from chaos_suite.files.slo_formats import SLOFile, read_slo_files

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "slos"
DAY = 86_400
# a Sunday in March 2026, one week after New York moved its clocks forward
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def read(*paths: Path, now: datetime = NOW, count_from_load: frozenset[str] = frozenset()
         ) -> dict[str, SLOSpec]:
    """Every SLO of the files, read at `now`, by name."""
    files = [SLOFile(str(path), load_documents(path)) for path in paths]
    return {spec.name: spec for spec in read_slo_files(files, now=now,
                                                       count_from_load=count_from_load)}


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chaos_suite.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60)
