"""Property-based bad input: SLO files, environments, plans and experiments built by mutating the
bundled examples, and their bytes garbled. Each generated file carries what it is by
construction: bad (an unknown field, a wrong type, a required field dropped, an objective of 100%
or more, a negative duration, an out-of-range value, truncated YAML or JSON, bytes that are not
UTF-8), valid (edits the format allows: an optional field dropped, another allowed value), or
ambiguous (a random value anywhere, random bytes). A bad file must be refused, exit 2 with one
line naming it; a valid one must pass; only an ambiguous one may go either way. The CLI runs
in-process for speed, never with a traceback, and nothing is started or written."""

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
from dataclasses import dataclass
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
# misspellings, and a prefix no field of any format has: unknown wherever they are added
unknown_key = st.one_of(st.sampled_from(["windw", "objectiv", "replica", "kind ", "x-extra",
                                         "tierr", "safty", "nmae"]),
                        st.text(min_size=1, max_size=10).map(lambda t: "zz-" + t))
# any key, real field names included: adding one is an ambiguous edit
any_key = st.one_of(unknown_key, st.sampled_from(["tier", "safety", "name", "window"]))


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


# ---------------------------------------------------------------- positions in a document

Pos = tuple[Any, ...]
"""A position in a document: keys and list indices from the root (the root is ())."""

ANY = "*"
"""In a pattern: every key or index at that level."""


