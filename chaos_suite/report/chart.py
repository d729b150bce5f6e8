"""A burn-rate chart per scenario as inline SVG (no plotting dependency, renders anywhere):
the rolling burn rate of each SLO over the measurement window on a log scale, the fault window
shaded, and the line BR = 1 (spending exactly the budget); the timeline chart adds each SLO's
per-second good ratio and the run's events as markers, and the bar chart sets the observed
budget and its interval against the expected range."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import escape

from chaos_suite.report.formatting import percent
from chaos_suite.report.series import Sample, build_series, burn_rate_in
from chaos_suite.slo.model import SLO

WIDTH, HEIGHT, LEFT, BOTTOM, TOP, RIGHT = 720, 200, 48, 24, 10, 110
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")


def rolling_burn(samples: Iterable[Sample], slo: SLO, first: int, stop: int, width: int
                 ) -> list[tuple[int, float | None]]:
    """(second, burn rate over the `width` seconds ending there); None where there is no data."""
    series = build_series(samples, slo.name, slo.source)
    return [(second, burn_rate_in(series, slo, second - width + 1, second + 1))
            for second in range(first, stop)]


def _y(burn: float, top: float) -> float:
    # log10(1 + BR): 0 sits on the axis, and BR from 0.1 to 1000 stays readable
    usable = HEIGHT - TOP - BOTTOM
    return TOP + usable * (1 - math.log10(1 + burn) / math.log10(1 + top))


def burn_chart_svg(samples: Sequence[Sample], slos: Sequence[SLO], window: tuple[float, float],
                   fault: tuple[float, float] | None, width_s: int = 5) -> str:
    first, stop = math.floor(window[0]), math.ceil(window[1])
    if stop <= first:
        return ""
    lines = {slo.name: rolling_burn(samples, slo, first, stop, width_s) for slo in slos}
    peak = max((b for pts in lines.values() for _, b in pts if b is not None), default=0.0)
    top = max(10.0, peak * 1.2)
    span = max(1, stop - first - 1)

    def x(second: float) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * (second - first) / span

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'role="img" aria-label="burn rate over time">',
             f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" '
             f'height="{HEIGHT - TOP - BOTTOM}" fill="#fafafa" stroke="#ccc"/>']
    if fault is not None:
        x0, x1 = x(max(fault[0], first)), x(min(fault[1], stop - 1))
        parts.append(f'<rect x="{x0:.1f}" y="{TOP}" width="{max(x1 - x0, 1):.1f}" '
                     f'height="{HEIGHT - TOP - BOTTOM}" fill="#fde0e0"><title>fault window</title></rect>')
    for value in (1, 10, 100, 1000):
        if value <= top:
            y = _y(value, top)
            dash = ' stroke-dasharray="4 3"' if value == 1 else ""
            parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                         f'stroke="#999"{dash}/><text x="{LEFT - 4}" y="{y + 4:.1f}" '
                         f'font-size="10" text-anchor="end">{value}×</text>')
    for index, (name, points) in enumerate(lines.items()):
        colour = COLOURS[index % len(COLOURS)]
        path, pen_down = [], False
        for second, burn in points:
            if burn is None:
                pen_down = False
                continue
            path.append(f"{'L' if pen_down else 'M'}{x(second):.1f},{_y(burn, top):.1f}")
            pen_down = True
        if path:
            parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" '
                         f'stroke-width="1.5"><title>{escape(name)}</title></path>')
        parts.append(f'<text x="{WIDTH - RIGHT + 6}" y="{TOP + 14 + 14 * index}" font-size="11" '
                     f'fill="{colour}">{escape(name)}</text>')
    parts.append(f'<text x="{LEFT}" y="{HEIGHT - 6}" font-size="10">0 s</text>'
                 f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" font-size="10" text-anchor="end">'
                 f'{stop - first} s</text><text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 6}" '
                 f'font-size="10" text-anchor="middle">burn rate, rolling {width_s} s (log scale)'
                 f'</text></svg>')
    return "".join(parts)


# ------------------------------------------------------------------ timeline chart

# marker styles by timeline kind; detection events (any kind naming a detection or an alert)
# and kinds not listed get the default, so new event types show without a change here
MARKER_STYLES: dict[str, tuple[str, str]] = {  # kind -> (colour, dash)
    "fault_injected": ("#b00020", ""),
    "fault_cleared": ("#116611", ""),
    "abort": ("#000000", ""),
    "note": ("#7b3fa0", "2 2"),
    "detection": ("#0057b7", "6 2"),
}
DEFAULT_MARKER = ("#666666", "1 3")


@dataclass(frozen=True)
class Marker:
    """A vertical line on the timeline chart at epoch second ``t``; ``label`` is its tooltip."""

    t: float
    kind: str
    label: str

    @property
    def style(self) -> tuple[str, str]:
        if self.kind in MARKER_STYLES:
            return MARKER_STYLES[self.kind]
        if "detect" in self.kind or "alert" in self.kind:
            return MARKER_STYLES["detection"]
        return DEFAULT_MARKER


def good_ratios(samples: Iterable[Sample], slo: SLO, first: int, stop: int
                ) -> list[tuple[int, float | None]]:
    """(second, good / total of that second); None where the second has no events."""
    series = build_series(samples, slo.name, slo.source)
    out: list[tuple[int, float | None]] = []
    for second in range(first, stop):
        counts = series.get(second)
        out.append((second, counts.good / counts.total if counts and counts.total else None))
    return out


def _path(points: Sequence[tuple[float, float | None]], y: Callable[[float], float],
          x: Callable[[float], float]) -> str:
    """An SVG path through the points, lifting the pen over gaps (None: no data)."""
    out, pen_down = [], False
    for second, value in points:
        if value is None:
            pen_down = False
            continue
        out.append(f"{'L' if pen_down else 'M'}{x(second):.1f},{y(value):.1f}")
        pen_down = True
    return " ".join(out)


def timeline_chart_svg(samples: Sequence[Sample], slos: Sequence[SLO],
                       window: tuple[float, float], fault: tuple[float, float] | None,
                       width_s: int = 5, markers: Sequence[Marker] = ()) -> str:
    """Two panels over the measurement window sharing the time axis: the rolling burn rate
    per SLO (log scale, BR = 1 dashed) above, each SLO's per-second good ratio (SLI) below;
    the fault window shaded in both and each marker drawn across both, labelled by a
    numbered tick whose tooltip is the marker's text (the report lists them under the chart).
    """
    first, stop = math.floor(window[0]), math.ceil(window[1])
    if stop <= first:
        return ""
    width, left, right = 760, 56, 130
    burn_top, burn_h, gap, sli_h, bottom = 22, 150, 26, 110, 26
    sli_top = burn_top + burn_h + gap
    height = sli_top + sli_h + bottom
    span = max(1, stop - first - 1)
    plot_w = width - left - right

    def x(second: float) -> float:
        return left + plot_w * (min(max(second, first), stop - 1) - first) / span

    lines = {slo.name: rolling_burn(samples, slo, first, stop, width_s) for slo in slos}
    ratios = {slo.name: good_ratios(samples, slo, first, stop) for slo in slos}
    peak = max((b for pts in lines.values() for _, b in pts if b is not None), default=0.0)
    top = max(10.0, peak * 1.2)
    lowest = min((r for pts in ratios.values() for _, r in pts if r is not None), default=1.0)
    floor_ratio = min(0.9, math.floor(lowest * 10) / 10)  # tenths: 0.9 unless it fell lower

    def y_burn(burn: float) -> float:
        return burn_top + burn_h * (1 - math.log10(1 + burn) / math.log10(1 + top))

    def y_sli(good: float) -> float:
        return sli_top + sli_h * (1 - (max(good, floor_ratio) - floor_ratio) / (1 - floor_ratio))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" class="timeline-chart" role="img" '
             f'aria-label="burn rate and SLI over time">']
    for panel_top, panel_h in ((burn_top, burn_h), (sli_top, sli_h)):
        parts.append(f'<rect x="{left}" y="{panel_top}" width="{plot_w}" height="{panel_h}" '
                     'fill="#fafafa" stroke="#ccc"/>')
        if fault is not None:
            x0, x1 = x(fault[0]), x(fault[1])
            parts.append(f'<rect class="fault-window" x="{x0:.1f}" y="{panel_top}" '
                         f'width="{max(x1 - x0, 1):.1f}" height="{panel_h}" fill="#fde0e0">'
                         '<title>fault window</title></rect>')
    for value in (1, 10, 100, 1000, 10000):
        if value <= top:
            y = y_burn(value)
            dash = ' stroke-dasharray="4 3"' if value == 1 else ""
            parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                         f'stroke="#999"{dash}/><text x="{left - 4}" y="{y + 4:.1f}" '
                         f'font-size="10" text-anchor="end">{value}×</text>')
    for good in (floor_ratio, (1 + floor_ratio) / 2, 1.0):
        y = y_sli(good)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#ddd"/><text x="{left - 4}" y="{y + 4:.1f}" font-size="10" '
                     f'text-anchor="end">{good * 100:g}%</text>')
    for index, slo in enumerate(slos):
        colour = COLOURS[index % len(COLOURS)]
        name = escape(slo.name)
        if d := _path(lines[slo.name], y_burn, x):
            parts.append(f'<path class="burn" d="{d}" fill="none" stroke="{colour}" '
                         f'stroke-width="1.5"><title>{name}: burn rate</title></path>')
        if d := _path(ratios[slo.name], y_sli, x):
            parts.append(f'<path class="sli" d="{d}" fill="none" stroke="{colour}" '
                         f'stroke-width="1.5"><title>{name}: good ratio</title></path>')
        parts.append(f'<text x="{width - right + 8}" y="{burn_top + 14 + 14 * index}" '
                     f'font-size="11" fill="{colour}">{name}</text>')
    for number, marker in enumerate(markers, 1):
        if not first <= marker.t <= stop:
            continue
        colour, dash = marker.style
        mx = x(marker.t)
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<g class="marker marker-{escape(marker.kind)}"><title>{number}. '
                     f'{escape(marker.label)}</title><line x1="{mx:.1f}" x2="{mx:.1f}" '
                     f'y1="{burn_top - 4}" y2="{sli_top + sli_h}" stroke="{colour}"{dashes}/>'
                     f'<text x="{mx:.1f}" y="{burn_top - 7}" font-size="9" fill="{colour}" '
                     f'text-anchor="middle">{number}</text></g>')
    label_y = height - 8
    parts.append(
        f'<text x="{left + 4}" y="{burn_top + 12}" font-size="10" fill="#555">burn rate, '
        f'rolling {width_s} s (log scale)</text>'
        f'<text x="{left + 4}" y="{sli_top + 12}" font-size="10" fill="#555">SLI: good '
        'events per second</text>'
        f'<text x="{left}" y="{label_y}" font-size="10">0 s</text>'
        f'<text x="{width - right}" y="{label_y}" font-size="10" text-anchor="end">'
        f'{stop - first} s</text></svg>')
    return "".join(parts)


# ------------------------------------------------------------------ expected vs observed


@dataclass(frozen=True)
class Bar:
    """One SLO's row: the expected budget range (either end open), the attributed budget
    observed and its 95% interval, all as budget fractions; ``verdict`` picks the colour."""

    label: str
    expected_min: float | None
    expected_max: float | None
    observed: float | None
    interval: tuple[float, float] | None
    verdict: str


VERDICT_COLOURS = {"as-expected": "#2e7d32", "worse-than-expected": "#c62828",
                   "better-than-expected": "#b58900", "inconclusive": "#757575"}


def expectation_bars_svg(bars: Sequence[Bar]) -> str:
    """Horizontal bars on one linear budget axis: the expected range as a green band, the
    observed attributed budget as a bar in its verdict's colour, its 95% interval as a
    whisker."""
    if not bars:
        return ""
    width, left, right, row, top = 760, 120, 150, 34, 8
    height = top + row * len(bars) + 24
    values: list[float] = [v for b in bars for v in (b.expected_min, b.expected_max, b.observed,
                                                       *(b.interval or ())) if v is not None]
    axis_max = max([*values, 1e-9]) * 1.15
    plot_w = width - left - right

    def x(value: float) -> float:
        return left + plot_w * max(0.0, min(value, axis_max)) / axis_max

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" class="bars-chart" role="img" '
             'aria-label="expected and observed budget per SLO">']
    for index, bar in enumerate(bars):
        y0 = top + index * row
        mid = y0 + row / 2
        parts.append(f'<text x="{left - 6}" y="{mid + 4:.1f}" font-size="11" '
                     f'text-anchor="end">{escape(bar.label)}</text>'
                     f'<rect x="{left}" y="{y0 + 3}" width="{plot_w}" height="{row - 6}" '
                     'fill="#fafafa" stroke="#eee"/>')
        if bar.expected_min is not None or bar.expected_max is not None:
            low = x(bar.expected_min or 0.0)
            high = x(bar.expected_max if bar.expected_max is not None else axis_max)
            parts.append(f'<rect class="expected" x="{low:.1f}" y="{y0 + 3}" '
                         f'width="{max(high - low, 1):.1f}" height="{row - 6}" '
                         'fill="#c8e6c9" fill-opacity="0.8"><title>expected range</title></rect>')
        colour = VERDICT_COLOURS.get(bar.verdict, "#757575")
        text = "n/a"
        if bar.observed is not None:
            parts.append(f'<rect class="observed" x="{left}" y="{mid - 5:.1f}" '
                         f'width="{max(x(bar.observed) - left, 1):.1f}" height="10" '
                         f'fill="{colour}"><title>observed (attributed)</title></rect>')
            text = percent(bar.observed)
        if bar.interval is not None:
            lo, hi = x(bar.interval[0]), x(bar.interval[1])
            parts.append(f'<path class="interval" d="M{lo:.1f},{mid:.1f} L{hi:.1f},{mid:.1f} '
                         f'M{lo:.1f},{mid - 7:.1f} L{lo:.1f},{mid + 7:.1f} M{hi:.1f},'
                         f'{mid - 7:.1f} L{hi:.1f},{mid + 7:.1f}" stroke="#222" '
                         'stroke-width="1.2" fill="none"><title>95% interval</title></path>')
        parts.append(f'<text x="{width - right + 6}" y="{mid + 4:.1f}" font-size="11" '
                     f'fill="{colour}">{text} ({escape(bar.verdict)})</text>')
    parts.append(f'<text x="{left}" y="{height - 6}" font-size="10">0%</text>'
                 f'<text x="{width - right}" y="{height - 6}" font-size="10" '
                 f'text-anchor="end">{percent(axis_max)} of the error budget</text></svg>')
    return "".join(parts)
