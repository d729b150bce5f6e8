"""Loading and validating any chaos_suite file, and resolving a gameday plan into everything a run
needs (SLOs, environment, experiments, locustfile), so that every input error surfaces before
anything is started or injected."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from chaos_suite.errors import InputError, UnknownSLOError, ValidationError
from chaos_suite.files.common import is_file
from chaos_suite.files.documents import load_documents
from chaos_suite.files.environment import (
    BUILTIN_LOCAL,
    EnvironmentModel,
    load_environment_file,
    parse_environment,
)
from chaos_suite.files.plan import GamedayModel, parse_gameday
from chaos_suite.files.slo_file import SLOSpec
from chaos_suite.files.slo_formats import SLOFile, describe, prefix_of, read_slo_files, slo_format

FileKind = Literal["slos", "gameday", "environment", "experiment", "locustfile"]

YAML_SUFFIXES = {".yaml", ".yml"}
# Python files are locustfiles: checked by importing them in a child process (files/locustfile.py)
LOCUSTFILE_SUFFIX = ".py"
EXPERIMENT_KEYS = {"method", "steady-state-hypothesis", "title"}


@dataclass(frozen=True)
class Validated:
    path: Path
    kind: FileKind
    summary: str


def _document_kind(doc: Any) -> FileKind | None:
    """What one document is, by its content alone (never by the file's name)."""
    if slo_format(doc) is not None:
        return "slos"
    if not isinstance(doc, dict):
        return None
    kind = doc.get("kind")
    if kind == "Gameday":
        return "gameday"
    if kind == "Environment":
        return "environment"
    if kind is None and EXPERIMENT_KEYS & set(doc):
        return "experiment"
    return None


def detect_kind(path: Path, docs: list[Any] | None = None) -> FileKind:
    """The file's kind, from its documents' content: every command detects files this way.
    SLO files may hold several documents (of any SLO format); the others hold exactly one."""
    docs = docs if docs is not None else load_documents(path)
    kinds = [_document_kind(doc) for doc in docs]
    for index, (doc, kind) in enumerate(zip(docs, kinds, strict=True)):
        prefix = prefix_of(index, len(docs))
        if not isinstance(doc, dict):
            raise ValidationError(str(path), prefix, f"expected a mapping; got a "
                                  f"{type(doc).__name__}")
        if kind is None:
            shown = doc.get("kind", doc.get("apiVersion"))
            raise ValidationError(
                str(path), f"{prefix}.kind" if prefix else "kind",
                f"unknown file type {shown!r}: expected SLOs, Gameday, Environment, an OpenSLO, "
                "Sloth or Pyrra SLO document, or a Chaos Toolkit experiment",
            )
    first = kinds[0]
    assert first is not None
    if first == "slos":
        for index, kind in enumerate(kinds):
            if kind != "slos":
                raise ValidationError(str(path), prefix_of(index, len(docs)), f"a {kind} "
                                      "document cannot share a file with SLO documents")
    elif len(docs) > 1:
        what = "Chaos Toolkit experiment" if first == "experiment" else f"{first} file"
        raise ValidationError(str(path), "documents[1]", f"a {what} holds exactly one document; "
                              f"this file has {len(docs)} (only the first would be read)")
    return first


def load_experiment(path: Path) -> dict[str, Any]:
    """Load and validate a Chaos Toolkit experiment with chaoslib's own validation."""
    if not is_file(path):
        raise ValidationError(str(path), "", f"experiment file {_absent(path)}")
    from chaoslib.exceptions import ChaosException
    from chaoslib.experiment import ensure_experiment_is_valid

    docs = load_documents(path)
    if len(docs) > 1:
        # chaos validate refuses a second document; reading the first alone would run an
        # experiment other than the one on disk
        raise ValidationError(str(path), "documents[1]", "a Chaos Toolkit experiment holds "
                              f"exactly one document; this file has {len(docs)}")
    experiment = docs[0]
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
    """Validate one file of any kind; raise ValidationError (one line: file + field) on failure.
    Inside `given(...)`, an SLO file is validated with the other files given (docs/architecture.md
    §1: an OpenSLO SLO may refer to their SLIs; a plan among them may count an SLO from the load)."""
    if path.suffix == LOCUSTFILE_SUFFIX:
        from chaos_suite.files.locustfile import inspect_locustfile

        return Validated(path, "locustfile", inspect_locustfile(path).summary())
    files = _GIVEN.get()
    docs = files.documents(path) if files is not None else load_documents(path)
    kind = detect_kind(path, docs)
    if kind == "slos":
        slo_file = SLOFile(str(path), docs)
        others = files.slo_files(besides=path) if files is not None else []
        from_load = files.count_from_load(path) if files is not None else frozenset()
        specs = read_slo_files([slo_file], now=datetime.now(UTC), count_from_load=from_load,
                               others=others)
        return Validated(path, kind, describe(slo_file, specs))
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
    """Files as given; folders expanded to their YAML/JSON files and locustfiles (sorted,
    recursive). A folder's .py files count as locustfiles when they import locust, so helper
    modules beside them are not reported as locustfiles without User classes; hidden folders
    and installed packages (a .venv's site-packages, Locust's own modules) are not looked in."""
    from chaos_suite.files.locustfile import imports_locust

    def locustfile(folder: Path, p: Path) -> bool:
        inside = p.relative_to(folder).parts[:-1]
        return (p.suffix == LOCUSTFILE_SUFFIX
                and not any(part.startswith(".") or part == "site-packages" for part in inside)
                and imports_locust(p))

    out: list[Path] = []
    for path in paths:
        if _is_dir(path):
            out.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and
                       (p.suffix in YAML_SUFFIXES or p.suffix == ".json"
                        or locustfile(path, p)))
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
    docs = docs if docs is not None else load_documents(path)
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise ValidationError(file, "", "expected exactly one YAML mapping")
    plan = parse_gameday(docs[0], file)
    return resolve_model(plan, path, env_override)


