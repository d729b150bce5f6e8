"""Shared pieces of the file models: strict base model, duration/percent/name field types, the
bounded reading of files and YAML (size, file kind, alias expansion), and the translation of
pydantic errors into one-line messages that name the file and the field path."""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from chaos_suite.errors import ValidationError
from chaos_suite.slo.duration import MAX_PHASE_SECONDS, MAX_SLO_WINDOW_SECONDS, parse_duration

MAX_FILE_BYTES = 1024 * 1024
"""Every file chaos_suite reads is hand-written configuration; anything larger is the wrong file
(or /dev/zero), and reading it whole would exhaust memory before any check could refuse it."""

MAX_YAML_VALUES = 100_000
"""Values (scalars, lists, mappings) a YAML file may hold once its aliases are expanded."""

MAX_YAML_TEXT = 4 * MAX_FILE_BYTES
"""Characters of scalar text a YAML file may hold once its aliases are expanded."""

MAX_NAME_LENGTH = 63
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class StrictModel(BaseModel):
    """Every file model rejects unknown fields: a typo must fail loudly, not be ignored. Floats
    must be finite: NaN compares false with every limit, so it would pass each check silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              allow_inf_nan=False)


def _duration_up_to(maximum: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool):
            raise ValueError("expected a duration like '30d', '4w', '1h', '5m', '30s'")
        try:
            return parse_duration(value, maximum=maximum)
        except ArithmeticError:  # OverflowError: an integer too large for a float
            raise ValueError(f"duration out of range: {str(value)[:40]}") from None

    return check


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


Duration = Annotated[float, BeforeValidator(_duration_up_to(MAX_PHASE_SECONDS))]
"""Seconds, written as '30d', '4w', '1h', '5m', '30s' or a number of seconds; at most 24 h,
since everything it measures (phases, windows looked back over in a run, timeouts, intervals)
happens within one run."""

SLOWindow = Annotated[float, BeforeValidator(_duration_up_to(MAX_SLO_WINDOW_SECONDS))]
"""An SLO window in seconds, written like a Duration; at most 1825 days (5 years)."""

Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH, pattern=NAME_PATTERN)]
"""A gameday, scenario or SLO name. It ends up in file names (reports/<stamp>-<gameday>/,
journals/NN-<scenario>.json), so it must be short and safe there: a name the file system
refuses would otherwise only fail mid-run, after the fault is injected."""

Fraction = Annotated[float, BeforeValidator(_non_negative_fraction)]
"""A fraction, written as 0.001 or '0.1%'."""

HttpUrl = Annotated[str, BeforeValidator(_http_url)]
"""An absolute http:// or https:// URL with a host."""


def validate_model(model: type[StrictModel], doc: Any, file: str, prefix: str) -> Any:
    """`doc` through `model`, or the one-line ValidationError naming the file and field."""
    try:
        return model.model_validate(doc)
    except PydanticValidationError as exc:
        raise_for_pydantic(file, exc, prefix, doc)
        raise  # unreachable; keeps mypy honest


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


def raise_for_pydantic(file: str | Path, exc: PydanticValidationError, prefix: str = "",
                       data: Any = None) -> None:
    """Turn the first pydantic error into a one-line ValidationError naming file + field.
    `data`, the validated document, lets a discriminated union's tag be left out of the path."""
    first = exc.errors(include_url=False)[0]
    loc = _without_tags(tuple(p for p in first["loc"] if not _is_union_tag(p)), data)
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


def _without_tags(loc: tuple[int | str, ...], data: Any) -> tuple[int | str, ...]:
    """Drop the discriminator value pydantic puts in the path of a tagged union member
    ('source.load.match' → 'source.match'): it is no key of the file. Every tagged union here
    is discriminated by `type`, written out or as a shorthand string (`source: load`)."""
    if data is None:
        return loc
    out: list[int | str] = []
    node = data
    for part in loc:
        is_tag = isinstance(part, str) and (
            node == part or (isinstance(node, dict) and part not in node
                             and node.get("type") == part))
        if is_tag:
            continue
        out.append(part)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None  # past the document (a default), nothing more to recognise
    return tuple(out)


def _is_union_tag(part: int | str) -> bool:
    # pydantic puts the chosen union member's name ('function-after[...]', 'str') in loc
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float"})


