"""The fault ledger: before a fault is injected, an entry saying what, where and how to revert it
is written durably (write + fsync of file and folder) to the run directory and to the state
directory. A successful revert clears it; `chaos-suite recover` replays whatever is still pending
after a crash. One file per entry, so concurrent writers never corrupt each other."""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from chaos_suite import durable
from chaos_suite.record.models import PRE_V1, ClearedMark, LedgerEntry

__all__ = ["LedgerEntry", "LedgerUnavailable", "check_writable", "clear", "mark_run_ledger",
           "new_entry", "pending", "record"]


def new_entry(*, run_id: str, scenario: str | None, fault: str, target: str,
              revert: dict[str, Any], detail: dict[str, Any] | None = None) -> LedgerEntry:
    return LedgerEntry(id=f"{int(time.time() * 1000)}-{uuid.uuid4().hex[:8]}", t=time.time(),
                       run_id=run_id, scenario=scenario, fault=fault, target=target,
                       revert=revert, detail=detail or {})


class LedgerUnavailable(OSError):
    """A ledger folder cannot take an entry durably: the fault it guards must not go in."""


# Room a ledger folder must have before a run starts: entries are small, but a folder that is
# nearly full fails the write at the worst moment (just before a fault).
MIN_FREE_BYTES = 1 << 20


def check_writable(dirs: list[Path], min_free_bytes: int = MIN_FREE_BYTES) -> None:
    """Raise LedgerUnavailable naming the folder unless each one takes a durable write and has
    room. Called before a run starts, so a ledger that cannot work refuses the run up front."""
    for folder in dirs:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / f".probe-{os.getpid()}-{uuid.uuid4().hex[:6]}"
            durable.write_json(probe, {"probe": True})
            probe.unlink()
            stats = os.statvfs(folder)
        except OSError as exc:
            raise LedgerUnavailable(f"ledger folder {folder} is not writable: "
                                    f"{exc.strerror or exc}") from None
        free = stats.f_bavail * stats.f_frsize
        if free < min_free_bytes:
            raise LedgerUnavailable(f"ledger folder {folder} has {free} bytes free, fewer than "
                                    f"the {min_free_bytes} a run needs")


def record(entry: LedgerEntry, dirs: list[Path]) -> None:
    """Write the entry to every ledger dir (run dir + state dir) before the fault goes in.
    All or nothing: when one write fails, the entries already written are removed again (the
    fault will not go in) and LedgerUnavailable names the folder."""
    data = entry.model_copy(update={"dirs": tuple(str(d) for d in dirs)}).model_dump(mode="json")
    written: list[Path] = []
    for folder in dirs:
        path = folder / f"{entry.id}.json"
        try:
            durable.write_json(path, data)
        except OSError as exc:
            for done in written:
                with contextlib.suppress(OSError):
                    done.unlink()
            with contextlib.suppress(OSError):
                path.with_name(f".{path.name}.tmp").unlink()
            raise LedgerUnavailable(f"cannot write the ledger entry into {folder}: "
                                    f"{exc.strerror or exc}") from None
        written.append(path)


def pending(folder: Path) -> list[LedgerEntry]:
    out: list[LedgerEntry] = []
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.json")):
        try:
            # read leniently (fields this version does not know are dropped, as in a pre-v1
            # record): an entry left unread would leave its fault unreverted
            out.append(LedgerEntry.model_validate(json.loads(path.read_text(encoding="utf-8")),
                                                  context=PRE_V1))
        except (OSError, ValueError, PydanticValidationError):
            continue  # half-written entries cannot exist (atomic rename); skip foreign files
    return out


def clear(entry_id: str, dirs: list[Path], how: str) -> None:
    """Remove the entry from the state dir; in the run dir keep it, marked cleared (evidence)."""
    for folder in dirs:
        path = folder / f"{entry_id}.json"
        if not path.exists():
            continue
        if (folder / ".run").exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            data["cleared"] = ClearedMark(t=time.time(), how=how).model_dump(mode="json")
            durable.write_json(folder / "cleared" / f"{entry_id}.json", data)
        path.unlink(missing_ok=True)
        durable.fsync_dir(folder)


def mark_run_ledger(folder: Path) -> None:
    """The run directory's ledger keeps cleared entries (under cleared/) as evidence."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".run").touch()
