"""The SLO file: chaos_suite's own concise format, and OpenSLO v1 `kind: SLO` documents mapped
onto the same model (so teams that already keep OpenSLO files need not rewrite them)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from chaos_suite.errors import ValidationError
from chaos_suite.files.common import (
    MAX_NAME_LENGTH,
    NAME_PATTERN,
    Duration,
    Fraction,
    HttpUrl,
    Name,
    SLOWindow,
    StrictModel,
    load_yaml_documents,
    raise_for_pydantic,
)
from chaos_suite.slo.duration import MAX_SLO_WINDOW_SECONDS
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
    """Server-side counts from PromQL. Give `total` and either `good` or `bad` (counters)."""

    type: Literal["prometheus"] = "prometheus"
    total: str
    good: str | None = None
    bad: str | None = None

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


# ---------------------------------------------------------------- OpenSLO v1


class _OSMeta(StrictModel):
    name: str
    displayName: str | None = None
    labels: dict[str, Any] | None = None
    annotations: dict[str, str] | None = None


class _OSMetricSourceSpec(StrictModel):
    type: str
    spec: dict[str, Any]
    metricSourceRef: str | None = None


class _OSMetric(StrictModel):
    metricSource: _OSMetricSourceSpec


class _OSRatio(StrictModel):
    counter: bool = True
    good: _OSMetric | None = None
    bad: _OSMetric | None = None
    total: _OSMetric


class _OSIndicatorSpec(StrictModel):
    ratioMetric: _OSRatio
    description: str | None = None


class _OSIndicator(StrictModel):
    metadata: _OSMeta
    spec: _OSIndicatorSpec


class _OSTimeWindow(StrictModel):
    duration: str
    isRolling: bool = True
    calendar: dict[str, Any] | None = None


class _OSObjective(StrictModel):
    displayName: str | None = None
    target: float | None = None
    targetPercent: float | None = None
    op: str | None = None
    value: float | None = None
    timeSliceTarget: float | None = None
    timeSliceWindow: str | None = None


class _OSSLOSpec(StrictModel):
    description: str | None = None
    service: str
    indicator: _OSIndicator | None = None
    indicatorRef: str | None = None
    timeWindow: list[_OSTimeWindow] = Field(min_length=1, max_length=1)
    budgetingMethod: Literal["Occurrences"]
    objectives: list[_OSObjective] = Field(min_length=1, max_length=1)
    alertPolicies: list[Any] | None = None


class OpenSLODoc(StrictModel):
    apiVersion: Literal["openslo/v1"]
    kind: Literal["SLO"]
    metadata: _OSMeta
    spec: _OSSLOSpec


# ---------------------------------------------------------------- result


@dataclass(frozen=True)
class SLOSpec:
    """An SLO (pure math model) plus where its counts come from."""

    slo: SLO
    source: LoadSource | PrometheusSource | HttpSource
    service: str

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


def _query(metric: _OSMetric | None) -> str | None:
    if metric is None:
        return None
    spec = metric.metricSource.spec
    query = spec.get("query") or spec.get("promql")
    # a PromQL query is text; a number or a list here is a mistake, not a query
    return query if isinstance(query, str) and query.strip() else None


def _slo_from_openslo(doc: OpenSLODoc, file: str, prefix: str) -> SLOSpec:
    at = f"{prefix}.spec" if prefix else "spec"
    _check_openslo_name(doc.metadata.name, file, prefix)
    spec = doc.spec
    if spec.indicator is None:
        raise ValidationError(file, f"{at}.indicator", "only inline indicators are supported "
                              "(indicatorRef needs the SLI document; inline it)")
    ratio = spec.indicator.spec.ratioMetric
    if (ratio.good is None) == (ratio.bad is None):
        raise ValidationError(file, f"{at}.indicator.spec.ratioMetric",
                              "give exactly one of 'good' or 'bad' besides 'total'")
    objective = spec.objectives[0]
    if objective.target is not None:
        target = objective.target
    elif objective.targetPercent is not None:
        target = float(Decimal(str(objective.targetPercent)) / 100)
    else:
        raise ValidationError(file, f"{at}.objectives[0]", "needs 'target' or 'targetPercent'")
    if not 0 < target < 1:
        raise ValidationError(file, f"{at}.objectives[0].target",
                              "objective must be below 1.0 (100% leaves no error budget)")
    window = spec.timeWindow[0]
    if not window.isRolling:
        raise ValidationError(file, f"{at}.timeWindow[0].isRolling",
                              "only rolling windows are supported")
    try:
        window_s = _duration_or_raise(window.duration)
    except ValueError as exc:
        raise ValidationError(file, f"{at}.timeWindow[0].duration", str(exc)) from None
    source_type = ratio.total.metricSource.type.lower()
    sli = _openslo_sli(doc, file, prefix)
    source: LoadSource | PrometheusSource | HttpSource
    if source_type == "prometheus":
        queries: dict[str, str | None] = {}
        for name, metric in (("total", ratio.total), ("good", ratio.good), ("bad", ratio.bad)):
            queries[name] = _query(metric)
            if metric is not None and queries[name] is None:
                raise ValidationError(
                    file, f"{at}.indicator.spec.ratioMetric.{name}.metricSource.spec",
                    "needs 'query'")
        source = PrometheusSource(total=str(queries["total"]), good=queries["good"],
                                  bad=queries["bad"])
    else:
        raise ValidationError(file, f"{at}.indicator.spec.ratioMetric.total.metricSource.type",
                              f"unsupported metric source '{source_type}' (supported: Prometheus)")
    try:
        slo = SLO(
            name=doc.metadata.name,
            objective=target,
            window_seconds=window_s,
            sli=sli,
            source=source.type,
            description=spec.description or doc.metadata.displayName or "",
        )
    except ValueError as exc:  # e.g. a blank metadata.name
        raise ValidationError(file, f"{prefix}.metadata" if prefix else "metadata", str(exc)) from None
    return SLOSpec(slo=slo, source=source, service=spec.service)


def _openslo_sli(doc: OpenSLODoc, file: str, prefix: str) -> SLI:
    """The SLI kind and latency threshold, read from chaos_suite's annotations."""
    at = f"{prefix}.metadata.annotations" if prefix else "metadata.annotations"
    annotations = doc.metadata.annotations or {}
    try:
        kind = SLIKind(annotations.get("chaos-suite/sli-kind", "availability"))
        threshold = annotations.get("chaos-suite/threshold-ms")
        threshold_ms = float(threshold) if threshold else None
        if threshold_ms is not None and not (math.isfinite(threshold_ms)
                                             and 0 < threshold_ms <= 3_600_000):
            raise ValueError("threshold-ms must be a positive number of milliseconds, at most "
                             f"3600000 (1 h); got {threshold!r}")
        return SLI(kind=kind, threshold_ms=threshold_ms)
    except ValueError as exc:
        raise ValidationError(file, at, str(exc)) from None


