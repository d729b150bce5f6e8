"""The run record as one typed contract (docs/architecture.md §4): every file a run writes, as
pydantic models. The runner, the control and the fault providers write through these types;
the report reads through them.

Models forbid unknown fields (what we write is exactly the contract). A record written before
the contract had a version (no ``version`` in plan.json: the *pre-v1* layout) is read with the
``PRE_V1`` validation context, which drops fields the contract does not know instead of refusing
them; missing optional fields take their defaults either way.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)

from chaos_suite.files.plan import GamedayModel
from chaos_suite.slo import SLO
from chaos_suite.slo.model import SLI, SLIKind

RUN_RECORD_VERSION: Final = "chaos-suite/run/v1"

# validation context of a pre-v1 record: fields unknown to the contract are dropped
PRE_V1: Final[dict[str, bool]] = {"chaos_suite_pre_v1": True}

# file names inside a run directory
PLAN: Final = "plan.json"
EVENTS: Final = "events.jsonl"
SAMPLES: Final = "samples.jsonl"
NOTES: Final = "notes.jsonl"
JOURNALS: Final = "journals"
LEDGER: Final = "ledger"
SERVER_COUNTERS: Final = "server_counters.json"
ACTION_ITEMS: Final = "action_items.jsonl"

# one default per plan field: the plan file's own (files/plan.py), for records that lack one
_PLAN_DEFAULTS = GamedayModel.model_fields
DEFAULT_MIN_EVENTS: Final[int] = _PLAN_DEFAULTS["min_events"].default
DEFAULT_PEAK_WINDOW_S: Final[float] = _PLAN_DEFAULTS["peak_window"].default
DEFAULT_BASELINE_S: Final[float] = _PLAN_DEFAULTS["baseline"].default
DEFAULT_COOLDOWN_S: Final[float] = _PLAN_DEFAULTS["cooldown"].default


class RecordModel(BaseModel):
    """Base of every record model: unknown fields refused, floats finite (JSON has no NaN)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _drop_unknown_in_pre_v1(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict) and info.context and info.context.get("chaos_suite_pre_v1"):
            return {k: v for k, v in data.items() if k in cls.model_fields}
        return data


# bool is an int to pydantic's lax mode; a count of `true` is a broken line, not 1
Count = Annotated[int, Field(ge=0, strict=True)]
SourceName = Literal["load", "prometheus", "http"]
Seconds = Annotated[float, Field(ge=0)]


# ------------------------------------------------------------------ plan.json


class SLIRecord(RecordModel):
    kind: Literal["availability", "latency"]
    threshold_ms: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _threshold(self) -> SLIRecord:
        if self.kind == "latency" and self.threshold_ms is None:
            raise ValueError("a latency SLI needs threshold_ms")
        if self.kind == "availability" and self.threshold_ms is not None:
            raise ValueError("an availability SLI takes no threshold_ms")
        return self


class BurnAlertRecord(RecordModel):
    """One multi-window burn-rate alert: the error ratio over ``long_seconds`` AND over
    ``short_seconds`` above ``factor`` × budget, held ``for_seconds``."""

    severity: Literal["page", "ticket"]
    long_seconds: float = Field(gt=0)
    short_seconds: float = Field(gt=0)
    factor: float = Field(gt=0)
    for_seconds: Seconds = 0.0
    policy: str | None = None  # the OpenSLO AlertPolicy it implements


class AlertingRecord(RecordModel):
    """The alerts an SLO is alerted on, as the run resolved them (detection/coverage.py): the
    window set, its rows, and the Prometheus intervals they are evaluated at. ``chosen_by``:
    ``embedded`` (the run's own Prometheus), ``environment`` (``detection.windows`` and the
    intervals stated there) or ``slo-file`` (the set of the tool that owns the SLO file, at
    Prometheus's default intervals). ``note`` says why ``alerts`` is empty or shortened."""

    window_set: str = Field(min_length=1)
    alerts: tuple[BurnAlertRecord, ...] = ()
    evaluation_interval_seconds: float = Field(gt=0)
    scrape_interval_seconds: float = Field(gt=0)
    chosen_by: Literal["embedded", "environment", "slo-file"]
    note: str | None = None


