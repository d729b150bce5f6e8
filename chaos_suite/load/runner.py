"""Runner-side handle on the Locust load process. Never imports locust or gevent.

:class:`LoadProcess` starts ``python -m chaos_suite.load.worker`` as a child in its own process
group (so ``recover`` can kill it by pgid), feeds it the config on stdin, and a reader thread
turns its stdout JSON lines into ``on_sample`` calls (one per second bucket, see
``chaos_suite.load.buckets`` for the format). The child polls its parent pid and stops by itself
if the runner dies, so no Locust outlives a killed run.

The worker opens no log file of its own: its stderr (Locust's log, the locustfile's prints)
comes back through a pipe and the runner writes it to the log, each line through ``redact``
first, since a locustfile may print or log the secrets it reads from the environment.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from chaos_suite.errors import PreflightError
from chaos_suite.load.config import LoadConfig, parse_config

log = logging.getLogger(__name__)

_STDERR_TAIL_LINES = 200
_POLL_S = 0.05
_JOIN_S = 5.0


class LoadProcess:
    """One Locust run in a child process, streaming per-second samples to ``on_sample``.

    ``on_sample`` runs on the reader thread; it must be quick and thread-safe. Exceptions it
    raises are logged and swallowed (a slow or failing consumer must not stall Locust, whose
    writes would block once the pipe is full).
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        on_sample: Callable[[dict[str, Any]], None],
        log_path: Path | None = None,
        redact: Callable[[str], str] | None = None,
        on_event: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        # Validate here, in the caller's process: a bad plan fails before anything is spawned.
        self.config: LoadConfig = parse_config(config)
        self._on_sample = on_sample
        # distributed mode: {"type": "worker_lost", ...} lines (reader thread, like on_sample)
        self._on_event = on_event
        self.workers_lost: list[dict[str, Any]] = []
        # the config's log_file is honoured here, by the runner, so that it is redacted too
        log_file = self.config.log_file
        self._log_path = log_path or (Path(log_file) if log_file else None)
        self._redact: Callable[[str], str] = redact or str
        self._log: IO[bytes] | None = None
        self._log_lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._err_reader: threading.Thread | None = None
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=_STDERR_TAIL_LINES)
        self._ready = threading.Event()
        self._eof = threading.Event()
        self._lock = threading.Lock()
        self.ready_info: dict[str, Any] = {}
        self._done: dict[str, Any] | None = None
        self._error: str | None = None
        self._summary: dict[str, Any] | None = None
        self.samples_seen = 0
        self.requests_seen = 0  # requests the samples counted (whatever SLIs they match)

    # -- properties -------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The worker's pid, which is also its process-group id."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and not self._exited()

    @property
    def stderr_tail(self) -> list[str]:
        """The last lines the worker wrote to stderr, redacted."""
        return list(self._stderr_tail)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self, ready_timeout_s: float = 20) -> None:
        """Spawn the worker and wait until it reports ready.

        Raises PreflightError (naming the locustfile) if it exits or stays silent instead. A
        distributed load reports ready once its workers connected: it has
        ``expect_workers_timeout_s`` more (the worker itself fails the start after that).
        """
        if self._proc is not None:
            raise RuntimeError("LoadProcess.start() called twice")
        if self.config.workers:
            ready_timeout_s += self.config.expect_workers_timeout_s
        blob = {**self.config.to_json(), "log_file": None, "parent_pid": os.getpid()}
        if self._log_path is not None:
            self._log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self._log_path, "ab")  # noqa: SIM115 - closed in _finish
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "chaos_suite.load.worker", "-"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # own process group: pgid == pid
                close_fds=True,
            )
        except BaseException:
            self._close_log()
            raise
        self._start_readers()
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(json.dumps(blob).encode())
            self._proc.stdin.close()
        except BrokenPipeError:
            pass  # it died already; reported below
        self._wait_ready(ready_timeout_s)

    def _start_readers(self) -> None:
        assert self._proc is not None
        self._reader = threading.Thread(
            target=self._read_stdout, name=f"load-reader-{self._proc.pid}", daemon=True
        )
        self._reader.start()
        self._err_reader = threading.Thread(
            target=self._read_stderr, name=f"load-stderr-{self._proc.pid}", daemon=True
        )
        self._err_reader.start()

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not self._ready.is_set():
            if self._eof.is_set() or not self.running:
                self._eof.wait(_JOIN_S)  # let the reader pick up the error line
                self._finish(wait_s=_JOIN_S)
                raise PreflightError(f"load worker failed to start: {self._failure_message()}")
            if time.monotonic() >= deadline:
                self._kill_group(signal.SIGKILL)
                self._finish(wait_s=_JOIN_S)
                raise PreflightError(
                    f"load worker did not become ready within {timeout_s:g}s "
                    f"(locustfile {self.config.locustfile}): {self._failure_message()}"
                )
            self._ready.wait(_POLL_S)

    def stop(self, timeout_s: float = 10) -> dict[str, Any]:
        """Stop gracefully (SIGTERM: the worker stops Locust, flushes buckets, prints done),
        SIGKILL the process group after ``timeout_s``; returns the done summary. Idempotent."""
        with self._lock:
            if self._summary is not None:
                return self._summary
            if self._proc is None:
                self._summary = {"type": "done", "status": "not_started", "returncode": None}
                return self._summary
            if not self._exited():
                self._kill_group(signal.SIGTERM)
                if not self._wait_exit(timeout_s):
                    log.warning("load worker %s ignored SIGTERM; killing it", self._proc.pid)
                    self._kill_group(signal.SIGKILL)
            return self._finish(wait_s=_JOIN_S)

    def wait(self, timeout_s: float) -> dict[str, Any]:
        """Wait for the run to end by itself (shape over); returns the done summary.

        Raises TimeoutError if it is still running after ``timeout_s`` (it is left running).
        """
        if self._proc is None:
            raise RuntimeError("LoadProcess.wait() before start()")
        if not self._wait_exit(timeout_s):
            raise TimeoutError(f"load still running after {timeout_s:g}s")
        with self._lock:
            return self._finish(wait_s=_JOIN_S)

    def _finish(self, wait_s: float) -> dict[str, Any]:
        """Reap the child, drain the readers, build the summary once."""
        if self._summary is not None:
            return self._summary
        assert self._proc is not None
        if not self._wait_exit(wait_s):
            self._kill_group(signal.SIGKILL)
            self._wait_exit(wait_s)
        # The leader is a zombie now, so its pgid cannot have been reused: anything the
        # locustfile started in the worker's group goes with it. Only then reap.
        self._kill_group(signal.SIGKILL)
        rc = self._proc.wait(wait_s)
        for thread in (self._reader, self._err_reader):
            if thread is not None:
                thread.join(wait_s)
        self._close_log()
        if self._done is not None:
            summary = {**self._done, "returncode": rc}
        else:
            status = "killed" if rc is not None and rc < 0 else "crashed"
            summary = {"type": "done", "status": status, "returncode": rc,
                       "error": self._error}
        summary["samples"] = self.samples_seen
        self._summary = summary
        return summary

    def _exited(self) -> bool:
        """Whether the child has exited, without reaping it (WNOWAIT): until reaped its pid,
        and so its process-group id, cannot be reused, which makes killpg safe."""
        assert self._proc is not None
        if self._proc.returncode is not None:
            return True
        try:
            info = os.waitid(os.P_PID, self._proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None

    def _wait_exit(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while not self._exited():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def _kill_group(self, sig: signal.Signals) -> None:
        assert self._proc is not None
        if self._proc.returncode is not None:
            return  # reaped: the pgid may belong to someone else by now
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, sig)

    # -- reading ----------------------------------------------------------------------------

    def _read_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        try:
            for raw in self._proc.stdout:
                self._handle_line(raw)
        finally:
            self._eof.set()

    def _handle_line(self, raw: bytes) -> None:
        try:
            msg = json.loads(raw)
        except ValueError:
            msg = None
        if not isinstance(msg, dict):
            # not the protocol (user code writing to the protocol's fd): keep it, in the log
            self._log_line(raw)
            return
        kind = msg.get("type")
        if kind is None:
            self.samples_seen += 1
            requests = msg.get("requests")
            if isinstance(requests, int) and not isinstance(requests, bool):
                self.requests_seen += requests
            try:
                self._on_sample(msg)
            except Exception:
                log.exception("on_sample failed for the sample of second %s", msg.get("t"))
        elif kind == "ready":
            self.ready_info = msg
            self._ready.set()
        elif kind == "done":
            self._done = msg
        elif kind == "error":
            self._error = self._redact(str(msg.get("message")))
        elif kind == "worker_lost":
            self.workers_lost.append(msg)
            if self._on_event is not None:
                try:
                    self._on_event(msg)
                except Exception:
                    log.exception("on_event failed for %s", msg)

    def _read_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        for raw in self._proc.stderr:
            self._log_line(raw)

    def _log_line(self, raw: bytes) -> None:
        """One line of the worker's output, redacted, into the tail and the log file."""
        line = self._redact(raw.decode("utf-8", "replace").rstrip("\n"))
        self._stderr_tail.append(line)
        with self._log_lock:
            if self._log is not None:
                self._log.write(line.encode("utf-8") + b"\n")
                self._log.flush()

    def _close_log(self) -> None:
        with self._log_lock:
            if self._log is not None:
                self._log.close()
                self._log = None

    def _failure_message(self) -> str:
        if self._error:
            return self._error
        tail = self.stderr_tail
        rc = self._proc.returncode if self._proc is not None else None
        last = next((line for line in reversed(tail) if line.strip()), "")
        return f"exit code {rc}; {last}" if last else f"exit code {rc}"

    # -- context manager --------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
