"""Estimated commission of open deals for their owners, in bulk.

Same definition as calc's estimator (`calc.estimate`): an open deal is treated as won on
the as-of date, and its estimate is the owner's gross for that period with the deal minus
without it (so a tier lift, a bonus it unlocks or a gate it opens is included). This
version computes only the owner, straight from the owner's credits (no Book re-indexing),
and computes each owner's "without" once: an open deal gives no credit, so the owner's
period as it stands is the baseline for all of their open deals. Tests check it against
`calc.estimate`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from calc.book import Book
from calc.crediting import Credit
from calc.engine import rep_results
from calc.model import Rep
from calc.money import ZERO
from calc.periods import Period
from calc.plan import Plan


def _gross(plan: Plan, rep: Rep, credits: list[Credit], period: Period) -> Decimal:
    results = rep_results(plan, rep, credits, start=period.start, end=period.end)
    return next((r.gross for r in results if r.period.name == period.name), ZERO)


def owner_estimates(book: Book, deal_ids: Iterable[str], *, as_of: date) -> dict[str, Decimal]:
    """Per open deal id, what it would add to its owner's gross if won on `as_of`."""
    credits_of: dict[str, list[Credit]] = {}
    baseline: dict[tuple[str, str], Decimal] = {}
    out: dict[str, Decimal] = {}
    for deal_id in deal_ids:
        original = book.deals[deal_id]
        owner = original.owner_id
        rep = book.reps.get(owner) if owner is not None else None
        plan = book.ctx(owner).plan if owner is not None else None
        if owner is None or rep is None or plan is None:
            out[deal_id] = ZERO
            continue
        hypo = dataclasses.replace(original, is_won=True, is_closed=True, close_date=as_of)
        mine = [c for c in book.deal_credits(hypo)[0] if c.rep_id == owner]
        if not mine:
            out[deal_id] = ZERO
            continue
        period = mine[0].period
        if owner not in credits_of:
            credits_of[owner] = list(book.credits([owner]).by_rep.get(owner, []))
        current = credits_of[owner]
        others = [c for c in current if c.deal_id != deal_id]
        with_deal = _gross(plan, rep, [*others, *mine], period)
        if len(others) != len(current):  # credited while open (a custom `eligible`)
            without = _gross(plan, rep, others, period)
        else:
            key = (owner, period.name)
            if key not in baseline:
                baseline[key] = _gross(plan, rep, current, period)
            without = baseline[key]
        out[deal_id] = with_deal - without
    return out
