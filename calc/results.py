"""What a calculation returns: lines, period results and the whole result (immutable records)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from calc.crediting import Credit, Unresolved
from calc.money import ZERO
from calc.periods import Period

if TYPE_CHECKING:
    from calc.adjustments import Adjustment


class Line(NamedTuple):
    """One earning line: which component, deal and credit produced how much, and why.

    An immutable record like the rest of calc's vocabulary, but a named tuple: a full run
    builds over a million of them, and a tuple is built in one step where a frozen
    dataclass sets thirteen slots one by one (`_replace` is its `dataclasses.replace`).
    """

    component: str
    deal_id: str | None
    credit_type: str | None
    base: Decimal
    rate: Decimal
    amount: Decimal
    explain: str
    # What caps took off this line (calc.caps): the line would pay amount + capped uncapped.
    capped: Decimal = ZERO
    currency: str | None = None  # a converted deal's own currency (calc.currency)
    fx_rate: Decimal | None = None  # units of that currency per one unit of the plan currency
    adjustment: Adjustment | None = None  # the entered adjustment this line pays
    # For a rep with effective-dated assignments: the plan and the first day of the
    # assignment the line was paid under (None otherwise, and the contract shape unchanged).
    plan_id: str | None = None
    assignment_from: str | None = None


_tuple = tuple.__new__


def new_line(
    component: str,
    deal_id: str | None,
    credit_type: str | None,
    base: Decimal,
    rate: Decimal,
    amount: Decimal,
    explain: str,
    capped: Decimal = ZERO,
) -> Line:
    """`Line(...)` in one step (a full run builds over a million lines)."""
    return _tuple(
        Line,
        (
            component, deal_id, credit_type, base, rate, amount, explain, capped,
            None, None, None, None, None,
        ),
    )  # fmt: skip


def adjustment_line(adjustment: Adjustment, explain: str) -> Line:
    """The line that pays an entered adjustment: no deal, rate 1, the adjustment kept on it."""
    amount = adjustment.amount
    return Line(
        adjustment.component, None, None, amount, Decimal(1), amount, explain, adjustment=adjustment
    )


def fx_line(line: Line, explain: str, *, currency: str, rate: Decimal) -> Line:
    """A copy of a line of a converted deal, with its currency, rate and explanation."""
    return line._replace(explain=explain, currency=currency, fx_rate=rate)


@dataclass(frozen=True, slots=True)
class DrawState:
    """A period's draw and balance: net = gross + top_up - recovered + shortfall.

    `top_up` is the guarantee paid on top of earnings, `recovered` what this period paid back,
    `shortfall` the negative pay (clawbacks above earnings) kept out of this period (carried
    into `balance` or forgiven), `balance` what is still owed after the period.
    """

    top_up: Decimal = ZERO
    recovered: Decimal = ZERO
    balance: Decimal = ZERO
    shortfall: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class PeriodResult:
    """One rep's result for one pay period (the contract's `results[]` item)."""

    rep_id: str
    plan_id: str
    period: Period
    quota: Decimal
    credit: Decimal
    attainment: Decimal  # fraction, four decimals
    attainment_ytd: Decimal
    components: tuple[tuple[str, Decimal], ...]
    gross: Decimal
    draw: DrawState
    net: Decimal
    lines: tuple[Line, ...]
    gross_ytd: Decimal  # gross earnings from the fiscal year start through this period

    def deal_amounts(self) -> dict[tuple[str, str], Decimal]:
        """Earnings per (deal id, credit type) in this period, clawbacks included."""
        out: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        for line in self.lines:
            if line.deal_id is not None and line.credit_type is not None:
                out[(line.deal_id, line.credit_type)] += line.amount
        return dict(out)


@dataclass(frozen=True, slots=True)
class CalcResult:
    """Results by rep and period, credits, and deals that could not be credited."""

    currency: str
    results: tuple[PeriodResult, ...]
    credits: tuple[Credit, ...]
    unresolved: tuple[Unresolved, ...]

    def result(self, rep_id: str, period_name: str) -> PeriodResult | None:
        """The result of one rep for one period, if computed."""
        return next(
            (r for r in self.results if r.rep_id == rep_id and r.period.name == period_name), None
        )

    def for_rep(self, rep_id: str) -> list[PeriodResult]:
        """A rep's results in period order."""
        return [r for r in self.results if r.rep_id == rep_id]

    def deal_earnings(self) -> dict[tuple[str, str], Decimal]:
        """Deal-attributed earnings per (deal id, rep id), all periods and components."""
        out: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        for res in self.results:
            for line in res.lines:
                if line.deal_id is not None:
                    out[(line.deal_id, res.rep_id)] += line.amount
        return dict(out)

    def owner_commission(self) -> dict[str, Decimal]:
        """Per deal, what its owner earns from it (the `Estimated_Commission__c` value)."""
        owners = {c.deal_id: c.deal.owner_id for c in self.credits}
        earned = self.deal_earnings()
        return {
            deal_id: earned.get((deal_id, owner), ZERO)
            for deal_id, owner in owners.items()
            if owner
        }
