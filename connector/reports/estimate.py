"""What one deal pays each participant, or would pay if won today: the deal page and its API.

The estimate is calc's (`calc.estimate.estimate_credits`, which the sync calls too), so the
owner's figure equals the `Estimated_Commission__c` the sync writes:
- a won deal pays what the stored results attribute to it (every line carrying its id, in
  every period: commission, SPIFF, clawback);
- an open deal is treated as won on the as-of date; a participant's estimate is their gross
  for that period with the deal minus without it (a tier lift, a bonus it unlocks or a gate
  it opens included, shown as one `effect` line);
- a deal closed without winning pays nothing.
Only the owner and split, overlay and team participants are estimated: managers' rollup
credit is left out (a manager's override is not what the deal "pays" the people on it),
except an owner's own (a manager owning a deal their reports split is paid on it).
The participant's other credits come from the stored credits (see `stored_book`), never
from the whole book.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from calc.crediting import Credit
from calc.estimate import estimate_credits, won_on
from calc.model import Deal, Rep
from calc.money import ZERO
from calc.periods import period_of
from calc.plan import Plan, PlanDoc
from calc.render import line_dict
from connector.reports.stored_book import (
    active_doc,
    as_deal,
    counted_types,
    deal_book,
    history_periods,
    load_reps,
    stored_credits,
)
from connector.store.result_reads import CreditRow
from connector.store.unit import OrgUnit

ROLLUP = "rollup"
OPEN, WON, LOST = "open", "won", "lost"


@dataclass(frozen=True, slots=True)
class Participant:
    """One person on the deal: their credit and what the deal pays them, line by line."""

    rep_id: str
    name: str
    credit_types: tuple[str, ...]
    percent: Decimal
    credited: Decimal
    period: str | None
    amount: Decimal
    lines: tuple[dict[str, Any], ...]  # `quotaflow calc` line dicts, each with its period


@dataclass(frozen=True, slots=True)
class DealReport:
    """What a deal pays everyone on it (estimated if open)."""

    deal: Deal
    state: str  # open | won | lost
    as_of: date
    currency: str
    participants: tuple[Participant, ...]
    unresolved: tuple[str, ...]
    owner_name: str | None = None
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)  # component -> name

    def owner_amount(self) -> Decimal:
        """What the deal pays (or would pay) its owner: the `Estimated_Commission__c` value."""
        owner = self.deal.owner_id
        return sum((p.amount for p in self.participants if p.rep_id == owner), ZERO)


def deal_state(deal: Deal) -> str:
    """open, won or lost."""
    if deal.is_won:
        return WON
    return LOST if deal.is_closed else OPEN


def deal_report(unit: OrgUnit, *, deal_id: str, as_of: date) -> DealReport | None:
    """The deal's participants and what it pays them; None when the deal is not stored."""
    payload = unit.records.deals_by_id(ids=[deal_id]).get(deal_id)
    doc = active_doc(unit)
    if payload is None:
        return None
    deal = as_deal(payload)
    state = deal_state(deal)
    owner = deal.owner_id
    found = load_reps(unit, ids=[owner]).get(owner) if owner else None
    owner_name = found.name or owner if found is not None else None
    if doc is None:
        return DealReport(deal, state, as_of, "USD", (), ("no plan is active",), owner_name)
    if state == WON:
        people, notes = _won(unit, doc=doc, deal=deal)
    else:
        people, notes = _hypothetical(unit, doc=doc, deal=deal, as_of=as_of)
    currency = doc.plans[0].currency
    labels = {c.id: c.label for plan in doc.plans for c in plan.components}
    return DealReport(deal, state, as_of, currency, tuple(people), tuple(notes), owner_name, labels)


def _stored_lines(
    unit: OrgUnit,
    *,
    rep_id: str,
    deal_id: str,
    periods: set[str],
    types: set[str],
) -> list[dict[str, Any]]:
    """The rep's stored lines of one deal and these credit types, each with its period."""
    results = unit.results.rep_results(rep_id=rep_id, periods=periods)
    return [
        {**line, "period": res["period"]}
        for res in results
        for line in res["lines"]
        if line.get("deal_id") == deal_id and line.get("credit_type") in types
    ]