class SLORecord(RecordModel):
    name: str = Field(min_length=1)
    description: str = ""
    objective: float = Field(gt=0, lt=1)
    window_seconds: float = Field(gt=0)
    source: SourceName = "load"
    sli: SLIRecord
    # detection: the burn-rate alerts this SLO gets (None: a record from before they were kept)
    alerting: AlertingRecord | None = None

    def to_slo(self) -> SLO:
        return SLO(name=self.name, objective=self.objective, window_seconds=self.window_seconds,
                   sli=SLI(SLIKind(self.sli.kind), self.sli.threshold_ms), source=self.source,
                   description=self.description)


class AlertExpectation(RecordModel):
    """The alert expected to fire: its ``alertname`` and labels it must carry (a subset),
    within how long of fault onset, and whether it should page (reach Alertmanager's webhook)."""

    name: str = Field(min_length=1)
    labels: dict[str, str] = Field(default_factory=dict)
    within_seconds: Seconds | None = None
    page: bool = False


class Expectation(RecordModel):
    """What the team predicted for one SLO in one scenario (budget as fractions of budget)."""

    min_budget_consumed: float | None = Field(default=None, ge=0)
    max_budget_consumed: float | None = Field(default=None, ge=0)
    max_peak_burn_rate: float | None = Field(default=None, ge=0)
    recover_within_seconds: float | None = Field(default=None, ge=0)
    alert: AlertExpectation | None = None  # detection: the alert expected to fire
    no_alert: bool = False  # detection: no alert should fire

    @property
    def is_empty(self) -> bool:
        return all(value is None for value in (
            self.min_budget_consumed, self.max_budget_consumed, self.max_peak_burn_rate,
            self.recover_within_seconds))


class AbortRuleRecord(RecordModel):
    burn_rate: float | None = Field(default=None, gt=0)
    long_window: Seconds = 30.0
    short_window: Seconds | None = None
    max_budget_consumed: float | None = Field(default=None, ge=0)


class HypothesisRecord(RecordModel):
    window: Seconds = 5.0
    max_burn_rate: float = Field(default=1.0, gt=0)


class RolesRecord(RecordModel):
    facilitator: str | None = None
    observers: tuple[str, ...] = ()
    scribe: str | None = None


class ShapeRecord(RecordModel):
    kind: Literal["steady", "ramp", "step", "spike", "arrival"] = "steady"
    users: int = Field(default=20, ge=0)
    spawn_rate: float = Field(default=20.0, gt=0)
    start_users: int | None = Field(default=None, ge=0)
    ramp: Seconds | None = None
    step_users: int | None = Field(default=None, ge=0)
    step: Seconds | None = None
    spike_users: int | None = Field(default=None, ge=0)
    spike_at: Seconds | None = None
    spike_for: Seconds | None = None
    # arrival (open-loop): task runs per second, each user's pace, the most users it may add
    rate: float | None = Field(default=None, gt=0)
    per_user_rate: float | None = Field(default=None, gt=0)
    max_users: int | None = Field(default=None, ge=0)


class LoadRecord(RecordModel):
    """The load profile. ``shape_from`` says which shape ran: the plan's (``shape``), the
    locustfile's own LoadTestShape (``shape_class``; ``shape`` is null) or, when neither
    names one, the default steady shape (``shape``)."""

    locustfile: str
    shape: ShapeRecord | None = ShapeRecord()
    host: str | None = None
    shape_from: Literal["plan", "locustfile", "default"] = "plan"
    shape_class: str | None = None
    workers: Count = 0  # 0: one Locust process; N: a master and N workers in all
    min_workers: Count | None = None  # workers that must stay (None: all of them)
    local_workers: Count | None = None  # of ``workers``, started here (None: all of them)
    master_bind: str | None = None  # where the master listened for remote workers
    master_port: int | None = Field(default=None, ge=1, le=65535)


class LocalTargetRecord(RecordModel):
    type: Literal["local"] = "local"
    replicas: int = Field(default=2, ge=1)
    restart_delay: Seconds = 2.0
    managed: bool = True
    port: int = Field(default=0, ge=0, le=65535)
    admin_port: int = Field(default=0, ge=0, le=65535)


class KubernetesTargetRecord(RecordModel):
    type: Literal["kubernetes"] = "kubernetes"
    namespace: str
    context: str | None = None
    url: str | None = None


class HttpTargetRecord(RecordModel):
    type: Literal["http"] = "http"
    url: str
    admin_url: str | None = None


