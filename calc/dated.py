"""One effective-dated rep's pay: each period under the assignments in force, split by day.

Rules (docs/plan-effective-dating.md has the worked example):
- A period that a change of plan, quota or target incentive splits is paid in parts: each
  part under its own plan, with its own credits (by credit date), its quota and target
  incentive prorated by the part's days over the period's days. The parts' components add
  up (by component id); every line names the plan and the assignment it was paid under.
- The period's quota and credit are the sums of the parts; attainment is their quotient.
- A draw in a split period is each part's draw prorated by its days; whether it is
  recoverable, the yearly reset and the negative-balance rule are those of the plan in force
  at the period's end. Balances (draw owed, carried negatives) and year-to-date figures
  carry across the change: they are the rep's, not the plan's.
- A cancelled deal is clawed back under the rules of the plan it was paid under, in the
  period holding the cancel date.
- Year-to-date components and annual caps measure each segment on its own: a change of
  plan, quota or target incentive starts a new year to date for the plan then in force
  (its periods, credits and prorated quotas from the change on); what the old assignment
  paid stays paid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from fractions import Fraction

from calc.adjustments import Adjustment
from calc.assignments import Segment, segments
from calc.clawback import cancel_day
from calc.components import Raw
from calc.crediting import CREDIT_ORDER, Credit
from calc.currency import Conversion
from calc.engine import QuotaCache, _Computed, _RepCalc
from calc.model import Rep
from calc.money import ZERO, round_cents
from calc.periods import Period, periods_between
from calc.plan import Draw, Plan
from calc.quotas import PeriodQuota, span_quota
from calc.results import Line

Part = tuple["_SegmentCalc", date, date]


class _SegmentCalc(_RepCalc):
    """One pay segment's plan over its own dates (credits outside them are not its own)."""

    def __init__(
        self,
        plan: Plan,
        rep: Rep,
        credits: list[Credit],
        quota_cache: QuotaCache,
        *,
        segment: Segment,
        data_start: date | None,
        path: str,
    ) -> None:
        lo, hi = segment.first, segment.last
        mine = [
            c
            for c in credits
            if (lo is None or lo <= c.credit_date) and (hi is None or c.credit_date <= hi)
        ]
        super().__init__(
            plan, rep, mine, quota_cache, ordered=True, data_start=data_start, path=path
        )
        self.segment = segment
        start = segment.first
        self.label = None if start is None else start.isoformat()

    def in_force(self, period: Period) -> bool:
        """Employed in the period, and the period holds some of the segment's days."""
        lo, hi = self.segment.first, self.segment.last
        overlaps = (lo is None or lo <= period.end) and (hi is None or hi >= period.start)
        return overlaps and super().in_force(period)

    def period_quota(self, period: Period) -> PeriodQuota:
        lo, hi = self.segment.first, self.segment.last
        if (lo is None or lo <= period.start) and (hi is None or hi >= period.end):
            return super().period_quota(period)
        first = period.start if lo is None else max(lo, period.start)
        last = period.end if hi is None else min(hi, period.end)
        return span_quota(self.plan, self.rep, period, first, last)

    def tag(self, lines: list[Line]) -> list[Line]:
        """The lines, each naming this segment's plan and assignment."""
        return [x._replace(plan_id=self.plan.id, assignment_from=self.label) for x in lines]


def _rep_view(rep: Rep, segment: Segment) -> Rep:
    head = segment.head
    return replace(
        rep,
        plan_id=head.plan_id,
        manager_id=head.manager_id,
        quota=head.quota,
        target_incentive=head.target_incentive,
        territory=head.territory,
        assignments=(),
    )


