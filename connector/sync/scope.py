"""Which reps and deals a run must recompute: pure functions over the calc Book.

A changed deal touches every rep its credits go to now and every rep they went to before
(read from the stored credits), managers included through rollup credit. A changed split
or team member touches its deal. A changed rep (plan, quota, manager, dates) touches
itself and every deal that credits it, so its old and new manager chains are recomputed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from calc.book import Book


@dataclass(frozen=True, slots=True)
class Changes:
    """Canonical records changed since the last committed calculation, by kind."""

    reps: frozenset[str]
    deals: frozenset[str]  # deleted ones included
    split_deals: frozenset[str]  # deal ids of changed (or deleted) splits
    team_deals: frozenset[str]  # deal ids of changed (or deleted) team members

    @property
    def empty(self) -> bool:
        """Nothing changed."""
        return not (self.reps or self.deals or self.split_deals or self.team_deals)


def changed_deal_ids(book: Book, changes: Changes) -> set[str]:
    """Deals whose credits may have changed."""
    deals = set(changes.deals) | set(changes.split_deals) | set(changes.team_deals)
    for rep_id in changes.reps:
        if rep_id in book.reps:
            deals |= book.touching(rep_id)
    return deals


def current_recipients(book: Book, deal_ids: Iterable[str]) -> set[str]:
    """Reps the deals credit now."""
    reps: set[str] = set()
    for deal_id in deal_ids:
        deal = book.deals.get(deal_id)
        if deal is not None:
            credits, _notes = book.deal_credits(deal)
            reps.update(c.rep_id for c in credits)
    return reps


def touched_reps(
    book: Book, changes: Changes, deal_ids: Iterable[str], previous: Iterable[str]
) -> set[str]:
    """Reps to recompute: previous and current recipients of the deals, and changed reps."""
    reps = current_recipients(book, deal_ids) | set(previous)
    reps |= {r for r in changes.reps if r in book.reps}
    return {r for r in reps if r in book.reps}


def owned_deals(book: Book, rep_ids: Iterable[str]) -> set[str]:
    """Deals owned by these reps (their Opportunity values depend on the owner's results)."""
    out: set[str] = set()
    for rep_id in set(rep_ids):
        out |= {d for d in book.naming(rep_id) if book.deals[d].owner_id == rep_id}
    return out