TargetRecord = Annotated[LocalTargetRecord | KubernetesTargetRecord | HttpTargetRecord,
                         Field(discriminator="type")]


class ScenarioPlan(RecordModel):
    name: str = Field(min_length=1)
    description: str = ""
    experiment: str = ""
    title: str | None = None
    cooldown_seconds: Seconds | None = None
    abort: AbortRuleRecord | None = None
    expectations: dict[str, Expectation] = Field(default_factory=dict)
    # the plan in the team's words (optional: records written before them lack them)
    hypothesis: str | None = None  # what the team believes will happen, in words
    runbooks: tuple[str, ...] = ()  # runbook URLs
    acts: str | None = None  # who acts on the fault (a role name or a person)


class RunPlan(RecordModel):
    """plan.json: the resolved plan, written once when the run starts."""

    version: Literal["chaos-suite/run/v1"] = RUN_RECORD_VERSION
    run_id: str
    gameday: str
    service: str
    description: str = ""
    environment: str
    environment_tier: Literal["local", "staging", "production"] | None = None
    target: TargetRecord | None = None
    plan_file: str = ""
    roles: RolesRecord = RolesRecord()
    load: LoadRecord | None = None
    slos: tuple[SLORecord, ...] = Field(min_length=1)
    baseline_seconds: Seconds = DEFAULT_BASELINE_S
    cooldown_seconds: Seconds = DEFAULT_COOLDOWN_S
    min_events: int = Field(default=DEFAULT_MIN_EVENTS, ge=1)
    peak_window_seconds: Seconds = DEFAULT_PEAK_WINDOW_S
    hypothesis: HypothesisRecord = HypothesisRecord()
    abort: AbortRuleRecord | None = None
    expected_duration_seconds: Seconds | None = None
    objectives: tuple[str, ...] = ()  # the gameday's objectives, in the team's words
    scenarios: tuple[ScenarioPlan, ...]


# ------------------------------------------------------------------ samples.jsonl


class SLICounts(RecordModel):
    """Good and total events of one SLI in one second."""

    good: Count
    total: Count

    @model_validator(mode="after")
    def _good_within_total(self) -> SLICounts:
        if self.good > self.total:
            raise ValueError(f"good ({self.good}) exceeds total ({self.total})")
        return self


class LatencySummary(RecordModel):
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    mean: float | None = None
    max: float | None = None


class Sample(RecordModel):
    """One second of one source: ``t`` is the bucket start (epoch second). The load adds its
    latency summary, histogram (upper bound in ms → count), request count and users."""

    t: int
    source: SourceName = "load"
    slis: dict[str, SLICounts]
    latency_ms: LatencySummary | None = None
    latency_hist_ms: dict[str, Count] | None = None
    requests: Count | None = None
    users: Count | None = None  # the load's users running at the end of the second
    # what the load's requests reached (load/buckets.py): how many got a 4xx answer, and
    # requests per path key (a key ending in '*' stands for every path it begins, '*' alone
    # for any path); None in records written before they were counted
    status_4xx: Count | None = None
    paths: dict[str, Count] | None = None


# ------------------------------------------------------------------ notes.jsonl


class Note(RecordModel):
    """A facilitator's observation (`chaos-suite gameday note`)."""

    t: float
    text: str
    author: str = ""

    @field_validator("author", mode="before")
    @classmethod
    def _no_author(cls, value: Any) -> Any:
        return "" if value is None else value


# ------------------------------------------------------------------ action_items.jsonl


class ActionItemCreated(RecordModel):
    """An action item (`chaos-suite gameday action`). Lines are append-only events; the
    current state of an item is the fold of its lines (see ``fold_action_items``). ``done`` is
    on every line so that a reader taking each id's last line sees its state."""

    event: Literal["created"] = "created"
    t: float
    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    due: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")  # YYYY-MM-DD
    link: str | None = None
    done: Literal[False] = False


class ActionItemDone(RecordModel):
    event: Literal["done"] = "done"
    t: float
    id: str = Field(min_length=1)
    done: Literal[True] = True


ActionItemLine = Annotated[ActionItemCreated | ActionItemDone, Field(discriminator="event")]
ACTION_ITEM_ADAPTER: Final[TypeAdapter[ActionItemLine]] = TypeAdapter(ActionItemLine)


