"""Property-based bad input: malformed SLO files, environments, plans and experiments, built by
mutating the bundled examples (dropped keys, unknown keys, wrong types, odd numbers, garbage
bytes, truncated YAML). Whatever the input, the CLI (in-process, for speed) exits 0 or 2, never
with a traceback; a refusal is one line naming the file; and nothing is started or written."""

from __future__ import annotations

import copy
import io
import json
import math
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chaos_suite.cli import main

ROOT = Path(__file__).resolve().parents[2]
GAMEDAYS = ROOT / "gamedays"
EXPERIMENTS = ROOT / "experiments"
# CHAOS_SUITE_FUZZ_EXAMPLES=2000 for a long hunt; the default keeps the file well under a minute
FUZZ = settings(max_examples=int(os.environ.get("CHAOS_SUITE_FUZZ_EXAMPLES", "60")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

ODD_SCALARS: list[Any] = [
    None, "", " ", "1e309", "-1e309", "-0", "NaN", "nan", "inf", "-inf", ".inf", "100%", "-5%",
    "1e309%", "NaN%", "0%", "101%", "-1", "0", "0s", "-5s", "1h-5m", "99999999999999999999d",
    True, False, -1, 0, -0.0, 10**30, -(10**30), 2**63, 10**400, 1e308, math.nan, math.inf, -math.inf,
    "ünïcødé ☃ 雪", "\x00", "\t\n", "a" * 300, "../../../etc/passwd", "/dev/null", "America",
    "Etc", "posixrules", "${HOME}", "24:00", "25:61", "mon", "production", "staging", "local",
    "kubernetes", "http", "prometheus", "latency", "availability", "Gameday", "SLOs",
    "openslo/v1", "2024-01-01",
]
odd_scalar = st.sampled_from(ODD_SCALARS)
odd_value = st.one_of(
    odd_scalar,
    st.text(max_size=12),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(),
    st.lists(odd_scalar, max_size=3),
    st.lists(st.lists(odd_scalar, max_size=2), max_size=2),
    st.dictionaries(st.text(max_size=6), odd_scalar, max_size=3),
)
unknown_key = st.one_of(st.sampled_from(["windw", "objectiv", "replica", "kind ", "x-extra",
                                         "tier", "safety", "name"]),
                        st.text(min_size=1, max_size=10))


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def demo_plan() -> dict[str, Any]:
    """The demo plan with every path absolute, so it resolves from any folder."""
    plan = load(GAMEDAYS / "demo.yaml")
    plan["slos"] = str(GAMEDAYS / "slos" / "checkout.yaml")
    plan["load"]["locustfile"] = str(ROOT / "loadtests" / "checkout.py")
    for scenario in plan["scenarios"]:
        scenario["experiment"] = str((GAMEDAYS / scenario["experiment"]).resolve())
    return plan


# ---------------------------------------------------------------- mutations


def node_paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every position in a document (the root is ())."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from node_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from node_paths(value, (*prefix, index))


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """1–3 mutations of `base`: drop a key, add an unknown key, or replace a value."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = list(node_paths(doc))
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["drop", "add", "replace", "replace"]))
        target = _at(doc, path)
        if op == "add" and isinstance(target, dict):
            target[draw(unknown_key)] = draw(odd_value)
        elif op == "drop" and path:
            parent = _at(doc, path[:-1])
            del parent[path[-1]]
        elif path:
            _at(doc, path[:-1])[path[-1]] = draw(odd_value)
    return doc


@st.composite
def garbled_text(draw: st.DrawFn, raw: bytes) -> bytes:
    """A valid file truncated, with random bytes spliced in, or pure byte garbage."""
    kind = draw(st.sampled_from(["truncate", "splice", "garbage"]))
    if kind == "garbage":
        return draw(st.binary(max_size=200))
    cut = draw(st.integers(min_value=0, max_value=len(raw)))
    if kind == "truncate":
        return raw[:cut]
    return raw[:cut] + draw(st.binary(min_size=1, max_size=8)) + raw[cut:]


# ---------------------------------------------------------------- running the CLI in-process


PREFLIGHT = tuple(f"chaos-suite: error: {p}" for p in (
    "refused by gate '", "no standing local target", "standing local target at ", "target http",
    "prometheus at "))


def invoke(*argv: str) -> tuple[int, str, str]:
    """main(argv) with captured output. Any exception but SystemExit fails the test: that is
    the traceback a user would have seen."""
    out, err = io.StringIO(), io.StringIO()
    code: int = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, out.getvalue(), err.getvalue()


def write_doc(path: Path, doc: Any) -> None:
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=False), encoding="utf-8")


def check_validate(file: Path) -> None:
    code, out, err = invoke("validate", str(file))
    assert code in (0, 2), (code, out, err)
    if code == 0:
        assert out.startswith(f"ok: {file}"), out
        assert err == ""
        return
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(("invalid: ", "chaos-suite: error: ")), lines[0]
    assert str(file) in lines[0], lines[0]


def check_dry_run(plan: Path, *extra: str, names: tuple[Path, ...] = ()) -> None:
    """A dry run of a plan that uses a mutated file; `names`: files a refusal may name."""
    reports = plan.parent / "reports"
    code, out, err = invoke("gameday", "run", str(plan), "--dry-run", "--reports", str(reports),
                            *extra)
    assert code in (0, 2), (code, out, err)
    assert not reports.exists(), "a dry run created the reports folder"
    if code == 0:
        assert "nothing was injected" in out
        assert err == ""
        return
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("chaos-suite: error: "), line
    # a refusal names the file at fault; a valid file can still be refused by a gate or a
    # preflight check of what it points at (a standing target that is not up)
    named = any(str(p) in line for p in (plan, *names))
    assert named or line.startswith(PREFLIGHT), line


@contextmanager
def workdir(root: Path) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(dir=root) as folder:
        yield Path(folder)


@pytest.fixture()
def fuzz_root(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    # environment names are also looked up relative to the working folder (gamedays/environments)
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("CHAOS_SUITE_CONFIRM", raising=False)
    return tmp_path_factory.mktemp("fuzz")


def plan_using(folder: Path, *, slos: Path | None = None) -> Path:
    plan = demo_plan()
    if slos is not None:
        plan["slos"] = str(slos)
    path = folder / "plan.yaml"
    write_doc(path, plan)
    return path


# ---------------------------------------------------------------- properties

SLO_BASES = [load(GAMEDAYS / "slos" / "checkout.yaml"), load(GAMEDAYS / "slos" / "checkout-openslo.yaml")]
ENV_BASES = [load(GAMEDAYS / "environments" / n) for n in ("local.yaml", "standing.yaml",
                                                           "production.yaml")]
EXPERIMENT_BASES = [load(p) for p in sorted(EXPERIMENTS.glob("*.yaml"))]


@FUZZ
@given(st.sampled_from(range(len(SLO_BASES))).flatmap(lambda i: mutated(SLO_BASES[i])))
def test_mutated_slo_files(fuzz_root: Path, doc: dict[str, Any]) -> None:
    with workdir(fuzz_root) as folder:
        slo_file = folder / "slos.yaml"
        write_doc(slo_file, doc)
        check_validate(slo_file)
        check_dry_run(plan_using(folder, slos=slo_file), names=(slo_file,))


@FUZZ
@given(st.sampled_from(range(len(ENV_BASES))).flatmap(lambda i: mutated(ENV_BASES[i])))
def test_mutated_environment_files(fuzz_root: Path, doc: dict[str, Any]) -> None:
    with workdir(fuzz_root) as folder:
        env_file = folder / "env.yaml"
        write_doc(env_file, doc)
        check_validate(env_file)
        check_dry_run(plan_using(folder), "--env", str(env_file), names=(env_file,))


@FUZZ
@given(mutated(demo_plan()))
def test_mutated_gameday_plans(fuzz_root: Path, doc: dict[str, Any]) -> None:
    with workdir(fuzz_root) as folder:
        plan = folder / "plan.yaml"
        write_doc(plan, doc)
        check_validate(plan)
        check_dry_run(plan)


@FUZZ
@given(st.sampled_from(range(len(EXPERIMENT_BASES))).flatmap(
    lambda i: mutated(EXPERIMENT_BASES[i])))
def test_mutated_experiments(fuzz_root: Path, doc: dict[str, Any]) -> None:
    with workdir(fuzz_root) as folder:
        exp_file = folder / "experiment.yaml"
        write_doc(exp_file, doc)
        check_validate(exp_file)
        plan = demo_plan()
        plan["scenarios"] = plan["scenarios"][:1]
        plan["scenarios"][0]["experiment"] = str(exp_file)
        plan_file = folder / "plan.yaml"
        write_doc(plan_file, plan)
        check_dry_run(plan_file, names=(exp_file,))


SOURCES: list[tuple[str, bytes]] = [
    *((p.name, p.read_bytes()) for p in (
        GAMEDAYS / "demo.yaml", GAMEDAYS / "slos" / "checkout.yaml",
        GAMEDAYS / "slos" / "checkout-openslo.yaml", GAMEDAYS / "environments" / "production.yaml",
        EXPERIMENTS / "local-kill-replica.yaml")),
    ("experiment.json", json.dumps(load(EXPERIMENTS / "local-kill-replica.yaml")).encode()),
    ("deep.yaml", b"[" * 5000), ("deep.json", b"[" * 5000),
]


@FUZZ
@given(st.sampled_from(SOURCES).flatmap(
    lambda src: st.tuples(st.just(src[0]), st.one_of(st.just(src[1]), garbled_text(src[1])))))
def test_garbled_bytes(fuzz_root: Path, case: tuple[str, bytes]) -> None:
    name, raw = case
    with workdir(fuzz_root) as folder:
        broken = folder / name
        broken.write_bytes(raw)
        check_validate(broken)
        if name == "demo.yaml":
            check_dry_run(broken)
        elif name.startswith("checkout"):
            check_dry_run(plan_using(folder, slos=broken), names=(broken,))


# ---------------------------------------------------------------- numbers that are not numbers

NON_FINITE: list[Any] = [math.nan, math.inf, -math.inf, "NaN", "nan", "inf", "1e309",
                         "NaN%", "inf%", "1e999%"]


NUMBER_LIKE = re.compile(r"[0-9]*\.?[0-9]+%?|([0-9]+(\.[0-9]+)?[wdhms])+")


def numeric_paths(doc: Any) -> list[tuple[Any, ...]]:
    """Positions holding a number or a number-like string (percent, duration)."""
    out = []
    for path in node_paths(doc):
        value = _at(doc, path)
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)) or (isinstance(value, str)
                                               and NUMBER_LIKE.fullmatch(value)):
            out.append(path)
    return out


@pytest.mark.parametrize("source", [GAMEDAYS / "demo.yaml", GAMEDAYS / "slos" / "checkout.yaml",
                                    GAMEDAYS / "environments" / "production.yaml"],
                         ids=lambda p: p.name)
def test_non_finite_numbers_are_refused_everywhere(fuzz_root: Path, source: Path) -> None:
    # NaN compares false with every limit, so a NaN objective, expectation or blast-radius
    # fraction would pass every check silently; infinity is never a meaningful setting either
    base = demo_plan() if source.name == "demo.yaml" else load(source)
    paths = numeric_paths(base)
    assert len(paths) >= 3, paths  # the test must not pass by finding nothing to replace
    for path in paths:
        for value in NON_FINITE:
            doc = copy.deepcopy(base)
            _at(doc, path[:-1])[path[-1]] = value
            with workdir(fuzz_root) as folder:
                file = folder / source.name
                write_doc(file, doc)
                code, out, err = invoke("validate", str(file))
                assert code == 2, (path, value, out)
                assert str(file) in err and len(err.splitlines()) == 1, err


# ---------------------------------------------------------------- crashes found by fuzzing

DROP = object()
BASES: dict[str, Path] = {p.name: p for p in (
    GAMEDAYS / "environments" / "production.yaml", GAMEDAYS / "slos" / "checkout.yaml",
    GAMEDAYS / "slos" / "checkout-openslo.yaml", EXPERIMENTS / "local-inject-errors.yaml")}
RATIO = ("spec", "indicator", "spec", "ratioMetric")
FOUND: list[tuple[str, tuple[Any, ...], Any]] = [
    # each was a traceback (exit 1) before the fix in chaos_suite/files or cli.py
    ("production.yaml", ("safety", "allowed_windows", 0, "timezone"), "America"),
    ("production.yaml", ("safety", "allowed_windows", 0, "timezone"), "a" * 300),
    ("production.yaml", ("target", "url"), "http://[::1"),
    ("demo.yaml", ("environment",), "a" * 300),
    ("demo.yaml", ("slos",), "a" * 300),
    ("demo.yaml", ("baseline",), 10**400),
    ("demo.yaml", ("abort", "max_budget_consumed"), "1e999999999999%"),
    ("checkout.yaml", ("slos", 0, "objective"), math.nan),
    ("checkout.yaml", ("slos", 0, "x\ny"), 1),
    ("checkout-openslo.yaml", (*RATIO, "good", "metricSource", "spec"), {}),
    ("checkout-openslo.yaml", ("metadata", "annotations"), {"chaos-suite/threshold-ms": "abc"}),
    ("checkout-openslo.yaml", ("metadata", "name"), " "),
    ("local-inject-errors.yaml", ("configuration", "chaos_suite_admin_url", "key"), DROP),
]


@pytest.mark.parametrize(("name", "path", "value"), FOUND,
                         ids=[f"{n}:{'.'.join(map(str, p))}"[:60] for n, p, _ in FOUND])
def test_crashes_found_by_fuzzing_stay_fixed(fuzz_root: Path, name: str,
                                             path: tuple[Any, ...], value: Any) -> None:
    doc = demo_plan() if name == "demo.yaml" else load(BASES[name])
    parent = _at(doc, path[:-1])
    if value is DROP:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    with workdir(fuzz_root) as folder:
        file = folder / name
        write_doc(file, doc)
        code, out, err = invoke("validate", str(file))
        assert code == 2, out
        lines = err.splitlines()
        assert len(lines) == 1 and str(file) in lines[0], err