def resolve_model(plan: GamedayModel, path: Path, env_override: str | None = None) -> ResolvedPlan:
    """Resolve a validated plan; relative paths are relative to `path`'s folder."""
    file = str(path)
    base = path.parent
    slo_paths = []
    for i, value in enumerate(plan.slo_files):
        slo_path = _rel(base, value)
        if not is_file(slo_path):
            where = "slos" if isinstance(plan.slos, str) else f"slos[{i}]"
            raise ValidationError(file, where, f"SLO file '{value}' {_absent(slo_path)}")
        slo_paths.append(slo_path)
    slos = load_slos(slo_paths, count_from_load=plan.count_from_load)
    names = {s.name for s in slos}
    defined_in = ", ".join(str(p) for p in slo_paths)
    for i, slo_name in enumerate(plan.count_from_load):
        if slo_name not in names:
            raise UnknownSLOError(f"{file}: count_from_load[{i}]: unknown SLO '{slo_name}' "
                                  f"(defined in {defined_in}: {', '.join(sorted(names))})")
    for i, scenario in enumerate(plan.scenarios):
        for slo_name, expectation in scenario.expect.items():
            if slo_name not in names:
                raise UnknownSLOError(
                    f"{file}: scenarios[{i}].expect.{slo_name}: unknown SLO "
                    f"(defined in {defined_in}: {', '.join(sorted(names))})"
                )
            wanted = expectation.alert.policy if expectation.alert is not None else None
            policies = [p.name for s in slos if s.name == slo_name for p in s.alert_policies]
            if wanted is not None and wanted not in policies:
                raise ValidationError(file, f"scenarios[{i}].expect.{slo_name}.alert.policy",
                                      f"SLO '{slo_name}' has no OpenSLO alert policy '{wanted}'"
                                      f" (it has: {', '.join(policies) or 'none'})")
    if env_override is not None:
        environment, env_path = resolve_environment(env_override, None, "--env", "")
    else:
        environment, env_path = resolve_environment(plan.environment, base, file, "environment")
    from chaos_suite.detection.coverage import windows_choice

    windows_choice(environment, env_path)  # a bad detection.windows fails here, before any start
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