class ActionItem(RecordModel):
    """An action item's current state: its ``created`` line, closed by a ``done`` line."""

    id: str
    t: float  # created
    text: str
    owner: str
    due: str
    link: str | None = None
    done: bool = False
    done_t: float | None = None


def fold_action_items(lines: list[ActionItemCreated | ActionItemDone]
                      ) -> tuple[ActionItem, ...]:
    """The items in creation order; a ``done`` for an unknown id is ignored (the writer never
    writes one), a second ``created`` with a known id too."""
    items: dict[str, ActionItem] = {}
    for line in lines:
        if isinstance(line, ActionItemCreated):
            if line.id not in items:
                items[line.id] = ActionItem(id=line.id, t=line.t, text=line.text,
                                            owner=line.owner, due=line.due, link=line.link)
        elif line.id in items and not items[line.id].done:
            items[line.id] = items[line.id].model_copy(update={"done": True, "done_t": line.t})
    return tuple(sorted(items.values(), key=lambda item: item.t))


# ------------------------------------------------------------------ safeguard trips


class TripSample(RecordModel):
    """The crossing sample: its second, counts and when it reached the runner."""

    t: int
    good: Count
    total: Count
    arrived: float | None = None


class BurnRateTrip(RecordModel):
    rule: Literal["burn-rate"] = "burn-rate"
    slo: str
    burn_rate_long: float
    burn_rate_short: float
    threshold: float
    long_window_s: int
    short_window_s: int
    long: SLICounts
    short: SLICounts
    sample: TripSample
    tripped_at: float | None = None


class BudgetCapTrip(RecordModel):
    rule: Literal["budget-cap"] = "budget-cap"
    slo: str
    budget_consumed: float
    cap: float
    sample: TripSample
    tripped_at: float | None = None


class InfrastructureTrip(RecordModel):
    """Not a burn: the load, a source or the target's admin API was lost (§6.4)."""

    rule: Literal["infrastructure"] = "infrastructure"
    slo: None = None
    problem: str
    tripped_at: float | None = None


Trip = Annotated[BurnRateTrip | BudgetCapTrip | InfrastructureTrip, Field(discriminator="rule")]


# ------------------------------------------------------------------ events.jsonl


def _time_and_type_required(schema: dict[str, Any]) -> None:
    # both have defaults for writers (now, the class's type), yet every line carries them
    schema["required"] = ["t", "type", *(f for f in schema.get("required", ())
                                          if f not in ("t", "type"))]


class EventBase(RecordModel):
    """One line of events.jsonl: when (epoch seconds) and what (`type`, the union's tag)."""

    model_config = ConfigDict(json_schema_extra=_time_and_type_required)

    t: float = Field(default_factory=time.time)
    type: str

    @property
    def data(self) -> dict[str, Any]:
        """Every field but ``t`` and ``type`` as JSON values, leaving out what the line did
        not carry: the untyped view for readers written before the union."""
        dumped = self.model_dump(mode="json", exclude_unset=True, exclude={"t", "type"})
        return {k: v for k, v in dumped.items() if v is not None}


PhaseName = Literal["baseline", "scenario", "cooldown"]


class RunStarted(EventBase):
    type: Literal["run_started"] = "run_started"
    run_id: str
    gameday: str = ""
    environment: str = ""


class TargetReady(EventBase):
    type: Literal["target_ready"] = "target_ready"
    url: str
    admin_url: str | None = None
    pids: tuple[int, ...] | None = None


class LoadStarted(EventBase):
    type: Literal["load_started"] = "load_started"
    pid: int | None = None
    locustfile: str = ""


class SourceStarted(EventBase):
    type: Literal["source_started"] = "source_started"
    source: SourceName
    url: str | None = None  # Prometheus: its URL
    slos: tuple[str, ...] = ()
    urls: dict[str, str] = Field(default_factory=dict)  # http: the URL each SLO probes


class PhaseStarted(EventBase):
    type: Literal["phase_started"] = "phase_started"
    phase: PhaseName
    scenario: str | None = None
    experiment: str | None = None


class PhaseEnded(EventBase):
    """A phase's end; a scenario's also carries chaoslib's outcome (status: completed,
    aborted or failed) and the hypothesis before and after the method."""

    type: Literal["phase_ended"] = "phase_ended"
    phase: PhaseName
    scenario: str | None = None
    status: str | None = None
    deviated: bool | None = None
    steady_state_met_before: bool | None = None
    steady_state_met_after: bool | None = None


