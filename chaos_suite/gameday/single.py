"""`chaos-suite run EXPERIMENT`: one experiment under load, as a one-scenario gameday, so CI gets
the same run record, report, verdicts and exit codes as a facilitator does."""

from __future__ import annotations

from pathlib import Path

from chaos_suite.errors import InputError, ValidationError
from chaos_suite.files.common import is_file
from chaos_suite.files.loader import ResolvedPlan, load_slos, resolve_model, select_slos
from chaos_suite.files.plan import GamedayModel, parse_gameday

DEFAULT_LOCUSTFILE = Path("loadtests") / "checkout.py"


def plan_for_single_experiment(*, experiment: Path, slo_file: Path, slo_names: list[str],
                               shape: str = "steady",
                               env: str, locustfile: Path | None, users: int, baseline: str,
                               cooldown: str, max_budget: str | None) -> ResolvedPlan:
    specs = select_slos(load_slos(slo_file), slo_names, str(slo_file))
    locust = locustfile or DEFAULT_LOCUSTFILE
    if not is_file(locust):
        raise InputError(f"--load: locustfile '{locust}' not found")
    if not is_file(experiment):
        raise InputError(f"{experiment}: experiment file not found")
    # without --max-budget the expectation is the whole window's budget: only a fault that
    # would exhaust it fails the run (say what you expect to get a sharper verdict)
    expectation = {"max_budget_consumed": max_budget if max_budget is not None else 1.0}
    service = specs[0].service if specs else "service"
    data: dict[str, object] = {
        "name": experiment.stem.replace(" ", "-") or "run",
        "service": service,
        "environment": env,
        "slos": str(slo_file.resolve()),
        "load": {"locustfile": str(locust.resolve()), "shape": {"kind": shape, "users": users,
                                                                "spawn_rate": max(users, 1)}},
        "baseline": baseline,
        "cooldown": cooldown,
        "scenarios": [{
            "name": experiment.stem or "experiment",
            "experiment": str(experiment.resolve()),
            "expect": {spec.name: expectation for spec in specs},
        }],
    }
    try:
        plan: GamedayModel = parse_gameday(data, "command line")
    except ValidationError as exc:
        flag = next((f for prefix, f in FLAGS.items() if exc.field.startswith(prefix)), exc.field)
        raise InputError(f"{flag}: {exc.problem}") from None
    return resolve_model(plan, Path.cwd() / "command-line", env_override=env)


# plan fields the command line fills in, for error messages that name the flag
FLAGS = {"load.shape.users": "--users", "load.shape": "--shape", "baseline": "--baseline",
         "cooldown": "--cooldown", "scenarios[0].expect": "--max-budget", "name": "EXPERIMENT",
         "scenarios[0].name": "EXPERIMENT", "environment": "--env"}
