"""Which shape a gameday runs when its plan names none: the locustfile's own LoadTestShape
(untouched, and said so in the dry run and in plan.json, its users over time in the samples),
else the default steady shape."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml
from gameday_helpers import action, experiment, only_run_dir, run_cli, write_plan

from chaos_suite.files.loader import resolve_plan
from chaos_suite.gameday.resolve import load_config_for, plan_record, shape_choice

FIVE_THEN_TEN = """
    from locust import FastHttpUser, LoadTestShape, constant, task

    class Shopper(FastHttpUser):
        wait_time = constant(0.05)

        @task
        def products(self):
            self.client.get("/api/products", name="GET /api/products")

    class FiveThenTen(LoadTestShape):
        # never ends by itself: the run stops the load
        def tick(self):
            return (5, 50) if self.get_run_time() < 6 else (10, 50)
"""


def _plan_without_shape(folder: Path, locustfile_body: str) -> Path:
    plan_path = write_plan(folder, [{
        "name": "idle",
        "experiment": experiment("nothing injected", [action("clear", "clear_faults",
                                                             pause_after=5)]),
        "expect": {"availability": {"max_budget_consumed": "100%"}},
    }], baseline="3s", cooldown="2s")
    locustfile = folder / "own_shape.py"
    locustfile.write_text(textwrap.dedent(locustfile_body))
    plan = yaml.safe_load(plan_path.read_text())
    plan["load"] = {"locustfile": locustfile.name}  # no shape
    plan["min_events"] = 10
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return plan_path


def test_without_a_shape_in_the_plan_the_locustfiles_runs_else_the_default(
        tmp_path: Path) -> None:
    own = resolve_plan(_plan_without_shape(tmp_path / "own", FIVE_THEN_TEN))
    choice = shape_choice(own)
    assert (choice.origin, choice.shape, choice.shape_class) == ("locustfile", None, "FiveThenTen")
    assert choice.describe() == "FiveThenTen from the locustfile"
    config = load_config_for(own, "http://127.0.0.1:1", tmp_path)
    assert config["shape"] is None  # the worker must not replace the locustfile's shape
    load = plan_record(own, "r").load
    assert load is not None
    assert (load.shape, load.shape_from, load.shape_class) == (None, "locustfile", "FiveThenTen")

    shapeless = FIVE_THEN_TEN[:FIVE_THEN_TEN.index("    class FiveThenTen")]
    plain = resolve_plan(_plan_without_shape(tmp_path / "plain", shapeless))
    choice = shape_choice(plain)
    assert choice.origin == "default" and choice.shape is not None
    assert choice.describe().startswith("steady, 20 users (default")
    load = plan_record(plain, "r").load
    assert load is not None and load.shape_from == "default"
    assert load.shape is not None and load.shape.users == 20


@pytest.mark.slow
def test_the_run_record_shows_the_locustfiles_shape_and_its_users(tmp_path: Path) -> None:
    plan = _plan_without_shape(tmp_path / "plan", FIVE_THEN_TEN)
    dry = run_cli("gameday", "run", str(plan), "--dry-run", "--reports", str(tmp_path / "r"))
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "shape: FiveThenTen from the locustfile" in dry.stdout

    result = run_cli("gameday", "run", str(plan), "--reports", str(tmp_path / "r"))
    assert result.returncode == 0, result.stdout + result.stderr
    run_dir = only_run_dir(tmp_path / "r")
    load = json.loads((run_dir / "plan.json").read_text())["load"]
    assert (load["shape"], load["shape_from"], load["shape_class"]) == (
        None, "locustfile", "FiveThenTen")
    samples = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    users = [s["users"] for s in samples if s["source"] == "load"]
    while users and users[-1] == 0:  # the seconds written as the load stopped
        users.pop()
    while users and users[0] == 0:  # a second sampled before Locust spawned its first user
        users.pop(0)
    # the shape's users, in its order: 5 for its first 6 s, then 10 to the end
    assert users[0] == 5 and users[-1] == 10
    assert users.count(5) >= 3 and users.count(10) >= 5
    assert users.index(10) > max(i for i, u in enumerate(users) if u == 5)
