"""The live view: on a terminal (a pseudo-terminal here) a panel redrawn in place that shows,
during a scenario, per SLO the burn rate and the budget spent, the fault, and a note added from a
second terminal (`gameday note`); with stdout a pipe, plain timestamped lines, during the
scenario too, and no cursor movement."""

from __future__ import annotations

import fcntl
import os
import re
import struct
import subprocess
import termios
import threading
from pathlib import Path

import pytest
from gameday_helpers import (
    ROOT,
    action,
    cli_command,
    experiment,
    only_run_dir,
    run_cli,
    wait_for_event,
    write_plan,
)

pytestmark = pytest.mark.slow

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
CURSOR_UP = "\x1b[1A"
NOTE = "checkout dashboard turned red [/]"


def plan(tmp_path: Path) -> Path:
    exp = experiment("errors for 8 s", [
        action("inject", "inject_errors", pause_after=8, ratio=0.5, ttl_s=60),
        action("clear", "clear_faults")], [action("clear", "clear_faults")])
    return write_plan(tmp_path, [{"name": "errors", "experiment": exp, "expect": {
        "availability": {"max_budget_consumed": "50%"}}}], baseline="3s", cooldown="2s")


def run_live(tmp_path: Path, *, tty: bool) -> tuple[str, Path]:
    """A real short gameday with stdout (and stderr) a pseudo-terminal or a pipe; a note added
    from a second process while the fault is in. (raw output, run dir)"""
    reports = tmp_path / "reports"
    command = cli_command("gameday", "run", str(plan(tmp_path)), "--reports", str(reports))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160", "LINES": "50"}
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        env.pop(name, None)
    chunks: list[bytes] = []
    if tty:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
        proc = subprocess.Popen(command, cwd=ROOT, stdin=slave, stdout=slave, stderr=slave,
                                env=env, start_new_session=True)
        os.close(slave)

        def read() -> None:
            while True:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed its side
                    return
                if not data:
                    return
                chunks.append(data)
    else:
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, env=env)
        assert proc.stdout is not None
        pipe = proc.stdout

        def read() -> None:
            while data := os.read(pipe.fileno(), 65536):
                chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        run_dir, _ = wait_for_event(reports, "fault_injected", timeout_s=90)
        noted = run_cli("gameday", "note", str(run_dir), NOTE, "--author", "alice")
        assert noted.returncode == 0, noted.stderr
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=10)
        if tty:
            os.close(master)
    return b"".join(chunks).decode("utf-8", "replace"), only_run_dir(reports)


def test_terminal_shows_a_panel_redrawn_in_place(tmp_path: Path) -> None:
    raw, _ = run_live(tmp_path, tty=True)
    assert raw.count(CURSOR_UP) > 10, raw[-3000:]  # redrawn in place, many times
    lines = [line.rstrip() for line in ANSI.sub("", raw).replace("\r", "\n").splitlines()]
    # a frame drawn during the scenario: its header, then the SLO with burn and budget spent
    burning = []
    for i, line in enumerate(lines):
        if line.startswith("▶ scenario 1/1: errors") and "elapsed of ≈" in line:
            frame = lines[i + 1:i + 12]
            burning += [row for row in frame if re.search(
                r"availability\s+SLI [\d.]+% \(\d+ req/5s\)\s+burn ([\d.]+)×\s+spent [\d.]+% "
                r"\([\d.]+% beyond baseline\)\s+expected ≤ 50%", row)]
            assert any(row.startswith("fault: ") for row in frame), frame
    assert burning, "\n".join(lines[-80:])
    peak = max(float(re.search(r"burn ([\d.]+)×", row).group(1)) for row in burning)  # type: ignore[union-attr]
    assert peak > 10  # half the requests fail against a 99.x% objective
    screen = "\n".join(lines)
    assert "fault: active: errors 50%" in screen
    assert f"alice: {NOTE}" in screen  # the second terminal's note, literally
    assert "exit code" in screen  # the footer, below the stopped panel


def test_pipe_gets_plain_timestamped_lines_during_the_scenario(tmp_path: Path) -> None:
    raw, _ = run_live(tmp_path, tty=False)
    assert "\x1b[" not in raw, raw  # no colour, no cursor movement
    lines = raw.splitlines()
    start = next(i for i, line in enumerate(lines) if "▶ scenario 1/1: errors" in line)
    end = next(i for i, line in enumerate(lines) if "▶ cool-down" in line)
    during = [line for line in lines[start:end] if re.match(
        r"\s*\d+\.\ds\s+scenario 1/1: errors · availability: burn [\d.]+× \(\d+ req/5s\), "
        r"spent [\d.]+% of budget", line)]
    assert during, raw
    assert any(re.match(r"\s*\d+\.\ds note from alice: " + re.escape(NOTE), line)
               for line in lines), raw
