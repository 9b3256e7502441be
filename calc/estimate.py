"""The estimator: what one deal pays each participant (or would pay if won on `as_of`).

For an open deal the deal is treated as won with credit date `as_of`; for a won deal its
own credit date is used. Each participant's amount is their gross for that period with the
deal minus without it, so a deal that lifts earlier deals into a higher tier, unlocks a
bonus or crosses a gate is estimated in full; the part not on the deal's own lines is shown
as one `effect on the rest of the period` line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from calc.book import Book
from calc.engine import calculate_book
from calc.model import Deal, Rep, Split, TeamMember
from calc.money import ZERO, money_str
from calc.plan import PlanDoc
from calc.results import CalcResult, Line


@dataclass(frozen=True, slots=True)
class ParticipantEstimate:
    """What the deal adds to one rep's period gross, with the lines that explain it."""

    rep_id: str
    credit_types: tuple[str, ...]
    period: str
    amount: Decimal
    lines: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class DealEstimate:
    """The estimate for every participant of one deal."""

    deal_id: str
    as_of: date
    won: bool
    participants: tuple[ParticipantEstimate, ...]
    owner_id: str | None

    def owner_amount(self) -> Decimal:
        """What the deal pays (or would pay) its owner: the `Estimated_Commission__c` value."""
        return sum((p.amount for p in self.participants if p.rep_id == self.owner_id), ZERO)


def _gross(
    result: CalcResult, rep_id: str, period: str
) -> tuple[Decimal, list[Line], dict[str, Decimal]]:
    res = result.result(rep_id, period)
    if res is None:
        return ZERO, [], {}
    return res.gross, list(res.lines), dict(res.components)


def _effect(own: list[Line], with_c: dict[str, Decimal], without_c: dict[str, Decimal]) -> str:
    """Which components moved beyond the deal's own lines, e.g. `quota-bonus +1000.00`."""
    parts = []
    for name, amount in with_c.items():
        delta = (
            amount
            - without_c.get(name, ZERO)
            - sum((ln.amount for ln in own if ln.component == name), ZERO)
        )
        if delta:
            parts.append(f"{name} {'+' if delta > 0 else ''}{money_str(delta)}")
    return "effect on the rest of the period: " + ", ".join(parts)


def estimate_in_book(book: Book, deal_id: str, *, as_of: date) -> DealEstimate:
    """Estimate against an existing Book (temporarily swaps the deal; not thread-safe)."""
    original = book.deals[deal_id]
    won = original.is_won
    hypo = original if won else replace(original, is_won=True, is_closed=True, close_date=as_of)
    try:
        book.put_deal(hypo)
        credits, _ = book.deal_credits(hypo)
        people = sorted({c.rep_id for c in credits if book.ctx(c.rep_id).plan is not None})
        periods = {c.rep_id: c.period for c in credits}
        if not people:
            return DealEstimate(deal_id, as_of, won, (), original.owner_id)
        lo = min(p.start for p in periods.values())
        hi = max(p.end for p in periods.values())
        with_deal = calculate_book(book, start=lo, end=hi, rep_ids=people)
        book.remove_deal(deal_id, keep_related=True)
        without = calculate_book(book, start=lo, end=hi, rep_ids=people)
    finally:
        book.put_deal(original)
    out = []
    for rep_id in people:
        name = periods[rep_id].name
        gross_with, lines, with_c = _gross(with_deal, rep_id, name)
        gross_without, _, without_c = _gross(without, rep_id, name)
        amount = gross_with - gross_without
        own = [line for line in lines if line.deal_id == deal_id]
        rest = amount - sum((line.amount for line in own), ZERO)
        if rest:
            effect = _effect(own, with_c, without_c)
            own.append(Line("effect", None, None, rest, Decimal(1), rest, effect))
        types = tuple(sorted({c.credit_type for c in credits if c.rep_id == rep_id}))
        out.append(ParticipantEstimate(rep_id, types, name, amount, tuple(own)))
    return DealEstimate(deal_id, as_of, won, tuple(out), original.owner_id)


def estimate_deal(
    doc: PlanDoc,
    reps: Iterable[Rep],
    deals: Iterable[Deal],
    splits: Iterable[Split],
    team: Iterable[TeamMember],
    deal_id: str,
    *,
    as_of: date,
) -> DealEstimate:
    """What `deal_id` adds for each participant if won on `as_of` (or adds, if already won)."""
    return estimate_in_book(Book(doc, reps, deals, splits, team), deal_id, as_of=as_of)
