"""A readable timeline of a run: phases, faults, activities, aborts and notes, in time order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chaos_suite.record import (
    AbortEvent,
    ActivityEnded,
    ActivityStarted,
    ErrorEvent,
    FaultCleared,
    FaultInjected,
    FaultInterference,
    LoadStalled,
    NoteEvent,
    PhaseEnded,
    PhaseStarted,
    RunEnded,
    RunStarted,
    WorkerLost,
)
from chaos_suite.record.models import AlertNotified, AlertState
from chaos_suite.report.record import Event, Note


@dataclass(frozen=True)
class TimelineEntry:
    t: float
    kind: str  # the event type, or "note"
    text: str


def _phase_name(event: PhaseStarted | PhaseEnded) -> str:
    phase, scenario = event.phase, event.scenario
    if phase == "scenario" and scenario:
        return f"scenario '{scenario}'"
    return f"{phase} ({scenario})" if scenario else phase


def _phase_ended(event: PhaseEnded) -> str:
    extra = [event.status] if event.status else []
    if event.deviated is True:
        extra.append("hypothesis deviated")
    if event.steady_state_met_before is False:
        extra.append("steady state not met before the method")
    suffix = f" ({', '.join(extra)})" if extra else ""
    return f"{_phase_name(event)} ended{suffix}"


def _fault(event: FaultInjected | FaultCleared, verb: str) -> str:
    detail = ", ".join(f"{k}={v}" for k, v in event.detail.model_dump(mode="json").items())
    text = f"fault '{event.fault}' {verb}"
    return f"{text}: {detail}" if detail else text


def _activity(event: ActivityStarted | ActivityEnded, verb: str) -> str:
    kind = event.activity_type or "activity"
    status = f" ({event.status})" if isinstance(event, ActivityEnded) and event.status else ""
    return f"{kind} '{event.name or '?'}' {verb}{status}"


def describe(event: Event) -> str | None:
    """One line for the timeline; None for events it leaves out (load, target, ledger...)."""
    match event:
        case RunStarted():
            return f"run {event.run_id} started".replace("  ", " ")
        case PhaseStarted():
            return f"{_phase_name(event)} started"
        case PhaseEnded():
            return _phase_ended(event)
        case FaultInjected():
            return _fault(event, "injected")
        case FaultCleared():
            return _fault(event, "cleared")
        case ActivityStarted():
            return _activity(event, "started")
        case ActivityEnded():
            return _activity(event, "ended")
        case AbortEvent():
            return f"ABORT: {event.reason or 'unknown reason'}" + (
                f" ({event.message})" if event.message else "")
        case ErrorEvent():
            return f"ERROR: {event.reason or 'unknown'}"
        case LoadStalled():
            return f"load generator silent for {event.seconds:g} s (stalled)"
        case FaultInterference():
            return (f"fault changed outside this run (generation {event.generation}, "
                    f"by {event.changed_by or 'unknown'})")
        case AlertState():  # detection: the chart marks these beside faults and notes
            return f"alert {event.name} {event.state} ({event.source})"
        case AlertNotified():
            return f"page: alert {event.name} {event.status} notified" + (
                f" to {event.receiver}" if event.receiver else "")
        case WorkerLost():
            return f"Locust worker lost ({event.reason or 'gone'}): {event.live} of {event.workers} left"
        case RunEnded():
            return f"run ended: {event.status} (exit code {event.exit_code})"
    return None


def _note_text(text: str, author: str) -> str:
    return f"note by {author}: {text}" if author else f"note: {text}"


def build_timeline(events: Sequence[Event], notes: Sequence[Note]) -> list[TimelineEntry]:
    """Described events and notes, sorted by time.

    A note recorded both as a ``note`` event and in notes.jsonl appears once.
    """
    entries: list[TimelineEntry] = []
    seen_notes: set[tuple[int, str]] = set()
    for event in events:
        if isinstance(event, NoteEvent):
            seen_notes.add((round(event.t * 1000), event.text))
            entries.append(TimelineEntry(event.t, "note", _note_text(event.text, event.author)))
        elif (text := describe(event)) is not None:
            entries.append(TimelineEntry(event.t, event.type, text))
    for note in notes:
        if (round(note.t * 1000), note.text) not in seen_notes:
            entries.append(TimelineEntry(note.t, "note", _note_text(note.text, note.author)))
    return sorted(entries, key=lambda entry: entry.t)
