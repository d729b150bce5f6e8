"""The detection timeline, pure: times from fault onset and the verdict against the plan's
alert expectation, from hand-written events; the watch's and webhook's parsing."""

from __future__ import annotations

from typing import Any

import pytest

from chaos_suite.detection.history import history_events, step_for
from chaos_suite.detection.timeline import Detection, detection_for, scenario_detection
from chaos_suite.detection.watch import alertmanager_alerts, parse_time, prometheus_alerts
from chaos_suite.detection.webhook import notifications
from chaos_suite.errors import ValidationError
from chaos_suite.files.plan import parse_gameday
from chaos_suite.record.models import (
    AlertExpectation,
    AlertHistory,
    AlertNotified,
    AlertState,
    ErrorsFault,
    Event,
    FaultCleared,
    FaultInjected,
    FaultsCleared,
)

T0 = 1_000.0
PAGE = {"sloth_slo": "avail", "severity": "page"}


def _run(*extra: Event) -> list[Event]:
    return [FaultInjected(t=T0, fault="errors", detail=ErrorsFault(error_ratio=0.5),
                          scenario="s"),
            *extra,
            FaultCleared(t=T0 + 30, fault="errors", detail=FaultsCleared(was_active=True),
                         scenario="s")]


def _firing(t: float, fired_at: float, labels: dict[str, str] = PAGE) -> AlertState:
    return AlertState(t=t, name="ErrorBudgetBurn", labels=labels, state="firing",
                      active_at=fired_at, fired_at=fired_at)


def _detect(events: list[Event], expected: AlertExpectation | None, no_alert: bool = False,
            recovery: float | None = 4.0) -> Detection:
    return detection_for(sorted(events, key=lambda e: e.t), slo="avail", expected=expected,
                         no_alert=no_alert, onset=T0, cleared=T0 + 30, start=T0 - 5,
                         end=T0 + 60, recovery_seconds=recovery)


def test_detected_with_page_times_from_onset() -> None:
    events = _run(AlertState(t=T0 + 5.2, name="ErrorBudgetBurn", labels=PAGE, state="pending",
                             active_at=T0 + 5.0),
                  _firing(T0 + 8.4, T0 + 8.0),
                  AlertNotified(t=T0 + 9.1, name="ErrorBudgetBurn", labels=PAGE, status="firing"),
                  AlertState(t=T0 + 40, name="ErrorBudgetBurn", labels=PAGE, state="resolved"))
    d = _detect(events, AlertExpectation(name="ErrorBudgetBurn", labels={"sloth_slo": "avail"},
                                         within_seconds=10, page=True))
    assert d.verdict == "detected"
    assert (d.pending, d.firing, d.notified, d.resolved) == (T0 + 5.0, T0 + 8.0, T0 + 9.1, T0 + 40)
    assert (d.time_to_detect, d.time_to_page, d.time_to_recover) == (8.0, 9.1, 34.0)
    assert not d.failed


def test_late_when_the_page_comes_after_within() -> None:
    events = _run(_firing(T0 + 8.4, T0 + 8.0),
                  AlertNotified(t=T0 + 12, name="ErrorBudgetBurn", labels=PAGE, status="firing"))
    d = _detect(events, AlertExpectation(name="ErrorBudgetBurn", within_seconds=10, page=True))
    assert d.verdict == "late" and "12.0 s" in d.reason


def test_an_alert_that_never_fired_is_a_gap_and_so_is_a_missing_page() -> None:
    expected = AlertExpectation(name="ErrorBudgetBurn", labels={"sloth_slo": "avail"})
    gap = _detect(_run(_firing(T0 + 8, T0 + 8, {"sloth_slo": "other"})), expected)
    assert gap.verdict == "gap" and gap.failed and gap.time_to_detect is None
    unpaged = _detect(_run(_firing(T0 + 8, T0 + 8)), expected.model_copy(update={"page": True}))
    assert unpaged.verdict == "gap" and "no page" in unpaged.reason


def test_no_alert_expected_quiet_or_noise() -> None:
    assert _detect(_run(), None, no_alert=True).verdict == "quiet-as-expected"
    noisy = _detect(_run(_firing(T0 + 3, T0 + 3)), None, no_alert=True)
    assert noisy.verdict == "noise" and noisy.time_to_detect == 3.0
    assert _detect(_run(_firing(T0 + 3, T0 + 3)), None).verdict is None


def test_scenario_noise_lists_alerts_nobody_expected() -> None:
    other = {"sloth_slo": "latency", "severity": "ticket"}
    events = _run(_firing(T0 + 8, T0 + 8), _firing(T0 + 9, T0 + 9, other))
    detections, noise = scenario_detection(
        events, "s", T0 - 5, T0 + 60,
        {"avail": (AlertExpectation(name="ErrorBudgetBurn", labels=PAGE), False),
         "latency": (None, False)}, {"avail": 2.0})
    assert [d.verdict for d in detections] == ["detected"]
    assert [dict(a.labels) for a in noise] == [other]
    assert scenario_detection(_run(), "s", T0 - 5, T0 + 60, {"x": (None, False)}, {}) == ((), ())


