"""SPIFFs for the rep views: a rep's progress in each SPIFF, and why a deal counts or not.

A SPIFF pays deals whose credit date falls inside its window and that meet every criterion,
for the credit types it counts, in credit-date order until `max_payouts` is reached (see
calc.engine); whether an open deal would count is `calc.spiffs`. The deal's
`SPIFF_Status__c` follows `connector.sync.desired.spiff_status`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from calc.criteria import (
    compile_criterion,
    criterion_text,
    field_value,
    value_text,
)
from calc.model import Deal
from calc.money import ZERO
from calc.periods import periods_between
from calc.plan import Plan, Spiff
from calc.spiffs import credit_day, in_window, meets, spiffs_of
from connector.reports.estimate import DealReport, owner_lines
from connector.reports.stored_book import plan_of
from connector.store.unit import OrgUnit
from connector.sync.desired import spiff_status

# The default mapping's target for the `spiff_status` result (docs/operations.md).
STATUS_FIELD = "SPIFF_Status__c"


@dataclass(frozen=True, slots=True)
class SpiffRule:
    """A SPIFF as a person reads it."""

    id: str
    label: str
    window_start: date
    window_end: date
    criteria: tuple[str, ...]
    credit_types: tuple[str, ...]
    payout_kind: str  # per_deal | per_unit | rate
    payout_value: Decimal
    unit_field: str | None
    max_payouts: int | None


@dataclass(frozen=True, slots=True)
class SpiffProgress:
    """How far a rep is in one SPIFF."""

    rule: SpiffRule
    state: str  # upcoming | active | ended
    paid: int
    earned: Decimal
    open_matches: tuple[str, ...]  # open deals that meet it and close inside the window

    @property
    def remaining(self) -> int | None:
        """Payouts still available (None: no limit)."""
        limit = self.rule.max_payouts
        return None if limit is None else max(limit - self.paid, 0)


@dataclass(frozen=True, slots=True)
class CriterionCheck:
    """One criterion against the deal's value."""

    text: str
    actual: str
    ok: bool


@dataclass(frozen=True, slots=True)
class SpiffCheck:
    """Whether one SPIFF pays the deal's owner for the deal, and why."""

    rule: SpiffRule
    credit_date: date | None
    in_window: bool
    checks: tuple[CriterionCheck, ...]
    paid_elsewhere: int
    paid_amount: Decimal
    verdict: str
    ok: bool


def rule_of(plan: Plan, spiff: Spiff) -> SpiffRule:
    """The readable form of a SPIFF."""
    payout = spiff.payout
    kind, value = "rate", payout.rate or ZERO
    if payout.per_deal is not None:
        kind, value = "per_deal", payout.per_deal
    elif payout.per_unit is not None:
        kind, value = "per_unit", payout.per_unit
    return SpiffRule(
        spiff.id,
        spiff.label,
        spiff.window.start,
        spiff.window.end,
        tuple(criterion_text(c) for c in spiff.criteria),
        tuple(spiff.credit_types or plan.credit_types),
        kind,
        value,
        payout.unit_field if kind == "per_unit" else None,
        spiff.max_payouts,
    )


def window_periods(plan: Plan, spiff: Spiff) -> list[str]:
    """Names of the plan's periods overlapping the SPIFF window."""
    periods = periods_between(
        spiff.window.start, spiff.window.end, plan.period, plan.fiscal_year_start_month
    )
    return [p.name for p in periods]


def paid_deals(spiff_id: str, results: Iterable[Mapping[str, Any]]) -> dict[str, Decimal]:
    """Per deal id, what the SPIFF paid in these results (positive lines only)."""
    out: dict[str, Decimal] = {}
    for result in results:
        for line in result["lines"]:
            amount = Decimal(line["amount"])
            if line["component"] == spiff_id and line.get("deal_id") and amount > 0:
                out[line["deal_id"]] = out.get(line["deal_id"], ZERO) + amount
    return out


def progress(
    plan: Plan, results: Sequence[Mapping[str, Any]], open_deals: Sequence[Deal], *, as_of: date
) -> list[SpiffProgress]:
    """A rep's progress in each SPIFF of their plan (results: those of the window periods)."""
    out = []
    for spiff in spiffs_of(plan):
        names = set(window_periods(plan, spiff))
        paid = paid_deals(spiff.id, [r for r in results if r["period"] in names])
        state = "upcoming" if as_of < spiff.window.start else "active"
        if as_of > spiff.window.end:
            state = "ended"
        matches = tuple(d.id for d in open_deals if meets(plan, spiff, d))
        rule = rule_of(plan, spiff)
        out.append(SpiffProgress(rule, state, len(paid), sum(paid.values(), ZERO), matches))
    return out