def _duration_or_raise(text: str) -> float:
    from chaos_suite.slo.duration import parse_duration

    return parse_duration(text, maximum=MAX_SLO_WINDOW_SECONDS)


def _check_openslo_name(name: str, file: str, prefix: str) -> None:
    """The SLO's name obeys the same rule as in the own format (it names the SLO everywhere)."""
    if len(name) > MAX_NAME_LENGTH or not re.fullmatch(NAME_PATTERN, name):
        shown = name if len(name) <= 40 else name[:40] + "..."
        raise ValidationError(file, f"{prefix}.metadata.name" if prefix else "metadata.name",
                              f"must be 1-{MAX_NAME_LENGTH} characters of A-Z a-z 0-9 . _ - "
                              f"starting with a letter or digit; got {shown!r}")


def is_slo_document(doc: Any) -> bool:
    if not isinstance(doc, dict):
        return False
    return doc.get("kind") == "SLOs" or (
        str(doc.get("apiVersion", "")).startswith("openslo/") and doc.get("kind") == "SLO"
    )


def parse_slo_documents(docs: list[Any], file: str) -> list[SLOSpec]:
    """All SLOs of a file's documents (own format and OpenSLO v1 may be mixed)."""
    specs: list[SLOSpec] = []
    multi = len(docs) > 1
    for index, doc in enumerate(docs):
        prefix = f"documents[{index}]" if multi else ""
        if not isinstance(doc, dict):
            raise ValidationError(file, prefix, "expected a YAML mapping")
        if str(doc.get("apiVersion", "")).startswith("openslo/"):
            try:
                model = OpenSLODoc.model_validate(doc)
            except PydanticValidationError as exc:
                raise_for_pydantic(file, exc, prefix, doc)
                raise  # unreachable; keeps mypy honest
            specs.append(_slo_from_openslo(model, file, prefix))
        else:
            try:
                own = SLOFileModel.model_validate(doc)
            except PydanticValidationError as exc:
                raise_for_pydantic(file, exc, prefix, doc)
                raise
            slos_at = f"{prefix}.slos" if prefix else "slos"
            specs.extend(_slo_from_model(m, own.service, file, f"{slos_at}[{i}]")
                         for i, m in enumerate(own.slos))
    names = [s.name for s in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValidationError(file, "slos", f"duplicate SLO name(s): {', '.join(dupes)}")
    return specs


def load_slo_file(path: Path) -> list[SLOSpec]:
    return parse_slo_documents(load_yaml_documents(path), str(path))