class LoadStalled(EventBase):
    type: Literal["load_stalled"] = "load_stalled"
    seconds: Seconds


class WorkerLost(EventBase):
    """A Locust worker of a distributed load went away; `live` workers remain."""

    type: Literal["worker_lost"] = "worker_lost"
    worker: str | None = None
    pid: int | None = None
    reason: str | None = None
    live: Count
    workers: Count


class FaultInterference(EventBase):
    type: Literal["fault_interference"] = "fault_interference"
    generation: int
    changed_by: str | None = None


class AbortEvent(EventBase):
    """The run is aborting: `reason` is safeguard, infrastructure, operator or the error's
    text; a safeguard trip carries its evidence in `detail`."""

    type: Literal["abort"] = "abort"
    reason: str
    detail: Trip | None = None
    message: str | None = None


class ErrorEvent(EventBase):
    type: Literal["error"] = "error"
    reason: str


class LoadStopped(EventBase):
    type: Literal["load_stopped"] = "load_stopped"
    summary: dict[str, JsonValue] | None = None  # the load worker's own `done` line


class SourceStopped(EventBase):
    type: Literal["source_stopped"] = "source_stopped"
    source: SourceName
    error: str | None = None


class LedgerReplayed(EventBase):
    type: Literal["ledger_replayed"] = "ledger_replayed"
    detail: str


class TargetStopped(EventBase):
    type: Literal["target_stopped"] = "target_stopped"


class RunEnded(EventBase):
    type: Literal["run_ended"] = "run_ended"
    status: str  # completed | aborted | failed
    exit_code: int
    reason: str | None = None


class ActivityStarted(EventBase):
    type: Literal["activity_started"] = "activity_started"
    scenario: str
    name: str | None = None
    activity_type: str | None = None
    rollback: bool = False


class ActivityEnded(EventBase):
    type: Literal["activity_ended"] = "activity_ended"
    scenario: str
    name: str | None = None
    activity_type: str | None = None
    rollback: bool = False
    status: str | None = None


class MethodStarted(EventBase):
    type: Literal["method_started"] = "method_started"
    scenario: str


class MethodEnded(EventBase):
    type: Literal["method_ended"] = "method_ended"
    scenario: str


class RollbacksStarted(EventBase):
    type: Literal["rollbacks_started"] = "rollbacks_started"
    scenario: str


class RollbacksEnded(EventBase):
    type: Literal["rollbacks_ended"] = "rollbacks_ended"
    scenario: str


class ErrorsFault(RecordModel):
    error_ratio: float = Field(ge=0, le=1)
    ttl_s: float | None = None
    paths: tuple[str, ...] = ()


class LatencyFault(RecordModel):
    latency_ms: float = Field(ge=0)
    ttl_s: float | None = None
    paths: tuple[str, ...] = ()


class KillReplicaFault(RecordModel):
    index: int | None = None
    pid: int
    signal: str = "SIGKILL"


class FaultsCleared(RecordModel):
    was_active: bool


class FaultInjected(EventBase):
    """A fault provider's injection took effect (faults/local.py); each fault has its detail."""

    type: Literal["fault_injected"] = "fault_injected"
    fault: str
    detail: ErrorsFault | LatencyFault | KillReplicaFault
    scenario: str | None = None


class FaultCleared(EventBase):
    type: Literal["fault_cleared"] = "fault_cleared"
    fault: str
    detail: FaultsCleared
    scenario: str | None = None


class NoteEvent(EventBase):
    type: Literal["note"] = "note"
    text: str
    author: str = ""


class NotifyFailed(EventBase):
    """A webhook notification could not be delivered; the run goes on regardless. The URL is
    left out (a Slack webhook URL is itself a credential)."""

    type: Literal["notify_failed"] = "notify_failed"
    kind: str  # start | scenario | abort | failed | end
    error: str


class AlertState(EventBase):
    """An alert's state as read from Prometheus (rules API, polled) or Alertmanager: recorded
    when it changes. ``active_at`` is Prometheus's activeAt (pending from then); ``fired_at`` is
    activeAt + the rule's ``for`` (the evaluation it fired at), Alertmanager's startsAt there."""

    type: Literal["alert_state"] = "alert_state"
    name: str
    labels: dict[str, str] = Field(default_factory=dict)
    state: Literal["pending", "firing", "resolved", "suppressed"]
    source: Literal["prometheus", "alertmanager"] = "prometheus"
    active_at: float | None = None
    fired_at: float | None = None


