"""The HTML report's burn-rate chart: the rolling burn rate it draws, and that it is drawn."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from support.synthetic import standard_run

from chaos_suite.report import render_run
from chaos_suite.report.chart import burn_chart_svg, rolling_burn
from chaos_suite.report.series import Counts, Sample
from chaos_suite.slo.model import SLI, SLO, SLIKind

SLO_99_9 = SLO(name="availability", objective=0.999, window_seconds=2592000,
               sli=SLI(SLIKind.AVAILABILITY))


def test_rolling_burn_rate_and_no_data_gaps() -> None:
    samples = [Sample(t=t, source="load", slis={"availability": Counts(good=g, total=100)})
               for t, g in [(0, 100), (1, 95), (2, 100)]]  # 5 bad of 100 in second 1
    points = dict(rolling_burn(samples, SLO_99_9, 0, 5, width=2))
    assert points[0] == 0.0
    assert points[1] == pytest.approx((5 / 200) / 0.001)   # seconds 0-1
    assert points[2] == pytest.approx((5 / 200) / 0.001)   # seconds 1-2
    assert points[3] == 0.0                                 # only second 2 has data
    assert points[4] is None                                # no data is not zero burn


def test_chart_is_valid_svg_with_a_line_per_slo() -> None:
    samples = [Sample(t=t, source="load", slis={"availability": Counts(good=90, total=100)})
               for t in range(30)]
    svg = burn_chart_svg(samples, [SLO_99_9], (0, 30), (10, 20))
    root = ET.fromstring(svg)
    paths = root.findall("{http://www.w3.org/2000/svg}path")
    assert len(paths) == 1 and paths[0].attrib["d"].startswith("M")


def test_html_report_embeds_a_chart_per_scenario(tmp_path: Path) -> None:
    run_dir = standard_run().write(tmp_path / "run")
    written = render_run(run_dir, ("html",))
    html = written["html"].read_text(encoding="utf-8")
    # the timeline chart (burn rate and SLI) and the expected-vs-observed bars
    assert html.count('class="timeline-chart"') == 1 and "burn rate, rolling" in html
    assert html.count('class="bars-chart"') == 1
