"""Every type of the run record (docs/architecture.md §4) written through the writer (and the
ledger) comes back from the reader equal: plan, each event variant (each trip among them),
samples, notes, ledger entries pending and cleared, server counters."""

from __future__ import annotations

import tempfile
import types
import typing
from pathlib import Path
from typing import Any

import annotated_types
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, JsonValue
from pydantic.fields import FieldInfo

from chaos_suite import durable
from chaos_suite.record import (
    Event,
    LedgerEntry,
    Note,
    RunPlan,
    RunRecordWriter,
    Sample,
    ServerCounterRow,
    SLICounts,
    load_run,
)
from chaos_suite.record.models import SLIRecord
from chaos_suite.safety import ledger

EVENT_TYPES: tuple[type[BaseModel], ...] = typing.get_args(typing.get_args(Event)[0])

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8)

# models whose fields depend on each other
SPECIAL: dict[type[BaseModel], st.SearchStrategy[Any]] = {
    SLICounts: st.integers(0, 10**9).flatmap(
        lambda total: st.builds(SLICounts, good=st.integers(0, total), total=st.just(total))),
    SLIRecord: st.one_of(
        st.just(SLIRecord(kind="availability")),
        st.floats(1e-3, 1e6).map(lambda ms: SLIRecord(kind="latency", threshold_ms=ms))),
}


BOUNDS = {annotated_types.Ge: "ge", annotated_types.Gt: "gt", annotated_types.Le: "le",
          annotated_types.Lt: "lt", annotated_types.MinLen: "min_length"}


def _bounds(metadata: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, FieldInfo):
            out.update(_bounds(item.metadata))
        elif type(item) in BOUNDS:
            out[BOUNDS[type(item)]] = getattr(item, BOUNDS[type(item)])
    return out


def _floats(b: dict[str, Any]) -> st.SearchStrategy[float]:
    low = b.get("ge", b.get("gt"))
    high = b.get("le", b.get("lt"))
    return st.floats(min_value=low, max_value=high, exclude_min="gt" in b, exclude_max="lt" in b,
                     allow_nan=False, allow_infinity=False)


def strategy(tp: Any, metadata: list[Any] | None = None) -> st.SearchStrategy[Any]:
    """Values of a record annotation, within its declared bounds."""
    b = _bounds(metadata or [])
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is JsonValue or tp is Any:
        return JSON
    if origin is typing.Annotated:
        return strategy(args[0], [*args[1:], *(metadata or [])])
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(strategy(a, metadata) for a in args))
    if tp is type(None):
        return st.none()
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(min_value=b.get("ge", -(2**40)), max_value=b.get("le", 2**40))
    if tp is float:
        return _floats(b)
    if tp is str:
        return st.text(st.characters(exclude_categories=("Cs",)), min_size=b.get("min_length", 0),
                       max_size=12)
    if origin is tuple and Ellipsis not in args:  # a fixed-length tuple, e.g. a span
        return st.tuples(*(strategy(arg) for arg in args))
    if origin is tuple:
        return st.lists(strategy(args[0]), min_size=b.get("min_length", 0), max_size=3).map(tuple)
    if origin is list:
        return st.lists(strategy(args[0]), max_size=3)
    if origin is dict:
        return st.dictionaries(TEXT, strategy(args[1]), max_size=3)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return model(tp)
    raise AssertionError(f"no strategy for {tp!r}")


def model(cls: type[BaseModel]) -> st.SearchStrategy[Any]:
    if cls in SPECIAL:
        return SPECIAL[cls]
    fields = {name: strategy(info.annotation, list(info.metadata))
              for name, info in cls.model_fields.items()}
    return st.fixed_dictionaries(fields).map(lambda data: cls.model_validate(data))


ENTRY_IDS = st.from_regex(r"\A[0-9]{13}-[0-9a-f]{8}\Z")


def entries(cleared: bool) -> st.SearchStrategy[list[LedgerEntry]]:
    one = st.tuples(model(LedgerEntry), ENTRY_IDS).map(
        lambda pair: pair[0].model_copy(update={"id": pair[1]}))
    if not cleared:
        one = one.map(lambda entry: entry.model_copy(update={"cleared": None}))
    else:
        one = one.filter(lambda entry: entry.cleared is not None)
    return st.lists(one, max_size=3, unique_by=lambda entry: entry.id)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_record_type_reads_back_equal(data: st.DataObject) -> None:
    plan = data.draw(model(RunPlan), "plan")
    # every variant at least once, then any mix
    events = [data.draw(model(kind), kind.__name__) for kind in EVENT_TYPES]
    events += data.draw(st.lists(st.one_of(*(model(kind) for kind in EVENT_TYPES)), max_size=5))
    samples = data.draw(st.lists(model(Sample), max_size=5), "samples")
    notes = data.draw(st.lists(model(Note), max_size=3), "notes")
    pending = data.draw(entries(cleared=False), "pending")
    cleared = [e for e in data.draw(entries(cleared=True), "cleared")
               if e.id not in {p.id for p in pending}]
    counters = data.draw(st.lists(model(ServerCounterRow), max_size=3), "server counters")

    with tempfile.TemporaryDirectory() as folder:
        run_dir = Path(folder) / "run"
        writer = RunRecordWriter(run_dir)
        writer.plan(plan)
        for event in events:
            writer.event(event)
        for sample in samples:
            writer.sample(sample)
        for note in notes:
            writer.note(note)
        writer.server_counters(counters)
        writer.close()
        for entry in pending:
            ledger.record(entry, [run_dir / "ledger"])
        for entry in cleared:
            durable.write_json(run_dir / "ledger" / "cleared" / f"{entry.id}.json",
                               entry.model_dump(mode="json"))
        record = load_run(run_dir)

    assert record.warnings == ()
    assert record.version == plan.version
    assert record.plan == plan
    # the reader orders lines by time (a stable sort: equal times keep their order)
    assert list(record.events) == sorted(events, key=lambda e: e.t)
    assert {type(e) for e in record.events} == set(EVENT_TYPES)
    assert list(record.samples) == sorted(samples, key=lambda s: s.t)
    assert list(record.notes) == sorted(notes, key=lambda n: n.t)
    pending_dirs = [e.model_copy(update={"dirs": (str(run_dir / "ledger"),)}) for e in pending]
    assert sorted(record.ledger, key=lambda e: e.id) == sorted([*pending_dirs, *cleared],
                                                               key=lambda e: e.id)
    assert list(record.server_counters or ()) == counters
