"""The environment file: where a run points (target), where server-side counts come from
(sources), and which safety policy applies. `local` is built in so a fresh machine needs no file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from chaos_suite.files.common import (
    Duration,
    Fraction,
    HttpUrl,
    StrictModel,
    load_single_mapping,
    raise_for_pydantic,
)


class LocalTarget(StrictModel):
    """The embedded demo service. `managed`: the run starts and stops it; otherwise a standing
    target (`chaos-suite target up`) is used and left running."""

    type: Literal["local"] = "local"
    replicas: int = Field(default=2, ge=1, le=16)
    restart_delay: Duration = 2.0
    managed: bool = True
    port: int = Field(default=0, ge=0, le=65535)
    admin_port: int = Field(default=0, ge=0, le=65535)


class KubernetesTarget(StrictModel):
    type: Literal["kubernetes"] = "kubernetes"
    namespace: str
    context: str | None = None
    url: HttpUrl | None = Field(default=None, description="the service URL the load is sent to")


class HttpTarget(StrictModel):
    type: Literal["http"] = "http"
    url: HttpUrl
    admin_url: HttpUrl | None = None


Target = Annotated[LocalTarget | KubernetesTarget | HttpTarget, Field(discriminator="type")]


class PrometheusConfig(StrictModel):
    url: HttpUrl
    timeout: Duration = 5.0


class AlertmanagerConfig(StrictModel):
    url: HttpUrl
    timeout: Duration = 5.0


class Sources(StrictModel):
    prometheus: PrometheusConfig | None = None
    alertmanager: AlertmanagerConfig | None = None


Interval = Annotated[Duration, Field(gt=0)]


class Detection(StrictModel):
    """Measured detection (detection/watch.py): the run polls Prometheus's alerts (and
    Alertmanager's) every second and, with ``webhook_port``, receives Alertmanager's webhook
    on 127.0.0.1 for the page time. ``silence``: a quiet gameday, the gameday's alerts
    silenced in Alertmanager from before the first fault to the end."""

    webhook_port: int | None = Field(default=None, ge=1, le=65535)
    webhook_host: str = "127.0.0.1"
    silence: dict[str, str] | None = Field(default=None, description=(
        "label matchers (equality) of the alerts to silence during the run"))
    embedded: bool = Field(default=False, description=(
        "the run starts its own Prometheus (1 s scrape of the managed local target, rules "
        "from the plan's SLOs) and Alertmanager on 127.0.0.1 (detection/embedded.py)"))
    windows: str | None = Field(default=None, description=(
        "the burn-rate alerts of the SLOs: google, sloth, pyrra or a window file (relative to "
        "the environment file); the embedded stack writes its rules with them and the report "
        "predicts coverage from them. Default: embedded, one page row over 30s/5s at 14.4; "
        "otherwise the set of the tool that owns each SLO file"))
    evaluation_interval: Interval | None = Field(default=None, description=(
        "your Prometheus's rule evaluation interval (default: 1s embedded, else Prometheus's "
        "default 1m)"))
    scrape_interval: Interval | None = Field(default=None, description=(
        "the scrape interval of the SLI's metrics (default: 1s embedded, else 1m)"))


class BudgetPolicy(StrictModel):
    """Refuse to inject when the remaining budget of a gated SLO is below `min_remaining`."""

    min_remaining: Fraction = 0.25
    slos: list[str] | None = Field(default=None, description="gated SLOs (default: all)")
    slo_file: str | None = Field(
        default=None, description="SLO file of the gated SLOs, relative to the environment "
        "file (default: the plan's); their source must keep history (prometheus)")


class TimeWindow(StrictModel):
    """Hours in which runs may start, in `timezone`. A start after the end crosses midnight:
    `days: [fri], start: "23:00", end: "05:00"` is Friday 23:00 to Saturday 05:00 (the days
    listed are the days a window starts on). A start equal to the end is refused as ambiguous
    (empty or all day?); a whole day is `00:00` to `24:00`, the default."""

    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(
        min_length=1, description="the days the window starts on")
    start: str = Field(default="00:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(default="24:00", pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$",
                     description="before start: the window ends on the next day")
    timezone: str = "UTC"

    @field_validator("end")
    @classmethod
    def _not_empty(cls, value: str, info: ValidationInfo) -> str:
        if value == info.data.get("start"):
            raise ValueError(f"end equals start ({value}): an empty window; a whole day is "
                             "start 00:00, end 24:00")
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        # OSError: a folder of the tz database ('America') or a name too long for a file
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"unknown time zone '{value}'") from None
        return value


class BlastRadius(StrictModel):
    max_replicas: int | None = Field(default=None, ge=1)
    max_fraction: Fraction | None = Field(default=None, description=(
        "local: of the target's replicas; kubernetes: of the pods each step aims at (a pod "
        "action's selector in its namespace, a workload's pods, a Chaos Mesh selector's "
        "candidates; counted through the API), and of the cluster's nodes for node actions"))
    max_pods: int | None = Field(default=None, ge=1, description=(
        "pods a scenario's Kubernetes steps may hit (pod, workload and Chaos Mesh steps), "
        "counted through the API"))


class SafetyPolicy(StrictModel):
    require_confirmation: bool = False
    budget_policy: BudgetPolicy | None = None
    allowed_windows: list[TimeWindow] | None = None
    blast_radius: BlastRadius | None = None
    protected_namespaces: list[str] = Field(default_factory=lambda: ["kube-system"], description=(
        "namespaces no Kubernetes step may act in; kube-system is always protected"))
    allow_steps: list[str] = Field(default_factory=list, description=(
        "steps whose effect chaos_suite cannot know (a `process` or `http` provider, a python "
        "function that is neither one of its faults nor a probe or revert it knows, a control) "
        "that may run on a staging or production tier; others are refused. An entry is a step "
        "name as the experiment writes it (any scenario), or `process:<executable>` for every "
        "process step whose `path` is exactly <executable>, whatever its arguments. The local "
        "tier runs such steps without an entry (the dry run marks them)."))

    @field_validator("allow_steps")
    @classmethod
    def _entries(cls, value: list[str]) -> list[str]:
        for entry in value:
            if entry.strip() in ("", "process:"):
                raise ValueError(f"empty entry {entry!r}: give a step name or "
                                 "process:<executable>")
        return value


class Notify(StrictModel):
    """Where a run says what it is doing: a webhook POSTed Slack-compatible JSON at start, after
    each scenario, on abort and at the end (gameday/notify.py)."""

    webhook: HttpUrl = Field(description="URL POSTed {\"text\": ...} plus structured fields")
    timeout: Duration = Field(default=2.0, description="per POST; a failure never stops a run")


class EnvironmentModel(StrictModel):
    apiVersion: Literal["chaos-suite/v1"] = "chaos-suite/v1"
    kind: Literal["Environment"] = "Environment"
    name: str
    tier: Literal["local", "staging", "production"] = "local"
    target: Target = LocalTarget()
    sources: Sources = Sources()
    safety: SafetyPolicy = SafetyPolicy()
    notify: Notify | None = None
    detection: Detection | None = None

    @model_validator(mode="after")
    def _embedded(self) -> EnvironmentModel:
        if self.detection is not None and self.detection.embedded:
            if not isinstance(self.target, LocalTarget) or not self.target.managed:
                raise ValueError("detection.embedded scrapes a managed local target: "
                                 "target.type local, managed true")
            if self.sources.prometheus is not None or self.sources.alertmanager is not None:
                raise ValueError("detection.embedded starts its own Prometheus and "
                                 "Alertmanager: remove sources.prometheus/alertmanager")
        return self

    @property
    def is_production(self) -> bool:
        return self.tier == "production"


BUILTIN_LOCAL = EnvironmentModel(name="local", tier="local", target=LocalTarget())


def parse_environment(data: dict[str, object], file: str) -> EnvironmentModel:
    try:
        env = EnvironmentModel.model_validate(data)
    except PydanticValidationError as exc:
        raise_for_pydantic(file, exc)
        raise
    if env.tier == "production":
        # production always demands explicit confirmation, whatever the file says
        env = env.model_copy(
            update={"safety": env.safety.model_copy(update={"require_confirmation": True})}
        )
    return env


def load_environment_file(path: Path) -> EnvironmentModel:
    return parse_environment(load_single_mapping(path), str(path))
