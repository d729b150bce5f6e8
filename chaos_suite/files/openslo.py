"""OpenSLO onto chaos_suite's SLO model (docs/architecture.md §1).

- ``openslo/v1`` as its specification defines it: SLO, SLI, DataSource, Service, AlertPolicy,
  AlertCondition and AlertNotificationTarget documents; an SLO's indicator inline or an
  ``indicatorRef`` to an SLI of this file or of the other files given; ``metricSourceRef`` to a
  DataSource; rolling and calendar-aligned windows in every unit (s m h d w M Q Y);
  Occurrences, Timeslices and RatioTimeslices budgeting; ``ratioMetric`` (good or bad, and
  total; ``counter``) and ``thresholdMetric``; one SLO per objective.
- ``openslo/v1alpha`` as Sloth documents it: ``objectives[].ratioMetrics``, ``timeWindows:
  [{count, unit}]``.

Only Prometheus metric sources can be measured here; any other source is refused, naming the
document and field, unless the plan counts that SLO from the load. Composite SLOs (objectives
with their own indicator) and precomputed ratios (``raw``: no event counts) are refused.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field

from chaos_suite.errors import ValidationError
from chaos_suite.files.common import StrictModel, validate_model
from chaos_suite.files.intake import (
    Intake,
    OpenSLOObject,
    at,
    check_slo_name,
    fraction_objective,
    not_measurable,
    sli_from_annotations,
    slug,
)
from chaos_suite.files.slo_file import LoadSource, PrometheusSource, SLOSpec
from chaos_suite.slo.alerting import AlertPolicy, AlertSource, BurnRateCondition
from chaos_suite.slo.budgeting import Budgeting, BudgetingMethod
from chaos_suite.slo.calendar import (
    FIXED_UNITS,
    Window,
    calendar_aligned,
    parse_shorthand,
    rolling,
)
from chaos_suite.slo.duration import MAX_SLO_WINDOW_SECONDS, format_duration
from chaos_suite.slo.model import SLI, SLO

V1 = "openslo/v1"
V1ALPHA = "openslo/v1alpha"
OBJECT_KINDS = ("SLI", "DataSource", "Service", "AlertPolicy", "AlertCondition",
                "AlertNotificationTarget")
KINDS = ("SLO", *OBJECT_KINDS)
Op = Literal["lte", "gte", "lt", "gt"]
PROMQL_OPS = {"lte": "<=", "gte": ">=", "lt": "<", "gt": ">"}
Description = Field(default=None, max_length=1050)


# ---------------------------------------------------------------- openslo/v1 documents


class Meta(StrictModel):
    name: str = Field(min_length=1, max_length=255)
    displayName: str | None = None
    labels: dict[str, Any] | None = None
    annotations: dict[str, str] | None = None


class MetricSource(StrictModel):
    metricSourceRef: str | None = None
    type: str | None = None
    spec: dict[str, Any] = Field(default_factory=dict)


class Metric(StrictModel):
    metricSource: MetricSource


class RatioMetric(StrictModel):
    counter: bool = True
    good: Metric | None = None
    bad: Metric | None = None
    total: Metric | None = None
    rawType: Literal["success", "failure"] | None = None
    raw: Metric | None = None


class SLISpec(StrictModel):
    description: str | None = Description
    thresholdMetric: Metric | None = None
    ratioMetric: RatioMetric | None = None


class InlineSLI(StrictModel):
    apiVersion: Literal["openslo/v1"] | None = None
    kind: Literal["SLI"] | None = None
    metadata: Meta
    spec: SLISpec


class Calendar(StrictModel):
    # YAML reads '2020-01-21 12:30:00' as a datetime, JSON keeps it a string
    startTime: datetime | date | str
    timeZone: str


class TimeWindow(StrictModel):
    duration: str
    isRolling: bool | None = None
    calendar: Calendar | None = None


class Objective(StrictModel):
    displayName: str | None = None
    op: Op | None = None
    value: float | None = None
    target: float | None = None
    targetPercent: float | None = None
    timeSliceTarget: float | None = None
    timeSliceWindow: float | str | None = None


class SLOSpecModel(StrictModel):
    description: str | None = Description
    service: str = Field(min_length=1)
    indicator: InlineSLI | None = None
    indicatorRef: str | None = None
    timeWindow: list[TimeWindow] | None = Field(default=None, min_length=1, max_length=1)
    budgetingMethod: BudgetingMethod
    objectives: list[Objective] = Field(min_length=1)
    alertPolicies: list[dict[str, Any]] | None = None


class SLODoc(StrictModel):
    apiVersion: Literal["openslo/v1"]
    kind: Literal["SLO"]
    metadata: Meta
    spec: SLOSpecModel


class SLIDoc(StrictModel):
    apiVersion: Literal["openslo/v1"]
    kind: Literal["SLI"]
    metadata: Meta
    spec: SLISpec


class DataSourceSpec(StrictModel):
    description: str | None = Description
    type: str = Field(min_length=1)
    connectionDetails: Any = None


class DataSourceDoc(StrictModel):
    apiVersion: Literal["openslo/v1"]
    kind: Literal["DataSource"]
    metadata: Meta
    spec: DataSourceSpec


class ServiceSpec(StrictModel):
    description: str | None = Description


class ServiceDoc(StrictModel):
    apiVersion: Literal["openslo/v1"]
    kind: Literal["Service"]
    metadata: Meta
    spec: ServiceSpec = ServiceSpec()


class Condition(StrictModel):
    kind: Literal["burnrate"] = "burnrate"
    op: Op | None = None
    threshold: float = Field(gt=0)
    lookbackWindow: str
    alertAfter: str | None = None


class AlertConditionSpec(StrictModel):
    description: str | None = Description
    severity: str = Field(min_length=1)
    condition: Condition


class AlertConditionDoc(StrictModel):
    apiVersion: Literal["openslo/v1"] | None = None
    kind: Literal["AlertCondition"]
    metadata: Meta
    spec: AlertConditionSpec


class AlertPolicySpec(StrictModel):
    description: str | None = Description
    alertWhenNoData: bool = False
    alertWhenResolved: bool = False
    alertWhenBreaching: bool = True
    # each a reference ({conditionRef} / {targetRef}) or the object inline
    conditions: list[dict[str, Any]] = Field(min_length=1, max_length=1)
    notificationTargets: list[dict[str, Any]] = Field(default_factory=list)


class AlertPolicyDoc(StrictModel):
    apiVersion: Literal["openslo/v1"] | None = None
    kind: Literal["AlertPolicy"]
    metadata: Meta
    spec: AlertPolicySpec


class TargetSpec(StrictModel):
    description: str | None = Description
    target: str = Field(min_length=1)


class AlertNotificationTargetDoc(StrictModel):
    apiVersion: Literal["openslo/v1"] | None = None
    kind: Literal["AlertNotificationTarget"]
    metadata: Meta
    spec: TargetSpec


OBJECT_MODELS: dict[str, type[StrictModel]] = {
    "SLI": SLIDoc, "DataSource": DataSourceDoc, "Service": ServiceDoc,
    "AlertPolicy": AlertPolicyDoc, "AlertCondition": AlertConditionDoc,
    "AlertNotificationTarget": AlertNotificationTargetDoc,
}


def read_object(doc: dict[str, Any], file: str, prefix: str) -> OpenSLOObject:
    """A v1 document other than an SLO, validated (it is kept: SLOs refer to SLIs and
    DataSources, and detection will read the alert policies)."""
    kind = str(doc.get("kind"))
    model = validate_model(OBJECT_MODELS[kind], doc, file, prefix)
    return OpenSLOObject(kind, model.metadata.name, model, file, prefix)


# ---------------------------------------------------------------- openslo/v1 SLO


def read_slo(doc: dict[str, Any], file: str, prefix: str, intake: Intake) -> list[SLOSpec]:
    """One v1 SLO document as one SLOSpec per objective."""
    _refuse_composite(doc, file, prefix)
    model: SLODoc = validate_model(SLODoc, doc, file, prefix)
    spec = model.spec
    where = at(prefix, "spec")
    sli_doc, sli_file, sli_at = _indicator(spec, file, where, intake)
    names = _objective_names(model.metadata.name, spec.objectives, file, prefix)
    window = _window(spec.timeWindow, file, where, intake)
    sli = sli_from_annotations(model.metadata.annotations, file,
                               at(prefix, "metadata.annotations"))
    policies = tuple(_alert_policy(entry, file, f"{where}.alertPolicies[{i}]", intake)
                     for i, entry in enumerate(spec.alertPolicies or []))
    threshold = sli_doc.spec.thresholdMetric is not None
    if threshold and len(spec.objectives) > 1:
        raise ValidationError(file, f"{where}.objectives", "an SLI with a thresholdMetric takes "
                              "exactly one objective (OpenSLO v1)")
    specs: list[SLOSpec] = []
    for i, (name, objective) in enumerate(zip(names, spec.objectives, strict=True)):
        obj_at = f"{where}.objectives[{i}]"
        target = fraction_objective(objective.target, objective.targetPercent, file, obj_at)
        budgeting = _budgeting(spec.budgetingMethod, objective.timeSliceTarget,
                               objective.timeSliceWindow, window.seconds, file, obj_at)
        source = _source(sli_doc, objective, name, names, sli_file, sli_at, file, obj_at, intake)
        specs.append(_spec(name, target, window, sli, source, spec.service,
                           spec.description or model.metadata.displayName or "", budgeting,
                           policies, "OpenSLO v1", file, prefix))
    return specs


def _refuse_composite(doc: dict[str, Any], file: str, prefix: str) -> None:
    """Composite SLOs (OpenSLO's objectives with an indicator each, weighted) combine several
    SLIs into one budget, which this model has no place for: one clear line, not a schema error."""
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        return
    if "composite" in spec:
        raise ValidationError(file, at(prefix, "spec.composite"), _COMPOSITE)
    objectives = spec.get("objectives")
    for i, objective in enumerate(objectives if isinstance(objectives, list) else []):
        if isinstance(objective, dict):
            for key in ("indicator", "indicatorRef", "compositeWeight"):
                if key in objective:
                    raise ValidationError(file, at(prefix, f"spec.objectives[{i}].{key}"),
                                          _COMPOSITE)


_COMPOSITE = ("composite SLOs (objectives with an indicator of their own) are not supported: "
              "write one SLO per indicator")


def _indicator(spec: SLOSpecModel, file: str, where: str, intake: Intake
               ) -> tuple[InlineSLI | SLIDoc, str, str]:
    """The SLO's SLI and where it was written (file, field path of its `spec`'s parent)."""
    if spec.indicator is not None and spec.indicatorRef is not None:
        raise ValidationError(file, f"{where}.indicatorRef", "give 'indicator' or "
                              "'indicatorRef', not both")
    if spec.indicator is not None:
        return spec.indicator, file, f"{where}.indicator"
    if spec.indicatorRef is None:
        raise ValidationError(file, f"{where}.indicator", "needs 'indicator' (inline) or "
                              "'indicatorRef' (the name of an SLI document)")
    found = intake.lookup("SLI", spec.indicatorRef)
    if found is None:
        raise ValidationError(file, f"{where}.indicatorRef", f"no SLI named "
                              f"'{spec.indicatorRef}' in this file or the other files given")
    return found.model, found.file, found.at


def _objective_names(base: str, objectives: list[Objective], file: str, prefix: str) -> list[str]:
    """One SLO per objective: the SLO's own name for one, `<name>-<displayName>` (or
    `<name>-<index>`) for several, each checked like any SLO name."""
    check_slo_name(base, file, at(prefix, "metadata.name"))
    if len(objectives) == 1:
        return [base]
    names = []
    for i, objective in enumerate(objectives):
        suffix = slug(objective.displayName or "") or str(i)
        names.append(check_slo_name(f"{base}-{suffix}", file,
                                    at(prefix, f"spec.objectives[{i}].displayName")))
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValidationError(file, at(prefix, "spec.objectives"), "objectives must have distinct "
                              f"displayNames (each becomes an SLO named after it): {dupes[0]}")
    return names


def _window(windows: list[TimeWindow] | None, file: str, where: str, intake: Intake) -> Window:
    if not windows:
        raise ValidationError(file, f"{where}.timeWindow", "required here: the error budget is "
                              "counted over a window")
    window = windows[0]
    return make_window(window.duration, window.isRolling, window.calendar, file,
                       f"{where}.timeWindow[0]", intake)


def make_window(duration: str, is_rolling: bool | None, calendar: Calendar | None, file: str,
                where: str, intake: Intake) -> Window:
    """A window from OpenSLO's fields; `isRolling` defaults to false when `calendar` is given."""
    try:
        count, unit = parse_shorthand(duration)
    except ValueError as exc:
        raise ValidationError(file, f"{where}.duration", str(exc)) from None
    try:
        if calendar is None:
            if is_rolling is False:
                raise ValidationError(file, f"{where}.isRolling", "false needs a 'calendar' "
                                      "(startTime, timeZone) to align the window to; add one or "
                                      "make the window rolling")
            result = rolling(count, unit, intake.now)
        else:
            if is_rolling is True:
                raise ValidationError(file, f"{where}.isRolling", "true contradicts 'calendar': "
                                      "a calendar-aligned window does not roll")
            zone = _zone(calendar.timeZone, file, f"{where}.calendar.timeZone")
            start = _start_time(calendar.startTime, file, f"{where}.calendar.startTime")
            result = calendar_aligned(count, unit, start, zone, calendar.timeZone, intake.now)
    except (OverflowError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError(file, f"{where}.duration", f"duration {duration!r} is too long: at "
                              "most 1825d (5 years)") from None
    if result.seconds > MAX_SLO_WINDOW_SECONDS:
        raise ValidationError(file, f"{where}.duration", f"duration {duration!r} is too long: at "
                              f"most {format_duration(MAX_SLO_WINDOW_SECONDS)} (5 years)")
    return result


def _zone(name: str, file: str, where: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(file, where, f"unknown time zone {name[:60]!r} (a name of the IANA "
                              "time zone database, such as Europe/Berlin or UTC)") from None


_START_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def _start_time(value: datetime | date | str, file: str, where: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        for fmt in _START_FORMATS:
            try:
                moment = datetime.strptime(value.strip(), fmt)
                break
            except ValueError:
                continue
        else:
            raise ValidationError(file, where, "expected a date and time like "
                                  f"'2020-01-21 12:30:00'; got {value[:40]!r}")
    if moment.tzinfo is not None:
        raise ValidationError(file, where, "a wall-clock time without a time zone (timeZone names "
                              "the zone)")
    return moment


def slice_seconds(value: float | str, file: str, where: str) -> float:
    """timeSliceWindow: a number of minutes, or a duration-shorthand of fixed length."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not value > 0:
            raise ValidationError(file, where, f"must be a positive number of minutes; got {value!r}")
        return float(value) * 60
    try:
        count, unit = parse_shorthand(str(value))
    except ValueError as exc:
        raise ValidationError(file, where, str(exc)) from None
    if unit not in FIXED_UNITS:
        raise ValidationError(file, where, f"a time slice has a fixed length: use s, m, h, d or "
                              f"w, not {value!r}")
    return float(count * FIXED_UNITS[unit])


def _budgeting(method: BudgetingMethod, slice_target: float | None,
               slice_window: float | str | None, window_s: float, file: str, where: str
               ) -> Budgeting:
    if method is BudgetingMethod.OCCURRENCES:
        for key, value in (("timeSliceTarget", slice_target), ("timeSliceWindow", slice_window)):
            if value is not None:
                raise ValidationError(file, f"{where}.{key}", "applies to Timeslices and "
                                      "RatioTimeslices budgeting, not Occurrences")
        return Budgeting()
    if slice_window is None:
        raise ValidationError(file, f"{where}.timeSliceWindow", f"required with {method} budgeting "
                              "(the length of a slice, e.g. 1m)")
    seconds = slice_seconds(slice_window, file, f"{where}.timeSliceWindow")
    if seconds > window_s:
        raise ValidationError(file, f"{where}.timeSliceWindow", "a time slice cannot be longer "
                              "than the SLO's window")
    if method is BudgetingMethod.TIMESLICES:
        if slice_target is None:
            raise ValidationError(file, f"{where}.timeSliceTarget", "required with Timeslices "
                                  "budgeting (the share of good events that makes a slice good)")
        if not 0 < slice_target <= 1:
            raise ValidationError(file, f"{where}.timeSliceTarget", "must lie in (0, 1]; got "
                                  f"{slice_target!r}")
        return Budgeting(method, seconds, slice_target)
    if slice_target is not None:
        raise ValidationError(file, f"{where}.timeSliceTarget", "applies to Timeslices budgeting; "
                              "RatioTimeslices counts each slice with its own ratio")
    return Budgeting(method, seconds)


def _source(sli: InlineSLI | SLIDoc, objective: Objective, name: str, names: list[str],
            sli_file: str, sli_at: str, file: str, obj_at: str, intake: Intake
            ) -> LoadSource | PrometheusSource:
    spec = sli.spec
    where = f"{sli_at}.spec"
    if (spec.ratioMetric is None) == (spec.thresholdMetric is None):
        raise ValidationError(sli_file, where, "give exactly one of 'ratioMetric' or "
                              "'thresholdMetric'")
    if spec.thresholdMetric is not None:
        if objective.op is None or objective.value is None:
            raise ValidationError(file, obj_at, "a thresholdMetric needs the objective's 'op' "
                                  "and 'value' (what a good value is)")
        metric_at = f"{where}.thresholdMetric"
        query = _prometheus_query(spec.thresholdMetric, name, names, sli_file, metric_at, intake)
        if query is None:
            return LoadSource()
        # every sample of the series is one event, good when it compares as the objective says
        return PrometheusSource(total=f"count({query})",
                                good=f"sum(({query}) {PROMQL_OPS[objective.op]} bool "
                                     f"{objective.value!r})",
                                counter=False)
    ratio = spec.ratioMetric
    assert ratio is not None
    ratio_at = f"{where}.ratioMetric"
    if ratio.raw is not None or ratio.rawType is not None:
        raise ValidationError(sli_file, f"{ratio_at}.raw", "a precomputed ratio has no event "
                              "counts, which the burn figures and their intervals need: give "
                              "'good' or 'bad', and 'total'")
    if ratio.total is None or (ratio.good is None) == (ratio.bad is None):
        raise ValidationError(sli_file, ratio_at, "give exactly one of 'good' or 'bad' besides "
                              "'total'")
    queries: dict[str, str | None] = {}
    for role in ("total", "good", "bad"):
        metric = getattr(ratio, role)
        if metric is None:
            queries[role] = None
            continue
        query = _prometheus_query(metric, name, names, sli_file, f"{ratio_at}.{role}", intake)
        if query is None:
            return LoadSource()
        queries[role] = query
    return PrometheusSource(total=str(queries["total"]), good=queries["good"], bad=queries["bad"],
                            counter=ratio.counter)


def _prometheus_query(metric: Metric, name: str, names: list[str], file: str, where: str,
                      intake: Intake) -> str | None:
    """The PromQL of a metric, or None when the plan counts this SLO from the load instead of
    a source chaos_suite cannot read."""
    source = metric.metricSource
    source_at = f"{where}.metricSource"
    kind, kind_at = _source_type(source, file, source_at, intake)
    if kind.lower() != "prometheus":
        if name in intake.count_from_load:
            return None
        raise not_measurable(file, kind_at, f"metric source '{kind[:40]}'", names)
    query = source.spec.get("query", source.spec.get("promql"))
    if not isinstance(query, str) or not query.strip():
        raise ValidationError(file, f"{source_at}.spec.query", "needs a PromQL query")
    return query


def _source_type(source: MetricSource, file: str, where: str, intake: Intake) -> tuple[str, str]:
    """The metric source's type and the field that states it: `type`, or the DataSource that
    `metricSourceRef` names."""
    if source.metricSourceRef is None:
        if not source.type:
            raise ValidationError(file, f"{where}.type", "needs 'type' (e.g. Prometheus) or "
                                  "'metricSourceRef' (the name of a DataSource document)")
        return source.type, f"{where}.type"
    found = intake.lookup("DataSource", source.metricSourceRef)
    if found is None:
        raise ValidationError(file, f"{where}.metricSourceRef", "no DataSource named "
                              f"'{source.metricSourceRef}' in this file or the other files given")
    ds_type = str(found.model.spec.type)
    if source.type and source.type.lower() != ds_type.lower():
        raise ValidationError(file, f"{where}.type", f"'{source.type}' but DataSource "
                              f"'{source.metricSourceRef}' is of type '{ds_type}'")
    return ds_type, f"{where}.type" if source.type else f"{where}.metricSourceRef"


def _alert_policy(entry: dict[str, Any], file: str, where: str, intake: Intake) -> AlertPolicy:
    """An SLO's alert policy: `alertPolicyRef` to an AlertPolicy document, or one inline."""
    model = _ref_or_inline(entry, "alertPolicyRef", "AlertPolicy", AlertPolicyDoc, file, where,
                           intake)
    policy, policy_file, policy_at = model
    conditions = tuple(
        _condition(c, policy_file, at(policy_at, f"spec.conditions[{i}]"), intake)
        for i, c in enumerate(policy.spec.conditions))
    targets = tuple(
        _ref_or_inline(t, "targetRef", "AlertNotificationTarget", AlertNotificationTargetDoc,
                       policy_file, at(policy_at, f"spec.notificationTargets[{i}]"),
                       intake)[0].metadata.name
        for i, t in enumerate(policy.spec.notificationTargets))
    spec = policy.spec
    return AlertPolicy(policy.metadata.name, conditions, targets, spec.alertWhenBreaching,
                       spec.alertWhenResolved, spec.alertWhenNoData)


def _condition(entry: dict[str, Any], file: str, where: str, intake: Intake) -> BurnRateCondition:
    doc, cond_file, cond_at = _ref_or_inline(entry, "conditionRef", "AlertCondition",
                                             AlertConditionDoc, file, where, intake)
    condition = doc.spec.condition
    lookback = slice_seconds(condition.lookbackWindow, cond_file,
                             at(cond_at, "spec.condition.lookbackWindow"))
    after = 0.0 if condition.alertAfter is None else slice_seconds(
        condition.alertAfter, cond_file, at(cond_at, "spec.condition.alertAfter"))
    return BurnRateCondition(doc.metadata.name, doc.spec.severity, condition.threshold, lookback,
                             after, condition.op)


def _ref_or_inline(entry: Any, ref_key: str, kind: str, model: type[StrictModel], file: str,
                   where: str, intake: Intake) -> tuple[Any, str, str]:
    if not isinstance(entry, dict):
        raise ValidationError(file, where, f"expected {{{ref_key}: <name>}} or an inline {kind}")
    if ref_key in entry:
        if set(entry) != {ref_key} or not isinstance(entry[ref_key], str):
            raise ValidationError(file, f"{where}.{ref_key}", f"a reference holds only "
                                  f"'{ref_key}: <name of a {kind}>'")
        found = intake.lookup(kind, entry[ref_key])
        if found is None:
            raise ValidationError(file, f"{where}.{ref_key}", f"no {kind} named "
                                  f"'{entry[ref_key]}' in this file or the other files given")
        return found.model, found.file, found.at
    return validate_model(model, {"kind": kind, **entry}, file, where), file, where


def _spec(name: str, target: float, window: Window, sli: SLI,
          source: LoadSource | PrometheusSource, service: str, description: str,
          budgeting: Budgeting, policies: tuple[AlertPolicy, ...], origin: str, file: str,
          prefix: str) -> SLOSpec:
    try:
        slo = SLO(name=name, objective=target, window_seconds=window.seconds, sli=sli,
                  source=source.type, description=description)
    except ValueError as exc:  # the math model's own checks, should the file model miss one
        raise ValidationError(file, at(prefix, "spec"), str(exc)) from None
    return SLOSpec(slo=slo, source=source, service=service, budgeting=budgeting, window=window,
                   alerting=AlertSource.WORKBOOK, alert_policies=policies, origin=origin,
                   document=prefix)


# ---------------------------------------------------------------- openslo/v1alpha


class AlphaMetric(StrictModel):
    source: str = Field(min_length=1)
    queryType: str | None = None
    query: str = Field(min_length=1)
    metadata: dict[str, Any] | None = None


class AlphaRatio(StrictModel):
    good: AlphaMetric | None = None
    bad: AlphaMetric | None = None
    total: AlphaMetric
    counter: bool = True
    incremental: bool | None = None


class AlphaObjective(StrictModel):
    displayName: str | None = None
    value: float | None = None
    op: Op | None = None
    target: float
    timeSliceTarget: float | None = None
    timeSliceWindow: float | str | None = None
    ratioMetrics: AlphaRatio | None = None


class AlphaTimeWindow(StrictModel):
    count: int = Field(gt=0)
    unit: Literal["Second", "Minute", "Hour", "Day", "Week", "Month", "Quarter", "Year"]
    isRolling: bool | None = None
    calendar: Calendar | None = None


class AlphaIndicator(StrictModel):
    thresholdMetric: AlphaMetric


class AlphaSpec(StrictModel):
    description: str | None = Description
    service: str = Field(min_length=1)
    budgetingMethod: Literal["Occurrences", "Timeslices"]
    indicator: AlphaIndicator | None = None
    objectives: list[AlphaObjective] = Field(min_length=1)
    timeWindows: list[AlphaTimeWindow] = Field(min_length=1, max_length=1)


class AlphaDoc(StrictModel):
    apiVersion: Literal["openslo/v1alpha"]
    kind: Literal["SLO"]
    metadata: Meta
    spec: AlphaSpec


ALPHA_UNITS = {"Second": "s", "Minute": "m", "Hour": "h", "Day": "d", "Week": "w", "Month": "M",
               "Quarter": "Q", "Year": "Y"}


def read_alpha_slo(doc: dict[str, Any], file: str, prefix: str, intake: Intake) -> list[SLOSpec]:
    """A v1alpha SLO (the form Sloth reads): objectives carry their own ratioMetrics, the window
    is `timeWindows: [{count, unit}]`."""
    kind = doc.get("kind")
    if kind != "SLO":
        raise ValidationError(file, at(prefix, "kind"), f"openslo/v1alpha documents here are SLOs; "
                              f"got {str(kind)[:40]!r}")
    model: AlphaDoc = validate_model(AlphaDoc, doc, file, prefix)
    spec = model.spec
    where = at(prefix, "spec")
    window_model = spec.timeWindows[0]
    window = make_window(f"{window_model.count}{ALPHA_UNITS[window_model.unit]}",
                         window_model.isRolling, window_model.calendar, file,
                         f"{where}.timeWindows[0]", intake)
    names = _objective_names(model.metadata.name, [Objective(displayName=o.displayName)
                                                   for o in spec.objectives], file, prefix)
    sli = sli_from_annotations(model.metadata.annotations, file,
                               at(prefix, "metadata.annotations"))
    specs = []
    for i, (name, objective) in enumerate(zip(names, spec.objectives, strict=True)):
        obj_at = f"{where}.objectives[{i}]"
        target = fraction_objective(objective.target, None, file, obj_at)
        budgeting = _budgeting(BudgetingMethod(spec.budgetingMethod), objective.timeSliceTarget,
                               objective.timeSliceWindow, window.seconds, file, obj_at)
        source = _alpha_source(spec, objective, name, names, file, obj_at, intake)
        specs.append(_spec(name, target, window, sli, source, spec.service,
                           spec.description or model.metadata.displayName or "", budgeting, (),
                           "OpenSLO v1alpha", file, prefix))
    return specs


def _alpha_source(spec: AlphaSpec, objective: AlphaObjective, name: str, names: list[str],
                  file: str, obj_at: str, intake: Intake) -> LoadSource | PrometheusSource:
    ratio = objective.ratioMetrics
    if ratio is None:
        if spec.indicator is None:
            raise ValidationError(file, f"{obj_at}.ratioMetrics", "needs 'ratioMetrics' (or the "
                                  "SLO's indicator.thresholdMetric)")
        if objective.op is None or objective.value is None:
            raise ValidationError(file, obj_at, "a thresholdMetric needs the objective's 'op' and "
                                  "'value'")
        metric = spec.indicator.thresholdMetric
        query = _alpha_query(metric, name, names, file,
                             obj_at.rsplit(".objectives", 1)[0] + ".indicator.thresholdMetric",
                             intake)
        if query is None:
            return LoadSource()
        return PrometheusSource(total=f"count({query})", good=f"sum(({query}) "
                                f"{PROMQL_OPS[objective.op]} bool {objective.value!r})",
                                counter=False)
    if (ratio.good is None) == (ratio.bad is None):
        raise ValidationError(file, f"{obj_at}.ratioMetrics", "give exactly one of 'good' or "
                              "'bad' besides 'total'")
    queries: dict[str, str | None] = {}
    for role in ("total", "good", "bad"):
        metric_or_none: AlphaMetric | None = getattr(ratio, role)
        if metric_or_none is None:
            queries[role] = None
            continue
        query = _alpha_query(metric_or_none, name, names, file, f"{obj_at}.ratioMetrics.{role}",
                             intake)
        if query is None:
            return LoadSource()
        queries[role] = query
    return PrometheusSource(total=str(queries["total"]), good=queries["good"], bad=queries["bad"],
                            counter=ratio.counter)


def _alpha_query(metric: AlphaMetric, name: str, names: list[str], file: str, where: str,
                 intake: Intake) -> str | None:
    if metric.source.lower() != "prometheus":
        if name in intake.count_from_load:
            return None
        raise not_measurable(file, f"{where}.source", f"metric source '{metric.source[:40]}'", names)
    if metric.queryType is not None and metric.queryType.lower() != "promql":
        raise ValidationError(file, f"{where}.queryType", f"Prometheus queries are PromQL; got "
                              f"{metric.queryType[:40]!r}")
    return metric.query
