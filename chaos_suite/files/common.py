"""Shared pieces of the file models: strict base model, duration/percent field types, and the
translation of pydantic errors into one-line messages that name the file and the field path."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from chaos_suite.errors import ValidationError
from chaos_suite.slo.duration import parse_duration


class StrictModel(BaseModel):
    """Every file model rejects unknown fields: a typo must fail loudly, not be ignored. Floats
    must be finite: NaN compares false with every limit, so it would pass each check silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              allow_inf_nan=False)


def _duration(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a duration like '30d', '4w', '1h', '5m', '30s'")
    try:
        return parse_duration(value)
    except ArithmeticError:  # OverflowError: an integer too large for a float
        raise ValueError(f"duration out of range: {str(value)[:40]}") from None


def _fraction(value: Any) -> float:
    """'99.9%' → 0.999; 0.999 → 0.999. Numbers above 1 are refused rather than guessed at."""
    if isinstance(value, bool):
        raise ValueError("expected a fraction (0.999) or a percentage ('99.9%')")
    if isinstance(value, str):
        text = value.strip()
        match = re.fullmatch(r"([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*%", text)
        if match:
            # Decimal: '99.9%' must be exactly 0.999, not 0.9990000000000001
            try:
                return float(Decimal(match.group(1)) / 100)
            except ArithmeticError:  # decimal.Overflow for '1e999999999999%'
                raise ValueError(f"percentage out of range: {text!r}") from None
        try:
            return float(text)
        except ValueError:
            raise ValueError("expected a fraction (0.999) or a percentage ('99.9%')") from None
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:  # an integer too large for a float
            raise ValueError(f"number out of range: {str(value)[:40]}") from None
    raise ValueError("expected a fraction (0.999) or a percentage ('99.9%')")


def _non_negative_fraction(value: Any) -> float:
    number = _fraction(value)
    if not math.isfinite(number):
        # 'NaN', '1e309%': NaN passes every comparison, so a NaN limit would disable its check
        raise ValueError(f"expected a finite fraction or percentage; got {value!r}")
    if number < 0:
        raise ValueError("must not be negative")
    return number


def _http_url(value: Any) -> str:
    """An absolute http(s) URL with a host. Checked here so that a typo is bad input naming the
    field, not an error of the HTTP client when a dry run or a run first uses it."""
    from urllib.parse import urlsplit

    if not isinstance(value, str):
        raise ValueError("expected a URL such as http://127.0.0.1:8080")
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError for a port out of range
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or not value.isprintable() \
            or any(ch.isspace() for ch in value):
        raise ValueError(f"expected an http:// or https:// URL with a host; got {value[:80]!r}")
    return value


Duration = Annotated[float, BeforeValidator(_duration)]
"""Seconds, written as '30d', '4w', '1h', '5m', '30s' or a number of seconds."""

Fraction = Annotated[float, BeforeValidator(_non_negative_fraction)]
"""A fraction, written as 0.001 or '0.1%'."""

HttpUrl = Annotated[str, BeforeValidator(_http_url)]
"""An absolute http:// or https:// URL with a host."""


def field_path(loc: tuple[int | str, ...]) -> str:
    """('scenarios', 0, 'expect') → 'scenarios[0].expect'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = str(part)
            # a key from the file may hold a newline or a NUL; the message must stay one line
            out += ("." if out else "") + (text if text.isprintable() else repr(text))
    return out


def raise_for_pydantic(file: str | Path, exc: PydanticValidationError, prefix: str = "") -> None:
    """Turn the first pydantic error into a one-line ValidationError naming file + field."""
    first = exc.errors(include_url=False)[0]
    loc = tuple(p for p in first["loc"] if not _is_union_tag(p))
    path = field_path(loc)
    if prefix:
        path = f"{prefix}.{path}" if path else prefix
    msg = str(first["msg"])
    if first["type"] == "extra_forbidden":
        msg = "unknown field"
    elif first["type"] == "missing":
        msg = "required field is missing"
    msg = msg.removeprefix("Value error, ")
    raise ValidationError(str(file), path, msg) from None


def _is_union_tag(part: int | str) -> bool:
    # pydantic puts the chosen union member's name ('function-after[...]', 'str') in loc
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float"})


def read_text_file(path: Path) -> str:
    """The file's text, or a one-line ValidationError (missing, unreadable, not UTF-8)."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationError(str(path), "", "file not found") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # ValueError: NUL in the path
        raise ValidationError(str(path), "", f"cannot read file: {exc}") from None


def is_file(path: Path) -> bool:
    """Path.is_file() that answers False instead of raising for names the OS refuses
    (ENAMETOOLONG, permission denied): a bad path in a file is bad input, not a crash."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def load_yaml_documents(path: Path) -> list[Any]:
    """Every YAML document in the file, or a ValidationError saying where the YAML broke."""
    text = read_text_file(path)
    try:
        docs = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except RecursionError:  # PyYAML's composer recurses once per nesting level
        raise ValidationError(str(path), "", "malformed YAML: nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ValidationError(str(path), "", f"malformed YAML: {where}{problem}") from None
    if not docs:
        raise ValidationError(str(path), "", "file is empty")
    return docs


def load_single_mapping(path: Path) -> dict[str, Any]:
    docs = load_yaml_documents(path)
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise ValidationError(str(path), "", "expected exactly one YAML mapping")
    return docs[0]
