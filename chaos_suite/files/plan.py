"""The gameday plan: a file in git that names the service, environment, roles, load profile,
baseline, scenarios (experiment + expectation per SLO + abort rule) and cool-down."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from chaos_suite.files.common import (
    Duration,
    Fraction,
    HttpUrl,
    Name,
    StrictModel,
    raise_for_pydantic,
)
from chaos_suite.load.config import distributed_problem

MAX_USERS = 10_000
MAX_RATE = 100_000.0  # requests per second: far beyond what one Locust process sends
MAX_WORKERS = 1_000  # Locust workers of a distributed load


class Roles(StrictModel):
    facilitator: str | None = None
    observers: list[str] = Field(default_factory=list)
    scribe: str | None = None

    def names(self) -> list[str]:
        """What a scenario's ``acts`` may name: a role (facilitator, scribe, observers) or
        whoever fills one. Empty when the plan gives no roles."""
        filled = [n for n in (self.facilitator, self.scribe, *self.observers) if n]
        return [*(["facilitator"] if self.facilitator else []),
                *(["scribe"] if self.scribe else []),
                *(["observers"] if self.observers else []), *filled]


class Shape(StrictModel):
    """How the load's users vary over time. ``arrival`` is open-loop: ``rate`` requests a
    second whatever the response times (users pace themselves and are added while responses are
    slow, up to ``max_users``), where the closed-loop kinds send less as the service slows."""

    kind: Literal["steady", "ramp", "step", "spike", "arrival"] = "steady"
    users: int = Field(default=20, ge=1, le=MAX_USERS)
    # every user count and rate shares the bound of `users`: Locust spawns what it is told
    spawn_rate: float = Field(default=20.0, gt=0, le=MAX_USERS)
    start_users: int | None = Field(default=None, ge=0, le=MAX_USERS)
    ramp: Duration | None = None
    step_users: int | None = Field(default=None, ge=1, le=MAX_USERS)
    step: Duration | None = None
    spike_users: int | None = Field(default=None, ge=1, le=MAX_USERS)
    spike_at: Duration | None = None
    spike_for: Duration | None = None
    rate: float | None = Field(default=None, gt=0, le=MAX_RATE,
                               description="arrival: requests (task runs) per second")
    per_user_rate: float | None = Field(default=None, gt=0, le=MAX_RATE,
                                        description="arrival: each user's pace (default 10/s)")
    max_users: int | None = Field(default=None, ge=1, le=MAX_USERS,
                                  description="arrival: the most users it may add")

    @model_validator(mode="after")
    def _arrival(self) -> Shape:
        arrival_only = [k for k in ("rate", "per_user_rate", "max_users")
                        if getattr(self, k) is not None]
        if self.kind != "arrival" and arrival_only:
            raise ValueError(f"{arrival_only[0]} is a parameter of the arrival shape only")
        if self.kind == "arrival":
            if self.rate is None:
                raise ValueError("an arrival shape needs a rate (requests per second)")
            if (self.max_users is not None and "users" in self.model_fields_set
                    and self.max_users < self.users):
                raise ValueError("max_users is below users")
        return self


class LoadProfile(StrictModel):
    locustfile: str = "loadtests/checkout.py"
    # none: the locustfile's own LoadTestShape, else the default steady shape (Shape())
    shape: Shape | None = Field(default=None, description="default: the locustfile's own "
                                "LoadTestShape if it defines one, else steady 20 users")
    host: HttpUrl | None = Field(default=None, description="defaults to the target's URL")
    workers: int = Field(default=0, ge=0, le=MAX_WORKERS, description="0: one Locust "
                         "process; N: a Locust master and N workers in all (per-second counts "
                         "merged exactly)")
    local_workers: int | None = Field(default=None, ge=0, le=MAX_WORKERS, description="the "
                                      "workers chaos_suite starts on this machine (default: all "
                                      "of them); the others run `chaos-suite load worker "
                                      "--master HOST:PORT LOCUSTFILE` elsewhere")
    master_bind: str | None = Field(default=None, description="the IPv4 address the Locust "
                                    "master listens on (default 127.0.0.1; 0.0.0.0: every "
                                    "interface, for remote workers: any worker that connects "
                                    "is taken)")
    master_port: int | None = Field(default=None, ge=1, le=65535, description="the master's "
                                    "port (default: a free one); needed for remote workers")
    workers_timeout: Duration | None = Field(default=None, description="how long the master "
                                             "waits for every worker to connect (default 30s); "
                                             "a shortfall is exit 2, before any fault")
    min_workers: int | None = Field(default=None, ge=0, description="workers that must stay "
                                    "alive; default: all of them (a lost one aborts the run)")

    @model_validator(mode="after")
    def _distributed(self) -> LoadProfile:
        problem = distributed_problem(self.workers, self.local_workers, self.master_bind,
                                      self.master_port)
        for key in ("workers_timeout", "min_workers"):
            if problem is None and getattr(self, key) is not None and not self.workers:
                problem = (key, "needs workers (the Locust workers expected in all) >= 1")
        if problem is None and self.min_workers is not None and self.min_workers > self.workers:
            problem = ("min_workers", f"must be <= workers ({self.workers})")
        if problem is not None:
            raise ValueError(f"{problem[0]} {problem[1]}")
        return self

    @property
    def remote_workers(self) -> int:
        """The workers that connect from elsewhere (workers - local_workers)."""
        return 0 if self.local_workers is None else self.workers - self.local_workers

    def distributed_config(self) -> dict[str, Any]:
        """The load config's distributed-mode keys beyond ``workers`` (load/config.py): only
        those the plan gives, so the load config's defaults hold for the rest."""
        out: dict[str, Any] = {}
        for key, value in (("local_workers", self.local_workers),
                           ("master_bind", self.master_bind),
                           ("master_port", self.master_port),
                           ("expect_workers_timeout_s", self.workers_timeout)):
            if value is not None:
                out[key] = value
        return out


