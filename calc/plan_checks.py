"""Semantic checks of a plan document that pydantic's types cannot express, each with its path."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from calc.errors import PlanError
from calc.model import DEAL_FIELDS
from calc.periods import periods_per_year

if TYPE_CHECKING:
    from calc.plan import Criterion, Plan, PlanDoc, Tiers


def format_loc(loc: Sequence[int | str], skip: Iterable[str] = ()) -> str:
    """`('plans', 0, 'components', 1, 'commission', 'rate')` -> `plans[0].components[1].rate`."""
    skipped = set(skip)
    out = ""
    prev: int | str | None = None
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not (isinstance(prev, int) and part in skipped):
            out += f".{part}" if out else str(part)
        prev = part
    return out


def _fail(path: str, reason: str, source: str) -> PlanError:
    return PlanError(path, reason, source=source)


def _non_negative(value: Decimal | None, path: str, source: str) -> None:
    if value is not None and value < 0:
        raise _fail(path, "must not be negative", source)


def _at_most_one(value: Decimal | None, path: str, source: str, *, allowed: bool) -> None:
    if value is not None and value > 1 and not allowed:
        reason = f"{value.normalize():f} is above 1 (100%); say allow_rate_above_one: true if meant"
        raise _fail(path, reason, source)


def _check_tiers(tiers: Tiers, path: str, source: str, *, above_one: bool) -> None:
    if tiers.table[0].start != 0:
        raise _fail(f"{path}.table[0].from", "the first tier must start at 0", source)
    for i, tier in enumerate(tiers.table):
        where = f"{path}.table[{i}]"
        if i and tier.start <= tiers.table[i - 1].start:
            raise _fail(f"{where}.from", "must be greater than the previous tier's from", source)
        if (tier.rate is None) == (tier.base_rate_multiple is None):
            raise _fail(where, "give exactly one of rate and base_rate_multiple", source)
        _non_negative(tier.rate, f"{where}.rate", source)
        _at_most_one(tier.rate, f"{where}.rate", source, allowed=above_one)
        _non_negative(tier.base_rate_multiple, f"{where}.base_rate_multiple", source)


def _check_component(comp: object, path: str, source: str) -> None:
    from calc.plan import Bonus, Commission, Spiff, TargetIncentive

    if isinstance(comp, Commission):
        if (comp.rate is None) == (comp.tiers is None):
            raise _fail(path, "give exactly one of rate and tiers", source)
        _non_negative(comp.rate, f"{path}.rate", source)
        _at_most_one(comp.rate, f"{path}.rate", source, allowed=comp.allow_rate_above_one)
        if comp.tiers is not None:
            _check_tiers(comp.tiers, f"{path}.tiers", source, above_one=comp.allow_rate_above_one)
    elif isinstance(comp, TargetIncentive):
        _non_negative(comp.target, f"{path}.target", source)
        bands = comp.curve.table
        if bands[0].start != 0:
            raise _fail(f"{path}.curve.table[0].from", "the first band must start at 0", source)
        for i, band in enumerate(bands):
            if i and band.start <= bands[i - 1].start:
                raise _fail(
                    f"{path}.curve.table[{i}].from",
                    "must be greater than the previous band's from",
                    source,
                )
            _non_negative(band.multiplier, f"{path}.curve.table[{i}].multiplier", source)
    elif isinstance(comp, Bonus):
        _non_negative(comp.amount, f"{path}.amount", source)
    elif isinstance(comp, Spiff):
        _check_spiff(comp, path, source)


def _check_spiff(comp: object, path: str, source: str) -> None:
    from calc.plan import Spiff

    assert isinstance(comp, Spiff)
    if comp.window.end < comp.window.start:
        raise _fail(f"{path}.window.end", "must not be before window.start", source)
    pay = comp.payout
    given = [v for v in (pay.per_deal, pay.per_unit, pay.rate) if v is not None]
    if len(given) != 1:
        raise _fail(f"{path}.payout", "give exactly one of per_deal, per_unit and rate", source)
    for key in ("per_deal", "per_unit", "rate"):
        _non_negative(getattr(pay, key), f"{path}.payout.{key}", source)
    _at_most_one(pay.rate, f"{path}.payout.rate", source, allowed=comp.allow_rate_above_one)
    if comp.max_payouts is not None and comp.max_payouts < 1:
        raise _fail(f"{path}.max_payouts", "must be at least 1", source)


def _check_common(comp: object, path: str, source: str) -> None:
    from calc.plan import _Component

    assert isinstance(comp, _Component)
    for i, mult in enumerate(comp.multipliers):
        where = f"{path}.multipliers[{i}]"
        if (mult.below_attainment is None) == (mult.min_attainment is None):
            raise _fail(where, "give exactly one of below_attainment and min_attainment", source)
        _non_negative(mult.factor, f"{where}.factor", source)
    cap = comp.cap
    if cap is not None:
        if cap.amount is None and cap.annual is None and cap.per_deal is None:
            raise _fail(f"{path}.cap", "give at least one of amount, annual and per_deal", source)
        for key in ("amount", "annual", "per_deal"):
            _non_negative(getattr(cap, key), f"{path}.cap.{key}", source)
    if comp.ytd is not None:
        _check_ytd(comp, path, source)


def _check_ytd(comp: object, path: str, source: str) -> None:
    from calc.plan import Commission, Spiff, _Component

    assert isinstance(comp, _Component)
    if isinstance(comp, Spiff):
        reason = "a SPIFF pays each qualifying deal; it has no year-to-date measure"
        raise _fail(f"{path}.ytd", reason, source)
    if comp.cap is not None and comp.cap.amount is not None:
        # A true-up pays what the year owes so far: a per-period cap would only defer pay.
        reason = "a year-to-date component is capped per year (cap.annual), not per period"
        raise _fail(f"{path}.cap.amount", reason, source)
    if isinstance(comp, Commission) and comp.tiers is not None and comp.tiers.scope == "deal":
        reason = "scope: deal tiers each deal alone; a year-to-date measure needs scope: period"
        raise _fail(f"{path}.tiers.scope", reason, source)


def _check_quota(plan: Plan, path: str, source: str) -> None:
    quota = plan.quota
    if quota is None:
        return
    if (quota.amount is None) == (quota.annual is None):
        raise _fail(path, "give exactly one of amount and annual", source)
    _non_negative(quota.amount, f"{path}.amount", source)
    _non_negative(quota.annual, f"{path}.annual", source)
    if quota.weights is not None:
        if quota.annual is None:
            raise _fail(f"{path}.weights", "weights need an annual quota", source)
        count = periods_per_year(plan.period)
        if len(quota.weights) != count:
            reason = f"must have {count} weights, one per {plan.period}"
            raise _fail(f"{path}.weights", reason, source)
        if sum(quota.weights, Decimal(0)) != 1:
            raise _fail(f"{path}.weights", "must add up to 1", source)
        for i, weight in enumerate(quota.weights):
            _non_negative(weight, f"{path}.weights[{i}]", source)
    for i, share in enumerate(quota.ramp or []):
        _non_negative(share, f"{path}.ramp[{i}]", source)


def _check_plan(plan: Plan, path: str, source: str) -> None:
    _check_quota(plan, f"{path}.quota", source)
    _non_negative(plan.target_incentive, f"{path}.target_incentive", source)
    seen: set[str] = set()
    for j, comp in enumerate(plan.components):
        where = f"{path}.components[{j}]"
        if comp.id in seen:
            raise _fail(f"{where}.id", f"duplicate component id {comp.id!r}", source)
        seen.add(comp.id)
        _check_common(comp, where, source)
        _check_component(comp, where, source)
    if plan.draw is not None:
        _non_negative(plan.draw.amount, f"{path}.draw.amount", source)
        if plan.draw.periods is not None and plan.draw.periods < 1:
            raise _fail(f"{path}.draw.periods", "must be at least 1", source)
    if plan.clawback is not None:
        if plan.clawback.window_days < 0:
            raise _fail(f"{path}.clawback.window_days", "must not be negative", source)
        _non_negative(plan.clawback.percent, f"{path}.clawback.percent", source)
        if plan.clawback.percent > 1:
            reason = "must be at most 1 (a clawback takes back at most what was paid)"
            raise _fail(f"{path}.clawback.percent", reason, source)


# Amounts of 10^26 and more are refused, as in the CSV inputs (calc.inputs.LIMIT).
LIMIT = Decimal("1e26")


def _sizes(value: object, path: str, source: str) -> None:
    """Every number in the document is finite and below LIMIT (walks the validated models)."""
    from pydantic import BaseModel

    if isinstance(value, Decimal):
        if not value.is_finite() or abs(value) >= LIMIT:
            raise _fail(path, f"{value} is not a usable number (at most 10^26)", source)
    elif isinstance(value, BaseModel):
        for name, field in type(value).model_fields.items():
            key = field.alias or name
            _sizes(getattr(value, name), f"{path}.{key}" if path else key, source)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _sizes(item, f"{path}[{i}]", source)
    elif isinstance(value, dict):
        for key, item in value.items():
            _sizes(item, f"{path}.{key}", source)


def check_doc(doc: PlanDoc, *, source: str) -> None:
    """Raise PlanError (with path) for the first semantic problem in the document."""
    _sizes(doc, "", source)
    seen: set[str] = set()
    for i, plan in enumerate(doc.plans):
        if plan.id in seen:
            raise _fail(f"plans[{i}].id", f"duplicate plan id {plan.id!r}", source)
        seen.add(plan.id)
        _check_plan(plan, f"plans[{i}]", source)
    for i, plan in enumerate(doc.plans):
        if plan.currency != doc.plans[0].currency:
            raise _fail(f"plans[{i}].currency", "all plans must share one currency", source)
    for role, pct in doc.crediting.team_roles.items():
        _non_negative(pct, f"crediting.team_roles.{role}", source)
        if pct > 100:
            reason = f"{pct.normalize():f}% is above 100% (a percent of the deal)"
            raise _fail(f"crediting.team_roles.{role}", reason, source)


def _criteria_paths(doc: PlanDoc) -> list[tuple[str, Criterion]]:
    from calc.plan import Spiff

    out: list[tuple[str, Criterion]] = []
    for i, plan in enumerate(doc.plans):
        out += [(f"plans[{i}].eligible[{k}].field", c) for k, c in enumerate(plan.eligible)]
        for j, comp in enumerate(plan.components):
            if isinstance(comp, Spiff):
                base = f"plans[{i}].components[{j}]"
                out += [(f"{base}.criteria[{k}].field", c) for k, c in enumerate(comp.criteria)]
    return out


def check_deal_fields(doc: PlanDoc, columns: Iterable[str], *, source: str) -> None:
    """Raise PlanError when a criteria, measure or unit field names no deal column."""
    known = {*DEAL_FIELDS, *columns}
    for path, criterion in _criteria_paths(doc):
        if criterion.field not in known:
            raise _fail(path, f"no deal column named {criterion.field!r}", source)
    from calc.plan import Spiff

    for i, plan in enumerate(doc.plans):
        for key in ("measure", "credit_date"):
            if getattr(plan, key) not in known:
                raise _fail(
                    f"plans[{i}].{key}", f"no deal column named {getattr(plan, key)!r}", source
                )
        for j, comp in enumerate(plan.components):
            if isinstance(comp, Spiff) and comp.payout.per_unit is not None:
                unit = comp.payout.unit_field
                if unit not in known:
                    path = f"plans[{i}].components[{j}].payout.unit_field"
                    raise _fail(path, f"no deal column named {unit!r}", source)
