"""Finding run directories under the given paths and reading from each only what the review
needs, one run at a time (a year of nightly runs is never held in memory).

Per run directory:

- ``plan.json`` through the run record's reader (``chaos_suite.record.reader.read_plan``): the
  run id (whose UTC stamp places the run in time before anything else is read), service,
  plan file, SLOs and scenarios. An unreadable, half-written or unknown-version plan skips the
  directory, with the reader's reason.
- ``report.json`` (``chaos-suite/report/v1``) for runs the periods cover: status, exit code,
  start, abort, and per scenario × SLO the verdict, expectation and observed figures. Samples are
  never read for a run that has a usable report. Without one (missing, cut short, another schema)
  the run is analysed from its record as ``chaos-suite report`` would, and listed as re-analysed;
  a record with no ``run_ended`` event (a run still going, or killed) is skipped instead.
- ``action_items.jsonl`` when present: one JSON object per line ``{id, text, owner, due, link,
  done}``; a later line with the same id replaces an earlier one; bad lines are ignored.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

from chaos_suite.errors import ChaosSuiteError
from chaos_suite.record.models import EVENTS, PLAN, RunPlan
from chaos_suite.record.reader import read_plan
from chaos_suite.review.model import VERDICTS
from chaos_suite.review.period import DAY_S, Periods

REPORT: Final = "report.json"
REPORT_SCHEMA: Final = "chaos-suite/report/v1"
ACTION_ITEMS: Final = "action_items.jsonl"
# a folder holding any of these is a run directory (complete or not); the walk stops there
MARKERS: Final = frozenset({PLAN, REPORT, EVENTS})
_STAMP: Final = re.compile(r"^(\d{8}T\d{6}Z)")
# a run id's stamp is taken a moment before run_started: this margin keeps a run near a
# period's edge from being left out before its report says exactly when it started
STAMP_MARGIN_S: Final = DAY_S


@dataclass(frozen=True, slots=True)
class SLOInfo:
    name: str
    objective: float
    window_seconds: float
    source: str


@dataclass(frozen=True, slots=True)
class RowFigures:
    """One scenario × SLO row of a report."""

    slo: str
    verdict: str
    has_expectation: bool
    expected_min: float | None
    expected_max: float | None
    consumed: float | None
    attributed: float | None
    recovery_s: float | None
    detect_s: float | None
    page_s: float | None
    detection_recorded: bool


@dataclass(frozen=True, slots=True)
class ScenarioFigures:
    name: str
    status: str  # completed | aborted | failed | not-run
    deviated: bool
    rows: tuple[RowFigures, ...]

    @property
    def ran(self) -> bool:
        return self.status != "not-run"


@dataclass(frozen=True, slots=True)
class ActionItem:
    id: str
    text: str
    owner: str | None
    due: date | None
    link: str | None
    done: bool


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What the review keeps of one run. ``figures`` is False for a run older than both
    periods: it was read only for its open action items."""

    path: str
    run_id: str
    service: str
    gameday: str
    plan_file: str
    started: float
    status: str
    exit_code: int | None
    abort_reason: str | None
    abort_message: str | None
    slos: tuple[SLOInfo, ...]
    planned_scenarios: tuple[str, ...]
    scenarios: tuple[ScenarioFigures, ...]
    action_items: tuple[ActionItem, ...]
    figures: bool = True


@dataclass(frozen=True, slots=True)
class SkippedDir:
    path: str
    reason: str


# ---------------------------------------------------------------- discovery


def discover(paths: Sequence[Path], skipped: list[SkippedDir]) -> Iterator[Path]:
    """Run directories under ``paths`` (depth first, names sorted), without descending into
    one. Paths that do not exist or cannot be listed go to ``skipped``."""
    for root in paths:
        try:
            is_dir = root.is_dir()
            exists = is_dir or root.exists()
        except OSError as exc:
            skipped.append(SkippedDir(str(root), f"cannot be read: {exc.strerror or exc}"))
            continue
        if not exists:
            skipped.append(SkippedDir(str(root), "not found"))
            continue
        if not is_dir:
            skipped.append(SkippedDir(str(root), "not a directory"))
            continue
        stack = [root]
        while stack:
            folder = stack.pop()
            try:
                with os.scandir(folder) as entries:
                    listed = sorted(entries, key=lambda entry: entry.name)
            except OSError as exc:
                skipped.append(SkippedDir(str(folder), f"cannot be read: {exc.strerror or exc}"))
                continue
            names = {entry.name for entry in listed}
            if names & MARKERS:
                yield folder
                continue
            # hidden folders (.git, a writer's temp folder) hold no runs; symlinks are not
            # followed so a link cannot make the walk loop
            subfolders = [Path(entry.path) for entry in listed
                          if not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False)]
            stack.extend(reversed(subfolders))