def node_paths(node: Any, prefix: Pos = ()) -> Iterator[Pos]:
    """Every position in a document (the root is ())."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from node_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from node_paths(value, (*prefix, index))


def _at(doc: Any, path: Pos) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def expand(doc: Any, pattern: Pos, *, absent_leaf: bool = False) -> list[Pos]:
    """The positions of `doc` that `pattern` matches; `absent_leaf`: also a last key that is not
    there yet, when its parent mapping is."""
    found: list[Pos] = [()]
    for depth, part in enumerate(pattern):
        last = depth == len(pattern) - 1
        matched: list[Pos] = []
        for path in found:
            node = _at(doc, path)
            if part == ANY:
                keys = list(node) if isinstance(node, dict) else (
                    list(range(len(node))) if isinstance(node, list) else [])
                matched += [(*path, key) for key in keys]
            elif (isinstance(node, dict) and (part in node or (last and absent_leaf))) or (
                    isinstance(node, list) and isinstance(part, int) and part < len(node)):
                matched.append((*path, part))
        found = matched
    return found


def matches(path: Pos, pattern: Pos, *, below: bool = False) -> bool:
    """`path` is the position `pattern` names (`below`: or anywhere under it)."""
    if len(path) < len(pattern) or (len(path) > len(pattern) and not below):
        return False
    return all(p in (ANY, q) for p, q in zip(pattern, path, strict=False))


def shown(path: Pos) -> str:
    return ".".join(map(str, path)) or "<root>"


# ---------------------------------------------------------------- what each format allows


@dataclass(frozen=True)
class Rules:
    """What this test knows of one file format, written down from the format's documentation
    (README, the shipped examples, Chaos Toolkit's spec), not read from chaos_suite's models, so
    that a model that forgot a check is caught rather than copied."""

    required: tuple[Pos, ...]
    """Dropping any of these makes the file bad."""
    optional: tuple[Pos, ...]
    """Dropping any of these leaves the file valid."""
    good: tuple[tuple[Pos, st.SearchStrategy[Any]], ...]
    """Values that keep the file valid there."""
    bad: tuple[tuple[Pos, tuple[Any, ...]], ...]
    """Values that make the file bad there (set even where the field is left out)."""
    strict: bool = True
    """Every mapping refuses unknown keys and every value is typed (chaos_suite's own formats).
    Chaos Toolkit experiments are open: only `typed` positions are checked for their type."""
    free: tuple[Pos, ...] = ()
    """Mappings whose content is not checked (anything may go under them)."""
    open_keys: tuple[Pos, ...] = ()
    """Mappings whose keys are names the file chooses (their values are still checked)."""
    typed: tuple[Pos, ...] = ()
    """Open formats: the positions whose type is checked."""
    tells_type: tuple[Pos, ...] = ()
    """Required for `validate` to tell the file type (`kind`); a command that knows what it
    reads (`gameday run PLAN`, the SLO file a plan names, `--env FILE`) may take the file
    without them."""

    def checks_type(self, path: Pos) -> bool:
        if not path:
            return False
        if not self.strict:
            return any(matches(path, p) for p in self.typed)
        # the free mapping itself is typed (a mapping); what is under it is not
        return not any(matches(path, p, below=True) and len(path) > len(p) for p in self.free)

    def refuses_unknown_keys(self, path: Pos) -> bool:
        return self.strict and not any(matches(path, p, below=True) for p in self.free) \
            and not any(matches(path, p) for p in self.open_keys)


text = st.text(max_size=40)
some_text = st.text(min_size=1, max_size=40)
OBJECTIVE_AT_LEAST_1: tuple[Any, ...] = (1, 1.0, 1.5, "100%", "100.0%", "150%", 99.9)
# a duration is a length of time: zero is refused like a negative one
NON_POSITIVE_DURATIONS: tuple[Any, ...] = ("-5s", "-1h", "-30d", -1, -0.5, "0s", 0)

SLO_RULES = Rules(
    required=(("kind",), ("service",), ("slos",), ("slos", ANY, "name"), ("slos", ANY, "objective"),
              ("slos", ANY, "sli", "kind"), ("slos", 1, "sli", "threshold_ms")),
    optional=(("apiVersion",), ("slos", ANY, "description"), ("slos", ANY, "window"),
              ("slos", ANY, "source")),
    good=((("slos", ANY, "description"), text),
          (("slos", ANY, "objective"), st.one_of(st.floats(0.5, 0.9999),
                                                 st.sampled_from(["99.5%", "90%", "99.99%"]))),
          (("slos", ANY, "window"), st.sampled_from(["7d", "28d", "4w", 86400, "1h"]))),
    bad=((("slos", ANY, "objective"), (*OBJECTIVE_AT_LEAST_1, 0, -0.5, "-5%")),
         (("slos", ANY, "window"), NON_POSITIVE_DURATIONS),
         (("slos", ANY, "name"), ("", "a b", "../x", "a" * 64)),
         (("slos", 1, "name"), ("availability",)),  # a duplicate
         (("slos", 0, "sli", "threshold_ms"), (250,)),  # availability takes no threshold
         (("slos", 1, "sli", "threshold_ms"), (0, -1, 3_600_001)),
         (("slos", ANY, "sli", "kind"), ("latancy",))),
    tells_type=(("kind",),),
)

RATIO = ("spec", "indicator", "spec", "ratioMetric")
OPENSLO_RULES = Rules(
    required=(("apiVersion",), ("kind",), ("metadata",), ("metadata", "name"), ("spec",),
              ("spec", "service"), ("spec", "indicator"), ("spec", "indicator", "metadata"),
              ("spec", "indicator", "spec"), RATIO, (*RATIO, "total"),
              (*RATIO, "total", "metricSource"), (*RATIO, "total", "metricSource", "type"),
              (*RATIO, "total", "metricSource", "spec"), ("spec", "timeWindow"),
              ("spec", "timeWindow", 0, "duration"), ("spec", "budgetingMethod"),
              ("spec", "objectives"), ("spec", "objectives", 0, "target")),
    optional=(("metadata", "displayName"), ("spec", "description"),
              ("spec", "objectives", 0, "displayName"), ("spec", "timeWindow", 0, "isRolling"),
              (*RATIO, "counter")),
    good=((("metadata", "displayName"), text), (("spec", "description"), text),
          (("spec", "objectives", 0, "target"), st.floats(0.5, 0.9999)),
          (("spec", "timeWindow", 0, "duration"), st.sampled_from(["7d", "30d", "4w"]))),
    bad=((("spec", "objectives", 0, "target"), (*(v for v in OBJECTIVE_AT_LEAST_1
                                                   if not isinstance(v, str)), 0, -0.5)),
         (("spec", "timeWindow", 0, "duration"), ("-28d", "-1h", "0d")),
         (("spec", "budgetingMethod"), ("Timeslices ", "occurrences")),
         (("kind",), ("SLOs ",))),
    free=((*RATIO, ANY, "metricSource", "spec"),),
)

ENV_RULES = Rules(
    required=(("kind",), ("name",), ("target", "type"), ("sources", "prometheus", "url"),
              ("safety", "allowed_windows", ANY, "days")),
    optional=(("apiVersion",), ("target", "replicas"), ("target", "restart_delay"),
              ("safety", "allow_steps"), ("safety", "blast_radius"), ("safety", "require_confirmation"),
              ("safety", "allowed_windows", ANY, "timezone")),
    good=((("target", "replicas"), st.integers(1, 16)),
          (("target", "restart_delay"), st.sampled_from(["1s", "5s", 0.5, 3])),
          (("safety", "blast_radius", "max_replicas"), st.integers(1, 5)),
          (("name",), st.sampled_from(["staging-2", "env"])),
          (("target", "managed"), st.booleans()),
          (("safety", "budget_policy", "min_remaining"), st.sampled_from(["10%", "90%", 0.5]))),
    bad=((("target", "restart_delay"), NON_POSITIVE_DURATIONS),
         (("target", "replicas"), (0, -1, 17)),
         (("target", "url"), ("127.0.0.1:8080", "ftp://host", "http://")),
         (("sources", "prometheus", "timeout"), NON_POSITIVE_DURATIONS),
         (("tier",), ("prod", "")),
         (("safety", "allowed_windows", ANY, "start"), ("25:00", "9:00")),
         (("safety", "allowed_windows", ANY, "days"), ([], ["someday"])),
         (("safety", "allowed_windows", ANY, "timezone"), ("Mars/Olympus_Mons",)),
         (("safety", "blast_radius", "max_replicas"), (0, -1))),
    tells_type=(("kind",),),
)

SCENARIO_EXPECT = ("scenarios", ANY, "expect", ANY)
PLAN_RULES = Rules(
    required=(("kind",), ("name",), ("service",), ("slos",), ("scenarios",),
              ("scenarios", ANY, "name"), ("scenarios", ANY, "experiment"),
              ("scenarios", ANY, "expect"), (*SCENARIO_EXPECT, "max_budget_consumed")),
    optional=(("apiVersion",), ("description",), ("environment",), ("roles",), ("hypothesis",),
              ("abort",), ("baseline",), ("cooldown",), ("min_events",), ("load", "shape", "spawn_rate"),
              # a role a scenario's `acts` names cannot go: dropping the whole `roles` can
              ("scenarios", ANY, "acts"), ("abort", "short_window"), ("scenarios", ANY, "description"),
              (*SCENARIO_EXPECT, "min_budget_consumed"), (*SCENARIO_EXPECT, "max_peak_burn_rate"),
              (*SCENARIO_EXPECT, "recover_within")),
    good=((("description",), text), (("scenarios", ANY, "description"), text),
          (("scenarios", ANY, "hypothesis"), text.filter(bool)),
          (("min_events",), st.integers(1, 10_000)),
          (("baseline",), st.sampled_from(["5s", "1m", 30])),
          (("load", "shape", "users"), st.integers(1, 100))),
    bad=((("baseline",), NON_POSITIVE_DURATIONS), (("cooldown",), NON_POSITIVE_DURATIONS),
         (("hypothesis", "window"), NON_POSITIVE_DURATIONS),
         (("abort", "long_window"), NON_POSITIVE_DURATIONS),
         (("abort", "short_window"), (*NON_POSITIVE_DURATIONS, "1h")),  # 1h: above the long window
         ((*SCENARIO_EXPECT, "recover_within"), NON_POSITIVE_DURATIONS),
         ((*SCENARIO_EXPECT, "min_budget_consumed"), ("50%",)),  # above the maximum
         ((*SCENARIO_EXPECT, "max_budget_consumed"), ("-1%", -0.5)),
         (("load", "shape", "users"), (0, -1, 10_001)), (("min_events",), (0, -5)),
         (("scenarios", ANY, "name"), ("", "a b", "../x", "a" * 64)),
         (("scenarios", 1, "name"), ("kill-replica",)),  # a duplicate
         (("scenarios",), ([],)), (("baseline",), ("25h",))),
    open_keys=(("scenarios", ANY, "expect"),),
    tells_type=(("kind",),),
)


def _activity_patterns(*tail: Any) -> tuple[Pos, ...]:
    return tuple((block, ANY, *tail) for block in ("method", "rollbacks"))


CTK_RULES = Rules(
    strict=False,
    required=(("title",), ("description",), ("method",),
              *(p for t in (("type",), ("name",), ("provider",), ("provider", "type"),
                            ("provider", "module"), ("provider", "func"))
                for p in _activity_patterns(*t))),
    optional=(("tags",), ("rollbacks",), *_activity_patterns("pauses")),
    good=((("title",), some_text), (("description",), some_text),
          (("method", ANY, "pauses", "after"), st.integers(0, 5))),
    bad=((("title",), ("",)), (("description",), ("",)), (("tags", ANY), (5, "")),
         *((p, ("bogus", "")) for p in _activity_patterns("type")),
         *((p, ("",)) for p in _activity_patterns("name")),
         *((p, ("bogus",)) for p in _activity_patterns("provider", "type")),
         *((p, ("no_such_module_zz",)) for p in _activity_patterns("provider", "module")),
         *((p, ("no_such_function_zz",)) for p in _activity_patterns("provider", "func")),
         *((p, (1,)) for p in _activity_patterns("provider", "arguments", "zz_no_such_argument")),
         *((p, ("soon",)) for p in _activity_patterns("pauses", "after")),
         *((p, ("10s",)) for p in _activity_patterns("timeout"))),
    typed=(("method",), ("rollbacks",), ("tags",), ("tags", ANY),
           *(p for t in ((), ("type",), ("provider",), ("provider", "type"), ("provider", "module"),
                         ("provider", "func"), ("provider", "arguments"), ("pauses",))
             for p in _activity_patterns(*t))),
)


# ---------------------------------------------------------------- generated cases


@dataclass(frozen=True)
class Case:
    doc: Any
    valid: bool | None
    """True: valid by construction; False: bad by construction; None: ambiguous."""
    edits: tuple[str, ...]
    ambiguous_in_plan: bool = False
    """A dry run that reads the file may go either way (see Rules.tells_type)."""

    @property
    def valid_in_plan(self) -> bool | None:
        return None if self.ambiguous_in_plan else self.valid

    def __repr__(self) -> str:  # what hypothesis prints for a failing example
        return f"Case(valid={self.valid}, edits={list(self.edits)})"


def _keep_valid_edits(doc: Any, rules: Rules) -> list[tuple[str, Pos, st.SearchStrategy[Any] | None]]:
    out: list[tuple[str, Pos, st.SearchStrategy[Any] | None]] = []
    for pattern in rules.optional:
        out += [("drop", path, None) for path in expand(doc, pattern)]
    for pattern, values in rules.good:
        out += [("set", path, values) for path in expand(doc, pattern)]
    return out


def _bad_edits(doc: Any, rules: Rules) -> dict[str, list[tuple[str, Pos, Any]]]:
    """Edits that make the file bad, by kind (drawn kind first, so that the many positions
    open to an unknown key or a wrong type do not crowd out the few required fields)."""
    out: dict[str, list[tuple[str, Pos, Any]]] = {
        "required": [("drop", path, None) for pattern in rules.required
                     for path in expand(doc, pattern)],
        "value": [("set", path, values) for pattern, values in rules.bad
                  for path in expand(doc, pattern, absent_leaf=True)],
        "unknown": [], "type": []}
    for path in node_paths(doc):
        node = _at(doc, path)
        if isinstance(node, dict) and rules.refuses_unknown_keys(path):
            out["unknown"].append(("add", path, None))
        if rules.checks_type(path):
            # a mapping where a scalar belongs, a number where a mapping or a list belongs
            out["type"].append(("set", path, (7,) if isinstance(node, (dict, list))
                                else ({"zz-wrong-type": [1]}, [{"zz": 1}])))
    return {kind: edits for kind, edits in out.items() if edits}


def _set(doc: Any, path: Pos, value: Any) -> None:
    _at(doc, path[:-1])[path[-1]] = value


@st.composite
def cases(draw: st.DrawFn, base: dict[str, Any], rules: Rules) -> Case:
    """Up to two edits that keep the file valid, then one that decides what the file is: bad
    (last, so no later edit can undo it), valid, or ambiguous (a random edit anywhere)."""
    doc = copy.deepcopy(base)
    edits: list[str] = []

    def keep_valid() -> None:
        choices = _keep_valid_edits(doc, rules)
        if not choices:  # every optional field already dropped: the file stays as it is
            return
        op, path, values = draw(st.sampled_from(choices))
        if op == "drop":
            del _at(doc, path[:-1])[path[-1]]
            edits.append(f"drop {shown(path)} (optional)")
        else:
            assert values is not None
            value = draw(values)
            _set(doc, path, value)
            edits.append(f"set {shown(path)} = {value!r} (allowed)")

    for _ in range(draw(st.integers(0, 2))):
        keep_valid()
    kind = draw(st.sampled_from(["bad", "bad", "bad", "valid", "ambiguous"]))
    if kind == "valid":
        keep_valid()
        return Case(doc, True, tuple(edits))
    if kind == "bad":
        by_kind = _bad_edits(doc, rules)
        op, path, values = draw(st.sampled_from(by_kind[draw(st.sampled_from(sorted(by_kind)))]))
        if op == "drop":
            del _at(doc, path[:-1])[path[-1]]
            edits.append(f"drop {shown(path)} (required)")
            if path in rules.tells_type:
                return Case(doc, False, tuple(edits), ambiguous_in_plan=True)
        elif op == "add":
            key = draw(unknown_key)
            _at(doc, path)[key] = draw(odd_value)
            edits.append(f"add unknown {shown((*path, key))}")
        else:
            value = draw(st.sampled_from(values))
            _set(doc, path, value)
            edits.append(f"set {shown(path)} = {value!r} (refused)")
        return Case(doc, False, tuple(edits))
    path = draw(st.sampled_from([p for p in node_paths(doc) if p]))
    target = _at(doc, path)
    if isinstance(target, dict) and draw(st.booleans()):
        key = draw(any_key)
        target[key] = draw(odd_value)
        edits.append(f"add {shown((*path, key))} (any)")
    elif draw(st.booleans()):
        del _at(doc, path[:-1])[path[-1]]
        edits.append(f"drop {shown(path)} (any)")
    else:
        value = draw(odd_value)
        _set(doc, path, value)
        edits.append(f"set {shown(path)} = {value!r} (any)")
    return Case(doc, None, tuple(edits))


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


def check_validate(file: Path, valid: bool | None, why: object = "") -> int:
    """`chaos-suite validate FILE`: a bad file exits 2 with one line naming it, a valid one
    exits 0, an ambiguous one either."""
    code, out, err = invoke("validate", str(file))
    if valid is False:
        assert code == 2, ("bad by construction, but accepted", why, code, out, err)
    elif valid:
        assert code == 0, ("valid by construction, but refused", why, code, out, err)
    assert code in (0, 2), (why, code, out, err)
    if code == 0:
        assert valid is not False, why
        assert out.startswith(f"ok: {file}"), out
        assert err == ""
        return code
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(("invalid: ", "chaos-suite: error: ")), lines[0]
    assert str(file) in lines[0], lines[0]
    return code


def check_dry_run(plan: Path, *extra: str, names: tuple[Path, ...] = (),
                  valid: bool | None = None, why: object = "") -> None:
    """A dry run of a plan that uses a generated file (`names`; the plan itself when empty).
    A bad file is refused naming it; otherwise the run may pass, or be refused by a gate or a
    preflight check of what it points at (a standing target that is not up, Prometheus), or
    naming the plan (the OpenSLO example's SLO names are not the demo plan's)."""
    reports = plan.parent / "reports"
    code, out, err = invoke("gameday", "run", str(plan), "--dry-run", "--reports", str(reports),
                            *extra)
    if valid is False:
        assert code == 2, ("bad by construction, but the dry run passed", why, code, out, err)
    assert code in (0, 2), (why, code, out, err)
    assert not reports.exists(), "a dry run created the reports folder"
    if code == 0:
        assert "nothing was injected" in out
        assert err == ""
        return
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("chaos-suite: error: "), line
    generated = names or (plan,)
    if valid is False:
        assert any(str(p) in line for p in generated), (why, line)
        return
    named = any(str(p) in line for p in (plan, *names))
    assert named or line.startswith(PREFLIGHT), (why, line)


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

SLO_BASES = [(load(GAMEDAYS / "slos" / "checkout.yaml"), SLO_RULES),
             (load(GAMEDAYS / "slos" / "checkout-openslo.yaml"), OPENSLO_RULES)]
ENV_BASES = [load(GAMEDAYS / "environments" / n) for n in ("local.yaml", "standing.yaml",
                                                           "production.yaml")]
EXPERIMENT_BASES = [load(p) for p in sorted(EXPERIMENTS.glob("*.yaml"))]


@FUZZ
@given(st.sampled_from(SLO_BASES).flatmap(lambda b: cases(*b)))
def test_mutated_slo_files(fuzz_root: Path, case: Case) -> None:
    with workdir(fuzz_root) as folder:
        slo_file = folder / "slos.yaml"
        write_doc(slo_file, case.doc)
        check_validate(slo_file, case.valid, case)
        check_dry_run(plan_using(folder, slos=slo_file), names=(slo_file,), valid=case.valid_in_plan,
                      why=case)


@FUZZ
@given(st.sampled_from(ENV_BASES).flatmap(lambda base: cases(base, ENV_RULES)))
def test_mutated_environment_files(fuzz_root: Path, case: Case) -> None:
    with workdir(fuzz_root) as folder:
        env_file = folder / "env.yaml"
        write_doc(env_file, case.doc)
        check_validate(env_file, case.valid, case)
        check_dry_run(plan_using(folder), "--env", str(env_file), names=(env_file,),
                      valid=case.valid_in_plan, why=case)


@FUZZ
@given(cases(demo_plan(), PLAN_RULES))
def test_mutated_gameday_plans(fuzz_root: Path, case: Case) -> None:
    with workdir(fuzz_root) as folder:
        plan = folder / "plan.yaml"
        write_doc(plan, case.doc)
        check_validate(plan, case.valid, case)
        check_dry_run(plan, valid=case.valid_in_plan, why=case)


@FUZZ
@given(st.sampled_from(EXPERIMENT_BASES).flatmap(lambda base: cases(base, CTK_RULES)))
def test_mutated_experiments(fuzz_root: Path, case: Case) -> None:
    with workdir(fuzz_root) as folder:
        exp_file = folder / "experiment.yaml"
        write_doc(exp_file, case.doc)
        check_validate(exp_file, case.valid, case)
        plan = demo_plan()
        plan["scenarios"] = plan["scenarios"][:1]
        plan["scenarios"][0]["experiment"] = str(exp_file)
        plan_file = folder / "plan.yaml"
        write_doc(plan_file, plan)
        check_dry_run(plan_file, names=(exp_file,), valid=case.valid_in_plan, why=case)


# ---------------------------------------------------------------- garbled bytes


def _absolute_demo(raw: bytes) -> bytes:
    """demo.yaml with its references absolute, so that it is valid from any folder."""
    return (raw.replace(b"slos: slos/", b"slos: " + str(GAMEDAYS / "slos").encode() + b"/")
            .replace(b"../", str(ROOT).encode() + b"/"))


def _up_to_key(raw: bytes, key: bytes) -> int:
    """The offset just past `key:` at the start of a line: any prefix of the file that ends at
    or before it lacks that required key, or has it without a value."""
    at = raw.index(b"\n" + key + b":") + 1
    return at + len(key) + 1


@dataclass(frozen=True)
class Source:
    name: str
    raw: bytes
    bad_up_to: int
    """A prefix of `raw` at most this long is bad by construction: it leaves out a required key
    (YAML), or it is a JSON text cut short. Longer prefixes may be complete YAML documents."""
    valid: bool = True


def _yaml_source(path: Path, last_required: bytes, raw: bytes | None = None) -> Source:
    raw = path.read_bytes() if raw is None else raw
    return Source(path.name, raw, _up_to_key(raw, last_required))


_EXPERIMENT_JSON = json.dumps(load(EXPERIMENTS / "local-kill-replica.yaml")).encode()
SOURCES: list[Source] = [
    _yaml_source(GAMEDAYS / "demo.yaml", b"scenarios", _absolute_demo((GAMEDAYS / "demo.yaml").read_bytes())),
    _yaml_source(GAMEDAYS / "slos" / "checkout.yaml", b"slos"),
    _yaml_source(GAMEDAYS / "slos" / "checkout-openslo.yaml", b"  objectives"),
    _yaml_source(GAMEDAYS / "environments" / "production.yaml", b"name"),
    _yaml_source(EXPERIMENTS / "local-kill-replica.yaml", b"method"),
    Source("experiment.json", _EXPERIMENT_JSON, len(_EXPERIMENT_JSON) - 1),
    Source("deep.yaml", b"[" * 5000, 5000, valid=False),
    Source("deep.json", b"[" * 5000, 5000, valid=False),
]


@st.composite
def garbled(draw: st.DrawFn, src: Source) -> tuple[bytes, bool | None, str]:
    """(bytes, valid by construction, how they were made)."""
    raw = src.raw
    kind = draw(st.sampled_from(["intact", "truncate", "truncate", "not-utf8", "nul-garbage",
                                 "splice", "garbage"]))
    if kind == "intact":
        return raw, src.valid, kind
    cut = draw(st.integers(min_value=0, max_value=len(raw)))
    if kind == "truncate":
        cut = min(cut, len(raw) - 1)  # a proper prefix
        return raw[:cut], (False if cut <= src.bad_up_to or not src.valid else None), f"{kind} {cut}"
    if kind == "not-utf8":
        # 0xff never occurs in UTF-8: the file cannot be read as text
        return raw[:cut] + draw(st.binary(max_size=4)) + b"\xff" + raw[cut:], False, f"{kind} {cut}"
    if kind == "nul-garbage":
        # random bytes holding a NUL, which neither YAML nor JSON allows unescaped
        noise = draw(st.binary(max_size=100))
        at = draw(st.integers(0, len(noise)))
        return noise[:at] + b"\x00" + noise[at:], False, kind
    if kind == "garbage":
        return draw(st.binary(max_size=200)), None, kind
    return (raw[:cut] + draw(st.binary(min_size=1, max_size=8)) + raw[cut:],
            False if not src.valid else None, f"{kind} {cut}")


def parses_as_one_mapping(name: str, raw: bytes) -> bool:
    """The least an accepted file must be: UTF-8 text holding one mapping (JSON for .json)."""
    try:
        text = raw.decode("utf-8")
        docs = [json.loads(text)] if name.endswith(".json") else [
            d for d in yaml.safe_load_all(text) if d is not None]
    except (UnicodeDecodeError, ValueError, yaml.YAMLError, RecursionError):
        return False
    return len(docs) == 1 and isinstance(docs[0], dict)


@FUZZ
@given(st.sampled_from(SOURCES).flatmap(
    lambda src: st.tuples(st.just(src.name), garbled(src))))
def test_garbled_bytes(fuzz_root: Path, case: tuple[str, tuple[bytes, bool | None, str]]) -> None:
    name, (raw, valid, how) = case
    with workdir(fuzz_root) as folder:
        broken = folder / name
        broken.write_bytes(raw)
        if check_validate(broken, valid, how) == 0:
            assert parses_as_one_mapping(name, raw), how
        if name == "demo.yaml":
            check_dry_run(broken, valid=valid, why=how)
        elif name.startswith("checkout"):
            check_dry_run(plan_using(folder, slos=broken), names=(broken,), valid=valid, why=how)


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

