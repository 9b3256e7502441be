"""The open-deal estimator: each open deal of a rep and what it would pay them if won today.

The estimate is calc's (`calc.estimate.estimate_credits`), the figure of the deal page and of
`Estimated_Commission__c`, computed for all of a rep's open deals at once: the rep's stored
credits are loaded once per period and calc's `Baselines` share the period without the open
deals. With `use_stored`, the figure the sync stored today is read back instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from calc.crediting import Credit
from calc.estimate import Baselines, estimate_credits, won_on
from calc.model import Deal, Rep
from calc.money import ZERO
from calc.plan import Plan
from calc.spiffs import spiff_eligible
from connector.reports.stored_book import (
    StoredCredits,
    active_doc,
    as_deal,
    counted_types,
    deal_book,
    history_periods,
    plan_of,
    stored_credits,
)
from connector.store.unit import OrgUnit

# (org, mapping version id) -> where the owner's commission is written, e.g.
# ("Opportunity", "Estimated_Commission__c"); a version's document never changes.
_COMMISSION_TARGETS: dict[tuple[str, int], tuple[str, str] | None] = {}


@dataclass(frozen=True, slots=True)
class OpenDeal:
    """An open deal and what it would pay its owner if won on the as-of date."""

    deal: Deal
    credit_types: tuple[str, ...]
    amount: Decimal
    spiff: bool  # meets a SPIFF of the owner's plan with its close date in the window


@dataclass(frozen=True, slots=True)
class Estimator:
    """The estimator page."""

    plan: Plan | None
    currency: str
    as_of: date
    deals: tuple[OpenDeal, ...]
    count: int  # open deals in all (`deals` may hold only the first few)

    @property
    def total(self) -> Decimal:
        """What all of them would pay together, each on its own (not additive across tiers)."""
        return sum((d.amount for d in self.deals), ZERO)


def _commission_target(unit: OrgUnit) -> tuple[str, str] | None:
    row = unit.mappings.active_version()
    if row is None:
        return None
    key = (unit.org_id, row.id)
    if key not in _COMMISSION_TARGETS:
        target = row.load().writeback.get("deal_commission")
        _COMMISSION_TARGETS[key] = None if target is None else (target.object, target.field)
    return _COMMISSION_TARGETS[key]


def stored_commissions(
    unit: OrgUnit, *, deal_ids: Sequence[str], as_of: date
) -> dict[str, Decimal]:
    """The owner's commission the sync computed for these deals as of `as_of` (where it did).

    The sync writes exactly this figure onto the Opportunity (`Estimated_Commission__c` by
    default), so a page can show it without recomputing; a deal last computed on another
    day is left out and must be estimated live.
    """
    target = _commission_target(unit)
    if target is None or not deal_ids:
        return {}
    object_name, field = target
    values = unit.results.stored_writeback_values(
        object_name=object_name, record_ids=deal_ids, as_of=as_of
    )
    out: dict[str, Decimal] = {}
    for deal_id, fields in values.items():
        raw = fields.get(field)
        if raw is not None:
            out[deal_id] = Decimal(str(raw))
    return out


def open_deal_estimates(
    unit: OrgUnit,
    *,
    rep_id: str,
    as_of: date,
    limit: int | None = None,
    use_stored: bool = False,
) -> Estimator:
    """The rep's open deals (the first `limit` by close date), each with what it would pay.

    With `use_stored`, a deal whose estimate the sync already computed today is not
    recomputed (the same figure, read back).
    """
    doc = active_doc(unit)
    found = plan_of(unit, rep_id=rep_id)
    rep, plan, currency = found.rep, found.plan, found.currency
    payloads = unit.records.open_deals_of(owner_id=rep_id)
    count = len(payloads)
    deals = [as_deal(p) for p in payloads[:limit]]
    if doc is None or rep is None or plan is None or not deals:
        shown = tuple(OpenDeal(d, (), ZERO, False) for d in deals)
        return Estimator(plan, currency, as_of, shown, count)
    stored = (
        stored_commissions(unit, deal_ids=[d.id for d in deals], as_of=as_of) if use_stored else {}
    )
    hypos = [won_on(d, as_of) for d in deals]
    book = deal_book(unit, doc=doc, deals=hypos)
    history: dict[str, StoredCredits] = {}
    baselines: Baselines = {}
    out = []
    for deal, hypo in zip(deals, hypos, strict=True):
        mine = [c for c in book.deal_credits(hypo)[0] if c.rep_id == rep_id]
        amount = ZERO
        if deal.id in stored:
            amount = stored[deal.id]
        elif mine and {c.credit_type for c in mine} & counted_types(plan):
            amount = _estimate(unit, plan, rep, mine, history, baselines)
        types = tuple(sorted({c.credit_type for c in mine}))
        out.append(OpenDeal(deal, types, amount, spiff_eligible(plan, deal)))
    return Estimator(plan, currency, as_of, tuple(out), count)


def _estimate(
    unit: OrgUnit,
    plan: Plan,
    rep: Rep,
    mine: Sequence[Credit],
    history: dict[str, StoredCredits],
    baselines: Baselines,
) -> Decimal:
    """calc's estimate from the rep's stored credits (loaded once per period)."""
    period = mine[0].period
    if period.name not in history:
        names = [p.name for p in history_periods(plan, period)]
        history[period.name] = stored_credits(unit, rep_id=rep.id, plan=plan, periods=names)
    current = history[period.name].credits
    return estimate_credits(plan, rep, current, mine, baselines=baselines).amount
