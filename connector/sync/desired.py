"""What Quotaflow wants on each CRM record: pure functions over calculation results.

Business rules (docs/operations.md, "What is written back"):
- `Quota_Attainment__c` = attainment of the rep's current open period x 100, where the
  current period is the one of the rep's plan holding the as-of date (the run's start).
  A rep with a plan but no result for that period (not employed then) gets null.
- `Earnings_To_Date__c` = gross earnings year to date: the sum of `gross` over the rep's
  periods that start in the as-of date's fiscal year (per the plan) on or before the as-of
  date. Adjustment lines for locked periods are part of the open period's gross.
- `Estimated_Commission__c` = what the deal's owner earns from it: for a won deal the
  owner's deal-attributed lines in every period (commission, SPIFF, clawback); for an
  open deal the estimator's figure; 0 for a lost deal. A Salesforce currency field holds
  its record's currency: for a deal converted from another currency, the figure is turned
  back into the deal's currency at the rate its credit was converted at (calc.currency).
  Likewise `Earnings_To_Date__c` of a user whose currency is not the plan's is written in
  the user's currency at the rate in force on the as-of date; without such a rate it is not
  written at all (a figure in the wrong currency would be worse than a stale one).
- `SPIFF_Status__c`: `Not Eligible`; `Eligible` (open, the owner's plan has a SPIFF whose
  criteria it meets with its credit date inside the window: `calc.spiffs.spiff_eligible`);
  `Qualified` (won and counted: the owner has a positive SPIFF line for it); `Paid`
  (qualified in a locked period).
Reps without a plan and deals outside the calculated range are left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from calc.currency import Conversion, Rates
from calc.model import Deal
from calc.money import HUNDRED, ZERO
from calc.periods import fiscal_year_start
from calc.plan import Plan
from calc.spiffs import spiff_eligible, spiffs_of

NOT_ELIGIBLE, ELIGIBLE, QUALIFIED, PAID = "Not Eligible", "Eligible", "Qualified", "Paid"
ResultDict = Mapping[str, Any]  # one period result in the `quotaflow calc` shape
Values = dict[str, Decimal | str | None]


@dataclass(frozen=True, slots=True)
class Targets:
    """Where each result goes: result name -> (object, field), from the active mapping."""

    fields: Mapping[str, tuple[str, str]]

    def get(self, result: str) -> tuple[str, str] | None:
        """The (object, field) of a result, or None if the mapping does not write it."""
        return self.fields.get(result)


def rep_values(
    plan: Plan, results: Sequence[ResultDict], *, as_of: date
) -> dict[str, Decimal | None]:
    """`attainment_pct` and `earnings_ytd` of one rep from its period results."""
    current = next(
        (
            r
            for r in results
            if date.fromisoformat(r["period_start"]) <= as_of <= date.fromisoformat(r["period_end"])
        ),
        None,
    )
    year_start = fiscal_year_start(as_of, plan.fiscal_year_start_month)
    ytd = sum(
        (
            Decimal(r["gross"])
            for r in results
            if year_start <= date.fromisoformat(r["period_start"]) <= as_of
        ),
        ZERO,
    )
    attainment = None if current is None else Decimal(current["attainment"]) * HUNDRED
    return {"attainment_pct": attainment, "earnings_ytd": ytd}


def owner_deal_lines(results: Iterable[ResultDict]) -> dict[str, list[tuple[str, str, Decimal]]]:
    """Per deal id, the (component, period, amount) lines of the rep's results."""
    out: dict[str, list[tuple[str, str, Decimal]]] = {}
    for result in results:
        for line in result["lines"]:
            deal_id = line.get("deal_id")
            if deal_id:
                out.setdefault(deal_id, []).append(
                    (line["component"], result["period"], Decimal(line["amount"]))
                )
    return out


def spiff_status(
    deal: Deal,
    plan: Plan | None,
    lines: Sequence[tuple[str, str, Decimal]],
    *,
    locked: frozenset[str],
) -> str:
    """The SPIFF lifecycle status of a deal for its owner (see the module docstring)."""
    spiffs = spiffs_of(plan)
    if not spiffs or plan is None:
        return NOT_ELIGIBLE
    ids = {s.id for s in spiffs}
    if deal.is_won:
        paid = [period for comp, period, amount in lines if comp in ids and amount > 0]
        if not paid:
            return NOT_ELIGIBLE
        return PAID if any(p in locked for p in paid) else QUALIFIED
    return ELIGIBLE if spiff_eligible(plan, deal) else NOT_ELIGIBLE


Estimate = Callable[[Deal], Decimal | None]


def deal_values(
    deal: Deal,
    plan: Plan | None,
    lines: Sequence[tuple[str, str, Decimal]],
    *,
    estimate: Estimate,
    locked: frozenset[str],
) -> dict[str, Decimal | str | None]:
    """`deal_commission` and `spiff_status` of one deal, for its owner."""
    if deal.is_won:
        commission: Decimal | None = sum((amount for _c, _p, amount in lines), ZERO)
    elif deal.is_closed:
        commission = ZERO
    else:
        commission = estimate(deal)
    return {
        "deal_commission": commission,
        "spiff_status": spiff_status(deal, plan, lines, locked=locked),
    }


def in_deal_currency(values: Values, fx: Conversion | None) -> Values:
    """`deal_commission` in the opportunity's own currency (unchanged for plan-currency deals)."""
    commission = values.get("deal_commission")
    if fx is None or not isinstance(commission, Decimal):
        return values
    return {**values, "deal_commission": fx.from_plan(commission)}


def in_rep_currency(
    values: Mapping[str, Decimal | None],
    currency: str | None,
    plan_currency: str,
    rates: Rates | None,
    *,
    as_of: date,
) -> dict[str, Decimal | None]:
    """`earnings_ytd` in the user's own currency (see the module docstring)."""
    earned = values.get("earnings_ytd")
    if currency is None or currency == plan_currency or earned is None:
        return dict(values)
    fx = rates.conversion(currency, plan_currency, as_of) if rates is not None else None
    out = {k: v for k, v in values.items() if k != "earnings_ytd"}
    if isinstance(fx, Conversion):
        out["earnings_ytd"] = fx.from_plan(earned)
    return out


def to_fields(
    values: Mapping[str, Decimal | str | None], targets: Targets
) -> Iterable[tuple[str, str, Decimal | str | None]]:
    """(object, field, value) for each result the mapping writes back."""
    for result, value in values.items():
        where = targets.get(result)
        if where is not None:
            yield where[0], where[1], value
