"""A custom window set from a file (``chaos-suite slo rules --windows FILE``).

The file is YAML (or JSON): a mapping with an optional ``name`` and a list ``windows``, or the
list alone. Each row is ``{severity: page|ticket, long, short, factor, for}``; durations are
written like SLO windows ('1h', '5m', '5s'; whole milliseconds), ``factor`` is the burn rate
both windows must exceed, ``for`` is optional (default 0). Example, for a gameday on a test
target::

    name: gameday
    windows:
      - {severity: page, long: 1m, short: 5s, factor: 14.4}
      - {severity: page, long: 5m, short: 30s, factor: 6, for: 10s}
      - {severity: ticket, long: 15m, short: 1m, factor: 3}

Rows are used as written for every SLO (not rescaled to its window). Any problem is one
ValidationError naming the file and the field.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from chaos_suite.detection.windows import BurnAlert, Severity, WindowSet, prom_duration
from chaos_suite.errors import ValidationError
from chaos_suite.files.common import (
    MAX_NAME_LENGTH,
    NAME_PATTERN,
    StrictModel,
    load_yaml_documents,
    raise_for_pydantic,
)
from chaos_suite.slo.duration import MAX_SLO_WINDOW_SECONDS, parse_duration

MAX_ROWS = 16  # the built-in sets have four; more is a generated file gone wrong


def _window(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a duration like '1h', '5m', '5s'")
    seconds = parse_duration(value, maximum=MAX_SLO_WINDOW_SECONDS)
    # Prometheus ranges are whole milliseconds; anything finer would be silently rounded
    if abs(seconds * 1000 - round(seconds * 1000)) > 1e-6:
        raise ValueError(f"must be whole milliseconds; got {value!r}")
    return seconds


def _hold(value: Any) -> float:
    if value in (0, "0", "0s") and not isinstance(value, bool):
        return 0.0
    return _window(value)


def _factor(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("expected a burn rate such as 14.4")
    number = float(value)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"must be a positive burn rate; got {value!r}")
    return number


class Row(StrictModel):
    severity: Severity
    long: Annotated[float, BeforeValidator(_window)]
    short: Annotated[float, BeforeValidator(_window)]
    factor: Annotated[float, BeforeValidator(_factor)]
    for_: Annotated[float, BeforeValidator(_hold)] = Field(default=0.0, alias="for")

    @model_validator(mode="after")
    def _short_within_long(self) -> Row:
        if self.short > self.long:
            raise ValueError(f"short ({prom_duration(self.short)}) must not be longer than long "
                             f"({prom_duration(self.long)})")
        return self


class WindowFile(StrictModel):
    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_LENGTH,
                             pattern=NAME_PATTERN)
    windows: list[Row] = Field(min_length=1, max_length=MAX_ROWS)

    @field_validator("windows")
    @classmethod
    def _distinct(cls, rows: list[Row]) -> list[Row]:
        seen: set[tuple[str, float, float]] = set()
        for row in rows:
            key = (row.severity, row.long, row.short)
            if key in seen:
                raise ValueError(f"two {row.severity} rows over {prom_duration(row.long)}/"
                                 f"{prom_duration(row.short)}: each alert needs its own windows")
            seen.add(key)
        return rows


def load_window_set(path: Path) -> WindowSet:
    """The custom window set in ``path``; a one-line ValidationError for anything wrong."""
    docs = load_yaml_documents(path)
    if len(docs) != 1:
        raise ValidationError(str(path), "", "expected one YAML document: a mapping with "
                              "'windows' or a list of {severity, long, short, factor, for}")
    data = docs[0]
    listed = isinstance(data, list)
    if listed:
        data = {"windows": data}
    elif not isinstance(data, dict):
        raise ValidationError(str(path), "", "expected a mapping with 'windows' or a list of "
                              "{severity, long, short, factor, for}")
    try:
        model = WindowFile.model_validate(data)
    except PydanticValidationError as exc:
        try:
            raise_for_pydantic(path, exc, data=data)
        except ValidationError as error:
            # a bare list has no 'windows' key to name: the rows are the file's items
            field = error.field.removeprefix("windows") if listed else error.field
            raise ValidationError(str(path), field, error.problem) from None
        raise  # unreachable; keeps mypy honest
    name = model.name or _stem_name(path)
    return WindowSet(name, tuple(BurnAlert(row.severity, row.long, row.short, row.factor, row.for_)
                                 for row in model.windows))


def _stem_name(path: Path) -> str:
    stem = path.stem[:MAX_NAME_LENGTH]
    return stem if re.fullmatch(NAME_PATTERN, stem) else "custom"
