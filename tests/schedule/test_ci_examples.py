"""The CI examples parse, and every `chaos-suite` command line in them exists: its subcommand
answers --help with exit 0 and every option it passes is one that --help lists."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from chaos_suite.cli import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ci"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


def command_lines(doc: Any) -> list[list[str]]:
    lines = [line.strip() for text in _strings(doc) for line in text.splitlines()]
    return [shlex.split(line) for line in lines if line.startswith("chaos-suite ")]


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_every_command_line_exists(name: str) -> None:
    doc = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    commands = command_lines(doc)
    assert any(c[1:3] == ["gameday", "run"] and "--fail-on" in c for c in commands)
    for words in commands:
        subcommand = []
        for word in words[1:]:
            if word.startswith("-") or not re.fullmatch(r"[a-z-]+", word):
                break
            subcommand.append(word)
        result = CliRunner().invoke(cli, [*subcommand, "--help"])
        assert result.exit_code == 0, (words, result.output)
        for option in (w.split("=")[0] for w in words if w.startswith("--")):
            assert option in result.output, (words, option)


def test_github_example_is_nightly_with_a_matrix_artifact_and_junit() -> None:
    doc = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text(encoding="utf-8"))
    triggers = doc[True] if True in doc else doc["on"]  # YAML 1.1 reads `on` as true
    assert triggers["schedule"][0]["cron"]
    job = doc["jobs"]["gameday"]
    assert job["strategy"]["matrix"]["plan"]
    uses = [step.get("uses", "") for step in job["steps"]]
    assert any(u.startswith("actions/upload-artifact") for u in uses)
    assert any("junit" in u for u in uses)


def test_gitlab_example_keeps_reports_and_junit() -> None:
    doc = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text(encoding="utf-8"))
    job = doc["gameday"]
    assert job["artifacts"]["reports"]["junit"] == "reports/*/junit.xml"
    assert job["parallel"]["matrix"]