class AbortRule(StrictModel):
    """Multi-window burn-rate rule (docs/architecture.md §2) plus a cap on the budget one run may consume."""

    burn_rate: float | None = Field(default=None, gt=0)
    long_window: Duration = 30.0
    short_window: Duration | None = None
    max_budget_consumed: Fraction | None = None

    @model_validator(mode="after")
    def _windows(self) -> AbortRule:
        if self.short_window is not None and self.short_window > self.long_window:
            raise ValueError("short_window must not exceed long_window")
        return self

    @property
    def effective_short_window(self) -> float:
        return self.short_window if self.short_window is not None else self.long_window / 12


class Hypothesis(StrictModel):
    """The generated steady-state hypothesis: each SLO's burn rate over `window` (measured
    after the check starts) must not exceed `max_burn_rate` (1.0 = the SLO is being met)."""

    window: Duration = 5.0
    max_burn_rate: float = Field(default=1.0, gt=0)


class AlertExpectation(StrictModel):
    """The alert expected to fire under the fault: Prometheus's ``alertname`` and labels it
    must carry (e.g. ``{sloth_slo: availability, severity: page}``), or the SLO's OpenSLO
    alert ``policy`` by name (the alert ``slo rules`` writes for it; it pages when the policy
    has notification targets)."""

    name: str | None = Field(default=None, min_length=1, description="the alert's alertname")
    policy: str | None = Field(default=None, min_length=1, description=(
        "an OpenSLO AlertPolicy of the SLO, instead of name and labels"))
    labels: dict[str, str] = Field(default_factory=dict, description="labels it must carry")
    within: Duration | None = Field(default=None, description="of fault onset (else: late)")
    page: bool | None = Field(default=None, description=(
        "Alertmanager should notify (page); default: no, or with policy whether it has "
        "notification targets"))

    @model_validator(mode="after")
    def _one_alert(self) -> AlertExpectation:
        if (self.name is None) == (self.policy is None):
            raise ValueError("give exactly one of name (its alertname) or policy (an OpenSLO "
                             "alert policy of the SLO)")
        return self