# ---------------------------------------------------------------- small readers


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def parse_iso(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def stamp_of(run_id: str) -> float | None:
    """The UTC time in a run id (``20261125T013622Z-demo``), if it has one."""
    match = _STAMP.match(run_id)
    if not match:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


# ---------------------------------------------------------------- report.json


def _row(data: dict[str, Any]) -> RowFigures | None:
    slo = _text(data.get("slo"))
    if not slo:
        return None
    verdict = data.get("verdict")
    expected = _dict(data.get("expected"))
    observed = _dict(data.get("observed"))
    has_expectation = any(value is not None for value in expected.values())
    # detection figures are read when a report carries them; their presence, even as null,
    # says the run looked for a detection
    detection = _dict(data.get("detection")) or observed
    recorded = "time_to_detect_seconds" in detection
    return RowFigures(
        slo=slo,
        verdict=verdict if verdict in VERDICTS else "inconclusive",
        has_expectation=has_expectation,
        expected_min=_number(expected.get("min_budget_consumed")),
        expected_max=_number(expected.get("max_budget_consumed")),
        consumed=_number(observed.get("budget_consumed")),
        attributed=_number(observed.get("budget_consumed_attributed")),
        recovery_s=_number(observed.get("recovery_seconds")),
        detect_s=_number(detection.get("time_to_detect_seconds")),
        page_s=_number(detection.get("time_to_page_seconds")),
        detection_recorded=recorded,
    )


def _scenario(data: dict[str, Any]) -> ScenarioFigures | None:
    name = _text(data.get("name"))
    if not name:
        return None
    rows = tuple(row for item in _list(data.get("slos")) if (row := _row(_dict(item))) is not None)
    return ScenarioFigures(name=name, status=_text(data.get("status")) or "failed",
                           deviated=data.get("deviated") is True, rows=rows)


@dataclass(frozen=True, slots=True)
class _ReportFigures:
    started: float | None
    status: str
    exit_code: int | None
    abort_reason: str | None
    abort_message: str | None
    scenarios: tuple[ScenarioFigures, ...]


def _report_figures(data: dict[str, Any]) -> _ReportFigures:
    run = _dict(data.get("run"))
    code = run.get("exit_code")
    abort = _dict(run.get("abort"))
    scenarios = tuple(s for item in _list(data.get("scenarios"))
                      if (s := _scenario(_dict(item))) is not None)
    return _ReportFigures(
        started=parse_iso(run.get("started")),
        status=_text(run.get("status")) or "failed",
        exit_code=code if isinstance(code, int) and not isinstance(code, bool) else None,
        abort_reason=_text(abort.get("reason")) if abort else None,
        abort_message=_text(abort.get("message")) if abort else None,
        scenarios=scenarios,
    )


def _read_report(run_dir: Path) -> tuple[dict[str, Any] | None, str | None]:
    """(report.json's data, None), or (None, why it cannot be used)."""
    path = run_dir / REPORT
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, "no report.json"
    except OSError as exc:
        return None, f"report.json cannot be read ({exc.strerror or exc})"
    try:
        data = json.loads(raw, parse_constant=lambda _constant: None)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None, "report.json is not valid JSON (cut short?)"
    if not isinstance(data, dict):
        return None, "report.json is not a JSON object"
    schema = data.get("schema")
    if schema != REPORT_SCHEMA:
        return None, f"report.json has schema {schema!r}, not {REPORT_SCHEMA}"
    return data, None


def _reanalyse(run_dir: Path) -> dict[str, Any]:
    """The report as `chaos-suite report` would compute it, from the run record; raises
    ChaosSuiteError when the record cannot be analysed, or holds no end of the run."""
    from chaos_suite.errors import InputError
    from chaos_suite.report import analyze_run, load_run
    from chaos_suite.report.render_json import report_dict

    record = load_run(run_dir)
    if not any(event.type == "run_ended" for event in record.events):
        raise InputError("no run_ended event: the run is still going, or was killed before it "
                         "ended (`chaos-suite report DIR` renders what it recorded)")
    return report_dict(analyze_run(record))


# ---------------------------------------------------------------- action_items.jsonl


def _due(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def read_action_items(run_dir: Path) -> tuple[ActionItem, ...]:
    """The run's action items, the last line per id winning; absent or unreadable: none."""
    try:
        text = (run_dir / ACTION_ITEMS).read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return ()
    items: dict[str, ActionItem] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line, parse_constant=lambda _constant: None)
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        item_text = _text(data.get("text"))
        raw_id = data.get("id")
        item_id = str(raw_id) if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) \
            else f"line-{number}"
        if not item_text:
            continue
        owner = _text(data.get("owner"))
        items[item_id] = ActionItem(id=item_id, text=item_text, owner=owner or None,
                                    due=_due(data.get("due")), link=_text(data.get("link")) or None,
                                    done=data.get("done") is True)
    return tuple(items.values())


