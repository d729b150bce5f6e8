"""The report's view of a run record. The record is read through its typed contract
(chaos_suite/record, docs/architecture.md §4); the report adds the plan's SLOs as
:class:`chaos_suite.slo.SLO` values and the samples as per-second counts for its series."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from chaos_suite.record import (
    Event,
    Expectation,
    Note,
    RunPlan,
    RunRecord,
    ScenarioPlan,
    SLICounts,
)
from chaos_suite.record import load_run as load_record
from chaos_suite.record.models import AlertingRecord
from chaos_suite.report.series import Counts, Sample
from chaos_suite.slo import SLO

__all__ = ["Event", "Expectation", "Note", "Plan", "RecordView", "ScenarioPlan", "load_run"]


@dataclass(frozen=True)
class Plan:
    """plan.json with its SLOs as SLO values."""

    record: RunPlan
    slos: tuple[SLO, ...]

    @property
    def gameday(self) -> str:
        return self.record.gameday

    @property
    def service(self) -> str:
        return self.record.service

    @property
    def environment(self) -> str:
        return self.record.environment

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def scenarios(self) -> tuple[ScenarioPlan, ...]:
        return self.record.scenarios

    def alerting(self, slo: str) -> AlertingRecord | None:
        """The burn-rate alerts the run resolved for ``slo`` (None: an older record)."""
        return next((s.alerting for s in self.record.slos if s.name == slo), None)

    @property
    def baseline_seconds(self) -> float:
        return self.record.baseline_seconds

    @property
    def cooldown_seconds(self) -> float:
        return self.record.cooldown_seconds

    @property
    def min_events(self) -> int:
        return self.record.min_events

    @property
    def peak_window_seconds(self) -> int:
        # whole seconds, at least one: the rolling windows step over sample seconds
        return max(1, round(self.record.peak_window_seconds))


@dataclass(frozen=True)
class RecordView:
    """What the analysis reads: the typed record, its plan and its samples as series."""

    record: RunRecord
    plan: Plan
    samples: tuple[Sample, ...]

    @property
    def run_dir(self) -> Path:
        return self.record.run_dir

    @property
    def events(self) -> tuple[Event, ...]:
        return self.record.events

    @property
    def notes(self) -> tuple[Note, ...]:
        return self.record.notes

    @property
    def journals(self) -> tuple[str, ...]:
        return self.record.journals

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.record.warnings


def view_of(record: RunRecord) -> RecordView:
    plan = Plan(record.plan, tuple(slo.to_slo() for slo in record.plan.slos))
    samples = tuple(Sample(s.t, s.source, _counts(s.slis)) for s in record.samples)
    return RecordView(record, plan, samples)


def _counts(slis: Mapping[str, SLICounts]) -> dict[str, Counts]:
    return {name: Counts(c.good, c.total) for name, c in slis.items()}


def load_run(run_dir: Path) -> RecordView:
    """Read a run directory. Raises InputError (naming the file) when plan.json is unusable."""
    return view_of(load_record(Path(run_dir)))