class Expectation(StrictModel):
    """What the team predicts for one SLO in one scenario."""

    max_budget_consumed: Fraction
    min_budget_consumed: Fraction | None = None
    max_peak_burn_rate: float | None = Field(default=None, gt=0)
    recover_within: Duration | None = None
    alert: AlertExpectation | None = None
    no_alert: bool = Field(default=False, description="no alert should fire (else: noise)")

    @model_validator(mode="after")
    def _range(self) -> Expectation:
        if self.min_budget_consumed is not None and self.min_budget_consumed > self.max_budget_consumed:
            raise ValueError("min_budget_consumed is above max_budget_consumed")
        if self.alert is not None and self.no_alert:
            raise ValueError("alert and no_alert exclude each other")
        return self


class Scenario(StrictModel):
    name: Name
    experiment: str
    description: str = ""
    expect: dict[str, Expectation] = Field(min_length=1)
    abort: AbortRule | None = None
    cooldown: Duration | None = None
    # the scenario in the team's words, carried into the run record and the reports
    hypothesis: str | None = Field(default=None, min_length=1, description=(
        "what the team believes will happen, in words"))
    runbooks: list[HttpUrl] = Field(default_factory=list, description="runbook links")
    acts: str | None = Field(default=None, min_length=1, description=(
        "who acts on the fault: a role of `roles` (or whoever fills one) when roles are given"))


class GamedayModel(StrictModel):
    apiVersion: Literal["chaos-suite/v1"] = "chaos-suite/v1"
    kind: Literal["Gameday"] = "Gameday"
    name: Name
    service: str
    description: str = ""
    environment: str = "local"
    slos: str | list[str] = Field(description="path of the SLO file, or a list of them (an "
                                  "OpenSLO SLO may refer to SLIs in any), relative to the plan")
    # SLOs whose metric source chaos_suite cannot read (not Prometheus) are counted from the
    # load instead, where the plan says so (docs/architecture.md §1)
    count_from_load: list[str] = Field(default_factory=list, description="SLO names to count "
                                       "client-side from the load instead of their metric source")
    roles: Roles = Roles()
    objectives: list[str] = Field(default_factory=list, description="the gameday's objectives, "
                                  "in the team's words")
    load: LoadProfile = LoadProfile()
    baseline: Duration = 15.0
    cooldown: Duration = 10.0
    min_events: int = Field(default=200, ge=1)
    peak_window: Duration = 5.0
    hypothesis: Hypothesis = Hypothesis()
    safeguard_interval: Duration = 1.0
    abort: AbortRule | None = None
    scenarios: list[Scenario] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> GamedayModel:
        names = [s.name for s in self.scenarios]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate scenario name(s): {', '.join(dupes)}")
        # who acts must be someone the plan's roles know, or the report names a stranger
        known = self.roles.names()
        for scenario in self.scenarios:
            if known and scenario.acts is not None and scenario.acts not in known:
                raise ValueError(f"scenario {scenario.name}: acts '{scenario.acts}' is no role "
                                 f"of the plan (roles: {', '.join(dict.fromkeys(known))})")
        return self

    @field_validator("slos")
    @classmethod
    def _some_slo_file(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list) and not value:
            raise ValueError("name at least one SLO file")
        return value

    @property
    def slo_files(self) -> list[str]:
        return [self.slos] if isinstance(self.slos, str) else list(self.slos)


def parse_gameday(data: dict[str, object], file: str | Path) -> GamedayModel:
    try:
        return GamedayModel.model_validate(data)
    except PydanticValidationError as exc:
        raise_for_pydantic(file, exc, data=data)
        raise
