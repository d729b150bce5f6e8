"""Durable file writes, in one place: whole files replaced atomically (temp file, fsync,
rename, fsync of the folder) and lines appended with fsync. What a crash leaves is then always
either the old file or the new one, and every appended line that returned is on disk."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text(path: Path, text: str, *, mode: int | None = None) -> Path:
    """Replace `path` with `text` atomically and durably; `mode` sets the permissions."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    # a unique temp name: two writers of the same file (a re-render during a run) never clash
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def write_json(path: Path, data: Any, *, indent: int | None = None) -> Path:
    return write_text(path, json.dumps(data, indent=indent, default=str))


def append_line(path: Path, line: str) -> None:
    """Append one line and fsync it: the line is evidence (an event, a note)."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())
