"""The run record: an append-only directory that holds everything a run produced. Reports are
recomputed from it alone (report/ never talks to a target), so it is written as things happen and
survives a crash of the runner up to the last line."""

from __future__ import annotations

import getpass
import json
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

EVENTS = "events.jsonl"
SAMPLES = "samples.jsonl"
NOTES = "notes.jsonl"
PLAN = "plan.json"
JOURNALS = "journals"


def utc_iso(t: float | None = None) -> str:
    return datetime.fromtimestamp(time.time() if t is None else t, UTC).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")


def run_id_for(gameday: str, t: float | None = None) -> str:
    stamp = datetime.fromtimestamp(time.time() if t is None else t, UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{gameday}"


class RunRecordWriter:
    """Thread-safe appender for events and samples. Events are fsynced (they are the evidence of
    what was injected); samples are flushed per line and fsynced at close."""

    def __init__(self, run_dir: Path, redact: Any = None) -> None:
        self.run_dir = run_dir
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / JOURNALS).mkdir(exist_ok=True)
        self._lock = threading.Lock()
        self._events: TextIO = open(run_dir / EVENTS, "a", encoding="utf-8")  # noqa: SIM115
        self._samples: TextIO = open(run_dir / SAMPLES, "a", encoding="utf-8")  # noqa: SIM115
        self._redact = redact

    @property
    def events_path(self) -> Path:
        return self.run_dir / EVENTS

    @property
    def samples_path(self) -> Path:
        return self.run_dir / SAMPLES

    def _clean(self, obj: Any) -> Any:
        return self._redact(obj) if self._redact is not None else obj

    def write_json(self, name: str, data: Any) -> Path:
        path = self.run_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self._clean(data), indent=2, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return path

    def event(self, type_: str, **fields: Any) -> dict[str, Any]:
        entry = {"t": time.time(), "type": type_, **fields}
        line = json.dumps(self._clean(entry), default=str)
        with self._lock:
            if self._events.closed:
                return entry
            self._events.write(line + "\n")
            self._events.flush()
            os.fsync(self._events.fileno())
        return entry

    def sample(self, sample: dict[str, Any]) -> None:
        line = json.dumps(self._clean(sample))
        with self._lock:
            if self._samples.closed:
                return
            self._samples.write(line + "\n")
            self._samples.flush()

    def close(self) -> None:
        with self._lock:
            for handle in (self._events, self._samples):
                if not handle.closed:
                    handle.flush()
                    os.fsync(handle.fileno())
                    handle.close()


def append_note(run_dir: Path, text: str, author: str | None = None) -> str:
    """A facilitator's observation, timestamped; works on live and finished runs."""
    from chaos_suite.errors import InputError
    from chaos_suite.safety.redact import redactor_for

    if not (run_dir / PLAN).is_file():
        raise InputError(f"{run_dir}: not a run directory (no {PLAN})")
    if not text.strip():
        raise InputError("note text is empty")
    now = time.time()
    # a note pasted from a terminal may quote a credential; the run's own experiments are not
    # at hand here, the environment's and the kubeconfig's secrets are
    entry = redactor_for(())({"t": now, "text": text, "author": author or _user()})
    with open(run_dir / NOTES, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return utc_iso(now)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
