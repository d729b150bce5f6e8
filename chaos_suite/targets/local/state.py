"""The shared state file of the local target: one mmap'd file, written by several processes.

Why a file and not a pipe or the supervisor's memory: the per-second counters are the ground truth
that client-side measurements are compared against, so they must survive a SIGKILLed replica and be
readable without a live supervisor. Every process maps the same file; writes are visible at once.

Layout (little endian, fixed offsets):

    header (4096 bytes)    magic, sizes, the fault (written only by the supervisor), guarded by a
                           seqlock counter ``fault_seq`` that doubles as the fault generation
    slot[i] (one/replica)  slot header (seqlock, pid, ready flag, cumulative counters) followed by a
                           ring of RING_SECONDS per-second rows, row index = epoch_second % RING_SECONDS

A slot has one writer at a time (the replica that owns the index; a restarted replica reuses it after
the previous process has exited) and adds *deltas*, merged by epoch second, so a restart never loses
or double-counts a second that was flushed. Readers copy the slot and retry on a torn read.
"""

from __future__ import annotations

import json
import math
import mmap
import os
import struct
import time
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

MAGIC: Final = b"CHSTATE1"
RING_SECONDS: Final = 900
MAX_SLOTS: Final = 64

# Upper bounds (seconds) of the latency histogram; the last bucket is +Inf. Includes the usual
# latency-SLO thresholds (100/200/250/300/500 ms, 1 s) so a threshold maps onto a bucket exactly.
BUCKET_BOUNDS: Final[tuple[float, ...]] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0,
    math.inf,
)
N_BUCKETS: Final = len(BUCKET_BOUNDS)
N_CLASSES: Final = 5  # status classes 1xx..5xx
PATHS_BYTES: Final = 1024

# header: magic, version, n_slots, ring_seconds, n_buckets, created_at, supervisor_pid, fault_seq,
#         error_ratio, error_expires_at, latency_ms, latency_expires_at, error_paths_len,
#         latency_paths_len; the two JSON path lists follow at fixed offsets.
_HEADER = struct.Struct("<8sIIIIdqQddddII")
_OFF_FAULT_SEQ: Final = struct.calcsize("<8sIIIIdq")
_FAULT = struct.Struct("<ddddII")
_OFF_FAULT: Final = _OFF_FAULT_SEQ + 8
_OFF_ERROR_PATHS: Final = 256
_OFF_LATENCY_PATHS: Final = _OFF_ERROR_PATHS + PATHS_BYTES
HEADER_SIZE: Final = 4096

# slot header: seq, pid, ready, pad, started_at, flushes, then cumulative counters:
#              total, classes[5], latency_sum, hist[N_BUCKETS]
_COUNTS_FMT: Final = f"Q{N_CLASSES}Qd{N_BUCKETS}Q"
_SLOT_HEAD = struct.Struct(f"<QqIIdQ{_COUNTS_FMT}")
_SLOT_SEQ = struct.Struct("<Q")
_SLOT_IDENT = struct.Struct("<qIId")  # pid, ready, pad, started_at (right after seq)
_OFF_CUMULATIVE: Final = struct.calcsize("<QqIIdQ")
_COUNTS = struct.Struct(f"<{_COUNTS_FMT}")
SLOT_HEAD_SIZE: Final = 512
# ring row: epoch_second, total, classes[5], latency_sum, hist[N_BUCKETS]
_ROW = struct.Struct(f"<q{_COUNTS_FMT}")
SLOT_SIZE: Final = SLOT_HEAD_SIZE + _ROW.size * RING_SECONDS
N_COUNTS: Final = 1 + N_CLASSES + 1 + N_BUCKETS  # values in a counts vector
IDX_TOTAL: Final = 0
IDX_CLASS0: Final = 1  # index of 1xx; 5xx is IDX_CLASS0 + 4
IDX_LAT_SUM: Final = 1 + N_CLASSES
IDX_HIST0: Final = IDX_LAT_SUM + 1

