"""A readable timeline of a run: phases, faults, activities, aborts and notes, in time order."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chaos_suite.report.record import Event, Note


@dataclass(frozen=True)
class TimelineEntry:
    t: float
    kind: str  # the event type, or "note"
    text: str


def _s(data: Mapping[str, Any], key: str, default: str = "") -> str:
    value = data.get(key)
    return default if value is None else str(value)


def _phase_name(data: Mapping[str, Any]) -> str:
    phase, scenario = _s(data, "phase", "phase"), _s(data, "scenario")
    if phase == "scenario" and scenario:
        return f"scenario '{scenario}'"
    return f"{phase} ({scenario})" if scenario else phase


def _phase_ended(data: Mapping[str, Any]) -> str:
    extra = [_s(data, "status")] if data.get("status") else []
    if data.get("deviated") is True:
        extra.append("hypothesis deviated")
    if data.get("steady_state_met_before") is False:
        extra.append("steady state not met before the method")
    suffix = f" ({', '.join(extra)})" if extra else ""
    return f"{_phase_name(data)} ended{suffix}"


def _fault(verb: str) -> Callable[[Mapping[str, Any]], str]:
    def describe(data: Mapping[str, Any]) -> str:
        detail = _s(data, "detail")
        text = f"fault '{_s(data, 'fault', '?')}' {verb}"
        return f"{text}: {detail}" if detail else text

    return describe


def _activity(data: Mapping[str, Any], verb: str) -> str:
    kind = _s(data, "activity_type", "activity")
    status = f" ({_s(data, 'status')})" if data.get("status") else ""
    return f"{kind} '{_s(data, 'name', '?')}' {verb}{status}"


_DESCRIBE: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "run_started": lambda d: f"run {_s(d, 'run_id')} started".replace("  ", " "),
    "phase_started": lambda d: f"{_phase_name(d)} started",
    "phase_ended": _phase_ended,
    "fault_injected": _fault("injected"),
    "fault_cleared": _fault("cleared"),
    "activity_started": lambda d: _activity(d, "started"),
    "activity_ended": lambda d: _activity(d, "ended"),
    "abort": lambda d: (
        f"ABORT: {_s(d, 'reason', 'unknown reason')}" + (f" ({_s(d, 'detail')})" if d.get("detail") else "")
    ),
    "error": lambda d: f"ERROR: {_s(d, 'reason', 'unknown')}",
    "load_stalled": lambda d: f"load generator silent for {_s(d, 'seconds', '?')} s (stalled)",
    "fault_interference": lambda d: (
        f"fault changed outside this run (generation {_s(d, 'generation', '?')}, "
        f"by {_s(d, 'changed_by') or 'unknown'})"
    ),
    "run_ended": lambda d: f"run ended: {_s(d, 'status', '?')} (exit code {_s(d, 'exit_code', '?')})",
}


def _note_text(text: str, author: str) -> str:
    return f"note by {author}: {text}" if author else f"note: {text}"


def build_timeline(events: Sequence[Event], notes: Sequence[Note]) -> list[TimelineEntry]:
    """Known events and notes, sorted by time; unknown event types are left out.

    A note recorded both as a ``note`` event and in notes.jsonl appears once.
    """
    entries: list[TimelineEntry] = []
    seen_notes: set[tuple[int, str]] = set()
    for event in events:
        if event.type == "note":
            text, author = _s(event.data, "text"), _s(event.data, "author")
            seen_notes.add((round(event.t * 1000), text))
            entries.append(TimelineEntry(event.t, "note", _note_text(text, author)))
        elif event.type in _DESCRIBE:
            entries.append(TimelineEntry(event.t, event.type, _DESCRIBE[event.type](event.data)))
    for note in notes:
        if (round(note.t * 1000), note.text) not in seen_notes:
            entries.append(TimelineEntry(note.t, "note", _note_text(note.text, note.author)))
    return sorted(entries, key=lambda entry: entry.t)
