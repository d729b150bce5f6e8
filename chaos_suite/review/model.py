"""review.json: the monthly review's machine-readable contract, schema ``chaos-suite/review/v1``.

Like report/v1: keys are never renamed, only added; fractions are plain numbers (of the SLO
window's error budget, as in report.json); times are ISO 8601 UTC; durations seconds; unknown
figures ``null`` (never NaN). The README documents every field.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

REVIEW_SCHEMA: Final = "chaos-suite/review/v1"

VERDICTS: Final = ("as-expected", "worse-than-expected", "better-than-expected", "inconclusive")
VerdictName = Literal["as-expected", "worse-than-expected", "better-than-expected", "inconclusive"]
Trend = Literal["faster", "slower", "unchanged"]


class ReviewModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False,
                              populate_by_name=True)


class PeriodOut(ReviewModel):
    start: str
    end: str  # exclusive
    label: str


class VerdictCounts(ReviewModel):
    as_expected: int = Field(default=0, alias="as-expected")
    worse_than_expected: int = Field(default=0, alias="worse-than-expected")
    better_than_expected: int = Field(default=0, alias="better-than-expected")
    inconclusive: int = 0


class RunCounts(ReviewModel):
    total: int
    by_status: dict[str, int]  # completed, aborted, failed always present
    by_exit_code: dict[str, int]  # "0".."4" as strings (JSON keys)


class AbortedRun(ReviewModel):
    run: str
    started: str | None
    reason: str
    message: str | None = None


class ActualSpend(ReviewModel):
    """What the service really spent over the period, read from Prometheus now, in slices of
    the span (the period up to ``at``) summed over the slices that had events."""

    source: Literal["prometheus"] = "prometheus"
    url: str
    at: str  # the end of the span measured (the period's end, or now if sooner)
    seconds: float  # the span measured, from the period's start to ``at``
    slices: int
    seconds_with_data: float
    good: float
    total: float


class SLOReview(ReviewModel):
    slo: str
    objective: float | None
    window_seconds: float | None
    source: str | None
    runs: int
    chaos_budget_consumed: float
    chaos_budget_consumed_attributed: float
    actual_budget_consumed: float | None = None
    chaos_share: float | None = None  # chaos_budget_consumed / actual_budget_consumed
    actual: ActualSpend | None = None
    note: str | None = None


class Spread(ReviewModel):
    median: float | None
    min: float | None
    max: float | None
    count: int


class Timing(ReviewModel):
    """A time to detect, page or recover: median over the period's runs and the previous
    period's, and whether it got faster; ``runs`` counts the runs that held a figure."""

    median: float | None
    previous_median: float | None
    trend: Trend | None
    runs: int


class ExpectedBudget(ReviewModel):
    min_budget_consumed: float | None
    max_budget_consumed: float | None


class ScenarioSLOReview(ReviewModel):
    slo: str
    runs: int
    verdicts: VerdictCounts
    latest_verdict: VerdictName | None
    worse_runs: int
    recurring_deviation: bool
    expected: ExpectedBudget  # the latest run's expectation
    observed_budget_consumed_attributed: Spread
    recovery_seconds: Timing
    time_to_detect_seconds: Timing
    time_to_page_seconds: Timing
    detection_gaps: int | None  # runs whose record holds detection but nothing detected


class HistoryDay(ReviewModel):
    """The scenario's verdicts on one UTC day (of either period)."""

    date: str  # YYYY-MM-DD
    verdicts: VerdictCounts


class ScenarioReview(ReviewModel):
    name: str
    runs: int
    verdicts: VerdictCounts
    latest_verdict: VerdictName | None
    latest_run: str | None
    previous_verdict: VerdictName | None
    changed: bool
    worse_runs: int
    hypothesis_deviated_runs: int
    recurring_deviation: bool
    slos: list[ScenarioSLOReview]
    history: list[HistoryDay]


class Coverage(ReviewModel):
    slos_untouched: list[str]
    scenarios_not_run: list[str]


class ServiceReview(ReviewModel):
    service: str
    runs: int
    by_status: dict[str, int]
    by_exit_code: dict[str, int]
    aborted: list[AbortedRun]
    slos: list[SLOReview]
    scenarios: list[ScenarioReview]
    coverage: Coverage


class ChangedVerdict(ReviewModel):
    service: str
    scenario: str
    previous_verdict: VerdictName
    latest_verdict: VerdictName


class RecurringDeviation(ReviewModel):
    service: str
    scenario: str
    slo: str
    worse_runs: int
    runs: int


class ActionItemOut(ReviewModel):
    run: str
    service: str
    id: str
    text: str
    owner: str | None
    due: str | None  # YYYY-MM-DD
    link: str | None
    done: bool
    overdue: bool


class Skipped(ReviewModel):
    path: str
    reason: str


class Review(ReviewModel):
    review_schema: Literal["chaos-suite/review/v1"] = Field(default=REVIEW_SCHEMA, alias="schema")
    generated: str
    period: PeriodOut
    previous_period: PeriodOut
    as_of: str  # overdue and the Prometheus figures are as of this time
    service_filter: str | None
    runs: RunCounts
    services: list[ServiceReview]
    changed_verdicts: list[ChangedVerdict]
    recurring_deviations: list[RecurringDeviation]
    action_items: list[ActionItemOut]
    reanalysed: list[Skipped]  # runs without a usable report.json, analysed from their record
    skipped: list[Skipped]
    notes: list[str]

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2) + "\n"
