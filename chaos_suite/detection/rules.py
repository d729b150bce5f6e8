"""Prometheus rules from SLOs (``chaos-suite slo rules``): error-ratio recording rules named as
Sloth names them, so dashboards built for Sloth work, and one multi-window, multi-burn-rate
alert per row of the SLO's window set (detection/windows.py).

Per SLO, one rule group ``chaos-suite-slo-<service>-<slo>`` (one group, so the alerts see the
ratios recorded at the same evaluation and the firing times ``predict`` computes hold):

- ``slo:sli_error:ratio_rate<w>`` for every window w of the set and the current-burn window,
  labelled ``sloth_id`` (``<service>-<slo>``), ``sloth_service``, ``sloth_slo``,
  ``sloth_window``; ``slo:sli_error:ratio_rate<period>`` is the mean of the current-burn ratio
  over the SLO window, as Sloth computes it;
- ``slo:objective:ratio``, ``slo:error_budget:ratio``, ``slo:time_period:days``,
  ``slo:current_burn_rate:ratio`` (over the short window of the fastest page alert, 5m in the
  built-in sets), ``slo:period_burn_rate:ratio``, ``slo:period_error_budget_remaining:ratio``,
  ``sloth_slo_info``;
- alert ``ErrorBudgetBurn`` per row: the ratio over the short AND the long window above
  factor × budget, ``for`` when the row has one. Labels: ``severity`` and ``sloth_severity``
  (page|ticket), ``slo``, ``service``, and for matching a firing alert back to its row:
  ``chaos_suite_alert`` (``<severity>-<long>-<short>``, unique within the SLO),
  ``chaos_suite_windows`` (the set: google, sloth, pyrra or a custom file's name),
  ``chaos_suite_long``, ``chaos_suite_short``, ``chaos_suite_factor``. The alert also carries
  the ratio's ``sloth_id``/``sloth_service``/``sloth_slo`` and ``sloth_window`` (the short one).

The SLO's queries give each window's error ratio, summed to one series per SLO as the sampler
sums them (sources/prometheus.py): a query with ``{{.window}}`` (or ``{{window}}``) is used as
written with the window filled in; a counter written as ``sum(<selector>)`` or a bare selector
becomes ``sum(rate(<selector>[w]))``; any other counter expression is sampled as a subquery,
``rate((<query>)[w:])``; a gauge (``counter: false``) is averaged, ``avg_over_time((<query>)[w:])``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import yaml

from chaos_suite import __version__
from chaos_suite.detection.windows import (
    BUILTIN_SETS,
    BurnAlert,
    WindowSet,
    WindowSetError,
    builtin_window_set,
    custom_window_set,
    policy_window_set,
    prom_duration,
)
from chaos_suite.errors import InputError
from chaos_suite.files.slo_file import PrometheusSource, SLOSpec
from chaos_suite.slo.alerting import AlertSource

ALERT_NAME = "ErrorBudgetBurn"
CURRENT_DEFAULT_S = 300.0  # Sloth's current burn rate looks over 5m when no page alert says
_WINDOW_PLACEHOLDER = re.compile(r"\{\{\s*\.?window\s*\}\}")  # as sources/prometheus.py reads it
_OWN_SET = {AlertSource.WORKBOOK: "google", AlertSource.SLOTH: "sloth", AlertSource.PYRRA: "pyrra"}

_METRIC = r"[A-Za-z_:][A-Za-z0-9_:]*"
_MATCHERS = r'\{(?:[^{}"]|"(?:[^"\\]|\\.)*")*\}'
_SELECTOR = rf"(?:{_METRIC}\s*(?:{_MATCHERS})?|{_MATCHERS})"
_GROUPING = r"(?:by|without)\s*\([^()]*\)"
_SUM_OF_SELECTOR = re.compile(rf"\s*sum\s*(?:{_GROUPING}\s*)?\(\s*({_SELECTOR})\s*\)\s*(?:{_GROUPING})?\s*",
                              re.DOTALL)
_BARE_SELECTOR = re.compile(rf"\s*({_SELECTOR})\s*", re.DOTALL)


def window_set_for(spec: SLOSpec, windows: str | WindowSet | None) -> WindowSet:
    """The alerts ``spec`` gets: the built-in set named (google, sloth, pyrra), a custom set,
    or (None) its OpenSLO alert policies when it has any, else the set of the tool that owns the
    SLO, as ``slo explain`` shows it. Raises
    InputError naming the SLO when no row fits its window."""
    policies = policy_window_set(spec.alert_policies) if windows is None else None
    if policies is not None and policies.alerts:
        return policies
    name = _OWN_SET[spec.alerting] if windows is None else windows
    try:
        if isinstance(name, WindowSet):
            return custom_window_set(name, spec.alerts_disabled)
        return builtin_window_set(name, spec.slo.window_seconds, spec.alerts_disabled)
    except WindowSetError as exc:
        raise InputError(f"SLO '{spec.service}/{spec.name}': {exc}; give --windows FILE with "
                         "windows that fit") from None


def generate_rules(specs: Sequence[SLOSpec], windows: str | WindowSet | None = None,
                   evaluation_interval_s: float | None = None, sources: Sequence[str] = ()) -> str:
    """The rule file for ``specs`` as YAML text (see the module's docstring for its rules).

    Raises InputError naming the SLO for an SLO without a Prometheus query or whose window no
    alert of the set fits, and for two SLOs with the same service and name."""
    if isinstance(windows, str) and windows not in BUILTIN_SETS:
        raise InputError(f"--windows: unknown window set {windows!r}: one of "
                         f"{', '.join(BUILTIN_SETS)} or a file")
    groups: list[dict[str, Any]] = []
    seen: set[str] = set()
    for spec in specs:
        if not isinstance(spec.source, PrometheusSource):
            raise InputError(f"SLO '{spec.service}/{spec.name}' has no Prometheus query (its "
                             f"source is {spec.source.type}): alert rules need one")
        ident = slo_id(spec)
        if ident in seen:
            raise InputError(f"two SLOs named '{spec.service}/{spec.name}': their rules would "
                             "share one sloth_id")
        seen.add(ident)
        groups.append(rule_group(spec, window_set_for(spec, windows), evaluation_interval_s))
    header = ("# Prometheus rules written by chaos-suite slo rules"
              + (f" from {', '.join(sources)}" if sources else "")
              + ". Recording rules are named as Sloth names them; one alert per window row.\n")
    return header + yaml.dump({"groups": groups}, Dumper=_Dumper, sort_keys=False,
                              default_flow_style=False, allow_unicode=True, width=1_000)


def slo_id(spec: SLOSpec) -> str:
    """Sloth's SLO id: ``<service>-<slo>``."""
    return f"{spec.service}-{spec.name}"


def rule_group(spec: SLOSpec, windows: WindowSet, evaluation_interval_s: float | None = None
               ) -> dict[str, Any]:
    """One SLO's rule group: recording rules, then alerts (evaluated in that order)."""
    source = spec.source
    if not isinstance(source, PrometheusSource):
        raise InputError(f"SLO '{spec.service}/{spec.name}' has no Prometheus query")
    ids = {"sloth_id": slo_id(spec), "sloth_service": spec.service, "sloth_slo": spec.name}
    selector = _selector(ids)
    period_s = spec.slo.window_seconds
    period = prom_duration(period_s)
    current_s = current_window_s(windows)
    ratio_windows = sorted({current_s, *(a.long_s for a in windows.alerts),
                            *(a.short_s for a in windows.alerts)} - {period_s})
    rules: list[dict[str, Any]] = [
        {"record": sli_error_metric(w), "expr": error_ratio_expr(source, w),
         "labels": {**ids, "sloth_window": prom_duration(w)}}
        for w in ratio_windows
    ]
    current = sli_error_metric(current_s)
    # Sloth's period ratio: the mean of the short-window ratio over the period (cheaper than a
    # rate over 30 days), the window label replaced
    rules.append({"record": sli_error_metric(period_s),
                  "expr": f"sum_over_time({current}{selector}[{period}])\n/ ignoring (sloth_window)\n"
                          f"count_over_time({current}{selector}[{period}])\n",
                  # the ids too, though the series carry them: promtool's lint takes two
                  # SLOs' period rules with the same labels for duplicates
                  "labels": {**ids, "sloth_window": period}})
    objective = repr(spec.slo.objective)
    rules += [
        {"record": "slo:objective:ratio", "expr": f"vector({objective})", "labels": ids},
        {"record": "slo:error_budget:ratio", "expr": f"vector(1-{objective})", "labels": ids},
        {"record": "slo:time_period:days", "expr": f"vector({_number(period_s / 86_400)})",
         "labels": ids},
        {"record": "slo:current_burn_rate:ratio", "expr": _burn_expr(current, selector),
         "labels": ids},
        {"record": "slo:period_burn_rate:ratio",
         "expr": _burn_expr(sli_error_metric(period_s), selector), "labels": ids},
        {"record": "slo:period_error_budget_remaining:ratio",
         "expr": f"1 - slo:period_burn_rate:ratio{selector}", "labels": ids},
        {"record": "sloth_slo_info", "expr": "vector(1)",
         "labels": {**ids, "sloth_mode": "cli-gen-prom", "sloth_objective":
                    _percent(spec.slo.objective), "sloth_spec": "prometheus/v1",
                    "sloth_version": f"chaos-suite-{__version__}"}},
    ]
    budget = _budget(spec.slo.objective)
    rules += [_alert_rule(spec, windows.name, alert, selector, budget) for alert in windows.alerts]
    group: dict[str, Any] = {"name": f"chaos-suite-slo-{slo_id(spec)}"}
    if evaluation_interval_s is not None:
        group["interval"] = prom_duration(evaluation_interval_s)
    group["rules"] = rules
    return group


def current_window_s(windows: WindowSet) -> float:
    """The window of ``slo:current_burn_rate:ratio``: Sloth's is the short window of its fastest
    page alert (5m); without a page alert, 5m."""
    pages = [a for a in windows.alerts if a.severity == "page"]
    return min(pages, key=lambda a: (a.long_s, a.short_s)).short_s if pages else CURRENT_DEFAULT_S


def sli_error_metric(window_s: float) -> str:
    return f"slo:sli_error:ratio_rate{prom_duration(window_s)}"


def error_ratio_expr(source: PrometheusSource, window_s: float) -> str:
    """The SLO's error ratio over ``window_s`` from its queries (rules in the module docstring)."""
    total = _over(source.total, window_s, source.counter)
    if source.bad is not None:
        return f"{_over(source.bad, window_s, source.counter)}\n/\n{total}\n"
    assert source.good is not None  # PrometheusSource holds exactly one of good or bad
    return f"1 - (\n  {_over(source.good, window_s, source.counter)}\n  /\n  {total}\n)\n"


def _over(query: str, window_s: float, counter: bool) -> str:
    """``query``'s events over the window, as a rate (a counter) or an average (a gauge)."""
    window = prom_duration(window_s)
    text = query.strip()
    if _WINDOW_PLACEHOLDER.search(text):
        return f"sum({_WINDOW_PLACEHOLDER.sub(window, text)})"
    if not counter:
        return f"sum(avg_over_time(({text})[{window}:]))"
    match = _SUM_OF_SELECTOR.fullmatch(text) or _BARE_SELECTOR.fullmatch(text)
    if match is not None:
        return f"sum(rate({match.group(1)}[{window}]))"
    return f"sum(rate(({text})[{window}:]))"


def _alert_rule(spec: SLOSpec, set_name: str, alert: BurnAlert, selector: str, budget: str
                ) -> dict[str, Any]:
    factor = _number(alert.factor)
    threshold = f"({factor} * {budget})"
    long_text, short_text = prom_duration(alert.long_s), prom_duration(alert.short_s)
    over_long = f"(\n  {sli_error_metric(alert.long_s)}{selector} > {threshold}\n)\n"
    rule: dict[str, Any] = {
        "alert": ALERT_NAME,
        # a single-window alert (an OpenSLO burnrate condition) has one clause
        "expr": over_long if alert.short_s == alert.long_s else (
            f"(\n  {sli_error_metric(alert.short_s)}{selector} > {threshold}\n)\n"
            f"and ignoring (sloth_window)\n{over_long}"),
    }
    if alert.for_s > 0:
        rule["for"] = prom_duration(alert.for_s)
    spent = alert.budget_consumed(spec.slo.window_seconds) * 100
    hold = f", for {prom_duration(alert.for_s)}" if alert.for_s > 0 else ""
    rule["labels"] = {
        "severity": alert.severity,
        "sloth_severity": alert.severity,
        "slo": spec.name,
        "service": spec.service,
        "chaos_suite_alert": alert.key,
        "chaos_suite_windows": set_name,
        "chaos_suite_long": long_text,
        "chaos_suite_short": short_text,
        "chaos_suite_factor": factor,
    }
    if alert.policy is not None:
        rule["labels"]["openslo_alert_policy"] = alert.policy
    rule["annotations"] = {
        "title": f"({alert.severity}) {{{{$labels.sloth_service}}}} {{{{$labels.sloth_slo}}}} SLO "
                 "error budget burn rate is too fast.",
        "summary": "{{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate "
                   "is over expected.",
        "description": f"error ratio over {long_text}"
                       f"{'' if short_text == long_text else f' and over {short_text}'} above {factor} x the "
                       f"error budget {budget} ({_number(round(spent, 6))}% of the "
                       f"{prom_duration(spec.slo.window_seconds)} budget in {long_text}{hold})",
    }
    return rule


def _burn_expr(metric: str, selector: str) -> str:
    return (f"{metric}{selector}\n/ on(sloth_id, sloth_slo, sloth_service) group_left\n"
            f"slo:error_budget:ratio{selector}\n")


def _selector(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f'{key}="{_escape(value)}"' for key, value in labels.items()) + "}"


def _escape(value: str) -> str:
    """A PromQL double-quoted string's content."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _budget(objective: float) -> str:
    # from the objective's shortest repr: 1 − 0.999 is 0.001, not 0.0010000000000000009
    return _number(float(1 - Decimal(repr(objective))))


def _percent(objective: float) -> str:
    """99.9 for 0.999, as Sloth's sloth_objective label states it."""
    return format((Decimal(repr(objective)) * 100).normalize(), "f")


def _number(value: float) -> str:
    """A number as a person writes it: 6 not 6.0, 14.4, 0.9333333333333333 (every digit kept,
    so the threshold is the one the window set states)."""
    return str(int(value)) if value == int(value) else repr(value)


class _Dumper(yaml.SafeDumper):
    """Expressions over several lines as YAML block scalars, as Sloth writes them; no anchors
    (each rule's labels written out, as a person reading the file expects)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_presenter)
