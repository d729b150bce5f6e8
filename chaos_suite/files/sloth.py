"""Sloth SLO specs onto chaos_suite's SLO model (docs/architecture.md §1): `version:
prometheus/v1` files and the `sloth.slok.dev/v1` PrometheusServiceLevel resource.

Sloth states objectives in percent (99.9) and has no window in the spec: its period comes from
`sloth generate --default-slo-period`, 30d unless set; here the resource's annotation
`chaos-suite/slo-period` sets it. The `events` SLI's error and total queries carry the
`{{.window}}` template, which sources/prometheus.py fills with the interval it measures. Alert
windows are Sloth's own (slo/alerting.py), without the alerts the file disables.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from chaos_suite.errors import ValidationError
from chaos_suite.files.common import StrictModel, validate_model
from chaos_suite.files.intake import (
    Intake,
    at,
    check_slo_name,
    percent_objective,
    sli_from_annotations,
)
from chaos_suite.files.slo_file import PrometheusSource, SLOSpec
from chaos_suite.slo.alerting import AlertSource
from chaos_suite.slo.duration import MAX_SLO_WINDOW_SECONDS, parse_duration
from chaos_suite.slo.model import SLO

VERSION = "prometheus/v1"
API_VERSION = "sloth.slok.dev/v1"
KIND = "PrometheusServiceLevel"
DEFAULT_PERIOD = "30d"
PERIOD_ANNOTATION = "chaos-suite/slo-period"


def _either(snake: str, camel: str) -> Any:
    # the file format spells fields in snake_case, the Kubernetes resource in camelCase
    return Field(default=None, validation_alias=AliasChoices(snake, camel))


class Events(StrictModel):
    error_query: str = Field(min_length=1, validation_alias=AliasChoices("error_query", "errorQuery"))
    total_query: str = Field(min_length=1, validation_alias=AliasChoices("total_query", "totalQuery"))


class SLI(StrictModel):
    events: Events | None = None
    raw: dict[str, Any] | None = None
    plugin: dict[str, Any] | None = None


class Alert(StrictModel):
    disable: bool = False
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


class Alerting(StrictModel):
    name: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    page_alert: Alert | None = _either("page_alert", "pageAlert")
    ticket_alert: Alert | None = _either("ticket_alert", "ticketAlert")


class SlothSLO(StrictModel):
    name: str = Field(min_length=1)
    description: str | None = None
    objective: int | float | str
    labels: dict[str, str] | None = None
    sli: SLI
    alerting: Alerting = Alerting()
    plugins: dict[str, Any] | None = None


class Spec(StrictModel):
    version: Literal["prometheus/v1"]
    service: str = Field(min_length=1)
    labels: dict[str, str] | None = None
    slo_plugins: dict[str, Any] | None = None
    slos: list[SlothSLO] = Field(min_length=1)


class ResourceSpec(StrictModel):
    service: str = Field(min_length=1)
    labels: dict[str, str] | None = None
    sloPlugins: dict[str, Any] | None = None
    slos: list[SlothSLO] = Field(min_length=1)


class K8sMeta(BaseModel):
    """Kubernetes object metadata: a resource exported from a cluster carries many more fields
    (uid, resourceVersion, managedFields...), none of which matter here."""

    model_config = ConfigDict(extra="allow", frozen=True)
    name: str = Field(min_length=1)
    namespace: str | None = None
    annotations: dict[str, str] | None = None


class Resource(StrictModel):
    apiVersion: Literal["sloth.slok.dev/v1"]
    kind: Literal["PrometheusServiceLevel"]
    metadata: K8sMeta
    spec: ResourceSpec
    status: dict[str, Any] | None = None


def is_sloth(doc: dict[str, Any]) -> bool:
    return doc.get("version") == VERSION or doc.get("apiVersion") == API_VERSION


def read_sloth(doc: dict[str, Any], file: str, prefix: str, intake: Intake) -> list[SLOSpec]:
    """A Sloth spec or PrometheusServiceLevel resource: one SLOSpec per SLO."""
    if doc.get("apiVersion") == API_VERSION:
        resource: Resource = validate_model(Resource, doc, file, prefix)
        slos, service = resource.spec.slos, resource.spec.service
        annotations = resource.metadata.annotations or {}
        slos_at, origin = at(prefix, "spec.slos"), "Sloth sloth.slok.dev/v1"
        period_text = annotations.get(PERIOD_ANNOTATION, DEFAULT_PERIOD)
        period_at = at(prefix, f"metadata.annotations.{PERIOD_ANNOTATION}")
    else:
        spec: Spec = validate_model(Spec, doc, file, prefix)
        slos, service, annotations = spec.slos, spec.service, {}
        slos_at, origin = at(prefix, "slos"), "Sloth prometheus/v1"
        period_text, period_at = DEFAULT_PERIOD, at(prefix, "version")
    try:
        period = parse_duration(period_text, maximum=MAX_SLO_WINDOW_SECONDS)
    except ValueError as exc:
        raise ValidationError(file, period_at, str(exc)) from None
    sli_kind = sli_from_annotations(annotations, file, at(prefix, "metadata.annotations"))
    specs = []
    for i, slo in enumerate(slos):
        where = f"{slos_at}[{i}]"
        name = check_slo_name(slo.name, file, f"{where}.name")
        objective = percent_objective(slo.objective, file, f"{where}.objective")
        source = _source(slo.sli, file, f"{where}.sli")
        disabled = frozenset(
            severity for severity, alert in (("page", slo.alerting.page_alert),
                                             ("ticket", slo.alerting.ticket_alert))
            if alert is not None and alert.disable)
        try:
            model = SLO(name=name, objective=objective, window_seconds=period,
                        sli=sli_kind, source=source.type, description=slo.description or "")
        except ValueError as exc:
            raise ValidationError(file, where, str(exc)) from None
        specs.append(SLOSpec(slo=model, source=source, service=service, alerting=AlertSource.SLOTH,
                             alerts_disabled=disabled, origin=origin, document=prefix))
    return specs


def _source(sli: SLI, file: str, where: str) -> PrometheusSource:
    if sli.plugin is not None:
        plugin_id = str(sli.plugin.get("id", "?"))[:60]
        raise ValidationError(file, f"{where}.plugin", f"SLI plugins run inside Sloth, so "
                              f"'{plugin_id}' cannot be evaluated here: write its events queries")
    if sli.raw is not None:
        raise ValidationError(file, f"{where}.raw", "a precomputed error ratio has no event counts, "
                              "which the burn figures and their intervals need: write an events "
                              "SLI (error and total queries)")
    if sli.events is None:
        raise ValidationError(file, f"{where}.events", "required: the error and total queries")
    # Sloth's queries are read as written, {{.window}} filled with the measured interval
    return PrometheusSource(total=sli.events.total_query, bad=sli.events.error_query)
