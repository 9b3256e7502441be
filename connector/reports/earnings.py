"""A rep's earnings page and statement, from the stored results (nothing is recalculated).

The current period is the one of the rep's plan holding `as_of` (passed in by the caller,
never read from a clock here). Year to date sums the periods of the same fiscal year up to
the shown period, like `Earnings_To_Date__c`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from calc.periods import fiscal_year_start, period_of
from calc.plan import Plan
from calc.spiffs import spiffs_of
from connector.reports.spiffs import SpiffProgress, progress, window_periods
from connector.reports.stored_book import as_deal, plan_of
from connector.store.unit import OrgUnit

MAX_DEALS = 100  # deals listed on the page; the statement lists every line


@dataclass(frozen=True, slots=True)
class ComponentRow:
    """One component's earnings in the period and year to date."""

    id: str
    label: str
    period: Decimal
    ytd: Decimal


@dataclass(frozen=True, slots=True)
class DealLines:
    """What one deal earned the rep in the period, line by line."""

    deal_id: str
    name: str
    amount: Decimal | None
    close_date: date | None
    total: Decimal
    lines: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class RepSummary:
    """Everything the rep page shows."""

    rep_id: str
    name: str
    plan: Plan | None
    currency: str
    as_of: date
    period: str | None
    is_current: bool
    periods: tuple[str, ...]  # every stored period of the rep, for the period picker
    result: dict[str, Any] | None
    components: tuple[ComponentRow, ...]
    gross_ytd: Decimal
    deals: tuple[DealLines, ...]
    more_deals: int
    other_lines: tuple[dict[str, Any], ...]  # bonus, effect and adjustment lines
    spiffs: tuple[SpiffProgress, ...]


def current_period(
    plan: Plan | None, stored: Sequence[tuple[str, str, str]], as_of: date
) -> str | None:
    """The plan's period holding `as_of`; without a plan, the stored one holding it."""
    if plan is not None:
        return period_of(as_of, plan.period, plan.fiscal_year_start_month).name
    day = as_of.isoformat()
    return next((name for name, start, end in stored if start <= day <= end), None)


def year_periods(
    plan: Plan | None, stored: Sequence[tuple[str, str, str]], period: str
) -> list[str]:
    """The stored periods of `period`'s fiscal year up to and including it."""
    found = next((row for row in stored if row[0] == period), None)
    if found is None:
        return []
    start = date.fromisoformat(found[1])
    year = fiscal_year_start(start, plan.fiscal_year_start_month if plan else 1).isoformat()
    return [name for name, s, _e in stored if year <= s <= found[1]]


def _components(
    plan: Plan | None, results: Sequence[Mapping[str, Any]], shown: Mapping[str, Any] | None
) -> list[ComponentRow]:
    labels = {c.id: c.label for c in plan.components} if plan else {}
    order = list(labels)
    for res in results:
        order += [name for name in res["components"] if name not in order]
    rows = []
    for comp_id in order:
        ytd = sum((Decimal(r["components"].get(comp_id, "0")) for r in results), Decimal(0))
        now = Decimal(shown["components"].get(comp_id, "0")) if shown else Decimal(0)
        if comp_id in labels or ytd or now:
            rows.append(ComponentRow(comp_id, labels.get(comp_id, comp_id), now, ytd))
    return rows


def deal_lines(
    unit: OrgUnit, *, lines: Sequence[Mapping[str, Any]], limit: int | None
) -> tuple[list[DealLines], int, list[dict[str, Any]]]:
    """Lines grouped per deal, biggest first (at most `limit` deals), the rest, other lines."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    other = []
    for line in lines:
        if line.get("deal_id"):
            grouped.setdefault(line["deal_id"], []).append(dict(line))
        else:
            other.append(dict(line))
    totals = {d: sum((Decimal(ln["amount"]) for ln in ls), Decimal(0)) for d, ls in grouped.items()}
    order = sorted(grouped, key=lambda d: (-totals[d], d))
    shown = order if limit is None else order[:limit]
    payloads = unit.records.deals_by_id(ids=shown)
    out = []
    for deal_id in shown:
        deal = as_deal(payloads[deal_id]) if deal_id in payloads else None
        out.append(
            DealLines(
                deal_id,
                deal.name if deal and deal.name else deal_id,
                deal.amount if deal else None,
                deal.close_date if deal else None,
                totals[deal_id],
                tuple(grouped[deal_id]),
            )
        )
    return out, len(order) - len(shown), other


def rep_summary(
    unit: OrgUnit,
    *,
    rep_id: str,
    as_of: date,
    period: str | None = None,
    deal_limit: int | None = MAX_DEALS,
) -> RepSummary:
    """The rep page: the period (current by default), year to date, deals, SPIFFs, draw."""
    found = plan_of(unit, rep_id=rep_id)
    plan, rep = found.plan, found.rep
    stored = unit.results.rep_periods(rep_id=rep_id)
    now = current_period(plan, stored, as_of)
    name = period or now
    year = set(year_periods(plan, stored, name)) if name else set()
    year_results = unit.results.rep_figures(rep_id=rep_id, periods=year)
    found_shown = unit.results.rep_results(rep_id=rep_id, periods={name} if name else set())
    shown = found_shown[0] if found_shown else None
    lines = shown["lines"] if shown else []
    deals, more, other = deal_lines(unit, lines=lines, limit=deal_limit)
    spiffs: list[SpiffProgress] = []
    if plan is not None and spiffs_of(plan):
        names = {n for spiff in spiffs_of(plan) for n in window_periods(plan, spiff)}
        results = unit.results.rep_results(rep_id=rep_id, periods=names)
        opened = [as_deal(p) for p in unit.records.open_deals_of(owner_id=rep_id)]
        spiffs = progress(plan, results, opened, as_of=as_of)
    return RepSummary(
        rep_id,
        rep.name if rep is not None and rep.name else rep_id,
        plan,
        found.currency,
        as_of,
        name,
        name == now,
        tuple(n for n, _s, _e in stored),
        shown,
        tuple(_components(plan, year_results, shown)),
        sum((Decimal(r["gross"]) for r in year_results), Decimal(0)),
        tuple(deals),
        more,
        tuple(other),
        tuple(spiffs),
    )


def earnings_envelope(
    unit: OrgUnit, *, rep_id: str, as_of: date, period: str | None
) -> dict[str, Any]:
    """The rep's results and credits in the `quotaflow calc` result shape (the API).

    With a period: that period's result (none if nothing is stored for it). Without: every
    stored period of the current fiscal year. `unresolved` is empty: deals that could not
    be credited are not anyone's, they are listed on the ops issues page.
    """
    found = plan_of(unit, rep_id=rep_id)
    plan = found.plan
    stored = unit.results.rep_periods(rep_id=rep_id)
    if period is not None:
        names = {period}
    else:
        first = fiscal_year_start(as_of, plan.fiscal_year_start_month if plan else 1)
        last = date(first.year + 1, first.month, 1).isoformat()
        names = {n for n, s, _e in stored if first.isoformat() <= s < last}
    results = unit.results.rep_results(rep_id=rep_id, periods=names)
    credits = unit.results.rep_credits(rep_id=rep_id, periods={r["period"] for r in results})
    return {
        "currency": found.currency,
        "results": results,
        "credits": [c.as_dict() for c in credits],
        "unresolved": [],
    }
