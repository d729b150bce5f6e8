"""A burn-rate chart per scenario as inline SVG (no plotting dependency, renders anywhere):
the rolling burn rate of each SLO over the measurement window on a log scale, the fault window
shaded, and the line BR = 1 (spending exactly the budget)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from html import escape

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
