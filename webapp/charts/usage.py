"""API usage charts: calls per sync run (bars) and the org's daily usage against its limit."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 480, 140
LEFT, RIGHT, TOP, BOTTOM = 36, 4, 10, 22
COLOURS = {"succeeded": "#0176d3", "partial": "#dd7a01", "failed": "#ba0517"}


def _nice_max(value: int) -> int:
    """The smallest 1/2/5 x 10^n at or above `value` (at least 5)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= max(value, 5):
                return step * factor
        step *= 10


def calls_chart(points: Sequence[tuple[int, int, str]]) -> Markup:
    """Bars of API calls per run, oldest left; colour by status; run ids below."""
    title = "API calls per sync run"
    if not points:
        return Markup(
            f'<svg class="qf-chart" viewBox="0 0 {WIDTH} 60" role="img" '
            f'aria-label="{title}"><title>{title}: no finished runs yet</title>'
            '<text x="8" y="34">No finished runs yet.</text></svg>'
        )
    top = _nice_max(max(calls for _id, calls, _s in points))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(points)
    bar = max(2.0, slot * 0.7)
    parts = [
        f'<svg class="qf-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{title}">',
        f"<title>{title} (last {len(points)} runs, most recent on the right)</title>",
    ]
    for frac in (0, 0.5, 1):
        y = TOP + plot_h * (1 - frac)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#e5e5e5" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{int(top * frac):,}</text>'
        )
    label_every = max(1, -(-len(points) // 8))
    for i, (run_id, calls, status) in enumerate(points):
        h = plot_h * calls / top
        x = LEFT + slot * i + (slot - bar) / 2
        colour = COLOURS.get(status, "#706e6b")
        tip = escape(f"Run #{run_id} ({status}): {calls:,} API calls")
        parts.append(
            f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar:.1f}" '
            f'height="{max(h, 1):.1f}" fill="{colour}"><title>{tip}</title></rect>'
        )
        if i % label_every == 0 or i == len(points) - 1:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle">'
                f"#{run_id}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def usage_meter(used: int, limit: int) -> Markup:
    """A horizontal bar of the org's API requests used in its 24-hour window."""
    share = min(1.0, used / limit) if limit else 0.0
    colour = "#ba0517" if share >= 0.9 else "#dd7a01" if share >= 0.75 else "#2e844a"
    label = f"API requests in the last 24 h: {used:,} of {limit:,} ({share * 100:.1f}%)"
    width = max(2.0, WIDTH * share) if used else 0.0
    return Markup(
        f'<svg class="qf-chart qf-meter" viewBox="0 0 {WIDTH} 14" role="img" '
        f'aria-label="{escape(label)}"><title>{escape(label)}</title>'
        f'<rect x="0" y="2" width="{WIDTH}" height="10" rx="5" fill="#ecebea"/>'
        f'<rect x="0" y="2" width="{width:.1f}" height="10" rx="5" fill="{colour}"/></svg>'
    )
