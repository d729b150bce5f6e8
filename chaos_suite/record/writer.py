"""Writing the run record (docs/architecture.md §4): only typed values go in, so every line on
disk is one of the contract's models. Events and notes are evidence and fsynced per line;
whole files are replaced atomically; samples are flushed per line and fsynced at close."""

from __future__ import annotations

import getpass
import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from chaos_suite import durable
from chaos_suite.record.models import (
    ACTION_ITEMS,
    EVENTS,
    JOURNALS,
    NOTES,
    PLAN,
    SAMPLES,
    SERVER_COUNTERS,
    SERVER_COUNTERS_ADAPTER,
    Event,
    Note,
    RecordModel,
    RunPlan,
    Sample,
    ServerCounterRow,
)

if TYPE_CHECKING:
    from chaos_suite.record.models import ActionItemCreated, ActionItemDone

Redact = Callable[[Any], Any]


def utc_iso(t: float | None = None) -> str:
    return datetime.fromtimestamp(time.time() if t is None else t, UTC).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")


def run_id_for(gameday: str, t: float | None = None) -> str:
    stamp = datetime.fromtimestamp(time.time() if t is None else t, UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{gameday}"


def _line(model: RecordModel, redact: Redact | None) -> str:
    data = model.model_dump(mode="json")
    return json.dumps(redact(data) if redact is not None else data)


def append_event(path: Path, event: Event, redact_text: Callable[[str], str] | None = None
                 ) -> None:
    """One durable line into an events file; for writers outside the runner's process state
    (the control, fault providers), which redact the serialised line themselves."""
    line = _line(event, None)
    durable.append_line(path, redact_text(line) if redact_text is not None else line)


class RunRecordWriter:
    """Thread-safe writer of one run directory; `redact` masks secrets in everything written
    (§6.8)."""

    def __init__(self, run_dir: Path, redact: Redact | None = None) -> None:
        self.run_dir = run_dir
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / JOURNALS).mkdir(exist_ok=True)
        self._lock = threading.Lock()
        self._closed = False
        self._samples: TextIO = open(run_dir / SAMPLES, "a", encoding="utf-8")  # noqa: SIM115
        (run_dir / EVENTS).touch()
        self._redact = redact

    @property
    def events_path(self) -> Path:
        return self.run_dir / EVENTS

    @property
    def samples_path(self) -> Path:
        return self.run_dir / SAMPLES

    def _clean(self, obj: Any) -> Any:
        return self._redact(obj) if self._redact is not None else obj

    def plan(self, plan: RunPlan) -> Path:
        return durable.write_text(self.run_dir / PLAN, json.dumps(
            self._clean(plan.model_dump(mode="json")), indent=2) + "\n")

    def server_counters(self, rows: Sequence[ServerCounterRow] | Sequence[dict[str, Any]]
                        ) -> Path:
        typed = SERVER_COUNTERS_ADAPTER.validate_python(list(rows))
        return durable.write_text(self.run_dir / SERVER_COUNTERS, json.dumps(
            SERVER_COUNTERS_ADAPTER.dump_python(typed, mode="json"), indent=2) + "\n")

    def write_json(self, name: str, data: Any) -> Path:
        """A file outside the typed contract, such as chaoslib's journal under journals/."""
        return durable.write_json(self.run_dir / name, self._clean(data), indent=2)

    def event(self, event: Event) -> Event:
        line = _line(event, self._redact)
        with self._lock:
            if not self._closed:
                durable.append_line(self.events_path, line)
        return event

    def sample(self, sample: Sample) -> None:
        line = _line(sample, self._redact)
        with self._lock:
            if self._closed:
                return
            self._samples.write(line + "\n")
            self._samples.flush()

    def note(self, note: Note) -> None:
        durable.append_line(self.run_dir / NOTES, _line(note, self._redact))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if not self._samples.closed:
                self._samples.flush()
                os.fsync(self._samples.fileno())
                self._samples.close()