_TORN_READ_RETRIES: Final = 200


def file_size(n_slots: int) -> int:
    return HEADER_SIZE + n_slots * SLOT_SIZE


def bucket_index(seconds: float) -> int:
    """Index of the histogram bucket whose upper bound is the first >= ``seconds``."""
    return bisect_left(BUCKET_BOUNDS, seconds)


def new_counts() -> list[float]:
    """A zeroed counts vector: total, classes 1xx..5xx, latency sum, histogram buckets."""
    return [0.0] * N_COUNTS  # floats are exact for counts below 2**53; packed as ints


@dataclass(frozen=True)
class FaultSpec:
    """The fault as the supervisor set it. Expired parts read as inactive (see ``effective``)."""

    error_ratio: float = 0.0
    error_expires_at: float = 0.0  # 0 = no expiry
    error_paths: tuple[str, ...] = ()  # empty = every path except /health
    latency_ms: float = 0.0
    latency_expires_at: float = 0.0
    latency_paths: tuple[str, ...] = ()
    generation: int = 0

    def error_ratio_at(self, now: float) -> float:
        expired = self.error_expires_at and now >= self.error_expires_at
        return 0.0 if expired else self.error_ratio

    def latency_ms_at(self, now: float) -> float:
        expired = self.latency_expires_at and now >= self.latency_expires_at
        return 0.0 if expired else self.latency_ms

    def effective(self, now: float) -> FaultSpec:
        """The same fault with expired parts zeroed (what replicas apply at ``now``)."""
        ratio, latency = self.error_ratio_at(now), self.latency_ms_at(now)
        return FaultSpec(
            error_ratio=ratio,
            error_expires_at=self.error_expires_at if ratio else 0.0,
            error_paths=self.error_paths if ratio else (),
            latency_ms=latency,
            latency_expires_at=self.latency_expires_at if latency else 0.0,
            latency_paths=self.latency_paths if latency else (),
            generation=self.generation,
        )


@dataclass
class SlotSnapshot:
    """A consistent copy of one replica slot."""

    index: int
    pid: int
    ready: bool
    started_at: float
    cumulative: list[float]
    rows: dict[int, list[float]] = field(default_factory=dict)  # epoch second -> counts


def _encode_paths(paths: tuple[str, ...]) -> bytes:
    data = json.dumps(list(paths)).encode()
    if len(data) > PATHS_BYTES:
        raise ValueError(f"fault path list too long ({len(data)} bytes JSON, max {PATHS_BYTES})")
    return data


def _decode_paths(data: bytes) -> tuple[str, ...]:
    return tuple(str(p) for p in json.loads(data.decode())) if data else ()


