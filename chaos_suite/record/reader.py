"""Reading a run directory into the typed run record (docs/architecture.md §4).

The record is append-only and may come from a run that was killed: the last line of a JSONL
file can be cut short, ``*_ended`` events can be missing. Lines that are not one of the
contract's models are skipped and named in ``RunRecord.warnings``; only plan.json must be
usable, and a plan of an unknown (newer) version is refused rather than misread.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError as PydanticValidationError

from chaos_suite.errors import InputError, ValidationError
from chaos_suite.record.models import (
    ACTION_ITEM_ADAPTER,
    ACTION_ITEMS,
    EVENT_ADAPTER,
    EVENTS,
    JOURNALS,
    LEDGER,
    NOTES,
    PLAN,
    PRE_V1,
    RUN_RECORD_VERSION,
    SAMPLES,
    SERVER_COUNTERS,
    SERVER_COUNTERS_ADAPTER,
    ActionItem,
    ActionItemCreated,
    ActionItemDone,
    Event,
    LedgerEntry,
    Note,
    RunPlan,
    Sample,
    ServerCounterRow,
    SLICounts,
    fold_action_items,
)

MAX_WARNINGS_PER_FILE = 20

T = TypeVar("T")


@dataclass(frozen=True)
class RunRecord:
    """A run directory, read. ``version`` is plan.json's; None for the pre-v1 layout."""

    run_dir: Path
    version: str | None
    plan: RunPlan
    events: tuple[Event, ...]
    samples: tuple[Sample, ...]
    notes: tuple[Note, ...]
    ledger: tuple[LedgerEntry, ...]  # pending and cleared (``cleared`` set) entries
    server_counters: tuple[ServerCounterRow, ...] | None
    journals: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    action_items: tuple[ActionItem, ...] = ()  # folded from action_items.jsonl


def _loads(text: str) -> Any:
    """json.loads, but NaN and Infinity (which Python would accept) become null."""
    return json.loads(text, parse_constant=lambda _constant: None)


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _problem(exc: PydanticValidationError, data: dict[str, Any]) -> str:
    """The first error of a line in a few words, with its field path."""
    first = exc.errors(include_url=False)[0]
    if first["type"] == "union_tag_invalid":
        return f"unknown event type {_short(data.get('type'))}"
    if first["type"] == "union_tag_not_found":
        return "no event type"
    # a tagged union puts the tag first in the path; it is no key of the line
    loc = [str(p) for p in first["loc"]]
    if loc and loc[0] == data.get("type"):
        loc = loc[1:]
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{'.'.join(loc)}: {message}" if loc else message


class _Skip(ValueError):
    """A line that is JSON but not a record line; the message says why."""


def _event(data: dict[str, Any], context: dict[str, bool] | None) -> Event:
    if "t" not in data:  # a writer's default (now) would misplace it
        raise _Skip("t: required field is missing")
    return EVENT_ADAPTER.validate_python(data, context=context)


class _Warnings:
    """At most MAX_WARNINGS_PER_FILE lines per file, then a count of the rest."""

    def __init__(self, out: list[str], name: str) -> None:
        self._out, self._name, self._count = out, name, 0

    def add(self, text: str) -> None:
        self._count += 1
        if self._count <= MAX_WARNINGS_PER_FILE:
            self._out.append(f"{self._name} {text}")

    def close(self) -> None:
        if self._count > MAX_WARNINGS_PER_FILE:
            self._out.append(f"{self._name}: {self._count - MAX_WARNINGS_PER_FILE} more lines "
                             "skipped")


def _read_jsonl(path: Path, out: list[str],
                parse: Callable[[dict[str, Any], Callable[[str], None]], T]) -> Iterator[T]:
    if not path.is_file():
        return
    warnings = _Warnings(out, path.name)
    text = path.read_bytes().decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = _loads(line)
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, dict):
            warnings.add(f"line {number}: not a JSON object, skipped")
            continue
        def warn(text: str, number: int = number) -> None:
            warnings.add(f"line {number}: {text}")

        try:
            yield parse(value, warn)
        except PydanticValidationError as exc:
            warnings.add(f"line {number}: {_problem(exc, value)}, skipped")
        except _Skip as exc:
            warnings.add(f"line {number}: {exc}, skipped")
    warnings.close()


def _context(version: str | None) -> dict[str, bool] | None:
    return PRE_V1 if version is None else None