def read_text_file(path: Path) -> str:
    """The file's text, or a one-line ValidationError (missing, unreadable, not a regular file,
    larger than MAX_FILE_BYTES, not UTF-8)."""
    file = str(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ValidationError(file, "", "file not found") from None
    except (OSError, ValueError) as exc:  # ValueError: NUL in the path
        raise ValidationError(file, "", f"cannot read file: {_os_problem(exc)}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ValidationError(file, "", "is a folder, not a file")
        if not stat.S_ISREG(mode):
            # /dev/zero, a FIFO, a socket: endless or blocking, never a config file
            raise ValidationError(file, "", "not a regular file")
        # at most one byte past the cap: a file growing while read cannot exhaust memory
        raw = b""
        while len(raw) <= MAX_FILE_BYTES:
            chunk = os.read(fd, MAX_FILE_BYTES + 1 - len(raw))
            if not chunk:
                break
            raw += chunk
    except OSError as exc:
        raise ValidationError(file, "", f"cannot read file: {_os_problem(exc)}") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_FILE_BYTES:
        raise ValidationError(file, "", f"file too large: more than {MAX_FILE_BYTES // 1024} KiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(file, "", f"cannot read file: {exc}") from None
    # the universal newlines Path.read_text applied, so line numbers in messages stay right
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _os_problem(exc: Exception) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


def is_file(path: Path) -> bool:
    """Path.is_file() that answers False instead of raising for names the OS refuses
    (ENAMETOOLONG, permission denied): a bad path in a file is bad input, not a crash."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


class YAMLTooLarge(yaml.YAMLError):
    """A YAML document whose aliases expand beyond the caps, or refer to themselves.
    `field` is a path to the offending node ('configuration.f'), '' for the whole document."""

    def __init__(self, problem: str, field: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.field = field


def _check_expansion(root: yaml.Node) -> None:
    """Raise YAMLTooLarge if `root`, with every alias expanded, holds more than MAX_YAML_VALUES
    values or MAX_YAML_TEXT characters, or contains itself. Iterative and memoised per node,
    so a 'billion laughs' file is measured in time linear in its size, not its expansion."""
    sizes: dict[int, tuple[int, int]] = {}
    open_nodes: set[int] = set()
    # where each node was first reached from, to name the offending field in the message
    parents: dict[int, tuple[int, int | str]] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            values, chars = 1, 0
            for _, child in _children(node):
                child_values, child_chars = sizes[id(child)]
                values += child_values
                chars += child_chars
            open_nodes.discard(key)
            if values > MAX_YAML_VALUES:
                raise YAMLTooLarge(f"YAML too large: more than {MAX_YAML_VALUES} values once "
                                   "aliases are expanded", _node_path(key, parents))
            if chars > MAX_YAML_TEXT:
                raise YAMLTooLarge(f"YAML too large: more than {MAX_YAML_TEXT // (1024 * 1024)} "
                                   "MiB of text once aliases are expanded", _node_path(key, parents))
            sizes[key] = (values, chars)
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            # popped again while its own children are still being measured: it contains itself
            raise YAMLTooLarge("YAML alias refers to the node that contains it (a cycle)",
                               _node_path(key, parents))
        if isinstance(node, yaml.ScalarNode):
            sizes[key] = (1, len(str(node.value)))
            continue
        open_nodes.add(key)
        stack.append((node, True))
        for label, child in _children(node):
            if id(child) not in sizes:
                parents.setdefault(id(child), (key, label))
                stack.append((child, False))


def _children(node: yaml.Node) -> list[tuple[int | str, yaml.Node]]:
    """(label, child) pairs: list index, or the key's text for both a key and its value."""
    if isinstance(node, yaml.SequenceNode):
        return list(enumerate(node.value))
    if isinstance(node, yaml.MappingNode):
        out: list[tuple[int | str, yaml.Node]] = []
        for key_node, value_node in node.value:
            label = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            out += [(label, key_node), (label, value_node)]
        return out
    return []


def _node_path(key: int, parents: dict[int, tuple[int, int | str]]) -> str:
    parts: list[int | str] = []
    seen: set[int] = set()
    while key in parents and key not in seen:  # `seen`: a cycle must not loop here
        seen.add(key)
        key, label = parents[key]
        parts.append(label)
    return field_path(tuple(reversed(parts)))


class BoundedSafeLoader(yaml.SafeLoader):
    """yaml.SafeLoader that measures each document before building it. Aliases load as shared
    objects, so a 'billion laughs' file passes validation small and explodes later, at the
    first copy or json.dumps of it (mid-run, after a fault is injected)."""

    def construct_document(self, node: yaml.Node) -> Any:
        _check_expansion(node)
        return super().construct_document(node)


def load_yaml_text(text: str) -> list[Any]:
    """Every document of a YAML text, through BoundedSafeLoader (raises yaml.YAMLError,
    YAMLTooLarge included). The one way the project should turn YAML text into data."""
    return list(yaml.load_all(text, Loader=BoundedSafeLoader))


def load_yaml_documents(path: Path) -> list[Any]:
    """Every YAML document in the file, or a ValidationError saying where the YAML broke."""
    text = read_text_file(path)
    try:
        docs = [doc for doc in load_yaml_text(text) if doc is not None]
    except RecursionError:  # PyYAML's composer recurses once per nesting level
        raise ValidationError(str(path), "", "malformed YAML: nested too deeply") from None
    except YAMLTooLarge as exc:
        raise ValidationError(str(path), exc.field, exc.problem) from None
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
