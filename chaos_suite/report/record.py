"""Loading a run directory (the run record) into plain, typed values.

The run record is append-only and may come from a run that was killed: the last line of a
JSONL file can be cut short, ``*_ended`` events can be missing. Loading therefore skips what it
cannot read (and says so in ``RunRecord.warnings``) and only refuses a missing or unusable
``plan.json``, which the report cannot do without.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaos_suite.errors import InputError, ValidationError
from chaos_suite.report.series import Counts, Sample
from chaos_suite.slo import SLO

_MAX_WARNINGS_PER_FILE = 20


@dataclass(frozen=True)
class Expectation:
    """What the team predicted for one SLO in one scenario (budget as fractions of budget)."""

    min_budget_consumed: float | None = None
    max_budget_consumed: float | None = None
    max_peak_burn_rate: float | None = None
    recover_within_seconds: float | None = None

    @property
    def is_empty(self) -> bool:
        return all(
            value is None
            for value in (
                self.min_budget_consumed,
                self.max_budget_consumed,
                self.max_peak_burn_rate,
                self.recover_within_seconds,
            )
        )


@dataclass(frozen=True)
class ScenarioPlan:
    name: str
    experiment: str
    expectations: Mapping[str, Expectation] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """The resolved plan as the runner wrote it to plan.json."""

    gameday: str
    service: str
    environment: str
    run_id: str
    slos: tuple[SLO, ...]
    scenarios: tuple[ScenarioPlan, ...]
    baseline_seconds: float = 0.0
    cooldown_seconds: float = 0.0
    min_events: int = 100
    peak_window_seconds: int = 5
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    """One line of events.jsonl: its time, its type and every other field as given."""

    t: float
    type: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Note:
    t: float
    text: str
    author: str = ""


@dataclass(frozen=True)
class RunRecord:
    run_dir: Path
    plan: Plan
    events: tuple[Event, ...]
    samples: tuple[Sample, ...]
    notes: tuple[Note, ...]
    journals: tuple[str, ...]
    warnings: tuple[str, ...] = ()


def _loads(text: str) -> Any:
    """json.loads, but NaN and Infinity (which Python would accept) become null."""
    return json.loads(text, parse_constant=lambda _constant: None)


def _iter_jsonl(path: Path, warnings: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each readable line; note the others in ``warnings``."""
    if not path.is_file():
        return
    text = path.read_bytes().decode("utf-8", errors="replace")
    skipped = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = _loads(line)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            yield number, value
            continue
        skipped += 1
        if skipped <= _MAX_WARNINGS_PER_FILE:
            warnings.append(f"{path.name} line {number}: not a JSON object, skipped")
    if skipped > _MAX_WARNINGS_PER_FILE:
        warnings.append(f"{path.name}: {skipped - _MAX_WARNINGS_PER_FILE} more lines skipped")


def _finite_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _read_events(path: Path, warnings: list[str]) -> tuple[Event, ...]:
    events: list[Event] = []
    for number, obj in _iter_jsonl(path, warnings):
        t = _finite_number(obj.get("t"))
        kind = obj.get("type")
        if t is None or not isinstance(kind, str):
            warnings.append(f"{path.name} line {number}: event without 't' or 'type', skipped")
            continue
        events.append(Event(t, kind, {k: v for k, v in obj.items() if k not in ("t", "type")}))
    # Stable sort: equal times keep the order they were written in.
    return tuple(sorted(events, key=lambda event: event.t))


def _read_counts(value: object) -> Counts | None:
    if not isinstance(value, Mapping):
        return None
    good, total = value.get("good"), value.get("total")
    if isinstance(good, bool) or isinstance(total, bool):
        return None
    if not isinstance(good, int) or not isinstance(total, int) or not 0 <= good <= total:
        return None
    return Counts(good, total)


def _read_samples(path: Path, warnings: list[str]) -> tuple[Sample, ...]:
    samples: list[Sample] = []
    for number, obj in _iter_jsonl(path, warnings):
        t = _finite_number(obj.get("t"))
        slis = obj.get("slis")
        if t is None or not isinstance(slis, Mapping):
            warnings.append(f"{path.name} line {number}: sample without 't' or 'slis', skipped")
            continue
        counts: dict[str, Counts] = {}
        for name, value in slis.items():
            parsed = _read_counts(value)
            if parsed is None:
                warnings.append(f"{path.name} line {number}: bad counts for '{name}', skipped")
            else:
                counts[str(name)] = parsed
        source = obj.get("source")
        samples.append(Sample(math.floor(t), source if isinstance(source, str) else "load", counts))
    return tuple(sorted(samples, key=lambda sample: sample.t))


