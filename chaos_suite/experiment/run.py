"""Running one Chaos Toolkit experiment through chaoslib, in the runner's main thread (chaoslib
installs signal handlers), with chaos_suite's hypothesis and control added at run time and the
rollback strategy forced to `always` (CTK's default skips rollbacks of interrupted runs)."""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaos_suite.experiment.control import control_block, refusals, run_extension
from chaos_suite.experiment.hypothesis import hypothesis_for
from chaos_suite.experiment.probes import SAMPLES_KEY
from chaos_suite.files.slo_file import SLOSpec

ADMIN_KEY = "chaos_suite_admin_url"
SETTINGS: dict[str, Any] = {"runtime": {"rollbacks": {"strategy": "always"}}}


@dataclass(frozen=True)
class ScenarioResult:
    journal: dict[str, Any]
    status: str  # completed | aborted | failed (CTK's "interrupted" → aborted)
    deviated: bool
    steady_state_met_before: bool | None
    steady_state_met_after: bool | None
    refused: tuple[str, ...] = ()  # steps the control stopped because their revert was not on record


def prepare_experiment(experiment: dict[str, Any], *, slos: list[SLOSpec], samples_file: Path,
                       events_file: Path, scenario: str,
                       admin_url: str | None, hypothesis_window_s: float = 5.0,
                       hypothesis_max_burn_rate: float = 1.0, run_id: str = "",
                       ledger_dirs: list[Path] | None = None,
                       target_key: str = "") -> dict[str, Any]:
    """The experiment as it will run: the user's file untouched, plus our hypothesis probes,
    configuration keys and control."""
    exp = copy.deepcopy(experiment)
    generated = hypothesis_for(slos, hypothesis_window_s, hypothesis_max_burn_rate)
    existing = exp.get("steady-state-hypothesis")
    if existing:
        existing.setdefault("probes", []).extend(generated["probes"])
    elif slos:
        exp["steady-state-hypothesis"] = generated
    config = dict(exp.get("configuration") or {})
    config[SAMPLES_KEY] = str(samples_file)
    if admin_url:
        config[ADMIN_KEY] = admin_url
    exp["configuration"] = config
    exp["extensions"] = [*exp.get("extensions", []), run_extension(run_id)]
    exp["controls"] = [*exp.get("controls", []), control_block(
        events_file, scenario, run_id=run_id, ledger_dirs=ledger_dirs,
        target_key=target_key)]
    return exp


@contextmanager
def _scenario_env(events_file: Path, scenario: str, admin_url: str | None,
                  run_id: str = "") -> Iterator[None]:
    # fault providers append fault_injected/cleared to this file and tag their changes with the
    # run id; set only for this scenario
    saved = {k: os.environ.get(k) for k in ("CHAOS_SUITE_EVENTS_FILE", "CHAOS_SUITE_SCENARIO",
                                            "CHAOS_SUITE_ADMIN_URL", "CHAOS_SUITE_RUN_ID")}
    os.environ["CHAOS_SUITE_EVENTS_FILE"] = str(events_file)
    os.environ["CHAOS_SUITE_SCENARIO"] = scenario
    os.environ["CHAOS_SUITE_RUN_ID"] = run_id
    if admin_url:
        os.environ["CHAOS_SUITE_ADMIN_URL"] = admin_url
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class _QuietFileHandler(logging.FileHandler):
    """A log line that cannot be written (a full disk) is lost quietly: logging's default
    prints a traceback to the user's terminal, and the run record already says why."""

    def handleError(self, record: logging.LogRecord) -> None:
        return None


class _RedactingFormatter(logging.Formatter):
    def __init__(self, redact: Callable[[Any], Any] | None) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s")
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return str(self._redact(text)) if self._redact is not None else text


@contextmanager
def _ctk_log_to(path: Path, redact: Callable[[Any], Any] | None = None) -> Iterator[None]:
    logger = logging.getLogger("chaostoolkit")
    handler = _QuietFileHandler(path, encoding="utf-8")
    handler.setFormatter(_RedactingFormatter(redact))
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        handler.close()
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def run_prepared(experiment: dict[str, Any], *, events_file: Path, scenario: str,
                 admin_url: str | None, log_file: Path,
                 redact: Callable[[Any], Any] | None = None, run_id: str = "") -> ScenarioResult:
    from chaoslib.experiment import run_experiment

    with _scenario_env(events_file, scenario, admin_url, run_id), \
            _ctk_log_to(log_file, redact):
        journal = run_experiment(experiment, settings=copy.deepcopy(SETTINGS))
    return summarize(journal)


def summarize(journal: dict[str, Any]) -> ScenarioResult:
    ctk_status = str(journal.get("status", "failed"))
    status = {"completed": "completed", "interrupted": "aborted", "aborted": "aborted"}.get(
        ctk_status, "failed")
    states = journal.get("steady_states") or {}
    before = (states.get("before") or {}).get("steady_state_met")
    after = (states.get("after") or {}).get("steady_state_met")
    # CTK reports deviated=false when the hypothesis failed *before* the method (docs/architecture.md §7.1)
    deviated = bool(journal.get("deviated")) or before is False or after is False
    return ScenarioResult(journal=journal, status=status, deviated=deviated,
                          steady_state_met_before=before, steady_state_met_after=after,
                          refused=tuple(refusals(journal)))