class DatedCalc:
    """The engine's view of an effective-dated rep: periods, their parts and their plans."""

    def __init__(
        self,
        rep: Rep,
        calcs: list[_SegmentCalc],
        data_start: date | None,
        *,
        adjustments: Mapping[str, Sequence[Adjustment]] | None = None,
        conversions: Mapping[str, Conversion] | None = None,
    ) -> None:
        self.calcs = calcs
        # Adjustments are the rep's, paid in the period they name whatever the plan.
        self.adjustments = adjustments or {}
        self.conversions = conversions or {}
        self.plan = calcs[0].plan
        first = calcs[0].segment.first
        hire = rep.hire_date
        # The first assignment's start is when the rep joined a plan, like a hire date.
        if first is not None and (hire is None or hire < first):
            hire = first
        self.rep = replace(rep, hire_date=hire)
        self.data_start = data_start
        self.credits = sorted((c for calc in calcs for c in calc.credits), key=CREDIT_ORDER)
        self.parts: dict[Period, list[Part]] = {}
        self.order: list[Period] = []
        self.memo: dict[Period, _Computed] = {}
        self.plans: dict[Period, Plan] = {}
        self.claims: dict[date, Period | None] = {}

    def periods(self, first: date, end: date) -> list[Period]:
        """Every period any segment's plan pays from `first` through `end`, by end date."""
        rep = self.rep
        parts: dict[Period, list[Part]] = {}
        for calc in self.calcs:
            seg, plan = calc.segment, calc.plan
            lo = max(d for d in (seg.first, rep.hire_date, first) if d is not None)
            hi = min(d for d in (seg.last, end) if d is not None)
            if lo > hi:
                continue
            for p in periods_between(lo, hi, plan.period, plan.fiscal_year_start_month):
                a = p.start if seg.first is None else max(seg.first, p.start)
                b = p.end if seg.last is None else min(seg.last, p.end)
                employed = (rep.hire_date is None or rep.hire_date <= b) and (
                    rep.end_date is None or rep.end_date >= a
                )
                if employed:
                    parts.setdefault(p, []).append((calc, a, b))
        self.parts = parts
        self.order = sorted(parts, key=lambda p: (p.end, p.start))
        return self.order

    def compute(self, period: Period, removed: frozenset[str] = frozenset()) -> _Computed:
        """The period's parts, each under its own plan, added up."""
        found = self.memo.get(period)
        if found is not None and not removed:
            return found
        done = [(calc, calc.compute(period, removed)) for calc, _a, _b in self.parts[period]]
        quota = sum((d.quota for _c, d in done), ZERO)
        credit = sum((d.credit for _c, d in done), ZERO)
        totals: dict[str, Decimal] = {}
        lines: list[Line] = []
        for calc, d in done:
            for comp_id, amount in d.components:
                totals[comp_id] = totals.get(comp_id, ZERO) + amount
            lines += calc.tag(d.lines)
        attainment = credit / quota if quota > 0 else ZERO
        found = _Computed(quota, credit, attainment, list(totals.items()), lines)
        if not removed:
            self.memo[period] = found
        return found

    def _claim(self, day: date) -> Period | None:
        """The period a cancel date belongs to: the one whose part holds it, else one holding it."""
        if day not in self.claims:
            hit = next((p for p in self.order for _c, a, b in self.parts[p] if a <= day <= b), None)
            if hit is None:
                hit = next((p for p in reversed(self.order) if p.start <= day <= p.end), None)
            self.claims[day] = hit
        return self.claims[day]

    def clawbacks(self, period: Period) -> tuple[list[Raw], Decimal]:
        """Clawbacks of deals cancelled in this period, each under the plan it was paid under."""
        raws: list[Raw] = []
        reversed_credit = ZERO
        for calc in self.calcs:
            here = [c for c in calc.clawable() if self._claim(cancel_day(c)) == period]
            if not here:
                continue
            found, credit = calc.clawback_lines(here, period)
            note = f" (paid under plan {calc.plan.id})"
            raws += [(*raw[:5], raw[5] + note) for raw in found]
            reversed_credit += credit
        return raws, reversed_credit

    def plan_at(self, period: Period) -> Plan:
        """The plan in force at the period's end, with the draw of a split period prorated."""
        found = self.plans.get(period)
        if found is not None:
            return found
        parts = self.parts[period]
        last = parts[-1][0].plan
        update: dict[str, object] = {}
        claws = [c.plan.clawback for c in self.calcs if c.plan.clawback is not None]
        if last.clawback is None and claws:
            update["clawback"] = claws[0]  # earlier deals are still clawed back
        if len(parts) > 1:
            draws = [(c.plan.draw, a, b) for c, a, b in parts if c.plan.draw is not None]
            if draws:
                amount = sum(
                    (Fraction(d.amount) * ((b - a).days + 1) / period.days for d, a, b in draws),
                    Fraction(0),
                )
                rule = last.draw or draws[-1][0]
                update["draw"] = Draw(
                    amount=round_cents(amount),
                    recoverable=rule.recoverable,
                    reset=rule.reset,
                    periods=rule.periods,
                )
        found = self.plans[period] = last.model_copy(update=update) if update else last
        return found


def dated_calc(
    plans: Mapping[str, Plan],
    rep: Rep,
    credits: list[Credit],
    quota_cache: QuotaCache,
    *,
    data_start: date | None,
    paths: Mapping[str, str] | None = None,
    adjustments: Mapping[str, Sequence[Adjustment]] | None = None,
    conversions: Mapping[str, Conversion] | None = None,
) -> DatedCalc | None:
    """The calculation of a rep with assignments; None when no assignment has a known plan."""
    calcs = []
    for seg in segments(rep):
        plan = plans.get(seg.plan_id) if seg.plan_id else None
        if plan is None:
            continue  # dates on no plan (or one the document lacks) are not paid
        calcs.append(
            _SegmentCalc(
                plan,
                _rep_view(rep, seg),
                credits,
                quota_cache,
                segment=seg,
                data_start=data_start,
                path=(paths or {}).get(plan.id, f"plan {plan.id}"),
            )
        )
    if not calcs:
        return None
    return DatedCalc(rep, calcs, data_start, adjustments=adjustments, conversions=conversions)