def _won(unit: OrgUnit, *, doc: PlanDoc, deal: Deal) -> tuple[list[Participant], list[str]]:
    by_rep: dict[str, list[CreditRow]] = defaultdict(list)
    for row in unit.results.deal_credits(deal_id=deal.id):
        if row.credit_type != ROLLUP or row.rep_id == deal.owner_id:
            by_rep[row.rep_id].append(row)
    reps = load_reps(unit, ids=by_rep)
    out = []
    for rep_id, mine in sorted(by_rep.items()):
        periods = {row.period for row in mine}
        rep = reps.get(rep_id)
        plan = doc.plan(rep.plan_id) if rep is not None and rep.plan_id else None
        if plan is not None and deal.cancel_date is not None:
            # A clawback lands in the period holding the cancel date.
            periods.add(period_of(deal.cancel_date, plan.period, plan.fiscal_year_start_month).name)
        types = {row.credit_type for row in mine}
        lines = _stored_lines(unit, rep_id=rep_id, deal_id=deal.id, periods=periods, types=types)
        out.append(
            Participant(
                rep_id,
                rep.name if rep is not None and rep.name else rep_id,
                tuple(sorted(types)),
                sum((Decimal(row.percent) for row in mine), ZERO),
                sum((Decimal(row.amount) for row in mine), ZERO),
                min(row.period for row in mine),
                sum((Decimal(line["amount"]) for line in lines), ZERO),
                tuple(lines),
            )
        )
    notes = [] if out else ["no stored result covers this deal (outside the calculated years)"]
    return out, notes


def _hypothetical(
    unit: OrgUnit, *, doc: PlanDoc, deal: Deal, as_of: date
) -> tuple[list[Participant], list[str]]:
    state = deal_state(deal)
    # A lost deal is credited as won on its own date (to show its people, paying nothing).
    hypo = won_on(deal, as_of) if state == OPEN else dataclasses.replace(deal, is_won=True)
    book = deal_book(unit, doc=doc, deals=[hypo])
    credits, unresolved = book.deal_credits(hypo)
    by_rep: dict[str, list[Credit]] = defaultdict(list)
    for credit in credits:
        if credit.credit_type != ROLLUP or credit.rep_id == deal.owner_id:
            by_rep[credit.rep_id].append(credit)
    out = []
    for rep_id, mine in sorted(by_rep.items()):
        rep, plan = book.reps[rep_id], book.ctx(rep_id).plan
        amount: Decimal = ZERO
        lines: tuple[dict[str, Any], ...] = ()
        if plan is not None and state == OPEN:
            amount, lines = estimate_for(unit, plan=plan, rep=rep, mine=mine)
        out.append(_participant(rep, mine, amount, lines))
    return out, [u.reason for u in unresolved]


def _participant(
    rep: Rep, mine: list[Credit], amount: Decimal, lines: tuple[dict[str, Any], ...]
) -> Participant:
    return Participant(
        rep.id,
        rep.name or rep.id,
        tuple(sorted({c.credit_type for c in mine})),
        sum((c.percent for c in mine), ZERO),
        sum((c.amount for c in mine), ZERO),
        mine[0].period.name,
        amount,
        lines,
    )


def estimate_for(
    unit: OrgUnit, *, plan: Plan, rep: Rep, mine: list[Credit]
) -> tuple[Decimal, tuple[dict[str, Any], ...]]:
    """What the hypothetical credits `mine` (one deal's) add to the rep's period gross."""
    if not {c.credit_type for c in mine} & counted_types(plan):
        return ZERO, ()  # e.g. a manager's own deal: the plan pays on rollup credit only
    period = mine[0].period
    names = [p.name for p in history_periods(plan, period)]
    stored = stored_credits(unit, rep_id=rep.id, plan=plan, periods=names)
    found = estimate_credits(plan, rep, stored.credits, mine)
    return found.amount, tuple({**line_dict(ln), "period": period.name} for ln in found.lines)


def owner_lines(report: DealReport) -> list[tuple[str, str, Decimal]]:
    """The owner's (component, period, amount) lines of the deal (for the SPIFF status)."""
    owner = next((p for p in report.participants if p.rep_id == report.deal.owner_id), None)
    if owner is None:
        return []
    return [(ln["component"], ln["period"], Decimal(ln["amount"])) for ln in owner.lines]
