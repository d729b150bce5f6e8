"""SLO files: own format, OpenSLO v1, and the errors that name file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos_suite.errors import ValidationError
from chaos_suite.files.loader import load_slos
from chaos_suite.files.slo_file import PrometheusSource

ROOT = Path(__file__).resolve().parents[2]

OWN_EQUIVALENT = """\
apiVersion: chaos-suite/v1
kind: SLOs
service: checkout
slos:
  - name: checkout-availability
    objective: 99.9%
    window: 4w
    source:
      type: prometheus
      good: sum(checkout_http_requests_total{status_class!="5xx"})
      total: sum(checkout_http_requests_total)
"""


def write(tmp_path: Path, text: str, name: str = "f.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_openslo_maps_onto_the_same_model_as_own_format(tmp_path: Path) -> None:
    openslo = load_slos(ROOT / "gamedays/slos/checkout-openslo.yaml")
    own = load_slos(write(tmp_path, OWN_EQUIVALENT))
    assert len(openslo) == len(own) == 1
    a, b = openslo[0], own[0]
    assert a.slo.objective == b.slo.objective == 0.999
    assert a.slo.window_seconds == b.slo.window_seconds == 28 * 86400
    assert a.slo.sli == b.slo.sli
    assert a.source == b.source
    assert isinstance(a.source, PrometheusSource) and a.source.bad is None
    assert a.service == b.service == "checkout"


def test_target_percent_and_bad_query(tmp_path: Path) -> None:
    text = (ROOT / "gamedays/slos/checkout-openslo.yaml").read_text(encoding="utf-8")
    text = text.replace("target: 0.999", "targetPercent: 99.5").replace("good:", "bad:")
    spec = load_slos(write(tmp_path, text))[0]
    assert spec.slo.objective == pytest.approx(0.995)
    assert isinstance(spec.source, PrometheusSource) and spec.source.good is None


@pytest.mark.parametrize(
    ("snippet", "field", "problem"),
    [
        ("objective: 100%", "slos[0].objective", "below 1.0"),
        ("objective: 0.999\n    window: 0d", "slos[0].window", "duration"),
        ("objective: 0.999\n    sli: {kind: latency}", "slos[0].sli", "threshold_ms"),
        ("objective: 0.999\n    source: {type: graphite}", "slos[0].source", "graphite"),
        ("objective: 0.999\n    colour: red", "slos[0].colour", "unknown field"),
        ("objective: lots", "slos[0].objective", "percentage"),
    ],
)
def test_own_format_errors_name_the_field(tmp_path: Path, snippet: str, field: str,
                                          problem: str) -> None:
    path = write(tmp_path, f"kind: SLOs\nservice: s\nslos:\n  - name: a\n    {snippet}\n")
    with pytest.raises(ValidationError) as info:
        load_slos(path)
    assert info.value.file == str(path)
    assert info.value.field == field
    assert problem in str(info.value)
    assert "\n" not in str(info.value)


def test_windows_in_several_units(tmp_path: Path) -> None:
    text = "kind: SLOs\nservice: s\nslos:\n" + "".join(
        f"  - name: w{i}\n    objective: 0.99\n    window: {w}\n"
        for i, w in enumerate(["30d", "4w", "1h"]))
    windows = [s.slo.window_seconds for s in load_slos(write(tmp_path, text))]
    assert windows == [30 * 86400, 28 * 86400, 3600]


def test_duplicate_names_rejected(tmp_path: Path) -> None:
    text = "kind: SLOs\nservice: s\nslos:\n  - {name: a, objective: 0.9}\n  - {name: a, objective: 0.9}\n"
    with pytest.raises(ValidationError, match="duplicate SLO name"):
        load_slos(write(tmp_path, text))


def test_openslo_indicator_ref_to_a_missing_sli_names_the_field(tmp_path: Path) -> None:
    text = (ROOT / "gamedays/slos/checkout-openslo.yaml").read_text(encoding="utf-8")
    head, _, _ = text.partition("  indicator:")
    text = head + "  indicatorRef: some-sli\n  timeWindow:\n    - duration: 28d\n" \
        "  budgetingMethod: Occurrences\n  objectives:\n    - target: 0.999\n"
    with pytest.raises(ValidationError) as info:
        load_slos(write(tmp_path, text))
    assert info.value.field == "spec.indicatorRef"
    assert "no SLI named 'some-sli' in this file or the other files given" in str(info.value)
