"""A histogram as inline SVG: one bar per bin, its count above, its label below."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 360, 170
LEFT, RIGHT, TOP, BOTTOM = 4, 4, 18, 38
BRAND, SUCCESS, GRID = "#0176d3", "#2e844a", "#dddbda"


def histogram(
    bins: Sequence[tuple[str, int]], *, title: str, x_label: str = "", good_from: int | None = None
) -> Markup:
    """Bars of `(label, count)` bins, left to right; bins from index `good_from` drawn green."""
    total = sum(count for _label, count in bins)
    summary = f"{title}: " + ", ".join(f"{label} {count}" for label, count in bins)
    parts = [
        f'<svg class="qf-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(summary)}</title>",
    ]
    if not bins or total == 0:
        parts.append(f'<text x="{LEFT}" y="{HEIGHT / 2:.0f}">Nobody to show yet.</text></svg>')
        return Markup("".join(parts))
    top = max(count for _label, count in bins)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(bins)
    bar = slot * 0.78
    base = TOP + plot_h
    parts.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}" stroke="{GRID}"/>'
    )
    for i, (label, count) in enumerate(bins):
        h = plot_h * count / top
        x = LEFT + slot * i + (slot - bar) / 2
        mid = x + bar / 2
        fill = SUCCESS if good_from is not None and i >= good_from else BRAND
        tip = escape(f"{label}: {count}")
        if count:
            parts.append(
                f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{fill}" rx="2"><title>{tip}</title></rect>'
            )
        parts.append(
            f'<text x="{mid:.1f}" y="{base - h - 5:.1f}" text-anchor="middle">{count}</text>'
            f'<text x="{mid:.1f}" y="{base + 15}" text-anchor="middle">{escape(label)}</text>'
        )
    if x_label:
        parts.append(
            f'<text x="{WIDTH / 2:.0f}" y="{HEIGHT - 4}" text-anchor="middle">'
            f"{escape(x_label)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
