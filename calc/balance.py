"""From a period's gross to its net: the draw guarantee, carried negatives and recovery.

Business rules (docs/plan-policies.md has the worked examples):
- A draw guarantees `amount` of *earnings* a period: the top-up is the draw minus what the
  period earned before clawbacks, never less than zero. A guarantee floors earnings; it does
  not pay back clawed-back commission.
- A period never pays less than the draw (zero without one). Pay below that floor (clawbacks
  above earnings) is the period's `shortfall`: carried as a balance recovered from later
  earnings (`negative_balance: carry`, the default) or written off (`forgive`).
- A recoverable draw's top-up is added to the balance. Recovery takes only what a period
  pays above the floor: carried negatives first, then draw advances.
- `draw.reset: fiscal_year` forgives what is owed of draw advances at each fiscal year start
  (carried negatives are real overpayments and are never reset).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from calc.money import ZERO
from calc.plan import Plan
from calc.results import DrawState

NOTHING = DrawState(ZERO, ZERO, ZERO, ZERO)


@dataclass(slots=True)
class Balance:
    """What a rep owes, carried from period to period (both parts never negative)."""

    draw: Decimal = ZERO  # recoverable draw advances not yet recovered
    negative: Decimal = ZERO  # negative pay carried forward

    def new_year(self, plan: Plan) -> None:
        """A fiscal year starts: a draw that resets yearly forgives its advances."""
        if plan.draw is not None and plan.draw.reset == "fiscal_year":
            self.draw = ZERO

    def settle(
        self, plan: Plan, gross: Decimal, clawback: Decimal, *, with_draw: bool
    ) -> DrawState:
        """Apply this period's gross (of which `clawback` is clawed back) to the balance."""
        draw = plan.draw if with_draw else None
        if draw is None and not self.negative and not self.draw and gross >= 0:
            return NOTHING  # no draw, nothing owed, nothing negative: what the rules give
        floor = draw.amount if draw is not None else ZERO
        earned = gross - clawback
        top_up = max(ZERO, floor - earned) if draw is not None else ZERO
        pay = gross + top_up
        shortfall = recovered = ZERO
        if pay < floor:
            shortfall = floor - pay
            if plan.negative_balance == "carry":
                self.negative += shortfall
        else:
            room = pay - floor
            from_negative = min(self.negative, room)
            from_draw = min(self.draw, room - from_negative)
            self.negative -= from_negative
            self.draw -= from_draw
            recovered = from_negative + from_draw
        if draw is not None and draw.recoverable:
            self.draw += top_up
        return DrawState(top_up, recovered, self.draw + self.negative, shortfall)