def _sample(data: dict[str, Any], version: str | None, warn: Callable[[str], None]) -> Sample:
    """A sample keeps its good SLIs when another one's counts are broken."""
    slis = data.get("slis")
    if isinstance(slis, dict):
        kept: dict[str, SLICounts] = {}
        for name, counts in slis.items():
            try:
                kept[str(name)] = SLICounts.model_validate(counts, context=_context(version))
            except PydanticValidationError:
                warn(f"bad counts for '{name}', skipped")
        data = {**data, "slis": kept}
    t = data.get("t")
    if isinstance(t, float) and math.isfinite(t):
        data = {**data, "t": math.floor(t)}  # a sample second is the second it starts in
    return Sample.model_validate(data, context=_context(version))


def read_plan(path: Path) -> tuple[RunPlan, str | None]:
    """plan.json and its version (None: pre-v1). Raises InputError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: not found; is this a chaos-suite run directory?") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read ({exc})") from exc
    try:
        data = _loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: invalid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ValidationError(str(path), "", "expected a JSON object")
    version: str | None = None
    if "version" in data:
        if data["version"] != RUN_RECORD_VERSION:
            raise InputError(
                f"{path}: run record version {_short(data['version'])} is unknown or newer than "
                f"this chaos-suite, which reads {RUN_RECORD_VERSION} and the unversioned "
                "records written before it")
        version = RUN_RECORD_VERSION
    try:
        return RunPlan.model_validate(data, context=_context(version)), version
    except PydanticValidationError as exc:
        from chaos_suite.files.common import raise_for_pydantic

        raise_for_pydantic(str(path), exc, data=data)
        raise


def _read_json(path: Path, out: list[str]) -> Any:
    try:
        return _loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        out.append(f"{path.name}: cannot be read ({exc}), left out")
        return None


def _read_ledger(folder: Path, version: str | None, out: list[str]) -> tuple[LedgerEntry, ...]:
    paths = [*sorted(folder.glob("*.json")), *sorted((folder / "cleared").glob("*.json"))] \
        if folder.is_dir() else []
    entries: list[LedgerEntry] = []
    for path in paths:
        data = _read_json(path, out)
        try:
            entries.append(LedgerEntry.model_validate(data, context=_context(version)))
        except PydanticValidationError as exc:
            out.append(f"{LEDGER}/{path.relative_to(folder)}: "
                       f"{_problem(exc, data if isinstance(data, dict) else {})}, left out")
    return tuple(sorted(entries, key=lambda entry: entry.t))


def _read_server_counters(path: Path, version: str | None, out: list[str]
                          ) -> tuple[ServerCounterRow, ...] | None:
    if not path.is_file():
        return None
    data = _read_json(path, out)
    try:
        return tuple(SERVER_COUNTERS_ADAPTER.validate_python(data, context=_context(version)))
    except PydanticValidationError as exc:
        out.append(f"{path.name}: {_problem(exc, {})}, left out")
        return None


def _action_item_line(data: dict[str, Any]) -> ActionItemCreated | ActionItemDone:
    return ACTION_ITEM_ADAPTER.validate_python(data)


def read_action_items(run_dir: Path, warnings: list[str] | None = None
                      ) -> tuple[ActionItem, ...]:
    """The current state of a run's action items (action_items.jsonl folded); bad lines are
    skipped and named in ``warnings``."""
    lines = list(_read_jsonl(Path(run_dir) / ACTION_ITEMS, [] if warnings is None else warnings,
                             lambda data, _: _action_item_line(data)))
    return fold_action_items(lines)


def load_run(run_dir: Path) -> RunRecord:
    """Read a run directory. Raises InputError (naming the file) when plan.json is unusable or
    of a version this code does not know."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: not a directory")
    plan, version = read_plan(run_dir / PLAN)
    context = _context(version)
    warnings: list[str] = []
    events = list(_read_jsonl(
        run_dir / EVENTS, warnings,
        lambda data, _: _event(data, context)))
    samples = list(_read_jsonl(run_dir / SAMPLES, warnings,
                               lambda data, warn: _sample(data, version, warn)))
    notes = list(_read_jsonl(run_dir / NOTES, warnings,
                             lambda data, _: Note.model_validate(data, context=context)))
    journals_dir = run_dir / JOURNALS
    journals = tuple(sorted(p.name for p in journals_dir.glob("*.json"))) \
        if journals_dir.is_dir() else ()
    # stable sorts: equal times keep the order they were written in
    return RunRecord(
        run_dir=run_dir,
        version=version,
        plan=plan,
        events=tuple(sorted(events, key=lambda event: event.t)),
        samples=tuple(sorted(samples, key=lambda sample: sample.t)),
        notes=tuple(sorted(notes, key=lambda note: note.t)),
        ledger=_read_ledger(run_dir / LEDGER, version, warnings),
        server_counters=_read_server_counters(run_dir / SERVER_COUNTERS, version, warnings),
        journals=journals,
        action_items=read_action_items(run_dir, warnings),
        warnings=tuple(warnings),
    )
