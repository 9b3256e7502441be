"""Quotas per period: per-period or annual with weights, prorated for hire/end dates, ramped.

Proration for a rep hired or leaving inside a period:
- `none`: the full period quota.
- `month`: a month of the period counts when the rep is employed on its 15th day.
- `day`: employed days over the period's days.
A ramp gives the share of quota in tenure months 1..n (month 1 is the hire month); after
the ramp the share is 1. The period quota is rounded to cents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from calc.model import Rep
from calc.money import ZERO, Exact, exact_div, exact_mul, round_cents
from calc.periods import Period, add_months, periods_per_year
from calc.plan import Plan

ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class PeriodQuota:
    """The quota of a period and the proration factor (applied to target incentives too)."""

    quota: Decimal
    full_quota: Exact
    proration: Exact


def base_quota(plan: Plan, rep: Rep, period: Period) -> Exact:
    """The period's quota before proration and ramp (the rep's own figure wins)."""
    if rep.quota is not None:
        return rep.quota
    quota = plan.quota
    if quota is None:
        return ZERO
    if quota.amount is not None:
        return quota.amount
    annual = quota.annual or ZERO
    if quota.weights is not None:
        return annual * quota.weights[period.index]
    return exact_div(annual, Decimal(periods_per_year(plan.period)))


def _months(period: Period) -> list[tuple[date, date]]:
    out = []
    start = period.start
    while start <= period.end:
        nxt = add_months(start, 1)
        out.append((start, nxt - timedelta(days=1)))
        start = nxt
    return out


def _employed_days(rep: Rep, start: date, end: date) -> int:
    lo = max(start, rep.hire_date) if rep.hire_date else start
    hi = min(end, rep.end_date) if rep.end_date else end
    return max(0, (hi - lo).days + 1)


def _ramp_share(plan: Plan, rep: Rep, month_start: date) -> Decimal:
    ramp = plan.quota.ramp if plan.quota else None
    if not ramp or rep.hire_date is None:
        return ONE
    tenure = (
        (month_start.year - rep.hire_date.year) * 12 + month_start.month - rep.hire_date.month + 1
    )
    if tenure < 1:
        return ramp[0]
    return ramp[tenure - 1] if tenure <= len(ramp) else ONE


def _month_units(mode: str, rep: Rep, first: date, last: date) -> int:
    """Employed days (day mode) or 1/0 for a counted month (month and none modes)."""
    if mode == "day":
        return _employed_days(rep, first, last)
    if mode == "month":
        mid = first.replace(day=15)
        hired = rep.hire_date is None or rep.hire_date <= mid
        return int(hired and (rep.end_date is None or rep.end_date >= mid))
    return 1


def period_quota(plan: Plan, rep: Rep, period: Period) -> PeriodQuota:
    """The prorated, ramped period quota for this rep."""
    base = base_quota(plan, rep, period)
    mode = plan.quota.proration if plan.quota else "day"
    months = _months(period)
    units = [_month_units(mode, rep, a, b) for a, b in months]
    denom = Decimal(period.days if mode == "day" else len(months))
    proration = exact_div(Decimal(sum(units)), denom)
    ramped = sum(
        (u * _ramp_share(plan, rep, a) for u, (a, _) in zip(units, months, strict=True)), ZERO
    )
    # The period quota is a money figure: rounded to cents once, from the exact value.
    return PeriodQuota(round_cents(exact_div(exact_mul(base, ramped), denom)), base, proration)


def span_quota(plan: Plan, rep: Rep, period: Period, first: date, last: date) -> PeriodQuota:
    """The quota of the days first..last of a period that an assignment change splits.

    A split period is always prorated by day, whatever `proration` says (which still
    governs hire and end dates in periods a change does not split); the ramp still counts
    tenure from the hire date.
    """
    base = base_quota(plan, rep, period)
    months = _months(period)
    units = [_employed_days(rep, max(a, first), min(b, last)) for a, b in months]
    denom = Decimal(period.days)
    proration = exact_div(Decimal(sum(units)), denom)
    ramped = sum(
        (u * _ramp_share(plan, rep, a) for u, (a, _) in zip(units, months, strict=True)), ZERO
    )
    return PeriodQuota(round_cents(exact_div(exact_mul(base, ramped), denom)), base, proration)