def append_note(run_dir: Path, text: str, author: str | None = None) -> str:
    """A facilitator's observation, timestamped; works on live and finished runs."""
    from chaos_suite.errors import InputError
    from chaos_suite.safety.redact import redactor_for

    if not (run_dir / PLAN).is_file():
        raise InputError(f"{run_dir}: not a run directory (no {PLAN})")
    if not text.strip():
        raise InputError("note text is empty")
    note = Note(t=time.time(), text=text, author=author or _user())
    # a note pasted from a terminal may quote a credential; the run's own experiments are not
    # at hand here, the environment's and the kubeconfig's secrets are
    durable.append_line(run_dir / NOTES, _line(note, redactor_for(())))
    return utc_iso(note.t)


def _action_item_lines(path: Path) -> list[ActionItemCreated | ActionItemDone]:
    from chaos_suite.record.reader import _action_item_line, _read_jsonl

    return list(_read_jsonl(path, [], lambda data, _: _action_item_line(data)))


def _append_action_line(run_dir: Path, make: Callable[[list[ActionItemCreated | ActionItemDone]],
                                                      ActionItemCreated | ActionItemDone]
                        ) -> ActionItemCreated | ActionItemDone:
    """Read the lines and append one under an exclusive lock: two `gameday action` processes
    at once must not hand out the same id."""
    import fcntl

    from chaos_suite.errors import InputError
    from chaos_suite.safety.redact import redactor_for

    if not (run_dir / PLAN).is_file():
        raise InputError(f"{run_dir}: not a run directory (no {PLAN})")
    path = run_dir / ACTION_ITEMS
    with open(path, "a", encoding="utf-8") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # released when the handle closes
        line = make(_action_item_lines(path))
        # like notes: text pasted from a terminal may quote a credential
        handle.write(_line(line, redactor_for(())) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return line


def append_action_item(run_dir: Path, text: str, owner: str, due: str,
                       link: str | None = None) -> ActionItemCreated:
    """A new action item, live or after the run: id A1, A2, ... in the order they are made.
    Raises InputError (exit 2) naming what is wrong with an input."""
    from datetime import date

    from chaos_suite.errors import InputError
    from chaos_suite.record.models import ActionItemCreated

    if not text.strip():
        raise InputError("action item text is empty")
    if not owner.strip():
        raise InputError("--owner is empty: name who owns the action item")
    try:  # fromisoformat alone accepts 20261201 and week dates
        if len(due) != 10 or due[4] != "-" or due[7] != "-":
            raise ValueError
        date.fromisoformat(due)
    except ValueError:
        raise InputError(f"--due {due!r}: expected a real date as YYYY-MM-DD") from None
    if link is not None:
        from urllib.parse import urlsplit

        parts = urlsplit(link)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(f"--link {link!r}: expected an http:// or https:// URL")

    def make(lines: list[ActionItemCreated | ActionItemDone]) -> ActionItemCreated:
        count = sum(1 for line in lines if isinstance(line, ActionItemCreated))
        return ActionItemCreated(t=time.time(), id=f"A{count + 1}", text=text.strip(),
                                 owner=owner.strip(), due=due, link=link)

    created = _append_action_line(run_dir, make)
    assert isinstance(created, ActionItemCreated)
    return created


def close_action_item(run_dir: Path, item_id: str) -> ActionItemDone:
    """Mark an action item done; an unknown id is an InputError (exit 2)."""
    from chaos_suite.errors import InputError
    from chaos_suite.record.models import ActionItemCreated, ActionItemDone

    def make(lines: list[ActionItemCreated | ActionItemDone]) -> ActionItemDone:
        known = [line.id for line in lines if isinstance(line, ActionItemCreated)]
        if item_id not in known:
            raise InputError(f"--done {item_id!r}: no such action item in {run_dir}"
                             + (f" (known: {', '.join(known)})" if known else " (it has none)"))
        return ActionItemDone(t=time.time(), id=item_id)

    done = _append_action_line(run_dir, make)
    assert isinstance(done, ActionItemDone)
    return done


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
