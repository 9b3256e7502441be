"""Which SPIFFs an open deal is eligible for: the one definition of the SPIFF check.

An open deal is eligible for a SPIFF of its owner's plan when its credit date (the plan's
`credit_date` field, usually the close date) falls inside the SPIFF window and it meets
every criterion. `SPIFF_Status__c` = `Eligible`, the estimator page's SPIFF mark and a
rep's "open deals that would count" all ask this module. Whether a won deal was paid is
the engine's business (calc.engine), read from its lines.
"""

from __future__ import annotations

from datetime import date

from calc.criteria import compile_all, date_value
from calc.model import Deal
from calc.plan import Plan, Spiff


def spiffs_of(plan: Plan | None) -> list[Spiff]:
    """The SPIFF components of a plan (none without a plan)."""
    return [] if plan is None else [c for c in plan.components if isinstance(c, Spiff)]


def credit_day(plan: Plan, deal: Deal) -> date | None:
    """The deal's credit date under the plan, or None when the deal has none."""
    return date_value(deal, plan.credit_date)


def in_window(spiff: Spiff, day: date | None) -> bool:
    """Whether a credit date falls inside the SPIFF window (both ends included)."""
    return day is not None and spiff.window.start <= day <= spiff.window.end


def meets(plan: Plan, spiff: Spiff, deal: Deal) -> bool:
    """Whether an open deal would count for the SPIFF: inside its window, every criterion met."""
    if deal.is_closed:
        return False
    return in_window(spiff, credit_day(plan, deal)) and compile_all(spiff.criteria)(deal)


def spiff_eligible(plan: Plan | None, deal: Deal) -> bool:
    """Whether an open deal meets some SPIFF of the plan (`SPIFF_Status__c` = Eligible)."""
    return plan is not None and any(meets(plan, s, deal) for s in spiffs_of(plan))
