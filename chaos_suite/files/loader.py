"""Loading and validating any chaos_suite file, and resolving a gameday plan into everything a run
needs (SLOs, environment, experiments, locustfile), so that every input error surfaces before
anything is started or injected."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from chaos_suite.errors import InputError, UnknownSLOError, ValidationError
from chaos_suite.files.common import is_file, load_yaml_documents, read_text_file
from chaos_suite.files.environment import (
    BUILTIN_LOCAL,
    EnvironmentModel,
    load_environment_file,
    parse_environment,
)
from chaos_suite.files.plan import GamedayModel, parse_gameday
from chaos_suite.files.slo_file import SLOSpec, is_slo_document, load_slo_file, parse_slo_documents

FileKind = Literal["slos", "gameday", "environment", "experiment"]

YAML_SUFFIXES = {".yaml", ".yml"}
EXPERIMENT_KEYS = {"method", "steady-state-hypothesis", "title"}


@dataclass(frozen=True)
class Validated:
    path: Path
    kind: FileKind
    summary: str


def detect_kind(path: Path, docs: list[Any] | None = None) -> FileKind:
    if path.suffix == ".json":
        return "experiment"
    docs = docs if docs is not None else load_yaml_documents(path)
    first = docs[0]
    if not isinstance(first, dict):
        raise ValidationError(str(path), "", "expected a YAML mapping")
    if is_slo_document(first):
        return "slos"
    kind = first.get("kind")
    if kind == "Gameday":
        return "gameday"
    if kind == "Environment":
        return "environment"
    if kind is None and EXPERIMENT_KEYS & set(first):
        return "experiment"
    raise ValidationError(
        str(path), "kind",
        f"unknown file type {kind!r}: expected SLOs, Gameday, Environment, an OpenSLO v1 SLO "
        "or a Chaos Toolkit experiment",
    )


def load_experiment(path: Path) -> dict[str, Any]:
    """Load and validate a Chaos Toolkit experiment with chaoslib's own validation."""
    if not is_file(path):
        raise ValidationError(str(path), "", f"experiment file {_absent(path)}")
    from chaoslib.exceptions import ChaosException
    from chaoslib.experiment import ensure_experiment_is_valid

    try:
        if path.suffix == ".json":
            experiment = json.loads(read_text_file(path))
        else:
            docs = load_yaml_documents(path)
            experiment = docs[0]
    except json.JSONDecodeError as exc:
        raise ValidationError(str(path), "", f"malformed JSON: line {exc.lineno}: {exc.msg}") from None
    except RecursionError:
        raise ValidationError(str(path), "", "malformed JSON: nested too deeply") from None
    if not isinstance(experiment, dict):
        raise ValidationError(str(path), "", "expected a Chaos Toolkit experiment mapping")
    try:
        with _quiet_chaoslib():
            ensure_experiment_is_valid(experiment)
    except ChaosException as exc:
        raise ValidationError(str(path), "", "invalid Chaos Toolkit experiment: "
                              + _first_line(exc)) from None
    except Exception as exc:  # noqa: BLE001 - chaoslib trips over some malformed input itself
        # (KeyError for an env configuration without 'key', TypeError for a string where it
        # expects a mapping): still bad input, reported as such rather than as a traceback
        raise ValidationError(str(path), "", "invalid Chaos Toolkit experiment: "
                              f"{type(exc).__name__}: {_first_line(exc)}") from None
    return experiment


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class _quiet_chaoslib:
    """chaoslib logs validation chatter at INFO on its 'chaostoolkit' logger; keep stderr one line."""

    def __enter__(self) -> None:
        import logging

        self._logger = logging.getLogger("chaostoolkit")
        self._level = self._logger.level
        self._logger.setLevel(logging.CRITICAL)

    def __exit__(self, *exc: object) -> None:
        self._logger.setLevel(self._level)


def validate_file(path: Path) -> Validated:
    """Validate one file of any kind; raise ValidationError (one line: file + field) on failure."""
    if path.suffix == ".json":
        experiment = load_experiment(path)
        return Validated(path, "experiment", str(experiment.get("title", "")))
    docs = load_yaml_documents(path)
    kind = detect_kind(path, docs)
    if kind == "slos":
        specs = parse_slo_documents(docs, str(path))
        return Validated(path, kind, ", ".join(s.name for s in specs))
    if kind == "environment":
        if len(docs) != 1:
            raise ValidationError(str(path), "", "expected exactly one YAML document")
        env = parse_environment(docs[0], str(path))
        return Validated(path, kind, f"{env.name} ({env.tier}, target {env.target.type})")
    if kind == "gameday":
        resolved = resolve_plan(path, docs=docs)
        return Validated(path, kind, f"{resolved.plan.name}: {len(resolved.plan.scenarios)} scenarios")
    experiment = load_experiment(path)
    return Validated(path, "experiment", str(experiment.get("title", "")))


