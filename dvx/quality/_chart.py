"""Inline SVG charts for the HTML reports (no script, no network, no library).

Two charts: overlaid histograms of a numeric column (baseline and current as
step areas on the same bins) and grouped bars of category shares. Both return
an ``<svg>`` element as text with a ``<title>`` for screen readers.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

BASE_COLOUR = "#3b6fb6"
CURRENT_COLOUR = "#e0702a"

_W, _H = 560, 200
_PAD_L, _PAD_R, _PAD_T, _PAD_B = 44, 12, 14, 34


def fmt_number(x: float | None) -> str:
    """A number for people (:func:`dvx.quality.numbers.number`); "–" when missing or not finite."""
    from dvx.quality.numbers import number

    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return number(x)


def _esc(s: str) -> str:
    return html.escape(s, quote=True)


def _legend(x: float, y: float) -> str:
    return (
        f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{BASE_COLOUR}" fill-opacity="0.45" '
        f'stroke="{BASE_COLOUR}"/><text x="{x + 14}" y="{y}" class="lg">baseline</text>'
        f'<rect x="{x + 78}" y="{y - 9}" width="10" height="10" fill="{CURRENT_COLOUR}" fill-opacity="0.45" '
        f'stroke="{CURRENT_COLOUR}"/><text x="{x + 92}" y="{y}" class="lg">current</text>'
    )


def histogram_svg(edges: Sequence[float], base: Sequence[float], current: Sequence[float], label: str) -> str:
    """Overlaid step histograms of two share vectors on the same ``edges``."""
    n = len(base)
    top = max(max(base, default=0.0), max(current, default=0.0)) or 1.0
    pw = _W - _PAD_L - _PAD_R
    ph = _H - _PAD_T - _PAD_B
    bw = pw / max(n, 1)

    def path(shares: Sequence[float]) -> str:
        y0 = _PAD_T + ph
        pts = [f"M{_PAD_L:.1f},{y0:.1f}"]
        for i, s in enumerate(shares):
            y = _PAD_T + ph * (1 - s / top)
            pts.append(f"L{_PAD_L + i * bw:.1f},{y:.1f}L{_PAD_L + (i + 1) * bw:.1f},{y:.1f}")
        pts.append(f"L{_PAD_L + n * bw:.1f},{y0:.1f}Z")
        return "".join(pts)

    ticks = []
    for frac in (0.0, 0.5, 1.0):
        y = _PAD_T + ph * (1 - frac)
        ticks.append(f'<line x1="{_PAD_L}" x2="{_W - _PAD_R}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{_PAD_L - 4}" y="{y + 4:.1f}" class="ax" text-anchor="end">'
                     f'{top * frac * 100:.1f}%</text>')
    xl = [(0, edges[0]), (n // 2, edges[n // 2]), (n, edges[n])] if n else []
    xt = "".join(
        f'<text x="{_PAD_L + i * bw:.1f}" y="{_H - _PAD_B + 14}" class="ax" '
        f'text-anchor="{"start" if i == 0 else "end" if i == n else "middle"}">{_esc(fmt_number(float(v)))}</text>'
        for i, v in xl)
    return (
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{_esc(label)}</title>{"".join(ticks)}'
        f'<path d="{path(base)}" fill="{BASE_COLOUR}" fill-opacity="0.35" stroke="{BASE_COLOUR}" stroke-width="1.5"/>'
        f'<path d="{path(current)}" fill="{CURRENT_COLOUR}" fill-opacity="0.35" stroke="{CURRENT_COLOUR}" '
        f'stroke-width="1.5"/>{xt}{_legend(_PAD_L, _H - 6)}</svg>'
    )


def bars_svg(names: Sequence[str], base: Sequence[float], current: Sequence[float], label: str) -> str:
    """Grouped horizontal bars of category shares (baseline above current)."""
    n = len(names)
    row = 26
    h = _PAD_T + n * row + 26
    left = 150
    pw = _W - left - 120  # room for the 'a% → b%' label right of the longest bar
    top = max(max(base, default=0.0), max(current, default=0.0)) or 1.0
    parts = []
    for i, (name, b, c) in enumerate(zip(names, base, current, strict=True)):
        y = _PAD_T + i * row
        short = name if len(name) <= 22 else name[:21] + "…"
        parts.append(
            f'<text x="{left - 6}" y="{y + 15}" class="ax" text-anchor="end">{_esc(short)}</text>'
            f'<rect x="{left}" y="{y + 2}" width="{pw * b / top:.1f}" height="10" fill="{BASE_COLOUR}" '
            f'fill-opacity="0.8"/><rect x="{left}" y="{y + 12}" width="{pw * c / top:.1f}" height="10" '
            f'fill="{CURRENT_COLOUR}" fill-opacity="0.8"/>'
            f'<text x="{left + pw * max(b, c) / top + 4:.1f}" y="{y + 16}" class="ax">'
            f'{b * 100:.1f}% → {c * 100:.1f}%</text>')
    return (
        f'<svg class="chart" viewBox="0 0 {_W} {h}" width="{_W}" height="{h}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{_esc(label)}</title>{"".join(parts)}'
        f'{_legend(left, h - 6)}</svg>'
    )
