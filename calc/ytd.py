"""Year-to-date components: measured on the fiscal year's credit so far, paid as true-ups.

Business rules (docs/plan-ytd-and-caps.md has the worked examples):
- A component with `ytd: to_date` or `ytd: annual` is evaluated on every credit of the
  fiscal year through the period, in credit order: tiers run on the year's running total,
  the curve, gate, multipliers and bonus look at year-to-date attainment. Its quota is the
  sum of the rep's period quotas so far (`to_date`) or of the whole fiscal year (`annual`,
  so accelerators start only past the year's quota); a target incentive adds up the same way.
- What the year owes so far is the *due*; each period pays the due minus what the earlier
  periods of the year paid (the true-up), line by line: a deal's line shows what it is due
  to date and what it was paid before. The last period of the fiscal year (or the rep's last
  period) is the year-end true-up: it settles the year. A true-up can be negative (a
  to-date quota grew faster than credit): it is netted like any negative pay.
- `cap.annual` caps the due; `cap.per_deal` caps each deal's share of it.
- A deal cancelled within the clawback window leaves the measure from its cancellation on:
  the clawback is what the year (its credit year, also when that year is closed) is due
  with the deal minus without it, times `clawback.percent`, in the period of the
  cancellation, whatever `clawback.mode` says (a deal's pay is spread over true-ups, so
  only the recalculated year defines what it earned).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from calc.caps import Capped, limit_total, per_deal_and_period
from calc.components import (
    PeriodFacts,
    Raw,
    Table,
    adjust,
    bonus_raw,
    commission_raw,
    finish,
    target_incentive_raw,
)
from calc.crediting import Credit
from calc.money import ZERO, Exact, exact_mul, exact_sum, fraction4, money_str, pct_str
from calc.periods import Period, add_months, periods_between
from calc.plan import Bonus, Clawback, Commission, TargetIncentive
from calc.quotas import PeriodQuota
from calc.results import Line, new_line

_TARGET = re.compile(r" target -?[0-9]+\.[0-9]{2}")
YtdComponent = Commission | TargetIncentive | Bonus
Key = tuple[str | None, str | None, str]  # (deal id, credit type, explanation)


@dataclass(frozen=True, slots=True)
class Due:
    """What a component owes for its fiscal year so far: rounded lines by key."""

    total: Decimal
    lines: dict[Key, Line]
    quota: Decimal
    attainment: Decimal


NO_DUE = Due(ZERO, {}, ZERO, ZERO)


@dataclass(frozen=True, slots=True)
class RepYear:
    """What the year-to-date measure needs to know about one rep (given by calc.engine)."""

    plan_id: str
    rep_id: str
    employed: Callable[[Period], bool]
    credits: Callable[[Period], list[Credit]]  # a period's credits, in credit order
    quota: Callable[[Period], PeriodQuota]
    target: Callable[[TargetIncentive | None], Decimal | None]
    plan_types: frozenset[str]
    comp_types: Mapping[str, frozenset[str]]
    tables: dict[tuple[object, ...], Table | None]


class YearToDate:
    """Year-to-date dues of one rep's components, memoized by (component, period, removed)."""

    def __init__(self, rep: RepYear) -> None:
        self.rep = rep
        self.memo: dict[tuple[str, date, frozenset[str]], Due] = {}
        self.years: dict[date, list[Period]] = {}

    def year(self, period: Period) -> list[Period]:
        """The rep's periods of the fiscal year holding `period`."""
        found = self.years.get(period.year_start)
        if found is None:
            first = period.year_start
            last = add_months(first, 12) - timedelta(days=1)
            every = periods_between(first, last, period.kind, first.month)
            found = self.years[first] = [p for p in every if self.rep.employed(p)]
        return found

    def last_of_year(self, period: Period) -> Period | None:
        """The rep's last period of that fiscal year."""
        periods = self.year(period)
        return periods[-1] if periods else None

    def due(self, comp: YtdComponent, period: Period, removed: frozenset[str]) -> Due:
        """What the component owes for the year through `period`, without `removed` deals."""
        key = (comp.id, period.start, removed)
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = self._due(comp, period, removed)
        return found

    def before(self, comp: YtdComponent, period: Period, removed: frozenset[str]) -> Due:
        """The due as of the rep's previous period of the same year (nothing in the first)."""
        periods = [p for p in self.year(period) if p.start < period.start]
        return self.due(comp, periods[-1], removed) if periods else NO_DUE

    def _due(self, comp: YtdComponent, period: Period, removed: frozenset[str]) -> Due:
        rep = self.rep
        year = self.year(period)
        so_far = [p for p in year if p.start <= period.start]
        measured = year if comp.ytd == "annual" else so_far
        quotas = [rep.quota(p) for p in measured]
        quota = sum((q.quota for q in quotas), ZERO)
        credits = [c for p in so_far for c in rep.credits(p) if c.deal_id not in removed]
        credit = sum((c.amount for c in credits if c.credit_type in rep.plan_types), ZERO)
        attainment = credit / quota if quota > 0 else ZERO
        mine = [c for c in credits if c.credit_type in rep.comp_types[comp.id]]
        here = rep.quota(period)
        full_ti = rep.target(None)
        facts = PeriodFacts(
            rep.plan_id,
            rep.rep_id,
            quota,
            here.full_quota,
            here.proration,
            attainment,
            None if full_ti is None else self._target(full_ti, quotas),
            full_ti,
        )
        raw: list[Raw]
        if isinstance(comp, Commission):
            raw = commission_raw(comp, mine, facts, tables=rep.tables)
        elif isinstance(comp, TargetIncentive):
            ti = rep.target(comp)
            target = None if ti is None else self._target(ti, quotas)
            raw = target_incentive_raw(comp, mine, replace(facts, target_incentive=target))
        else:
            raw = bonus_raw(comp, facts)
        raw = adjust(comp, raw, attainment)
        # Lines are matched period to period by deal, credit type and label before caps
        # (a cap's factor and a growing target incentive change every period; the label must not).
        labels = [_TARGET.sub("", r[5]) for r in raw]
        capped: Capped = per_deal_and_period(comp.cap, raw)
        if comp.cap is not None and comp.cap.annual is not None:
            why = f"annual cap {money_str(comp.cap.annual)}"
            capped = limit_total(capped, comp.cap.annual, why)
        total, lines = finish(comp.id, capped.raw, capped.before)
        by_key: dict[Key, Line] = {}
        for line, label in zip(lines, labels, strict=True):
            k = (line.deal_id, line.credit_type, label)
            old = by_key.get(k)
            by_key[k] = line if old is None else _plus(old, line)
        return Due(total, by_key, quota, attainment)

    @staticmethod
    def _target(per_period: Decimal, quotas: Sequence[PeriodQuota]) -> Exact:
        """A per-period target incentive over the measured periods, each prorated (exactly:
        a proration of 45/90 days stays a fraction)."""
        return exact_sum(exact_mul(per_period, q.proration) for q in quotas)

    def true_up(
        self, comp: YtdComponent, period: Period, removed: frozenset[str]
    ) -> tuple[Decimal, list[Line]]:
        """This period's payment of a year-to-date component: due now minus due before."""
        now = self.due(comp, period, removed)
        then = self.before(comp, period, removed)
        closing = self.last_of_year(period) == period
        scope = "quota to date" if comp.ytd == "to_date" else "annual quota"
        head = (
            f"{'year-end true-up' if closing else 'YTD true-up'} {period.name}: "
            f"{pct_str(fraction4(now.attainment))} of {money_str(now.quota)} {scope}"
        )
        lines: list[Line] = []
        for key in [*now.lines, *(k for k in then.lines if k not in now.lines)]:
            new, old = now.lines.get(key), then.lines.get(key)
            due = new.amount if new else ZERO
            paid = old.amount if old else ZERO
            base = (new.base if new else ZERO) - (old.base if old else ZERO)
            if due == paid and base == ZERO and (old is not None or key[0] is not None):
                continue
            shown = new or old
            assert shown is not None
            capped = (new.capped if new else ZERO) - (old.capped if old else ZERO)
            label = shown.explain.replace("on the period's credit", "on the year's credit")
            why = f"{head}; {label}; {money_str(due)} due to date"
            why += f" - {money_str(paid)} paid before"
            lines.append(
                new_line(comp.id, key[0], key[1], base, shown.rate, due - paid, why, capped)
            )
        return now.total - then.total, lines


