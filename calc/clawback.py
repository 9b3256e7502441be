"""Clawbacks: a won deal cancelled within the plan's window gives back what it was paid.

Two modes (docs/plan-policies.md has the worked examples):
- `deal_lines`: `percent` of what the deal's own lines earned in its credit period.
- `recalculate`: `percent` of what the credit period paid above the same period without the
  deal (tiers it lifted other deals into, bonuses it unlocked), and the cancelled credit is
  reversed in the cancellation period. Deals cancelled out of one period are taken away one
  after another in cancellation order, so together they give back exactly what the period
  paid above the period without all of them.
Either way the clawback is a negative `clawback` line in the period holding `cancel_date`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal

from calc.components import Raw
from calc.crediting import Credit
from calc.money import ZERO, money_str, pct_str
from calc.periods import Period
from calc.plan import Clawback

# What a rep's period paid (sum of its components) with some deals taken away.
PaidWithout = Callable[[Period, frozenset[str]], Decimal]
# What one credit's own lines earned in its credit period.
Earned = Callable[[Credit], Decimal]


def clawable(credits: Iterable[Credit], rule: Clawback) -> list[Credit]:
    """Credits of deals cancelled within the window after their credit date."""
    return [
        c
        for c in credits
        if (cancel := c.deal.cancel_date) is not None
        and 0 <= (cancel - c.credit_date).days <= rule.window_days
    ]


def deal_lines(here: list[Credit], rule: Clawback, earned: Earned) -> list[Raw]:
    """`deal_lines` clawback lines for the credits cancelled in one period."""
    out: list[Raw] = []
    for c in here:
        amount = earned(c)
        if amount == ZERO:
            continue
        why = f"{_cancelled(c)}; {pct_str(rule.percent)} of {money_str(amount)} earned"
        why += f" in {c.period.name}"
        out.append((c.deal_id, c.credit_type, amount, -rule.percent, -amount * rule.percent, why))
    return out


def recalculated(
    here: list[Credit],
    *,
    cancelled: list[Credit],
    rule: Clawback,
    credit_types: frozenset[str],
    paid_without: PaidWithout,
) -> tuple[list[Raw], Decimal]:
    """`recalculate` clawback lines for one period, and the credit they reverse."""
    out: list[Raw] = []
    reversed_credit = ZERO
    done: set[str] = set()
    for c in here:
        reversed_credit += c.amount if c.credit_type in credit_types else ZERO
        if c.deal_id in done:
            continue  # one line per deal, whatever credit types the rep holds on it
        done.add(c.deal_id)
        before = frozenset(
            d.deal_id for d in cancelled if d.period == c.period and _order(d) < _order(c)
        )
        diff = paid_without(c.period, before) - paid_without(c.period, before | {c.deal_id})
        if diff == ZERO:
            continue
        why = (
            f"{_cancelled(c)}; {pct_str(rule.percent)} of {money_str(diff)}: {c.period.name} "
            "recalculated without the deal"
        )
        out.append((c.deal_id, c.credit_type, diff, -rule.percent, -diff * rule.percent, why))
    return out, reversed_credit


def cancel_day(c: Credit) -> date:
    """The cancel date of a clawable credit's deal."""
    assert c.deal.cancel_date is not None
    return c.deal.cancel_date


def _order(c: Credit) -> tuple[date, str]:
    return (cancel_day(c), c.deal_id)


def _cancelled(c: Credit) -> str:
    cancel = cancel_day(c)
    days = (cancel - c.credit_date).days
    return f"clawback: {c.deal_id} cancelled {cancel.isoformat()}, {days} days after credit"
