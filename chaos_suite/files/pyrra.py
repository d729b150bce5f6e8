"""Pyrra's `pyrra.dev/v1alpha1` ServiceLevelObjective onto chaos_suite's SLO model
(docs/architecture.md §1).

`target` is a percent string ('99.9'), `window` a Prometheus duration (4w, 2w, 28d). The
indicators name metric selectors, and Pyrra builds every query from them:

- `ratio`: errors and total are counters, counted as their increase over the measured interval
  (`sum(<selector>)`, differenced between the interval's ends);
- `latency`: success is a histogram bucket (its `le` is the latency threshold) and total the
  histogram's count, both counters likewise;
- `bool_gauge`: a 0/1 gauge; each sample is an event and good when 1 (`sum` over `count`, read
  as gauges, not differenced).

Grouped SLOs (`grouping`) are measured as one, over every group. Alert windows are Pyrra's own
(slo/alerting.py): none when the resource turns burn-rate alerts off.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from chaos_suite.errors import ValidationError
from chaos_suite.files.common import StrictModel, raise_for_pydantic
from chaos_suite.files.intake import (
    Intake,
    at,
    check_slo_name,
    percent_objective,
    sli_from_annotations,
)
from chaos_suite.files.slo_file import PrometheusSource, SLOSpec
from chaos_suite.slo.alerting import AlertSource
from chaos_suite.slo.duration import MAX_SLO_WINDOW_SECONDS, format_duration
from chaos_suite.slo.model import SLI, SLO, SLIKind

API_VERSION = "pyrra.dev/v1alpha1"
KIND = "ServiceLevelObjective"
SEVERITIES = frozenset({"critical", "warning"})


class Query(StrictModel):
    metric: str = Field(min_length=1)


class Ratio(StrictModel):
    errors: Query
    total: Query
    grouping: list[str] | None = None


class Latency(StrictModel):
    success: Query
    total: Query
    grouping: list[str] | None = None


class LatencyNative(StrictModel):
    total: Query
    latency: str
    grouping: list[str] | None = None


class BoolGauge(StrictModel):
    metric: str = Field(min_length=1)
    grouping: list[str] | None = None


class Indicator(StrictModel):
    ratio: Ratio | None = None
    latency: Latency | None = None
    latencyNative: LatencyNative | None = None
    bool_gauge: BoolGauge | None = None


class Alerting(StrictModel):
    disabled: bool | None = None
    burnrates: bool | None = None
    absent: bool | None = None
    name: str | None = None
    absentName: str | None = None


class Spec(StrictModel):
    description: str = ""
    target: str | float
    window: str
    indicator: Indicator
    alerting: Alerting = Alerting()
    partial_response_strategy: Literal["abort", "warn", ""] | None = None


class K8sMeta(BaseModel):
    """Kubernetes object metadata; fields a cluster adds (uid, resourceVersion...) are ignored."""

    model_config = ConfigDict(extra="allow", frozen=True)
    name: str = Field(min_length=1)
    namespace: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


class Resource(StrictModel):
    apiVersion: Literal["pyrra.dev/v1alpha1"]
    kind: Literal["ServiceLevelObjective"]
    metadata: K8sMeta
    spec: Spec
    status: dict[str, Any] | None = None


def is_pyrra(doc: dict[str, Any]) -> bool:
    return doc.get("apiVersion") == API_VERSION


def read_pyrra(doc: dict[str, Any], file: str, prefix: str, intake: Intake) -> list[SLOSpec]:
    try:
        resource = Resource.model_validate(doc)
    except PydanticValidationError as exc:
        raise_for_pydantic(file, exc, prefix, doc)
        raise  # unreachable; keeps mypy honest
    spec = resource.spec
    where = at(prefix, "spec")
    name = check_slo_name(resource.metadata.name, file, at(prefix, "metadata.name"))
    objective = percent_objective(spec.target, file, f"{where}.target")
    window = prometheus_duration(spec.window, file, f"{where}.window")
    default_sli = sli_from_annotations(resource.metadata.annotations, file,
                                       at(prefix, "metadata.annotations"))
    source, sli = _indicator(spec.indicator, default_sli, file, f"{where}.indicator")
    disabled: frozenset[str] = frozenset()
    if spec.alerting.disabled is True or spec.alerting.burnrates is False:
        disabled = SEVERITIES  # Pyrra then writes recording rules only
    try:
        slo = SLO(name=name, objective=objective, window_seconds=window, sli=sli,
                  source=source.type, description=spec.description)
    except ValueError as exc:
        raise ValidationError(file, where, str(exc)) from None
    # Pyrra has no service field; the namespace is what groups a team's objectives
    service = resource.metadata.namespace or name
    return [SLOSpec(slo=slo, source=source, service=service, alerting=AlertSource.PYRRA,
                    alerts_disabled=disabled, origin="Pyrra pyrra.dev/v1alpha1", document=prefix)]


def _indicator(indicator: Indicator, default_sli: SLI, file: str, where: str
               ) -> tuple[PrometheusSource, SLI]:
    given = [key for key in ("ratio", "latency", "latencyNative", "bool_gauge")
             if getattr(indicator, key) is not None]
    if len(given) != 1:
        raise ValidationError(file, where, "give exactly one of ratio, latency, latencyNative or "
                              f"bool_gauge{'; got ' + ', '.join(given) if given else ''}")
    if indicator.ratio is not None:
        ratio = indicator.ratio
        return PrometheusSource(total=f"sum({ratio.total.metric})",
                                bad=f"sum({ratio.errors.metric})"), default_sli
    if indicator.latency is not None:
        latency = indicator.latency
        threshold_ms = _bucket_threshold_ms(latency.success.metric, file,
                                            f"{where}.latency.success.metric")
        return (PrometheusSource(total=f"sum({latency.total.metric})",
                                 good=f"sum({latency.success.metric})"),
                SLI(kind=SLIKind.LATENCY, threshold_ms=threshold_ms))
    if indicator.bool_gauge is not None:
        metric = indicator.bool_gauge.metric
        # a gauge: each scraped sample is one event, good when 1; read as is, never differenced
        return PrometheusSource(total=f"count({metric})", good=f"sum({metric})",
                                counter=False), default_sli
    raise ValidationError(file, f"{where}.latencyNative", "native-histogram latency is not "
                          "supported here: use a latency indicator on classic histogram buckets")


_LE = re.compile(r"""\ble\s*=\s*"([^"]*)\"""")


def _bucket_threshold_ms(selector: str, file: str, where: str) -> float:
    """The latency threshold a histogram bucket selector states in its `le` (seconds)."""
    match = _LE.search(selector)
    if match is None:
        raise ValidationError(file, where, "a latency success metric is a histogram bucket with an "
                              "le label matcher, e.g. http_request_duration_seconds_bucket{le=\"0.5\"}")
    try:
        seconds = float(match.group(1))
    except ValueError:
        raise ValidationError(file, where, f"le must be a number of seconds; got "
                              f"{match.group(1)[:20]!r}") from None
    if not 0 < seconds <= 3_600:
        raise ValidationError(file, where, f"le must be a positive number of seconds, at most "
                              f"3600 (1 h); got {match.group(1)[:20]!r}")
    return seconds * 1000


_PROM_DURATION = re.compile(r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?"
                            r"(?:(\d+)s)?(?:(\d+)ms)?")
_PROM_UNITS = (365 * 86_400, 7 * 86_400, 86_400, 3_600, 60, 1, 0.001)


def prometheus_duration(text: str, file: str, where: str) -> float:
    """A Prometheus duration ('4w', '28d', '1w2d'; y is 365 days), as Pyrra parses `window`."""
    match = _PROM_DURATION.fullmatch(text.strip()) if text.strip() else None
    if match is None or not any(match.groups()):
        raise ValidationError(file, where, "expected a Prometheus duration like '28d', '4w', "
                              f"'2w'; got {text[:40]!r}")
    seconds = sum(int(part) * unit for part, unit in zip(match.groups(), _PROM_UNITS, strict=True)
                  if part)
    if seconds <= 0:
        raise ValidationError(file, where, f"must be positive; got {text[:40]!r}")
    if seconds > MAX_SLO_WINDOW_SECONDS:
        raise ValidationError(file, where, f"duration {text[:40]!r} is too long: at most "
                              f"{format_duration(MAX_SLO_WINDOW_SECONDS)} (5 years)")
    return float(seconds)
