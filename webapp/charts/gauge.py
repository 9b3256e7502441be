"""The attainment gauge: a half dial from 0 to 150% of quota, a mark at quota, the figure inside."""

from __future__ import annotations

import math
from decimal import Decimal

from markupsafe import Markup, escape

from webapp.render import percent

FULL_SCALE = Decimal("1.5")  # the dial ends at 150%; anything above fills it
_CX, _CY, _R, _WIDTH = 100.0, 100.0, 80.0, 16.0


def _point(fraction: Decimal, radius: float = _R) -> tuple[float, float]:
    """Where a fraction of quota sits on the dial (0 at the left end, 150% at the right)."""
    share = float(min(max(fraction, Decimal(0)), FULL_SCALE) / FULL_SCALE)
    angle = math.pi * (1 - share)
    return _CX + radius * math.cos(angle), _CY - radius * math.sin(angle)


def _arc(upto: Decimal) -> str:
    x0, y0 = _point(Decimal(0))
    x1, y1 = _point(upto)
    return f"M{x0:.2f},{y0:.2f} A{_R:.0f},{_R:.0f} 0 0 1 {x1:.2f},{y1:.2f}"


def attainment_gauge(attainment: Decimal | None, *, caption: str = "of quota") -> Markup:
    """An inline SVG gauge of `attainment` (a fraction; None when there is no result)."""
    figure = "—" if attainment is None else percent(attainment)
    title = f"Attainment {figure} {caption}" if attainment is not None else "No attainment yet"
    colour = "#2e844a" if attainment is not None and attainment >= 1 else "#0176d3"
    parts = [
        '<svg class="qf-chart qf-gauge" viewBox="0 0 200 124" role="img">',
        f"<title>{escape(title)}</title>",
        f'<path d="{_arc(FULL_SCALE)}" fill="none" stroke="#ecebea" stroke-width="{_WIDTH}"/>',
    ]
    if attainment is not None and attainment > 0:
        parts.append(
            f'<path class="qf-gauge__value" d="{_arc(attainment)}" fill="none" '
            f'stroke="{colour}" stroke-width="{_WIDTH}"/>'
        )
    xa, ya = _point(Decimal(1), _R - _WIDTH / 2 - 3)
    xb, yb = _point(Decimal(1), _R + _WIDTH / 2 + 3)
    xl, yl = _point(Decimal(1), _R + _WIDTH / 2 + 12)
    parts += [
        f'<line x1="{xa:.2f}" y1="{ya:.2f}" x2="{xb:.2f}" y2="{yb:.2f}" '
        'stroke="#181818" stroke-width="2"/>',
        f'<text x="{xl:.2f}" y="{yl:.2f}" text-anchor="start">quota</text>',
        f'<text x="{_CX - _R:.0f}" y="{_CY + 16:.0f}" text-anchor="middle">0%</text>',
        f'<text x="{_CX + _R:.0f}" y="{_CY + 16:.0f}" text-anchor="middle">150%+</text>',
        f'<text class="qf-gauge__figure" x="{_CX:.0f}" y="{_CY - 8:.0f}" '
        f'text-anchor="middle">{escape(figure)}</text>',
        f'<text x="{_CX:.0f}" y="{_CY + 10:.0f}" text-anchor="middle">{escape(caption)}</text>',
        "</svg>",
    ]
    return Markup("".join(parts))
