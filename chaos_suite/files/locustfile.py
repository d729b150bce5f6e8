"""Locustfiles as users write them: what one defines (User classes, their wait time and tasks,
LoadTestShape subclasses), found by importing it the way the load worker will.

The import happens in a child process (``python -m chaos_suite.load.inspect_locustfile``),
never here: importing locust monkey-patches the process with gevent (docs/architecture.md
§7.2), and a locustfile is user code that may hang, exit or print at import. The child is
bounded by a timeout and killed with its process group past it; its output is read from
temporary files, so a locustfile printing without end cannot fill this process's memory.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

from chaos_suite.errors import ValidationError
from chaos_suite.files.common import read_text_file

INSPECT_TIMEOUT_S: Final = 20.0
# the child's JSON answer is a few hundred bytes; more is not an answer
_MAX_ANSWER_BYTES: Final = 256 * 1024
_STDERR_TAIL_BYTES: Final = 2048
# a folder's .py files are locustfiles when they import locust; helper modules are left alone
_IMPORTS_LOCUST: Final = re.compile(r"^\s*(?:from\s+locust[\s.]|import\s+locust\b)", re.MULTILINE)


@dataclass(frozen=True)
class UserClassInfo:
    name: str
    wait_time: str  # between | constant | constant_pacing | poisson | custom | default
    tasks: int  # distinct tasks (a weight of 3 is one task)
    host: str | None


@dataclass(frozen=True)
class LocustfileInfo:
    path: Path
    users: tuple[UserClassInfo, ...]
    shapes: tuple[str, ...]  # LoadTestShape subclasses, in the order Locust found them

    def summary(self) -> str:
        users = ", ".join(f"{u.name} ({u.wait_time}, {u.tasks} task{'s' * (u.tasks != 1)})"
                          for u in self.users)
        shape = (f"shape {', '.join(self.shapes)}" if self.shapes else "no LoadTestShape")
        return f"{len(self.users)} user class{'es' * (len(self.users) != 1)}: {users}; {shape}"


def imports_locust(path: Path) -> bool:
    """Whether a .py file imports locust (how a folder's locustfiles are told from helpers)."""
    try:
        return _IMPORTS_LOCUST.search(read_text_file(path)) is not None
    except ValidationError:
        return True  # unreadable: validate it, so that the problem is reported


def inspect_locustfile(path: Path, timeout_s: float = INSPECT_TIMEOUT_S) -> LocustfileInfo:
    """Import the locustfile in a child process and describe it. Raises ValidationError (one
    line naming the file) when it cannot be imported, defines no User class, or a User class
    has no tasks: the load worker could not run it either."""
    file = str(path)
    read_text_file(path)  # missing, a folder, a FIFO, over 1 MiB: refused before any import
    answer = _run_child(path, timeout_s)
    error = answer.get("error")
    if error is not None:
        raise ValidationError(file, "", f"cannot import locustfile: {error}")
    info = _parse(path, answer)
    if not info.users:
        abstract = [a for a in answer.get("abstract", []) if isinstance(a, str)]
        extra = f" (only abstract ones: {', '.join(abstract)})" if abstract else ""
        raise ValidationError(file, "", f"no User class{extra}: a locustfile needs a subclass "
                              "of locust's User, HttpUser or FastHttpUser")
    for user in info.users:
        if user.tasks == 0:
            raise ValidationError(file, user.name, "User class has no tasks (no @task method "
                                  "and no 'tasks' list)")
    return info


def _run_child(path: Path, timeout_s: float) -> dict[str, Any]:
    file = str(path)
    command = [sys.executable, "-m", "chaos_suite.load.inspect_locustfile", os.path.abspath(path)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    start_new_session=True, close_fds=True)
        except OSError as exc:
            raise ValidationError(file, "", f"cannot start Python to import it: {exc}") from None
        try:
            timed_out = not _wait_exited(proc.pid, timeout_s)
        finally:
            # the child is still alive or a zombie here, so its pid (the group's id) cannot
            # have been reused: what the locustfile started at import goes with it, nothing else
            _kill_group(proc.pid)
            code = proc.wait()
        if timed_out:
            raise ValidationError(file, "", f"importing the locustfile took longer than "
                                  f"{timeout_s:g} s (does it wait on something at import?)")
        text = _read(out, _MAX_ANSWER_BYTES + 1)
        lines = [line for line in text.splitlines() if line.strip()]
        try:
            answer = json.loads(lines[-1]) if lines and len(text) <= _MAX_ANSWER_BYTES else None
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            tail = _tail(err)
            raise ValidationError(file, "", f"importing the locustfile crashed (exit code {code})"
                                  + (f": {tail}" if tail else ""))
        return answer


def _wait_exited(pid: int, timeout_s: float) -> bool:
    """Wait until the child exits, without reaping it; False past the timeout."""
    deadline = time.monotonic() + timeout_s
    while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _read(stream: IO[bytes], limit: int) -> str:
    stream.seek(0)
    return stream.read(limit).decode("utf-8", "replace")


def _tail(stream: IO[bytes]) -> str:
    """The last non-empty line the child wrote to stderr (its traceback's last line)."""
    size = stream.seek(0, os.SEEK_END)
    stream.seek(max(0, size - _STDERR_TAIL_BYTES))
    lines = [line.strip() for line in stream.read().decode("utf-8", "replace").splitlines()]
    return next((line for line in reversed(lines) if line), "")[:200]


def _parse(path: Path, answer: dict[str, Any]) -> LocustfileInfo:
    users = []
    for raw in answer.get("users", []):
        if not isinstance(raw, dict):
            continue
        host = raw.get("host")
        tasks = raw.get("tasks")
        users.append(UserClassInfo(
            name=str(raw.get("name", "")), wait_time=str(raw.get("wait_time", "custom")),
            tasks=tasks if isinstance(tasks, int) and not isinstance(tasks, bool) else 0,
            host=host if isinstance(host, str) else None))
    shapes = tuple(str(s) for s in answer.get("shapes", []) if isinstance(s, str))
    return LocustfileInfo(path=path, users=tuple(users), shapes=shapes)


__all__ = ["INSPECT_TIMEOUT_S", "LocustfileInfo", "UserClassInfo", "imports_locust",
           "inspect_locustfile"]
