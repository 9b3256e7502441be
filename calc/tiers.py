"""Tier arithmetic: split a credited amount across half-open tiers `[from, next from)`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal


def tier_index(value: Decimal, edges: Sequence[Decimal]) -> int:
    """The tier holding `value`; a value equal to an edge falls in the higher tier."""
    index = 0
    for i, edge in enumerate(edges):
        if value >= edge:
            index = i
    return index


def pieces(lo: Decimal, hi: Decimal, edges: Sequence[Decimal]) -> Iterator[tuple[int, Decimal]]:
    """(tier, signed amount) for the move from running total `lo` to `hi`.

    The first tier extends below its edge (a negative running total stays in it) and the
    last one has no upper edge.
    """
    sign = 1
    if hi < lo:
        lo, hi, sign = hi, lo, -1
    order = range(len(edges)) if sign > 0 else range(len(edges) - 1, -1, -1)
    for i in order:
        lower = edges[i] if i > 0 else None
        upper = edges[i + 1] if i + 1 < len(edges) else None
        a = lo if lower is None else max(lo, lower)
        b = hi if upper is None else min(hi, upper)
        if b > a:
            yield i, (b - a) * sign
