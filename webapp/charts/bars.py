"""Small horizontal bars as inline SVG: attainment against quota, a value against the leader."""

from __future__ import annotations

from decimal import Decimal

from markupsafe import Markup, escape

WIDTH, HEIGHT = 120, 12
TRACK, BRAND, SUCCESS, MARK = "#ecebea", "#0176d3", "#2e844a", "#181818"


def _share(value: Decimal, scale: Decimal) -> float:
    """The bar's length as a share of the track, clamped to [0, 1] (geometry, not money)."""
    if scale <= 0:
        return 0.0
    return float(min(max(value / scale, Decimal(0)), Decimal(1)))


def meter(
    value: Decimal | None,
    *,
    title: str,
    scale: Decimal = Decimal(1),
    target: Decimal | None = None,
) -> Markup:
    """A bar of `value` on a track of `scale`; a tick at `target`, green once reached."""
    parts = [
        f'<svg class="qf-chart qf-meter" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="none">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="2" width="{WIDTH}" height="{HEIGHT - 4}" rx="3" fill="{TRACK}"/>',
    ]
    if value is not None:
        fill = SUCCESS if target is not None and value >= target else BRAND
        width = WIDTH * _share(value, scale)
        parts.append(
            f'<rect x="0" y="2" width="{width:.1f}" height="{HEIGHT - 4}" rx="3" fill="{fill}"/>'
        )
    if target is not None and scale > 0:
        x = WIDTH * _share(target, scale)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{HEIGHT}" stroke="{MARK}" '
            'stroke-width="1.5"/>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
