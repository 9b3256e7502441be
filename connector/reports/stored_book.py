"""calc inputs rebuilt from the store for one rep or one deal, never the whole book.

The rep views recompute a period the way the sync did (the estimator) without loading the
org: a rep's credits come back from the stored credits of the periods that can matter, and
one deal is credited by a `Book` holding just that deal, its splits, team and people.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from threading import Lock
from typing import Any, cast

from calc.book import Book, plan_ctx
from calc.crediting import Credit, new_credit
from calc.model import Deal, Rep, Split, TeamMember
from calc.periods import Period, fiscal_year_start, period_of, periods_between
from calc.plan import Plan, PlanDoc, Spiff, parse_plan_doc
from connector.pull.codec import decode
from connector.store.result_reads import (
    CreditRow,
)
from connector.store.unit import OrgUnit

_DOCS: dict[str, PlanDoc] = {}
_DOCS_LOCK = Lock()
_MAX_DOCS = 16
MAX_CHAIN = 50  # a ManagerId chain deeper than this is a cycle in the org's data


def active_doc(unit: OrgUnit) -> PlanDoc | None:
    """The org's active plan document, parsed once per version (cached by checksum)."""
    checksum = unit.plans.plan_checksum()
    if checksum is None:
        return None
    with _DOCS_LOCK:
        doc = _DOCS.get(checksum)
    if doc is not None:
        return doc
    found = unit.plans.plan_document()
    if found is None:
        return None
    doc = parse_plan_doc(found[1], source="active plan")
    with _DOCS_LOCK:
        if len(_DOCS) >= _MAX_DOCS:
            _DOCS.clear()
        _DOCS[found[0]] = doc
    return doc


@dataclass(frozen=True, slots=True)
class RepPlan:
    """A rep, their plan (None: not on one) and the currency their figures are in."""

    rep: Rep | None
    plan: Plan | None
    currency: str


def plan_of(unit: OrgUnit, *, rep_id: str) -> RepPlan:
    """The rep's record and plan from the active plan document."""
    rep = load_reps(unit, ids=[rep_id]).get(rep_id)
    doc = active_doc(unit)
    plan = doc.plan(rep.plan_id) if doc is not None and rep is not None and rep.plan_id else None
    currency = plan.currency if plan else (doc.plans[0].currency if doc else "USD")
    return RepPlan(rep, plan, currency)


def as_deal(payload: dict[str, Any]) -> Deal:
    """A canonical deal payload as a calc Deal."""
    return cast(Deal, decode("deal", payload))


def load_reps(unit: OrgUnit, *, ids: Iterable[str]) -> dict[str, Rep]:
    """Live reps among `ids` as calc Reps."""
    rows = unit.records.reps_by_id(ids=ids)
    return {rep_id: cast(Rep, decode("rep", payload)) for rep_id, payload in rows.items()}


def counted_types(plan: Plan) -> frozenset[str]:
    """Credit types that move anything in the plan: attainment or some component."""
    types = set(plan.credit_types)
    for comp in plan.components:
        types.update(comp.credit_types or ())
    return frozenset(types)


def history_periods(plan: Plan, period: Period) -> list[Period]:
    """The periods whose credits can change `period`'s gross.

    The period itself, the fiscal year before it (the engine computes from the year start),
    every SPIFF window reaching into it (payout counts run over the whole window) and the
    clawback window (a deal credited earlier and cancelled in this period reverses its pay).
    """
    first = fiscal_year_start(period.start, plan.fiscal_year_start_month)
    for comp in plan.components:
        if isinstance(comp, Spiff) and comp.window.start <= period.end:
            first = min(first, comp.window.start)
    if plan.clawback is not None:
        first = min(first, period.start - timedelta(days=plan.clawback.window_days))
    return periods_between(first, period.end, plan.period, plan.fiscal_year_start_month)


@dataclass(frozen=True, slots=True)
class StoredCredits:
    """A rep's stored credits rebuilt as calc Credits, and the deals they came from."""

    credits: list[Credit]
    deals: dict[str, Deal]


def rebuild_credits(rows: Iterable[CreditRow], deals: dict[str, Deal], plan: Plan) -> list[Credit]:
    """calc Credits of stored credit rows, dated by the plan's credit date like the engine."""
    ctx = plan_ctx(plan)
    out = []
    for row in rows:
        deal = deals.get(row.deal_id)
        day = None if deal is None else ctx.day(deal)
        if deal is None or day is None:
            continue  # deleted since the calculation: the next sync drops the credit too
        period = period_of(day, plan.period, plan.fiscal_year_start_month)
        out.append(
            new_credit(
                deal,
                row.deal_id,
                row.rep_id,
                row.credit_type,
                Decimal(row.percent),
                Decimal(row.amount),
                day,
                period,
            )
        )
    return out


def stored_credits(
    unit: OrgUnit,
    *,
    rep_id: str,
    plan: Plan,
    periods: Collection[str],
) -> StoredCredits:
    """A rep's stored credits of these periods (only the types the plan counts)."""
    rows = unit.results.rep_credits(
        rep_id=rep_id, periods=periods, credit_types=counted_types(plan)
    )
    payloads = unit.records.deals_by_id(ids={r.deal_id for r in rows})
    deals = {deal_id: as_deal(p) for deal_id, p in payloads.items()}
    return StoredCredits(rebuild_credits(rows, deals, plan), deals)


def with_managers(unit: OrgUnit, *, reps: dict[str, Rep], levels: int | None) -> dict[str, Rep]:
    """`reps` plus everyone up their ManagerId chains (`levels` up; None: all the way)."""
    out = dict(reps)
    wanted = {r.manager_id for r in reps.values() if r.manager_id} - set(out)
    for _ in range(MAX_CHAIN if levels is None else levels):
        if not wanted:
            break
        found = load_reps(unit, ids=wanted)
        out.update(found)
        wanted = {r.manager_id for r in found.values() if r.manager_id} - set(out)
    return out


def deal_book(unit: OrgUnit, *, doc: PlanDoc, deals: list[Deal]) -> Book:
    """A Book of these deals: their splits, team and people, and the people's managers.

    The managers are there so that rollup credit comes out as the sync computes it (a
    manager who owns a deal that their reports split gets rollup credit on it).
    """
    split_rows, team_rows = unit.records.deal_relations(deal_ids=[d.id for d in deals])
    splits = [cast(Split, decode("split", p)) for p in split_rows]
    team = [cast(TeamMember, decode("team_member", p)) for p in team_rows]
    people = {d.owner_id for d in deals if d.owner_id}
    people |= {s.rep_id for s in splits} | {m.rep_id for m in team}
    reps = load_reps(unit, ids=people)
    rollup = doc.crediting.rollup
    if rollup is not None:
        levels = rollup.levels if isinstance(rollup.levels, int) else None
        reps = with_managers(unit, reps=reps, levels=levels)
    return Book(doc, reps.values(), deals, splits, team, rates=unit.rates.for_calc())
