"""The SLO model every SLO format is read onto (SLOSpec, its sources) and chaos_suite's own
concise format (`kind: SLOs`). OpenSLO, Sloth and Pyrra files are read by their own modules
(files/openslo.py, sloth.py, pyrra.py) onto the same SLOSpec (docs/architecture.md §1)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from chaos_suite.errors import ValidationError
from chaos_suite.files.common import (
    Duration,
    Fraction,
    HttpUrl,
    Name,
    SLOWindow,
    StrictModel,
    raise_for_pydantic,
)
from chaos_suite.slo.alerting import AlertPolicy, AlertSource
from chaos_suite.slo.budgeting import Budgeting
from chaos_suite.slo.calendar import Window
from chaos_suite.slo.model import SLI, SLO, SLIKind

# ---------------------------------------------------------------- sources


class LoadSource(StrictModel):
    """Client-side counts from chaos_suite's Locust plugin."""

    type: Literal["load"] = "load"
    match: str | None = Field(default=None, max_length=1000,
                              description="regex on Locust request names")

    @field_validator("match")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        # compiled here so that a typo is refused by validate and --dry-run, not by the load
        # generator once the run (and its fault) has started
        if value is not None:
            try:
                re.compile(value)
            except (re.error, RecursionError, OverflowError) as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return value


class PrometheusSource(StrictModel):
    """Server-side counts from PromQL. Give `total` and either `good` or `bad`. `counter`
    (OpenSLO's meaning): true when the queries are cumulative counters, differenced over the
    measured interval; false when they are gauges or already-computed rates, read as they are
    (sources/prometheus.py)."""

    type: Literal["prometheus"] = "prometheus"
    total: str
    good: str | None = None
    bad: str | None = None
    counter: bool = True

    @model_validator(mode="after")
    def _good_or_bad(self) -> PrometheusSource:
        if (self.good is None) == (self.bad is None):
            raise ValueError("give exactly one of 'good' or 'bad' besides 'total'")
        return self


PROBE_RATE_MIN = 0.2  # requests per second: below this a fault window holds too few probes
PROBE_RATE_MAX = 50.0  # above this the probe is load of its own, and load belongs to Locust
PROBE_TIMEOUT_MIN = 0.1
PROBE_TIMEOUT_MAX = 10.0  # with PROBE_RATE_MAX, bounds the requests in flight to 500 per SLO
StatusClass = Literal["1xx", "2xx", "3xx", "4xx"]  # a 5xx is bad by every SLI (§1): never good


class HttpSource(StrictModel):
    """A synthetic probe (chaos_suite/sources/http.py): `method` on `url`, or on `path` joined to
    the target's URL, `rate` times a second whatever the load does. Counted by the SLI's rule
    (docs/architecture.md §1); an answer outside `good_status` counts like a 5xx."""

    type: Literal["http"] = "http"
    url: HttpUrl | None = None
    path: str | None = Field(default=None, max_length=2000,
                             description="joined to the target's URL, e.g. /checkout")
    rate: float | None = Field(default=None, description="requests per second (0.2-50; default 1)")
    # the older spelling of the same pace, seconds between requests; files that use it stay valid
    interval: Duration | None = None
    timeout: Duration = 2.0
    method: Literal["GET", "HEAD"] = "GET"
    good_status: list[StatusClass] = Field(default=["1xx", "2xx", "3xx", "4xx"], min_length=1)

    @field_validator("path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None and (not value.startswith("/") or not value.isprintable()
                                  or any(ch.isspace() for ch in value)):
            raise ValueError(f"expected a path starting with '/', without spaces; got {value[:80]!r}")
        return value

    @field_validator("rate", mode="before")
    @classmethod
    def _rate_is_number(cls, value: Any) -> Any:
        if isinstance(value, bool):  # YAML's `rate: yes` is no pace
            raise ValueError("expected a number of requests per second")
        return value

    @field_validator("rate")
    @classmethod
    def _rate(cls, value: float | None) -> float | None:
        if value is not None and not PROBE_RATE_MIN <= value <= PROBE_RATE_MAX:
            raise ValueError(f"must be {PROBE_RATE_MIN:g} to {PROBE_RATE_MAX:g} requests per "
                             f"second; got {value:g}")
        return value

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: float | None) -> float | None:
        if value is not None and not 1 / PROBE_RATE_MAX <= value <= 1 / PROBE_RATE_MIN:
            raise ValueError(f"must be {1 / PROBE_RATE_MAX:g}s to {1 / PROBE_RATE_MIN:g}s between "
                             f"requests; got {value:g}s")
        return value

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: float) -> float:
        if not PROBE_TIMEOUT_MIN <= value <= PROBE_TIMEOUT_MAX:
            raise ValueError(f"must be {PROBE_TIMEOUT_MIN:g}s to {PROBE_TIMEOUT_MAX:g}s; "
                             f"got {value:g}s")
        return value

    @model_validator(mode="after")
    def _one_each(self) -> HttpSource:
        if (self.url is None) == (self.path is None):
            raise ValueError("give exactly one of 'url' (absolute) or 'path' (joined to the "
                             "target's URL)")
        if self.rate is not None and self.interval is not None:
            raise ValueError("give 'rate' or 'interval', not both")
        return self

    @property
    def per_second(self) -> float:
        """Requests per second, whichever way the file wrote the pace."""
        if self.rate is not None:
            return self.rate
        return 1.0 / self.interval if self.interval is not None else 1.0


