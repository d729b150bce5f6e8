"""Bounded input at the file layer: file size and kind, YAML alias expansion, names, durations,
regexes. Each limit refuses with a ValidationError naming file and field; what real files use
stays accepted."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chaos_suite.errors import ValidationError
from chaos_suite.files.common import (
    MAX_FILE_BYTES,
    MAX_YAML_VALUES,
    load_yaml_documents,
    load_yaml_text,
    read_text_file,
)
from chaos_suite.files.loader import load_slos, validate_file

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str, name: str = "f.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_file_at_the_size_cap_is_read_and_one_byte_more_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"#" * MAX_FILE_BYTES)
    assert len(read_text_file(path)) == MAX_FILE_BYTES
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(ValidationError, match="file too large") as info:
        read_text_file(path)
    assert info.value.file == str(path)


def test_folder_is_not_read_as_a_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="is a folder"):
        read_text_file(tmp_path)


def test_line_endings_are_normalised_as_before(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"a: 1\r\nb: 2\rc: 3\n")
    assert read_text_file(path) == "a: 1\nb: 2\nc: 3\n"


def test_ordinary_aliases_and_merge_keys_still_load() -> None:
    text = "base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\nboth: [*b, *b]\n"
    assert load_yaml_text(text) == [{"base": {"x": 1}, "other": {"x": 1, "y": 2},
                                     "both": [{"x": 1}, {"x": 1}]}]


def test_alias_expansion_is_capped_and_names_the_field(tmp_path: Path) -> None:
    # 400 × 400 = 160 000 values once expanded, from a file of a few kilobytes
    row = "[" + ", ".join(["x"] * 400) + "]"
    grid = "[" + ", ".join(["*row"] * 400) + "]"
    path = write(tmp_path, f"kind: SLOs\nrow: &row {row}\ngrid: {grid}\n")
    with pytest.raises(ValidationError, match=f"more than {MAX_YAML_VALUES} values") as info:
        load_yaml_documents(path)
    assert info.value.field == "grid"


def test_alias_expanded_text_is_capped(tmp_path: Path) -> None:
    # few values, but each a copy of 100 KiB: 100 aliases are 10 MiB of text
    big = "x" * (100 * 1024)
    path = write(tmp_path, f"a: &a {big}\nb: [{', '.join(['*a'] * 100)}]\n")
    with pytest.raises(ValidationError, match="MiB of text once aliases are expanded") as info:
        load_yaml_documents(path)
    assert info.value.field == "b"


def test_self_containing_alias_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "a:\n  - x\n  - &b\n    c: [1, *b]\n")
    with pytest.raises(ValidationError, match="cycle") as info:
        load_yaml_documents(path)
    assert info.value.field == "a[1]"


@pytest.mark.parametrize(("snippet", "field", "problem"), [
    ("name: " + "a" * 64, "slos[0].name", "at most 63 characters"),
    ("name: a/b", "slos[0].name", "pattern"),
    ("name: a\n    window: 1826d", "slos[0].window", "at most 1825d (5 years)"),
    ("name: a\n    source: {type: load, match: '(['}", "slos[0].source.match",
     "invalid regular expression"),
    ("name: a\n    source: {type: load, match: '" + "a" * 1001 + "'}", "slos[0].source.match",
     "at most 1000 characters"),
    ("name: a\n    sli: {kind: latency, threshold_ms: 3600001}", "slos[0].sli.threshold_ms",
     "less than or equal to 3600000"),
    ("name: a\n    source: {type: http, url: 'http://127.0.0.1:1', interval: 2d}",
     "slos[0].source.interval", "at most 24h"),
])
def test_slo_bounds_name_the_field(tmp_path: Path, snippet: str, field: str, problem: str) -> None:
    path = write(tmp_path, f"kind: SLOs\nservice: s\nslos:\n  - objective: 0.99\n    {snippet}\n")
    with pytest.raises(ValidationError) as info:
        load_slos(path)
    assert (info.value.field, info.value.file) == (field, str(path))
    assert problem in info.value.problem


def test_slo_limits_themselves_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "kind: SLOs\nservice: s\nslos:\n"
                 f"  - {{name: {'a' * 63}, objective: 0.99, window: 1825d,\n"
                 "     source: {type: load, match: '^/checkout'}}\n")
    [spec] = load_slos(path)
    assert spec.slo.window_seconds == 1825 * 86_400


@pytest.mark.parametrize(("name", "problem"), [
    ("a" * 64, "1-63 characters"), ("checkout availability", "1-63 characters"),
])
def test_openslo_name_follows_the_same_rule(tmp_path: Path, name: str, problem: str) -> None:
    text = (ROOT / "gamedays/slos/checkout-openslo.yaml").read_text(encoding="utf-8")
    path = write(tmp_path, text.replace("name: checkout-availability", f"name: {name}"))
    with pytest.raises(ValidationError) as info:
        validate_file(path)
    assert info.value.field == "metadata.name"
    assert problem in info.value.problem


def test_plan_user_counts_are_bounded(tmp_path: Path) -> None:
    plan = yaml.safe_load((ROOT / "gamedays/demo.yaml").read_text(encoding="utf-8"))
    plan["load"]["shape"]["spawn_rate"] = 1e6  # whatever shape kind the demo runs
    path = ROOT / "gamedays" / f".tmp-{tmp_path.name}.yaml"
    path.write_text(yaml.safe_dump(plan), encoding="utf-8")
    try:
        with pytest.raises(ValidationError) as info:
            validate_file(path)
    finally:
        path.unlink()
    assert info.value.field == "load.shape.spawn_rate"
