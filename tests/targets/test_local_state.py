"""The shared state file on its own: merge by epoch second, ring retention, fault seqlock."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chaos_suite.targets.local.metrics import per_second
from chaos_suite.targets.local.service import Recorder
from chaos_suite.targets.local.state import (
    BUCKET_BOUNDS,
    IDX_CLASS0,
    IDX_HIST0,
    RING_SECONDS,
    FaultSpec,
    StateFile,
    bucket_index,
)

T0 = 1_700_000_000


@pytest.fixture
def state(tmp_path: Path) -> Iterator[StateFile]:
    sf = StateFile.create(tmp_path / "state.bin", n_slots=2, supervisor_pid=1)
    try:
        yield sf
    finally:
        sf.close()


def recorded(requests: list[tuple[int, float, float]]) -> dict[int, list[float]]:
    rec = Recorder()
    for status, duration, now in requests:
        rec.record(status, duration, now)
    return rec.take()


def test_deltas_merge_by_second_across_flushes_and_owners(state: StateFile) -> None:
    state.claim_slot(0, pid=100, ready=True)
    state.add_deltas(0, recorded([(200, 0.002, T0 + 0.1), (503, 0.3, T0 + 0.9)]))
    state.claim_slot(0, pid=101, ready=True)  # a restarted replica reuses the slot
    state.add_deltas(0, recorded([(200, 0.001, T0 + 0.5), (201, 0.02, T0 + 1.2)]))
    snap = state.read_slot(0)
    assert snap.pid == 101 and snap.ready
    assert snap.rows[T0][0] == 3 and snap.rows[T0][IDX_CLASS0 + 4] == 1
    assert snap.rows[T0 + 1][0] == 1
    assert snap.cumulative[0] == 4
    rows = per_second([snap, state.read_slot(1)])
    assert [r["t"] for r in rows] == [T0, T0 + 1]
    assert rows[0]["errors"] == 1 and rows[0]["hist"]["0.25"] == 2 and rows[0]["hist"]["0.3"] == 3
    assert rows[0]["hist"]["+Inf"] == rows[0]["total"] == 3


def test_ring_keeps_900_seconds_and_cumulative_keeps_everything(state: StateFile) -> None:
    state.add_deltas(1, recorded([(200, 0.001, T0)]))
    state.add_deltas(1, recorded([(200, 0.001, T0 + RING_SECONDS)]))  # same ring row, newer
    state.add_deltas(1, recorded([(200, 0.001, T0 + 1)]))
    state.add_deltas(1, recorded([(200, 0.001, T0)]))  # older than retention now: dropped
    snap = state.read_slot(1)
    assert sorted(snap.rows) == [T0 + 1, T0 + RING_SECONDS]
    assert snap.cumulative[0] == 3
    assert [r["t"] for r in per_second([state.read_slot(1, since=T0 + 1.5)])] == \
        [T0 + 1, T0 + RING_SECONDS]  # a second is included while it overlaps [since, ...)
    assert per_second([snap], until=T0 + RING_SECONDS)[-1]["t"] == T0 + 1


def test_fault_round_trip_and_generation(state: StateFile) -> None:
    assert state.read_fault() == FaultSpec()
    written = state.write_fault(FaultSpec(error_ratio=0.25, error_expires_at=T0 + 10.0,
                                          error_paths=("/api/checkout",), latency_ms=300.0))
    again = state.read_fault()
    assert again == written and again.generation == 1
    assert again.error_ratio_at(T0 + 9.9) == 0.25 and again.error_ratio_at(T0 + 10.0) == 0.0
    assert again.latency_ms_at(T0 + 1e6) == 300.0  # no expiry
    assert again.effective(T0 + 11).error_paths == ()
    assert state.write_fault(FaultSpec()).generation == 2
    reopened = StateFile.open(state.path)  # another process sees the same bytes
    try:
        assert reopened.read_fault().generation == 2
    finally:
        reopened.close()


def test_a_writer_killed_mid_flush_does_not_wedge_readers(state: StateFile) -> None:
    import struct

    from chaos_suite.targets.local.state import HEADER_SIZE

    struct.pack_into("<Q", state._mm, HEADER_SIZE, 7)  # odd seq: flush never finished
    state.add_deltas(0, recorded([(200, 0.001, T0)]))  # next owner's flush repairs it
    assert state.read_slot(0).rows[T0][0] == 1


def test_bad_files_and_sizes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        StateFile.create(tmp_path / "s.bin", n_slots=0, supervisor_pid=1)
    (tmp_path / "junk.bin").write_bytes(b"x" * 8192)
    with pytest.raises(ValueError, match="not a chaos_suite"):
        StateFile.open(tmp_path / "junk.bin")


def test_bucket_index_is_first_bound_at_or_above() -> None:
    assert bucket_index(0.0) == 0 and bucket_index(0.001) == 0 and bucket_index(0.0011) == 1
    assert bucket_index(0.3) == BUCKET_BOUNDS.index(0.3)
    assert bucket_index(1e9) == len(BUCKET_BOUNDS) - 1 and math.isinf(BUCKET_BOUNDS[-1])


events = st.lists(st.tuples(st.sampled_from([200, 201, 404, 503]),
                            st.floats(0, 20, allow_nan=False),
                            st.floats(T0, T0 + 30, allow_nan=False)), max_size=60)


@settings(max_examples=40, deadline=None)
@given(batches=st.lists(events, max_size=5))
def test_any_flush_batching_sums_to_the_same_counts(tmp_path_factory: pytest.TempPathFactory,
                                                    batches: list[list[tuple[int, float,
                                                                             float]]]) -> None:
    sf = StateFile.create(tmp_path_factory.mktemp("h") / "state.bin", 1, 1)
    try:
        for batch in batches:
            sf.add_deltas(0, recorded(batch))
        snap = sf.read_slot(0)
    finally:
        sf.close()
    flat = [e for batch in batches for e in batch]
    assert snap.cumulative[0] == len(flat) == sum(r[0] for r in snap.rows.values())
    assert sum(r[IDX_CLASS0 + 4] for r in snap.rows.values()) == sum(1 for e in flat
                                                                        if e[0] == 503)
    for second, row in snap.rows.items():
        assert row[0] == sum(1 for e in flat if int(e[2]) == second)
        assert sum(row[IDX_HIST0:]) == row[0]