Source = Annotated[LoadSource | PrometheusSource | HttpSource, Field(discriminator="type")]


def _source_shorthand(value: Any) -> Any:
    return {"type": value} if isinstance(value, str) else value


# ---------------------------------------------------------------- own format


class SLIModel(StrictModel):
    kind: SLIKind
    # a threshold above an hour is no latency objective, and a typo (seconds for ms) at that
    threshold_ms: float | None = Field(default=None, gt=0, le=3_600_000)

    @model_validator(mode="after")
    def _threshold(self) -> SLIModel:
        if self.kind is SLIKind.LATENCY and self.threshold_ms is None:
            raise ValueError("a latency SLI needs threshold_ms")
        if self.kind is SLIKind.AVAILABILITY and self.threshold_ms is not None:
            raise ValueError("threshold_ms only applies to latency SLIs")
        return self


class SLOModel(StrictModel):
    name: Name
    description: str = ""
    objective: Fraction
    window: SLOWindow = 30 * 86400.0
    sli: SLIModel = SLIModel(kind=SLIKind.AVAILABILITY)
    source: Source = LoadSource()

    @field_validator("source", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return _source_shorthand(value)

    @field_validator("objective")
    @classmethod
    def _objective(cls, value: float) -> float:
        if value >= 1.0:
            raise ValueError("objective must be below 1.0 (100% leaves no error budget)")
        if value <= 0.0:
            raise ValueError("objective must be above 0")
        return value


class SLOFileModel(StrictModel):
    """`kind: SLOs` — one service, several SLOs."""

    apiVersion: Literal["chaos-suite/v1"] = "chaos-suite/v1"
    kind: Literal["SLOs"] = "SLOs"
    service: str
    slos: list[SLOModel] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> SLOFileModel:
        names = [s.name for s in self.slos]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate SLO name(s): {', '.join(dupes)}")
        return self


# ---------------------------------------------------------------- result


@dataclass(frozen=True)
class SLOSpec:
    """An SLO (pure math model) plus where its counts come from, and what its file said beyond
    the model: the budgeting method, the window as written (calendar-aligned or rolling, when
    not plain seconds), whose alert windows apply (the tool that generates its rules), the
    OpenSLO alert policies, the format and the document it came from."""

    slo: SLO
    source: LoadSource | PrometheusSource | HttpSource
    service: str
    budgeting: Budgeting = field(default_factory=Budgeting)
    window: Window | None = None
    alerting: AlertSource = AlertSource.WORKBOOK
    alerts_disabled: frozenset[str] = frozenset()
    alert_policies: tuple[AlertPolicy, ...] = ()
    origin: str = "chaos-suite/v1"
    document: str = ""

    @property
    def name(self) -> str:
        return self.slo.name


def _slo_from_model(model: SLOModel, service: str, file: str, at: str) -> SLOSpec:
    try:
        sli = SLI(kind=model.sli.kind, threshold_ms=model.sli.threshold_ms)
        slo = SLO(
            name=model.name,
            objective=model.objective,
            window_seconds=model.window,
            sli=sli,
            source=model.source.type,
            description=model.description,
        )
    except ValueError as exc:  # the math model's own checks, should the file model miss one
        raise ValidationError(file, at, str(exc)) from None
    return SLOSpec(slo=slo, source=model.source, service=service)


def read_own_format(doc: dict[str, Any], file: str, prefix: str) -> list[SLOSpec]:
    """A `kind: SLOs` document: one service, several SLOs."""
    try:
        own = SLOFileModel.model_validate(doc)
    except PydanticValidationError as exc:
        raise_for_pydantic(file, exc, prefix, doc)
        raise  # unreachable; keeps mypy honest
    slos_at = f"{prefix}.slos" if prefix else "slos"
    return [_slo_from_model(m, own.service, file, f"{slos_at}[{i}]")
            for i, m in enumerate(own.slos)]
