"""Which burn-rate alerts each SLO of a run gets, as the plan record keeps them (``alerting``
per SLO), and the predicted coverage the report computes from them.

Resolution, once per run (plan.json), so the report never guesses which tool's windows apply:

- ``detection.windows`` in the environment (google, sloth, pyrra or a window file) wins;
- else the embedded stack's short gameday set (``embedded.SHORT_WINDOWS``) when it runs;
- else the SLO's OpenSLO alert policies when it has any, or the set of the tool that owns the
  SLO file (Sloth's for a Sloth file, Pyrra's for a Pyrra file, the SRE workbook's for OpenSLO
  and chaos_suite's own format), as ``slo explain`` and ``slo rules`` use it.

Intervals: the environment's ``detection.evaluation_interval`` / ``scrape_interval``; else 1 s
for the embedded stack (it scrapes and evaluates every second) and Prometheus's own default,
1 m, otherwise. The report says which.

:func:`coverage_of` is pure: the prediction of :mod:`chaos_suite.detection.predict` for one
SLO at a scenario's observed burn rate."""

from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

from chaos_suite.detection.predict import Coverage, predict_coverage
from chaos_suite.detection.windows import BUILTIN_SETS, BurnAlert, WindowSet
from chaos_suite.errors import InputError, ValidationError
from chaos_suite.files.environment import EnvironmentModel
from chaos_suite.files.slo_file import SLOSpec
from chaos_suite.record.models import AlertingRecord, BurnAlertRecord
from chaos_suite.slo.model import SLO

# Prometheus's defaults for global scrape_interval and evaluation_interval
PROMETHEUS_DEFAULT_INTERVAL_S: Final = 60.0
EMBEDDED_INTERVAL_S: Final = 1.0
# one page row sized for a 1-2 minute gameday: error ratio above 14.4 × budget over 30 s and 5 s
SHORT_WINDOWS: Final = WindowSet("gameday-short", (BurnAlert("page", 30.0, 5.0, 14.4),))

WindowsChoice = str | WindowSet | None  # a built-in name, a custom set, or the SLO file's own


def windows_choice(env: EnvironmentModel, environment_path: Path | None) -> WindowsChoice:
    """The environment's window set for every SLO of the run (None: each SLO file's own).
    A bad window file is a one-line ValidationError naming it."""
    config = env.detection
    if config is None or config.windows is None:
        return SHORT_WINDOWS if config is not None and config.embedded else None
    if config.windows in BUILTIN_SETS:
        return config.windows
    from chaos_suite.detection.window_file import load_window_set

    path = Path(config.windows)
    if not path.is_absolute() and environment_path is not None:
        path = environment_path.parent / path
    if not path.is_file():
        raise ValidationError(str(environment_path or "environment"), "detection.windows",
                              f"'{config.windows}' is neither {', '.join(BUILTIN_SETS)} nor a "
                              "window file")
    return load_window_set(path)


def intervals(env: EnvironmentModel) -> tuple[float, float]:
    """(evaluation, scrape) interval in seconds the SLOs' alerts are evaluated at."""
    config = env.detection
    default = (EMBEDDED_INTERVAL_S if config is not None and config.embedded
               else PROMETHEUS_DEFAULT_INTERVAL_S)
    if config is None:
        return default, default
    return config.evaluation_interval or default, config.scrape_interval or default


def alerting_record(spec: SLOSpec, env: EnvironmentModel, environment_path: Path | None
                    ) -> AlertingRecord:
    """The alerts ``spec`` gets in this run and the intervals they are evaluated at."""
    from chaos_suite.detection.rules import window_set_for

    config = env.detection
    embedded = config is not None and config.embedded
    choice = windows_choice(env, environment_path)
    chosen_by: Literal["embedded", "environment", "slo-file"] = (
        "environment" if config is not None and config.windows is not None
        else "embedded" if embedded else "slo-file")
    every, scrape = intervals(env)
    note: str | None
    try:
        windows = window_set_for(spec, choice)
        alerts, note, name = windows.alerts, windows.note, windows.name
    except InputError as exc:  # no row fits the SLO's window: said, and nothing predicted
        alerts, note = (), str(exc)
        name = choice if isinstance(choice, str) else "own" if choice is None else choice.name
    return AlertingRecord(
        window_set=name,
        alerts=tuple(BurnAlertRecord(severity=a.severity, long_seconds=a.long_s,
                                     short_seconds=a.short_s, factor=a.factor,
                                     for_seconds=a.for_s, policy=a.policy) for a in alerts),
        evaluation_interval_seconds=every, scrape_interval_seconds=scrape,
        chosen_by=chosen_by, note=note)


def window_set_of(alerting: AlertingRecord) -> WindowSet:
    return WindowSet(alerting.window_set, tuple(
        BurnAlert(a.severity, a.long_seconds, a.short_seconds, a.factor, a.for_seconds,
                  a.policy)
        for a in alerting.alerts), alerting.note)


def coverage_of(slo: SLO, alerting: AlertingRecord | None, burn_rate: float | None,
                baseline_burn_rate: float | None) -> Coverage | None:
    """Would each of the SLO's alerts fire if a fault burning at ``burn_rate`` (the scenario's
    fault window, pooled) lasted, over the baseline's burn, and after how long. None when the
    record keeps no alerting (older runs) or nothing was measured."""
    if alerting is None or not alerting.alerts or burn_rate is None:
        return None
    return predict_coverage(slo, window_set_of(alerting), burn_rate, baseline_burn_rate or 0.0,
                            alerting.evaluation_interval_seconds,
                            scrape_interval_s=alerting.scrape_interval_seconds)
