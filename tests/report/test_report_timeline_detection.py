"""Detection and load events reach the timeline (and so the chart's markers)."""

from __future__ import annotations

from chaos_suite.record.models import AlertNotified, AlertState, WorkerLost
from chaos_suite.report.timeline import build_timeline


def test_alerts_pages_and_lost_workers_are_on_the_timeline() -> None:
    events = [
        AlertState(t=10.0, name="ErrorBudgetBurn", state="pending"),
        AlertState(t=11.0, name="ErrorBudgetBurn", state="firing"),
        AlertNotified(t=12.0, name="ErrorBudgetBurn", status="firing", receiver="chaos-suite"),
        WorkerLost(t=13.0, reason="killed", live=1, workers=2),
    ]
    entries = build_timeline(events, [])
    assert [(e.t, e.kind) for e in entries] == [
        (10.0, "alert_state"), (11.0, "alert_state"), (12.0, "alert_notified"),
        (13.0, "worker_lost")]
    assert entries[1].text == "alert ErrorBudgetBurn firing (prometheus)"
    assert entries[2].text == "page: alert ErrorBudgetBurn firing notified to chaos-suite"
    assert entries[3].text == "Locust worker lost (killed): 1 of 2 left"