def _plus(a: Line, b: Line) -> Line:
    return new_line(
        a.component,
        a.deal_id,
        a.credit_type,
        a.base + b.base,
        a.rate,
        a.amount + b.amount,
        a.explain,
        a.capped + b.capped,
    )


def ytd_clawbacks(
    ytd: YearToDate,
    comp: YtdComponent,
    here: list[Credit],
    period: Period,
    gone: frozenset[str],
    rule: Clawback,
) -> list[Raw]:
    """Clawback lines of a year-to-date component for the deals cancelled in `period`.

    Deals are taken out one after another in cancellation order, each out of its credit
    year through this period (or through the end of that year when it is closed).
    """
    out: list[Raw] = []
    removed = set(gone)
    for c in sorted(here, key=lambda c: (c.deal.cancel_date, c.deal_id, c.credit_type)):
        if c.deal_id in removed:
            continue
        upto = period if c.period.year_start == period.year_start else ytd.last_of_year(c.period)
        if upto is None:
            continue
        before = frozenset(removed)
        removed.add(c.deal_id)
        diff = ytd.due(comp, upto, before).total - ytd.due(comp, upto, frozenset(removed)).total
        if diff == ZERO:
            continue
        cancel = c.deal.cancel_date
        assert cancel is not None
        why = (
            f"clawback: {c.deal_id} cancelled {cancel.isoformat()}, "
            f"{(cancel - c.credit_date).days} days after credit; {pct_str(rule.percent)} of "
            f"{money_str(diff)}: {comp.id} for {upto.year_start.year} year to date "
            f"recalculated without the deal"
        )
        out.append((c.deal_id, c.credit_type, diff, -rule.percent, -diff * rule.percent, why))
    return out