def _read_notes(path: Path, warnings: list[str]) -> tuple[Note, ...]:
    notes: list[Note] = []
    for number, obj in _iter_jsonl(path, warnings):
        t = _finite_number(obj.get("t"))
        text = obj.get("text")
        if t is None or not isinstance(text, str):
            warnings.append(f"{path.name} line {number}: note without 't' or 'text', skipped")
            continue
        notes.append(Note(t, text, str(obj.get("author") or "")))
    return tuple(sorted(notes, key=lambda note: note.t))


def _optional_number(data: Mapping[str, Any], key: str, where: str, file: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    number = _finite_number(value)
    if number is None or number < 0:
        raise ValidationError(file, f"{where}.{key}", f"expected a number >= 0, got {value!r}")
    return number


def _parse_expectation(data: object, where: str, file: str) -> Expectation:
    if not isinstance(data, Mapping):
        raise ValidationError(file, where, "expected a mapping of expectation fields")
    return Expectation(
        min_budget_consumed=_optional_number(data, "min_budget_consumed", where, file),
        max_budget_consumed=_optional_number(data, "max_budget_consumed", where, file),
        max_peak_burn_rate=_optional_number(data, "max_peak_burn_rate", where, file),
        recover_within_seconds=_optional_number(data, "recover_within_seconds", where, file),
    )


def _parse_scenario(data: object, index: int, file: str) -> ScenarioPlan:
    where = f"scenarios[{index}]"
    if not isinstance(data, Mapping) or not isinstance(data.get("name"), str):
        raise ValidationError(file, where, "expected a mapping with a 'name'")
    expectations = data.get("expectations") or {}
    if not isinstance(expectations, Mapping):
        raise ValidationError(file, f"{where}.expectations", "expected a mapping keyed by SLO")
    return ScenarioPlan(
        name=data["name"],
        experiment=str(data.get("experiment") or ""),
        expectations={
            str(slo): _parse_expectation(value, f"{where}.expectations.{slo}", file)
            for slo, value in expectations.items()
        },
    )


def _parse_slos(data: object, file: str) -> tuple[SLO, ...]:
    if not isinstance(data, list) or not data:
        raise ValidationError(file, "slos", "expected a non-empty list of SLOs")
    slos: list[SLO] = []
    for index, item in enumerate(data):
        try:
            if not isinstance(item, Mapping):
                raise TypeError("expected a mapping")
            slos.append(SLO.from_mapping(item))
        except (KeyError, TypeError, ValueError) as exc:
            detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            raise ValidationError(file, f"slos[{index}]", detail) from exc
    return tuple(slos)


def parse_plan(data: object, file: str = "plan.json") -> Plan:
    """Validate the resolved plan; errors name the file and the field path."""
    if not isinstance(data, Mapping):
        raise ValidationError(file, "", "expected a JSON object")
    scenarios = data.get("scenarios")
    if not isinstance(scenarios, list):
        raise ValidationError(file, "scenarios", "expected a list of scenarios")
    peak = _optional_number(data, "peak_window_seconds", "plan", file)
    min_events = _optional_number(data, "min_events", "plan", file)
    return Plan(
        gameday=str(data.get("gameday") or ""),
        service=str(data.get("service") or ""),
        environment=str(data.get("environment") or ""),
        run_id=str(data.get("run_id") or ""),
        slos=_parse_slos(data.get("slos"), file),
        scenarios=tuple(_parse_scenario(s, i, file) for i, s in enumerate(scenarios)),
        baseline_seconds=_optional_number(data, "baseline_seconds", "plan", file) or 0.0,
        cooldown_seconds=_optional_number(data, "cooldown_seconds", "plan", file) or 0.0,
        min_events=100 if min_events is None else int(min_events),
        peak_window_seconds=5 if not peak else max(1, round(peak)),
        raw=dict(data),
    )


def _load_plan(path: Path) -> Plan:
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
    return parse_plan(data, str(path))


def load_run(run_dir: Path) -> RunRecord:
    """Read a run directory. Raises InputError (naming the file) when plan.json is unusable."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: not a directory")
    plan = _load_plan(run_dir / "plan.json")
    warnings: list[str] = []
    journals_dir = run_dir / "journals"
    journals = tuple(sorted(p.name for p in journals_dir.glob("*.json"))) if journals_dir.is_dir() else ()
    return RunRecord(
        run_dir=run_dir,
        plan=plan,
        events=_read_events(run_dir / "events.jsonl", warnings),
        samples=_read_samples(run_dir / "samples.jsonl", warnings),
        notes=_read_notes(run_dir / "notes.jsonl", warnings),
        journals=journals,
        warnings=tuple(warnings),
    )