def _history(state: str, *spans: tuple[float, float], labels: dict[str, str] = PAGE
             ) -> AlertHistory:
    return AlertHistory(t=T0 + 70, name="ErrorBudgetBurn", labels=labels, state=state,
                        spans=spans, step_seconds=1.0)


def test_the_alerts_series_fills_what_the_poll_missed_and_cross_checks_what_it_saw() -> None:
    expected = AlertExpectation(name="ErrorBudgetBurn", labels={"sloth_slo": "avail"})
    # the poll never saw it (a failed poll, or it came and went between two): ALERTS did
    missed = _detect(_run(_history("pending", (T0 + 5, T0 + 7)),
                          _history("firing", (T0 + 8, T0 + 9))), expected)
    assert missed.verdict == "detected" and missed.seen_by == "ALERTS"
    assert (missed.pending, missed.firing, missed.time_to_detect) == (T0 + 5, T0 + 8, 8.0)
    # both saw it: the poll's time (Prometheus's own fired_at) stands, ALERTS is kept beside
    both = _detect(_run(_firing(T0 + 8.4, T0 + 8.0), _history("firing", (T0 + 9, T0 + 20))),
                   expected)
    assert (both.firing, both.firing_in_alerts, both.seen_by) == (T0 + 8.0, T0 + 9, "rules API")
    # a span that began before the scenario's window is not this scenario's detection
    before = _detect(_run(_history("firing", (T0 - 30, T0 + 20))), expected)
    assert before.verdict == "gap"
    # an alert only ALERTS saw, that nobody expected, is noise
    other = {"sloth_slo": "latency"}
    _, noise = scenario_detection(_run(_history("firing", (T0 + 4, T0 + 6), labels=other)), "s",
                                  T0 - 5, T0 + 60, {"avail": (expected, False)}, {})
    assert [(dict(a.labels), a.seen_by) for a in noise] == [(other, "ALERTS")]


def test_alerts_series_parsing_merges_steps_into_spans() -> None:
    body = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"__name__": "ALERTS", "alertname": "ErrorBudgetBurn", "alertstate": "firing",
                    **PAGE}, "values": [[10, "1"], [11, "1"], [12, "1"], [30, "1"], [31, "1"]]},
        {"metric": {"alertname": "Other", "alertstate": "inactive"}, "values": [[10, "1"]]}]}}
    [event] = history_events(body, 1.0)
    assert (event.name, event.state, event.spans) == ("ErrorBudgetBurn", "firing",
                                                      ((10, 12), (30, 31)))
    assert event.labels == PAGE
    assert step_for(0, 3600) == 1 and step_for(0, 30 * 86_400) == 236


def test_parsing_prometheus_alertmanager_and_the_webhook() -> None:
    rules = {"data": {"groups": [{"rules": [{"name": "ErrorBudgetBurn", "duration": 10,
             "alerts": [{"labels": {"alertname": "ErrorBudgetBurn", **PAGE}, "state": "firing",
                         "activeAt": "2026-01-01T00:00:00.123456789Z"}]}]}]}}
    [alert] = prometheus_alerts(rules)
    assert alert.labels == PAGE and alert.active_at is not None
    assert alert.fired_at == pytest.approx(alert.active_at + 10)
    assert parse_time("0001-01-01T00:00:00Z") is None
    [am] = alertmanager_alerts([{"labels": {"alertname": "X"}, "status": {"state": "suppressed"},
                                 "startsAt": "2026-01-01T00:00:00Z"}])
    assert (am.name, am.state, am.source) == ("X", "suppressed", "alertmanager")
    [hook] = notifications({"receiver": "hooks", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "X", "a": "b"}}]}, 5.0)
    assert (hook.t, hook.name, hook.labels, hook.receiver) == (5.0, "X", {"a": "b"}, "hooks")


def test_plan_alert_and_no_alert_exclude_each_other() -> None:
    plan: dict[str, Any] = {"kind": "Gameday", "name": "g", "service": "s", "slos": "slos.yaml",
            "scenarios": [{"name": "x", "experiment": "e.json", "expect": {"a": {
                "max_budget_consumed": "1%", "no_alert": True,
                "alert": {"name": "ErrorBudgetBurn", "within": "2m", "page": True}}}}]}
    with pytest.raises(ValidationError, match="exclude each other"):
        parse_gameday(plan, "plan.yaml")
    del plan["scenarios"][0]["expect"]["a"]["no_alert"]
    alert = parse_gameday(plan, "plan.yaml").scenarios[0].expect["a"].alert
    assert alert is not None and alert.within == 120 and alert.page
