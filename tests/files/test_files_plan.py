"""Gameday plans and environments: resolution of paths, SLO names and environments."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos_suite.errors import UnknownSLOError, ValidationError
from chaos_suite.files.loader import resolve_plan, validate_file

ROOT = Path(__file__).resolve().parents[2]


def test_demo_plan_resolves() -> None:
    resolved = resolve_plan(ROOT / "gamedays/demo.yaml")
    assert resolved.plan.name == "demo"
    assert resolved.environment.name == "local"
    assert [s.name for s in resolved.used_slos] == ["availability", "latency"]
    assert all(s.experiment_path.is_file() for s in resolved.scenarios)
    errors = resolved.plan.scenarios[1].expect["availability"]
    assert errors.max_budget_consumed == pytest.approx(0.0006)
    assert errors.min_budget_consumed == pytest.approx(0.0002)


def test_unknown_slo_in_expectation(tmp_path: Path) -> None:
    text = (ROOT / "gamedays/demo.yaml").read_text(encoding="utf-8")
    plan = tmp_path / "plan.yaml"
    base = ROOT / "gamedays"
    text = text.replace("slos: slos/checkout.yaml", f"slos: {base}/slos/checkout.yaml")
    text = text.replace("../", f"{ROOT}/").replace("      latency:\n        min_budget",
                                                 "      latencyy:\n        min_budget")
    plan.write_text(text, encoding="utf-8")
    with pytest.raises(UnknownSLOError, match=r"scenarios\[2\]\.expect\.latencyy"):
        resolve_plan(plan)


def test_min_above_max_rejected(tmp_path: Path) -> None:
    text = (ROOT / "gamedays/demo.yaml").read_text(encoding="utf-8")
    text = text.replace("min_budget_consumed: 0.02%", "min_budget_consumed: 0.2%")
    plan = ROOT / "gamedays" / f".tmp-{tmp_path.name}.yaml"
    plan.write_text(text, encoding="utf-8")
    try:
        with pytest.raises(ValidationError, match=r"scenarios\[1\]\.expect\.availability"):
            resolve_plan(plan)
    finally:
        plan.unlink()


def test_unknown_environment(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="unknown environment 'mars'"):
        resolve_plan(ROOT / "gamedays/demo.yaml", env_override="mars")


def test_production_environment_always_requires_confirmation(tmp_path: Path) -> None:
    env = tmp_path / "prod.yaml"
    env.write_text("kind: Environment\nname: prod\ntier: production\n"
                   "target: {type: http, url: 'http://127.0.0.1:1'}\n", encoding="utf-8")
    result = validate_file(env)
    assert result.kind == "environment"
    from chaos_suite.files.environment import load_environment_file

    assert load_environment_file(env).safety.require_confirmation is True


def test_bad_timezone_named(tmp_path: Path) -> None:
    env = tmp_path / "e.yaml"
    env.write_text("kind: Environment\nname: e\nsafety:\n  allowed_windows:\n"
                   "    - days: [mon]\n      timezone: Mars/Olympus\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        validate_file(env)
    assert info.value.field == "safety.allowed_windows[0].timezone"