def deal_checks(
    plan: Plan,
    deal: Deal,
    *,
    state: str,
    owner_types: Sequence[str],
    window_results: Sequence[Mapping[str, Any]],
) -> list[SpiffCheck]:
    """Each SPIFF of the owner's plan against the deal (results: the owner's, window periods)."""
    out = []
    day = credit_day(plan, deal)
    for spiff in spiffs_of(plan):
        rule = rule_of(plan, spiff)
        names = set(window_periods(plan, spiff))
        paid = paid_deals(spiff.id, [r for r in window_results if r["period"] in names])
        mine = paid.pop(deal.id, ZERO)
        checks = tuple(
            CriterionCheck(
                criterion_text(c),
                value_text(field_value(deal, c.field)),
                compile_criterion(c)(deal),
            )
            for c in spiff.criteria
        )
        inside = in_window(spiff, day)
        verdict, ok = _verdict(rule, state, owner_types, checks, inside, len(paid), mine)
        out.append(SpiffCheck(rule, day, inside, checks, len(paid), mine, verdict, ok))
    return out


def _verdict(
    rule: SpiffRule,
    state: str,
    owner_types: Sequence[str],
    checks: Sequence[CriterionCheck],
    inside: bool,
    paid_elsewhere: int,
    mine: Decimal,
) -> tuple[str, bool]:
    failed = [c for c in checks if not c.ok]
    counted = set(owner_types) & set(rule.credit_types)
    if mine > 0:
        return "Qualified: this deal was paid", True
    if state == "lost":
        return "Closed without winning: a lost deal pays no SPIFF.", False
    if failed:
        c = failed[0]
        return f"Does not meet the criteria: needs {c.text}, the deal has {c.actual}.", False
    if not inside:
        return "Its credit date is outside the SPIFF window.", False
    if owner_types and not counted:
        types = ", ".join(owner_types)
        return f"The owner's {types} credit does not count for this SPIFF.", False
    if rule.max_payouts is not None and paid_elsewhere >= rule.max_payouts:
        return f"All {rule.max_payouts} payouts of the window went to other deals.", False
    if state == "won":
        return "Won, but not paid: the owner had no payable credit for it.", False
    return "Eligible: meets the criteria and closes inside the window.", True


@dataclass(frozen=True, slots=True)
class DealSpiff:
    """A deal's SPIFF status, where it comes from, and each SPIFF's verdict."""

    status: str
    source: str  # "Quotaflow" (the value it writes), "Salesforce" (the record) or "calculated"
    crm: str | None
    checks: tuple[SpiffCheck, ...]


def deal_spiff(unit: OrgUnit, *, report: DealReport) -> DealSpiff:
    """The SPIFF status of a deal for its owner and why (each SPIFF of the owner's plan)."""
    deal = report.deal
    owner = deal.owner_id
    plan = plan_of(unit, rep_id=owner).plan if owner else None
    locked = frozenset(lock.period for lock in unit.periods.locked_periods())
    computed = spiff_status(deal, plan, owner_lines(report), locked=locked)
    wanted, raw = unit.records.record_values(object_name="Opportunity", record_id=deal.id)
    crm = None if raw is None else raw.get(STATUS_FIELD)
    status, source = computed, "calculated"
    if wanted is not None and wanted.get(STATUS_FIELD):
        status, source = str(wanted[STATUS_FIELD]), "Quotaflow"
    elif crm:
        status, source = str(crm), "Salesforce"
    checks: list[SpiffCheck] = []
    if plan is not None and owner and spiffs_of(plan):
        names = {n for s in spiffs_of(plan) for n in window_periods(plan, s)}
        results = unit.results.rep_results(rep_id=owner, periods=names)
        me = next((p for p in report.participants if p.rep_id == owner), None)
        checks = deal_checks(
            plan,
            deal,
            state=report.state,
            owner_types=me.credit_types if me else (),
            window_results=results,
        )
    return DealSpiff(status, source, None if crm is None else str(crm), tuple(checks))