class StateFile:
    """An mmap of the state file. Not thread-safe; one instance per process."""

    def __init__(self, path: Path, mm: mmap.mmap, n_slots: int) -> None:
        self.path = path
        self._mm = mm
        self.n_slots = n_slots

    @classmethod
    def create(cls, path: Path, n_slots: int, supervisor_pid: int) -> StateFile:
        """Create (or truncate) a fresh state file: a new target starts from zero counters."""
        if not 1 <= n_slots <= MAX_SLOTS:
            raise ValueError(f"replicas must be between 1 and {MAX_SLOTS}, got {n_slots}")
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            fh.truncate(file_size(n_slots))
            fh.write(_HEADER.pack(MAGIC, 1, n_slots, RING_SECONDS, N_BUCKETS, time.time(),
                                  supervisor_pid, 0, 0.0, 0.0, 0.0, 0.0, 2, 2))
            for off in (_OFF_ERROR_PATHS, _OFF_LATENCY_PATHS):
                fh.seek(off)
                fh.write(b"[]")
        os.replace(tmp, path)  # replicas of an older target never see a half-written file
        return cls.open(path)

    @classmethod
    def open(cls, path: Path) -> StateFile:
        with open(path, "r+b") as fh:
            mm = mmap.mmap(fh.fileno(), 0)
        magic, _version, n_slots, ring, n_buckets = struct.unpack_from("<8sIIII", mm, 0)
        if magic != MAGIC or ring != RING_SECONDS or n_buckets != N_BUCKETS:
            mm.close()
            raise ValueError(f"{path} is not a chaos_suite local target state file of this version")
        if len(mm) < file_size(n_slots):
            mm.close()
            raise ValueError(f"{path} is truncated")
        return cls(path, mm, n_slots)

    def close(self) -> None:
        self._mm.close()

    # ---- fault (single writer: the supervisor) -------------------------------------------------

    def fault_generation(self) -> int:
        """Cheap per-request check: changes whenever the fault changes (odd while being written)."""
        return int(struct.unpack_from("<Q", self._mm, _OFF_FAULT_SEQ)[0])

    def read_fault(self) -> FaultSpec:
        for _ in range(_TORN_READ_RETRIES):
            seq1 = self.fault_generation()
            if seq1 % 2 == 0:
                ratio, err_exp, lat, lat_exp, n_err, n_lat = _FAULT.unpack_from(self._mm, _OFF_FAULT)
                err_paths = bytes(self._mm[_OFF_ERROR_PATHS:_OFF_ERROR_PATHS + n_err])
                lat_paths = bytes(self._mm[_OFF_LATENCY_PATHS:_OFF_LATENCY_PATHS + n_lat])
                if self.fault_generation() == seq1:
                    return FaultSpec(ratio, err_exp, _decode_paths(err_paths), lat, lat_exp,
                                     _decode_paths(lat_paths), seq1 // 2)
            time.sleep(0.0001)
        raise RuntimeError(f"fault header of {self.path} stayed inconsistent")

    def write_fault(self, fault: FaultSpec) -> FaultSpec:
        """Store ``fault`` (its generation is ignored) and return it with the new generation."""
        err_paths, lat_paths = _encode_paths(fault.error_paths), _encode_paths(fault.latency_paths)
        seq = self.fault_generation()
        seq += 1 if seq % 2 == 0 else 0  # a writer killed mid-write may have left it odd
        struct.pack_into("<Q", self._mm, _OFF_FAULT_SEQ, seq)
        _FAULT.pack_into(self._mm, _OFF_FAULT, fault.error_ratio, fault.error_expires_at,
                         fault.latency_ms, fault.latency_expires_at, len(err_paths), len(lat_paths))
        self._mm[_OFF_ERROR_PATHS:_OFF_ERROR_PATHS + len(err_paths)] = err_paths
        self._mm[_OFF_LATENCY_PATHS:_OFF_LATENCY_PATHS + len(lat_paths)] = lat_paths
        struct.pack_into("<Q", self._mm, _OFF_FAULT_SEQ, seq + 1)
        return FaultSpec(fault.error_ratio, fault.error_expires_at, fault.error_paths,
                         fault.latency_ms, fault.latency_expires_at, fault.latency_paths,
                         (seq + 1) // 2)

    # ---- slots (single writer per slot: the replica that owns the index) ------------------------

    def _slot_offset(self, index: int) -> int:
        if not 0 <= index < self.n_slots:
            raise IndexError(f"replica index {index} out of range 0..{self.n_slots - 1}")
        return HEADER_SIZE + index * SLOT_SIZE

    def claim_slot(self, index: int, pid: int, ready: bool) -> None:
        """Record which process owns the slot. Counters are kept: a restart continues them."""
        off = self._slot_offset(index)
        seq = _SLOT_SEQ.unpack_from(self._mm, off)[0]
        if seq % 2:  # the previous owner died mid-flush; its half-written deltas are lost
            _SLOT_SEQ.pack_into(self._mm, off, seq + 1)
        _SLOT_IDENT.pack_into(self._mm, off + _SLOT_SEQ.size, pid, int(ready), 0, time.time())

    def slot_owner(self, index: int) -> tuple[int, bool]:
        """(pid, ready) as the owning replica last wrote them."""
        pid, ready, _pad, _started = _SLOT_IDENT.unpack_from(
            self._mm, self._slot_offset(index) + _SLOT_SEQ.size)
        return int(pid), bool(ready)

    def add_deltas(self, index: int, deltas: dict[int, list[float]]) -> None:
        """Merge per-second deltas into the slot's ring and cumulative counters.

        A ring row holding an older second is overwritten (that second is past retention); a row
        holding a *newer* second means the delta is older than retention and is dropped.
        """
        off = self._slot_offset(index)
        mm = self._mm
        seq = _SLOT_SEQ.unpack_from(mm, off)[0]
        seq += 1 if seq % 2 == 0 else 0
        _SLOT_SEQ.pack_into(mm, off, seq)
        cumulative = list(_COUNTS.unpack_from(mm, off + _OFF_CUMULATIVE))
        for second, delta in deltas.items():
            row_off = off + SLOT_HEAD_SIZE + (second % RING_SECONDS) * _ROW.size
            row = _ROW.unpack_from(mm, row_off)
            if row[0] == second:
                merged = [a + b for a, b in zip(row[1:], delta, strict=True)]
            elif row[0] < second:
                merged = list(delta)
            else:
                continue
            _ROW.pack_into(mm, row_off, second, *_as_row(merged))
            cumulative = [a + b for a, b in zip(cumulative, delta, strict=True)]
        _COUNTS.pack_into(mm, off + _OFF_CUMULATIVE, *_as_row(cumulative))
        flushes = struct.unpack_from("<Q", mm, off + _OFF_CUMULATIVE - 8)[0]
        struct.pack_into("<Q", mm, off + _OFF_CUMULATIVE - 8, flushes + 1)
        _SLOT_SEQ.pack_into(mm, off, seq + 1)

    def read_slot(self, index: int, since: float | None = None, *,
                  with_rows: bool = True) -> SlotSnapshot:
        """A consistent copy of a slot; rows only for seconds whose interval ends after ``since``
        (none at all with ``with_rows=False``: the cumulative counters are enough for /metrics)."""
        off = self._slot_offset(index)
        for _ in range(_TORN_READ_RETRIES):
            seq1 = _SLOT_SEQ.unpack_from(self._mm, off)[0]
            if seq1 % 2 == 0:
                data = bytes(self._mm[off:off + (SLOT_SIZE if with_rows else SLOT_HEAD_SIZE)])
                if _SLOT_SEQ.unpack_from(self._mm, off)[0] == seq1:
                    return _parse_slot(index, data, since)
            time.sleep(0.0005)
        # A writer that died mid-flush leaves the seq odd until the slot is claimed again; the
        # copy is then as good as it gets (at most one flush's worth is half-written).
        end = off + (SLOT_SIZE if with_rows else SLOT_HEAD_SIZE)
        return _parse_slot(index, bytes(self._mm[off:end]), since)


def _as_row(values: list[float]) -> list[float]:
    """Counts must be packed as ints, the latency sum as float."""
    return [v if i == IDX_LAT_SUM else int(v) for i, v in enumerate(values)]


def _parse_slot(index: int, data: bytes, since: float | None) -> SlotSnapshot:
    head = _SLOT_HEAD.unpack_from(data, 0)
    _seq, pid, ready, _pad, started_at, _flushes = head[:6]
    snap = SlotSnapshot(index, int(pid), bool(ready), float(started_at), list(head[6:]))
    floor_second = -1 if since is None else math.floor(since)
    for row in _ROW.iter_unpack(data[SLOT_HEAD_SIZE:]):
        second = row[0]
        if second > 0 and row[1] and second >= floor_second:
            snap.rows[int(second)] = list(row[1:])
    return snap