class AlertHistory(EventBase):
    """One alert series as Prometheus's own ``ALERTS`` samples tell it, read once after the run
    (``query_range`` at ``step_seconds``): the spans [from, to] it was ``state``. Fills what the
    once-a-second poll of the rules API may miss (a failed poll, an alert that came and went
    between two polls) and cross-checks what it saw."""

    type: Literal["alert_history"] = "alert_history"
    name: str
    labels: dict[str, str] = Field(default_factory=dict)
    state: Literal["pending", "firing"]
    spans: tuple[tuple[float, float], ...]
    step_seconds: float = Field(gt=0)


class AlertNotified(EventBase):
    """Alertmanager's webhook reached chaos_suite's receiver (``t``: when it arrived)."""

    type: Literal["alert_notified"] = "alert_notified"
    name: str
    labels: dict[str, str] = Field(default_factory=dict)
    status: Literal["firing", "resolved"]
    receiver: str = ""
    starts_at: float | None = None


class SilenceEvent(EventBase):
    """A quiet gameday's Alertmanager silence: created before the first fault, removed at the
    end (a ledger entry removes it after a crash)."""

    type: Literal["silence"] = "silence"
    action: Literal["created", "removed", "failed"]
    silence_id: str | None = None
    matchers: dict[str, str] = Field(default_factory=dict)
    error: str | None = None


Event = Annotated[
    RunStarted | TargetReady | LoadStarted | SourceStarted | PhaseStarted | PhaseEnded
    | LoadStalled | WorkerLost | FaultInterference | AbortEvent | ErrorEvent | LoadStopped | SourceStopped
    | LedgerReplayed | TargetStopped | RunEnded | ActivityStarted | ActivityEnded
    | MethodStarted | MethodEnded | RollbacksStarted | RollbacksEnded | FaultInjected
    | FaultCleared | NoteEvent | NotifyFailed | AlertState | AlertHistory | AlertNotified
    | SilenceEvent,
    Field(discriminator="type"),
]

EVENT_ADAPTER: Final[TypeAdapter[Event]] = TypeAdapter(Event)
TRIP_ADAPTER: Final[TypeAdapter[Trip]] = TypeAdapter(Trip)


# ------------------------------------------------------------------ ledger/


class ClearedMark(RecordModel):
    t: float
    how: str


class LedgerEntry(RecordModel):
    """What was injected, where, and how to revert it (§6.1); one file per entry in the run's
    `ledger/` and the state directory, kept under `ledger/cleared/` once reverted."""

    id: str
    t: float
    run_id: str
    scenario: str | None = None
    fault: str
    target: str = ""  # a key that names the attacked target (admin URL, namespace, ...)
    revert: dict[str, Any]  # {"kind": "python", "module", "func", "arguments"} or "ctk-activity"
    detail: dict[str, Any] = Field(default_factory=dict)
    dirs: tuple[str, ...] = ()  # every ledger folder holding this entry
    cleared: ClearedMark | None = None


# ------------------------------------------------------------------ server_counters.json


class ServerCounterRow(RecordModel):
    """One second of the embedded target's own counters (ground truth for availability)."""

    t: int
    total: Count
    errors: Count
    status_classes: dict[str, Count] = Field(default_factory=dict)
    latency_sum: float = Field(default=0.0, ge=0)
    hist: dict[str, Count] = Field(default_factory=dict)  # cumulative, keyed by upper bound in s


SERVER_COUNTERS_ADAPTER: Final[TypeAdapter[list[ServerCounterRow]]] = TypeAdapter(
    list[ServerCounterRow])


class RunRecordFiles(RecordModel):
    """The run directory as a whole, for its JSON Schema: JSONL files are arrays of lines."""

    plan: RunPlan = Field(alias="plan.json")
    events: list[Event] = Field(alias="events.jsonl")
    samples: list[Sample] = Field(alias="samples.jsonl")
    notes: list[Note] = Field(default_factory=list, alias="notes.jsonl")
    action_items: list[ActionItemLine] = Field(default_factory=list, alias="action_items.jsonl")
    ledger: list[LedgerEntry] = Field(default_factory=list, alias="ledger/*.json")
    server_counters: list[ServerCounterRow] | None = Field(default=None,
                                                           alias="server_counters.json")
