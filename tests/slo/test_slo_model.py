"""SLI and SLO validation."""

from __future__ import annotations

import dataclasses

import pytest

from chaos_suite.slo import SLI, SLO, SLIKind, parse_objective

AVAILABILITY = SLI(SLIKind.AVAILABILITY)


def test_error_budget_is_one_minus_objective() -> None:
    slo = SLO("availability", 0.999, 30 * 86_400, AVAILABILITY)
    assert slo.error_budget == pytest.approx(0.001)
    assert slo.source == "load"


@pytest.mark.parametrize("objective", [1.0, 100.0, 1])
def test_objective_of_100_percent_is_refused_with_the_reason(objective: float) -> None:
    with pytest.raises(ValueError, match=r"below 1\.0 \(100% leaves no error budget\)"):
        SLO("a", objective, 60, AVAILABILITY)


@pytest.mark.parametrize("objective", [99.9, 0.0, -0.5, float("nan"), True])
def test_objective_outside_the_open_unit_interval_is_refused(objective: float) -> None:
    with pytest.raises(ValueError, match="objective"):
        SLO("a", objective, 60, AVAILABILITY)


@pytest.mark.parametrize("window", [0, -1, float("inf")])
def test_window_must_be_positive(window: float) -> None:
    with pytest.raises(ValueError, match="window"):
        SLO("a", 0.99, window, AVAILABILITY)


def test_empty_name_is_refused() -> None:
    with pytest.raises(ValueError, match="name"):
        SLO(" ", 0.99, 60, AVAILABILITY)


def test_latency_needs_a_positive_threshold() -> None:
    assert SLI(SLIKind.LATENCY, 250).threshold_ms == 250.0
    for threshold in (None, 0, -5):
        with pytest.raises(ValueError, match="threshold_ms > 0"):
            SLI(SLIKind.LATENCY, threshold)


def test_availability_forbids_a_threshold() -> None:
    with pytest.raises(ValueError, match="no threshold_ms"):
        SLI(SLIKind.AVAILABILITY, 100)


def test_kind_given_as_text_becomes_the_enum() -> None:
    sli = SLI("latency", 300)  # type: ignore[arg-type]
    assert sli.kind is SLIKind.LATENCY
    with pytest.raises(ValueError, match="availability, latency"):
        SLI("throughput")  # type: ignore[arg-type]


def test_models_are_frozen() -> None:
    slo = SLO("a", 0.99, 60, AVAILABILITY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        slo.objective = 0.5  # type: ignore[misc]


def test_mapping_round_trip_and_window_spelling() -> None:
    data = {
        "name": "latency",
        "objective": 0.99,
        "window": "4w",
        "source": "prometheus",
        "sli": {"kind": "latency", "threshold_ms": 250},
    }
    slo = SLO.from_mapping(data)
    assert slo.window_seconds == 28 * 86_400
    assert SLO.from_mapping(slo.to_mapping()) == slo


@pytest.mark.parametrize(
    ("text", "fraction"), [("99.9%", 0.999), ("0.995", 0.995), (0.9, 0.9), (" 99.99 % ", 0.9999)]
)
def test_parse_objective_accepts_fractions_and_percentages(text: str, fraction: float) -> None:
    assert parse_objective(text) == fraction


@pytest.mark.parametrize("text", ["100%", "1.0", "abc", "150%"])
def test_parse_objective_rejects_no_budget_and_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="objective"):
        parse_objective(text)