def _absent(path: Path) -> str:
    """Why a path is no file to read: missing, or there but a folder, FIFO or device."""
    try:
        exists = path.exists()
    except (OSError, ValueError):
        exists = False
    return "is not a regular file" if exists else "not found"


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):  # a name the OS refuses: validate reports it as unreadable
        return False


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files as given; folders expanded to their YAML/JSON files (sorted, recursive)."""
    out: list[Path] = []
    for path in paths:
        if _is_dir(path):
            out.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and
                       (p.suffix in YAML_SUFFIXES or p.suffix == ".json"))
            )
        else:
            out.append(path)
    return out


# ---------------------------------------------------------------- plan resolution


@dataclass(frozen=True)
class ResolvedScenario:
    name: str
    experiment_path: Path
    experiment: dict[str, Any]


@dataclass(frozen=True)
class ResolvedPlan:
    path: Path
    plan: GamedayModel
    slos: list[SLOSpec]
    environment: EnvironmentModel
    environment_path: Path | None
    locustfile: Path
    scenarios: list[ResolvedScenario] = field(default_factory=list)

    def slo(self, name: str) -> SLOSpec:
        for spec in self.slos:
            if spec.name == name:
                return spec
        raise UnknownSLOError(f"unknown SLO '{name}'")

    @property
    def used_slos(self) -> list[SLOSpec]:
        """SLOs some scenario states an expectation for, in SLO-file order."""
        wanted = {name for s in self.plan.scenarios for name in s.expect}
        return [s for s in self.slos if s.name in wanted]


def _rel(base: Path, value: str) -> Path:
    candidate = Path(value)
    # normpath: 'gamedays/../loadtests/x.py' reads better as 'loadtests/x.py' in every message
    return Path(os.path.normpath(candidate if candidate.is_absolute() else base / candidate))


def resolve_environment(value: str, plan_dir: Path | None, file: str, field_name: str
                        ) -> tuple[EnvironmentModel, Path | None]:
    """A path to an environment file, or a name looked up in <plan dir>/environments/,
    ./environments/ and ./gamedays/environments/; `local` falls back to the built-in one."""
    direct = Path(value)
    if direct.suffix in YAML_SUFFIXES:
        base = plan_dir if plan_dir is not None and not direct.is_absolute() else Path()
        path = direct if is_file(direct) else base / direct
        if not is_file(path):
            raise ValidationError(file, field_name, f"environment file '{value}' not found")
        return load_environment_file(path), path
    dirs = [Path("environments"), Path("gamedays") / "environments"]
    if plan_dir is not None:
        dirs.insert(0, plan_dir / "environments")
    for folder in dirs:
        for suffix in (".yaml", ".yml"):
            path = folder / f"{value}{suffix}"
            if is_file(path):
                env = load_environment_file(path)
                return env, path
    if value == "local":
        return BUILTIN_LOCAL, None
    raise ValidationError(file, field_name, f"unknown environment '{value}' (no environments/{value}.yaml)")


def resolve_plan(path: Path, env_override: str | None = None, docs: list[Any] | None = None
                 ) -> ResolvedPlan:
    file = str(path)
    docs = docs if docs is not None else load_yaml_documents(path)
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise ValidationError(file, "", "expected exactly one YAML mapping")
    plan = parse_gameday(docs[0], file)
    return resolve_model(plan, path, env_override)


def resolve_model(plan: GamedayModel, path: Path, env_override: str | None = None) -> ResolvedPlan:
    """Resolve a validated plan; relative paths are relative to `path`'s folder."""
    file = str(path)
    base = path.parent
    slo_path = _rel(base, plan.slos)
    if not is_file(slo_path):
        raise ValidationError(file, "slos", f"SLO file '{plan.slos}' {_absent(slo_path)}")
    slos = load_slo_file(slo_path)
    names = {s.name for s in slos}
    for i, scenario in enumerate(plan.scenarios):
        for slo_name in scenario.expect:
            if slo_name not in names:
                raise UnknownSLOError(
                    f"{file}: scenarios[{i}].expect.{slo_name}: unknown SLO "
                    f"(defined in {slo_path}: {', '.join(sorted(names))})"
                )
    if env_override is not None:
        environment, env_path = resolve_environment(env_override, None, "--env", "")
    else:
        environment, env_path = resolve_environment(plan.environment, base, file, "environment")
    locustfile = _rel(base, plan.load.locustfile)
    if not is_file(locustfile):
        raise ValidationError(file, "load.locustfile",
                              f"locustfile '{plan.load.locustfile}' {_absent(locustfile)}")
    scenarios: list[ResolvedScenario] = []
    for i, scenario in enumerate(plan.scenarios):
        exp_path = _rel(base, scenario.experiment)
        if not is_file(exp_path):
            raise ValidationError(file, f"scenarios[{i}].experiment",
                                  f"experiment file '{scenario.experiment}' {_absent(exp_path)}")
        scenarios.append(ResolvedScenario(scenario.name, exp_path, load_experiment(exp_path)))
    return ResolvedPlan(path=path, plan=plan, slos=slos, environment=environment,
                        environment_path=env_path, locustfile=locustfile, scenarios=scenarios)


def load_slos(path: Path) -> list[SLOSpec]:
    return load_slo_file(path)


def select_slos(specs: list[SLOSpec], names: list[str] | None, file: str) -> list[SLOSpec]:
    if not names:
        return specs
    known = {s.name: s for s in specs}
    missing = [n for n in names if n not in known]
    if missing:
        raise UnknownSLOError(f"{file}: unknown SLO '{missing[0]}' (known: {', '.join(sorted(known))})")
    return [known[n] for n in names]


def env_flag(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value else None


__all__ = [
    "InputError", "ResolvedPlan", "ResolvedScenario", "Validated", "detect_kind", "expand_paths",
    "load_experiment", "load_slos", "resolve_environment", "resolve_plan", "select_slos",
    "validate_file",
]