# ---------------------------------------------------------------- one run


def _slos(plan: RunPlan) -> tuple[SLOInfo, ...]:
    return tuple(SLOInfo(s.name, s.objective, s.window_seconds, s.source) for s in plan.slos)


class Collector:
    """Streams :class:`RunSummary` values for the runs the periods need; directories it cannot
    use go to ``skipped``, runs analysed from their record to ``reanalysed``. ``readable``
    counts every run directory whose plan.json could be read, in the periods or not."""

    def __init__(self, paths: Sequence[Path], periods: Periods, service: str | None = None
                 ) -> None:
        self.paths = list(paths)
        self.periods = periods
        self.service = service
        self.skipped: list[SkippedDir] = []
        self.reanalysed: list[SkippedDir] = []
        self.readable = 0

    def runs(self) -> Iterator[RunSummary]:
        for run_dir in discover(self.paths, self.skipped):
            try:
                summary = self._run(run_dir)
            except (OSError, ValueError, RecursionError) as exc:
                # whatever else a directory holds (a file the OS refuses, figures the analysis
                # cannot use), one run must not stop the review of the others
                self._skip(run_dir, f"cannot be read: {_first_line(exc)}")
                continue
            if summary is not None:
                yield summary

    def _skip(self, run_dir: Path, reason: str) -> None:
        self.skipped.append(SkippedDir(str(run_dir), reason))

    def _run(self, run_dir: Path) -> RunSummary | None:
        if not (run_dir / PLAN).is_file():
            self._skip(run_dir, "no plan.json: not a complete run record")
            return None
        try:
            plan, _version = read_plan(run_dir / PLAN)
        except ChaosSuiteError as exc:
            # the reader names the file and says what is wrong (half-written, newer version...)
            self._skip(run_dir, _first_line(exc).removeprefix(f"{run_dir / PLAN}: "))
            return None
        self.readable += 1
        if self.service is not None and plan.service != self.service:
            return None
        end, first = self.periods.current.end, self.periods.first
        stamp = stamp_of(plan.run_id)
        if stamp is not None and stamp >= end + STAMP_MARGIN_S:
            return None  # after the period: nothing of it belongs in this review
        if stamp is not None and stamp < first - STAMP_MARGIN_S:
            return self._older(run_dir, plan, stamp)
        data, problem = _read_report(run_dir)
        if data is None:
            try:
                data = _reanalyse(run_dir)
            except ChaosSuiteError as exc:
                self._skip(run_dir, f"{problem}, and the run record cannot be analysed: "
                                    f"{_first_line(exc)}")
                return None
            self.reanalysed.append(SkippedDir(str(run_dir), f"{problem}: analysed from the run "
                                                            "record"))
        figures = _report_figures(data)
        started = figures.started if figures.started is not None else stamp
        if started is None:
            self._skip(run_dir, "no start time: neither report.json nor the run id has one")
            return None
        if started >= end:
            return None
        if started < first:
            return self._older(run_dir, plan, started)
        return RunSummary(
            path=str(run_dir), run_id=plan.run_id, service=plan.service, gameday=plan.gameday,
            plan_file=plan.plan_file, started=started, status=figures.status,
            exit_code=figures.exit_code, abort_reason=figures.abort_reason,
            abort_message=figures.abort_message, slos=_slos(plan),
            planned_scenarios=tuple(s.name for s in plan.scenarios),
            scenarios=figures.scenarios, action_items=read_action_items(run_dir))

    def _older(self, run_dir: Path, plan: RunPlan, started: float) -> RunSummary | None:
        """A run before both periods matters only for action items still open."""
        items = tuple(item for item in read_action_items(run_dir) if not item.done)
        if not items:
            return None
        return RunSummary(
            path=str(run_dir), run_id=plan.run_id, service=plan.service, gameday=plan.gameday,
            plan_file=plan.plan_file, started=started, status="", exit_code=None,
            abort_reason=None, abort_message=None, slos=(), planned_scenarios=(), scenarios=(),
            action_items=items, figures=False)