def load_slos(paths: Path | Sequence[Path], count_from_load: Sequence[str] = ()) -> list[SLOSpec]:
    """Every SLO of one or more SLO files, whatever format each is in (detected by content, as
    `validate` does); an OpenSLO SLO may refer to SLIs and DataSources of any of them."""
    paths = [paths] if isinstance(paths, Path) else list(paths)
    files: list[SLOFile] = []
    for path in paths:
        docs = load_documents(path)
        kind = detect_kind(path, docs)
        if kind != "slos":
            raise ValidationError(str(path), "", f"not an SLO file: it holds a {kind}")
        files.append(SLOFile(str(path), docs))
    specs = read_slo_files(files, now=datetime.now(UTC), count_from_load=frozenset(count_from_load))
    if not specs:
        raise ValidationError(str(paths[0]) if len(paths) == 1 else ", ".join(map(str, paths)),
                              "", "no SLO here (only other OpenSLO documents)")
    return specs


class FilesGiven:
    """The files one command was given, read once: `validate a.yaml b.yaml` checks each file
    with the others' OpenSLO objects (an indicatorRef may name an SLI in b.yaml) and the plans
    among them (a plan's count_from_load changes what its SLO file may hold)."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = list(paths)
        self._docs: dict[Path, list[Any] | ValidationError] = {}

    def documents(self, path: Path) -> list[Any]:
        if path not in self._docs:
            try:
                self._docs[path] = load_documents(path)
            except ValidationError as exc:
                self._docs[path] = exc
        docs = self._docs[path]
        if isinstance(docs, ValidationError):
            raise docs
        return docs

    def _readable(self) -> Iterator[tuple[Path, list[Any]]]:
        for path in self.paths:
            if path.suffix == LOCUSTFILE_SUFFIX:
                continue  # Python, not documents
            try:
                yield path, self.documents(path)
            except ValidationError:
                continue  # reported when that file itself is validated

    def slo_files(self, besides: Path) -> list[SLOFile]:
        return [SLOFile(str(path), docs) for path, docs in self._readable()
                if path != besides and all(slo_format(doc) is not None for doc in docs)]

    def count_from_load(self, slo_path: Path) -> frozenset[str]:
        """The SLOs that plans among the files count from the load for this SLO file (read
        leniently: a broken plan is reported on its own)."""
        names: set[str] = set()
        target = _resolved(slo_path)
        for path, docs in self._readable():
            plan = docs[0] if len(docs) == 1 and isinstance(docs[0], dict) else {}
            if plan.get("kind") != "Gameday" or not isinstance(plan.get("count_from_load"), list):
                continue
            slos = plan.get("slos")
            listed = [slos] if isinstance(slos, str) else slos if isinstance(slos, list) else []
            if any(isinstance(v, str) and _resolved(_rel(path.parent, v)) == target
                   for v in listed):
                names.update(n for n in plan["count_from_load"] if isinstance(n, str))
        return frozenset(names)


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, ValueError, RuntimeError):
        return path


_GIVEN: ContextVar[FilesGiven | None] = ContextVar("chaos_suite_files_given", default=None)


@contextmanager
def given(paths: Sequence[Path]) -> Iterator[FilesGiven]:
    """Within this block, validate_file sees every file of `paths` (see FilesGiven)."""
    files = FilesGiven(paths)
    token = _GIVEN.set(files)
    try:
        yield files
    finally:
        _GIVEN.reset(token)


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
    "FilesGiven", "InputError", "ResolvedPlan", "ResolvedScenario", "Validated", "detect_kind",
    "expand_paths", "given", "load_experiment", "load_slos", "resolve_environment", "resolve_plan",
    "select_slos", "validate_file",
]
