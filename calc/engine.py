"""The calculation: credits -> per-rep, per-period results with lines, draws and clawbacks.

`calculate(doc, reps, deals, splits, team, start=..., end=...)` is the public entry point;
`calculate_book(book, ...)` reuses an indexed `Book` (see calc.book) and can limit the work
to some reps. Every period of a rep's plan from the start of the fiscal year holding `start`
through `end` is computed in order (so year-to-date figures and draw balances carry); only
periods overlapping `start..end` are returned.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from itertools import groupby
from operator import attrgetter
from typing import Protocol
from weakref import proxy

from calc.adjustments import Adjustment, paid_lines
from calc.balance import Balance
from calc.book import Book
from calc.caps import Capped, annual_note, annual_room, limit_total, per_deal_and_period
from calc.clawback import cancel_day, clawable, deal_lines, recalculated
from calc.components import (
    PeriodFacts,
    Raw,
    Table,
    adjust,
    bonus_raw,
    commission_raw,
    finish,
    spiff_raw,
    target_incentive_raw,
)
from calc.crediting import CREDIT_ORDER, Credit, Unresolved
from calc.currency import Conversion, Rates, annotate
from calc.errors import PlanError
from calc.model import Deal, Rep, Split, TeamMember
from calc.money import ZERO, cents, exact_context, exact_mul, fraction4
from calc.periods import Period, fiscal_year_start, period_of, periods_between
from calc.plan import Bonus, Cap, Commission, Plan, PlanDoc, Spiff, TargetIncentive
from calc.quotas import PeriodQuota, period_quota
from calc.results import CalcResult, Line, PeriodResult
from calc.ytd import RepYear, YearToDate, ytd_clawbacks

CLAWBACK = "clawback"
AMOUNT = attrgetter("amount")
PERIOD_START = attrgetter("period.start")
CREDIT_TYPE = attrgetter("credit_type")


@dataclass(slots=True)
class _Computed:
    """A period's components before draws, memoized per rep (clawbacks look back at them)."""

    quota: Decimal
    credit: Decimal
    attainment: Decimal
    components: list[tuple[str, Decimal]]
    lines: list[Line]
    ytd_ids: frozenset[str] = frozenset()
    _earned: dict[tuple[str, str], Decimal] | None = None

    def earned(self, deal_id: str, credit_type: str) -> Decimal:
        """What one credit earned in this period (its deal lines of period components), for
        clawbacks: a year-to-date component claws back through calc.ytd."""
        if self._earned is None:
            self._earned = {}
            for line in self.lines:
                if line.component in self.ytd_ids:
                    continue
                if line.deal_id is not None and line.credit_type is not None:
                    key = (line.deal_id, line.credit_type)
                    self._earned[key] = self._earned.get(key, ZERO) + line.amount
        return self._earned.get((deal_id, credit_type), ZERO)


QuotaCache = dict[tuple[object, ...], PeriodQuota]


def _quota(plan: Plan, rep: Rep, period: Period, cache: QuotaCache) -> PeriodQuota:
    # Most reps share a plan and have no quota of their own: memoize within one calculation.
    key = (plan.id, rep.quota, rep.hire_date, rep.end_date, period.start)
    found = cache.get(key)
    if found is None:
        found = cache[key] = period_quota(plan, rep, period)
    return found


def _employed(rep: Rep, period: Period) -> bool:
    return (rep.hire_date is None or rep.hire_date <= period.end) and (
        rep.end_date is None or rep.end_date >= period.start
    )


def _in_employment(rep: Rep, day: date) -> bool:
    return (rep.hire_date is None or rep.hire_date <= day) and (
        rep.end_date is None or rep.end_date >= day
    )


def spiff_payouts(
    comp: Spiff, credits: Iterable[Credit], credit_types: set[str]
) -> dict[tuple[str, str], int]:
    """Which credits a SPIFF pays, with their ordinal, over its whole window in credit order."""
    return _spiff_paid(comp, credits, credit_types)[0]


def _spiff_paid(
    comp: Spiff, credits: Iterable[Credit], credit_types: set[str] | frozenset[str]
) -> tuple[dict[tuple[str, str], int], list[Credit]]:
    """`spiff_payouts`, plus the credits it pays in the same order."""
    from calc.criteria import compile_all

    match = compile_all(comp.criteria) if comp.criteria else None
    paid: dict[tuple[str, str], int] = {}
    chosen: list[Credit] = []
    first, last = comp.window.start, comp.window.end
    for c in credits:
        if c.credit_type not in credit_types or not first <= c.credit_date <= last:
            continue
        if match is not None and not match(c.deal):
            continue
        if comp.max_payouts is not None and len(paid) >= comp.max_payouts:
            break
        key = (c.deal_id, c.credit_type)
        if key not in paid:
            chosen.append(c)
        paid[key] = len(paid) + 1
    return paid, chosen


def _group(credits: list[Credit]) -> dict[date, list[Credit]]:
    """Credits by the start of their period, in order."""
    grouped: dict[date, list[Credit]] = defaultdict(list)
    # In runs of one period (credits come in credit-date order): a manager's team is large.
    for start, run in groupby(credits, PERIOD_START):
        grouped[start].extend(run)
    return grouped


class _RepCalc:
    """Computes one rep's periods; holds the rep's credits grouped by period."""

    def __init__(
        self,
        plan: Plan,
        rep: Rep,
        credits: list[Credit],
        quota_cache: QuotaCache,
        *,
        ordered: bool = False,
        data_start: date | None = None,
        path: str | None = None,
        adjustments: Mapping[str, Sequence[Adjustment]] | None = None,
        conversions: Mapping[str, Conversion] | None = None,
    ) -> None:
        self.plan, self.rep, self.quota_cache = plan, rep, quota_cache
        # The rep's adjustments by period name (calc.adjustments).
        self.adjustments = adjustments or {}
        # How deals in other currencies were converted, by deal id (calc.currency).
        self.conversions = conversions or {}
        # Where the plan is in its document (`plans[2]`), for errors found while calculating.
        self.path = path or f"plan {plan.id}"
        self.data_start = data_start
        if rep.hire_date is not None or rep.end_date is not None:
            credits = [c for c in credits if _in_employment(rep, c.credit_date)]
        # `ordered`: calculate_book passes credits already in CREDIT_ORDER.
        self.credits = credits if ordered else sorted(credits, key=CREDIT_ORDER)
        # Keyed by period start: hashing a date is cheaper than hashing a Period.
        self.by_period = _group(self.credits)
        self.memo: dict[date, _Computed] = {}
        self.recalculated: dict[tuple[date, frozenset[str]], _Computed] = {}
        self.types_seen = frozenset(map(CREDIT_TYPE, self.credits))
        plan_types = frozenset(plan.credit_types)
        self.plan_types = plan_types
        self.comp_types = {
            comp.id: frozenset(comp.credit_types) if comp.credit_types else plan_types
            for comp in plan.components
        }
        self.spiffs: dict[str, dict[tuple[str, str], int]] = {}
        # Only the credits a SPIFF pays, by period (most credits never qualify).
        self.spiff_credits: dict[str, dict[date, list[Credit]]] = {}
        for comp in plan.components:
            if isinstance(comp, Spiff):
                paid, chosen = _spiff_paid(comp, self.credits, self.comp_types[comp.id])
                self.spiffs[comp.id] = paid
                self.spiff_credits[comp.id] = _group(chosen)
        self.tables: dict[tuple[object, ...], Table | None] = {}
        self.cancelled: list[Credit] | None = None
        self.ytd_ids = frozenset(c.id for c in plan.components if c.ytd is not None)
        # Through a weak reference: the measure lives inside this object, and a reference
        # cycle would keep every rep's lines alive while a one-shot run (`quotaflow calc`)
        # pauses the cyclic collector.
        me = proxy(self)
        self.ytd = YearToDate(
            RepYear(
                plan.id,
                rep.id,
                # Through methods: an effective-dated rep's plan measures its own dates only.
                lambda p: me.in_force(p),
                lambda p: me.by_period.get(p.start, []),
                lambda p: me.period_quota(p),
                lambda comp: me.target(comp),
                plan_types,
                self.comp_types,
                self.tables,
            )
        )

    def target(self, comp: TargetIncentive | None) -> Decimal | None:
        if self.rep.target_incentive is not None:
            return self.rep.target_incentive
        if comp is not None and comp.target is not None:
            return comp.target
        return self.plan.target_incentive

    def compute(self, period: Period, removed: frozenset[str] = frozenset()) -> _Computed:
        """A period's components, memoized; `removed`: deal ids recalculated away."""
        if not removed:
            found = self.memo.get(period.start)
            if found is None:
                found = self.memo[period.start] = self._compute(period, removed)
            return found
        key = (period.start, removed)
        found = self.recalculated.get(key)
        if found is None:
            found = self.recalculated[key] = self._compute(period, removed)
        return found

    def in_force(self, period: Period) -> bool:
        """Whether the rep is paid under this plan in the period (employed in it)."""
        return _employed(self.rep, period)

    def period_quota(self, period: Period) -> PeriodQuota:
        """The period's quota and proration for this rep."""
        return _quota(self.plan, self.rep, period, self.quota_cache)

    def periods(self, first: date, end: date) -> list[Period]:
        """The rep's pay periods from the one holding `first` through `end`, in order."""
        plan = self.plan
        return [
            p
            for p in periods_between(first, end, plan.period, plan.fiscal_year_start_month)
            if _employed(self.rep, p)
        ]

    def plan_at(self, period: Period) -> Plan:
        """The plan whose draw, clawback and balance rules settle this period."""
        return self.plan

    def _compute(self, period: Period, removed: frozenset[str]) -> _Computed:
        plan = self.plan
        pq = self.period_quota(period)
        in_period = self.by_period.get(period.start, [])
        if removed:
            in_period = [c for c in in_period if c.deal_id not in removed]
        mine = self._mine(in_period, self.plan_types)
        credit = sum(map(AMOUNT, mine), ZERO)
        attainment = credit / pq.quota if pq.quota > 0 else ZERO
        full_ti = self.target(None)
        facts = PeriodFacts(
            plan.id,
            self.rep.id,
            pq.quota,
            pq.full_quota,
            pq.proration,
            attainment,
            None if full_ti is None else exact_mul(full_ti, pq.proration),
            full_ti,
        )
        components: list[tuple[str, Decimal]] = []
        lines: list[Line] = []
        for j, comp in enumerate(plan.components):
            try:
                if isinstance(comp, Spiff):
                    mine = self.spiff_credits[comp.id].get(period.start, [])
                    if removed:
                        mine = [c for c in mine if c.deal_id not in removed]
                elif comp.ytd is not None:
                    if removed:
                        # Recalculated periods serve period-component clawbacks only.
                        components.append((comp.id, ZERO))
                        continue
                    amount, comp_lines = self.ytd.true_up(comp, period, self.gone_before(period))
                    components.append((comp.id, amount))
                    lines += comp_lines
                    continue
                else:
                    mine = self._mine(in_period, self.comp_types[comp.id])
                raw = self._raw(comp, mine, facts)
                capped = per_deal_and_period(comp.cap, adjust(comp, raw, attainment))
                if comp.cap is not None and comp.cap.annual is not None:
                    capped = self._annual_cap(comp.id, comp.cap, period, capped)
            except PlanError as exc:
                raise PlanError(f"{self.path}.components[{j}]", exc.reason) from None
            amount, comp_lines = finish(comp.id, capped.raw, capped.before)
            components.append((comp.id, amount))
            lines += comp_lines
        return _Computed(pq.quota, credit, attainment, components, lines, self.ytd_ids)

    def _annual_cap(self, comp_id: str, cap: Cap, period: Period, done: Capped) -> Capped:
        """Limit a period component to what its annual cap leaves after the year's earlier
        periods (what they paid, caps included)."""
        paid = ZERO
        for earlier in self.ytd.year(period):
            if earlier.start >= period.start:
                break
            paid += dict(self.compute(earlier).components)[comp_id]
        room = annual_room(cap, paid)
        assert room is not None and cap.annual is not None
        return limit_total(done, room, annual_note(cap.annual, paid))

    def gone_before(self, period: Period) -> frozenset[str]:
        """Deals cancelled (within the clawback window) before the period starts: they have
        left every year-to-date measure."""
        if self.plan.clawback is None:
            return frozenset()
        if self.cancelled is None:
            self.cancelled = clawable(self.credits, self.plan.clawback)
        return frozenset(c.deal_id for c in self.cancelled if cancel_day(c) < period.start)

    def _mine(self, in_period: list[Credit], types: frozenset[str]) -> list[Credit]:
        if self.types_seen <= types:
            return in_period  # every credit of this rep has one of these types
        return [c for c in in_period if c.credit_type in types]

    def _raw(
        self,
        comp: Commission | TargetIncentive | Bonus | Spiff,
        mine: list[Credit],
        facts: PeriodFacts,
    ) -> list[Raw]:
        if isinstance(comp, Commission):
            return commission_raw(comp, mine, facts, tables=self.tables)
        if isinstance(comp, TargetIncentive):
            ti = self.target(comp)
            prorated = None if ti is None else exact_mul(ti, facts.proration)
            from dataclasses import replace

            return target_incentive_raw(comp, mine, replace(facts, target_incentive=prorated))
        if isinstance(comp, Bonus):
            return bonus_raw(comp, facts)
        return spiff_raw(comp, mine, self.spiffs[comp.id])

    def clawbacks(self, period: Period) -> tuple[list[Raw], Decimal]:
        """Clawback lines for deals cancelled in this period, and the credit they reverse."""
        here = [c for c in self.clawable() if period.start <= cancel_day(c) <= period.end]
        return self.clawback_lines(here, period)

    def clawable(self) -> list[Credit]:
        """This rep's credits of deals cancelled within the plan's clawback window."""
        rule = self.plan.clawback
        if rule is None:
            return []
        if self.cancelled is None:
            self.cancelled = clawable(self.credits, rule)
        return self.cancelled

    def clawback_lines(self, here: list[Credit], period: Period) -> tuple[list[Raw], Decimal]:
        """Clawback lines for these credits cancelled in `period`, and the credit they reverse."""
        rule = self.plan.clawback
        if rule is None or not here:
            return [], ZERO
        ytd = self._ytd_clawbacks(here, period)
        if rule.mode == "deal_lines":
            return deal_lines(here, rule, self._earned) + ytd, ZERO
        raw, reversed_credit = recalculated(
            here,
            cancelled=self.clawable(),
            rule=rule,
            credit_types=self.plan_types,
            paid_without=self._paid_without,
        )
        return raw + ytd, reversed_credit

    def _ytd_clawbacks(self, here: list[Credit], period: Period) -> list[Raw]:
        rule = self.plan.clawback
        if not self.ytd_ids or not here or rule is None:
            return []
        gone = self.gone_before(period)
        out: list[Raw] = []
        for j, comp in enumerate(self.plan.components):
            if comp.id not in self.ytd_ids or isinstance(comp, Spiff):
                continue
            try:
                out += ytd_clawbacks(self.ytd, comp, here, period, gone, rule)
            except PlanError as exc:
                raise PlanError(f"{self.path}.components[{j}]", exc.reason) from None
        return out

    def _earned(self, c: Credit) -> Decimal:
        return self.compute(c.period).earned(c.deal_id, c.credit_type)

    def _paid_without(self, period: Period, removed: frozenset[str]) -> Decimal:
        done = self.compute(period, removed)
        return sum((a for c, a in done.components if c not in self.ytd_ids), ZERO)


class _Pay(Protocol):
    """What `_results` reads: one rep's periods on one plan, or an effective-dated rep's."""

    plan: Plan
    rep: Rep
    data_start: date | None
    credits: list[Credit]
    adjustments: Mapping[str, Sequence[Adjustment]]
    conversions: Mapping[str, Conversion]

    def compute(self, period: Period, removed: frozenset[str] = ...) -> _Computed: ...

    def clawbacks(self, period: Period) -> tuple[list[Raw], Decimal]: ...

    def periods(self, first: date, end: date) -> list[Period]: ...

    def plan_at(self, period: Period) -> Plan: ...


def rep_results(
    plan: Plan,
    rep: Rep,
    credits: list[Credit],
    *,
    start: date,
    end: date,
    quota_cache: QuotaCache | None = None,
    plans: Mapping[str, Plan] | None = None,
) -> list[PeriodResult]:
    """One rep's results for every period of its plan overlapping start..end.

    With `plans` (every plan by id), a rep with effective-dated assignments is paid under
    the assignment in force on each date (calc.dated); without, under `plan` throughout.
    """
    cache: QuotaCache = {} if quota_cache is None else quota_cache
    with localcontext(exact_context()):
        if rep.assignments and plans is not None:
            from calc.dated import dated_calc  # calc.dated builds on this module

            dated = dated_calc(
                plans, rep, sorted(credits, key=CREDIT_ORDER), cache, data_start=None
            )
            return [] if dated is None else _results(dated, start=start, end=end)
        calc = _RepCalc(plan, rep, credits, cache)
        return _results(calc, start=start, end=end)


@dataclass(frozen=True, slots=True)
class PeriodGross:
    """One period's components, lines and gross (before draws), as `rep_results` has them."""

    components: tuple[tuple[str, Decimal], ...]
    lines: tuple[Line, ...]
    gross: Decimal


def period_gross(
    plan: Plan,
    rep: Rep,
    credits: list[Credit],
    period: Period,
    *,
    quota_cache: QuotaCache | None = None,
    ordered: bool = False,
) -> PeriodGross | None:
    """One period of a rep on one plan (no assignments, no adjustments): the same components,
    lines and gross `rep_results` gives it, computing only what that period's gross reads
    (its credits, the year before it for year-to-date and annual caps, the periods clawbacks
    look back at), not every period since the rep's first. None: not a period of the rep.
    `ordered`: the credits are already in CREDIT_ORDER (the estimator keeps them so)."""
    if period_of(period.start, plan.period, plan.fiscal_year_start_month) != period:
        return None
    if not _employed(rep, period):
        return None
    cache: QuotaCache = {} if quota_cache is None else quota_cache
    with localcontext(exact_context()):
        calc = _RepCalc(plan, rep, credits, cache, ordered=ordered)
        done = calc.compute(period)
        components, lines = list(done.components), list(done.lines)
        if plan.clawback is not None:
            raw, _reversed = calc.clawbacks(period)
            claw, claw_lines = finish(CLAWBACK, raw)
            components.append((CLAWBACK, claw))
            lines += claw_lines
        gross = sum((a for _, a in components), ZERO)
    return PeriodGross(tuple(components), tuple(lines), gross)


def _first_on_plan(calc: _Pay) -> Period | None:
    """The rep's first period on the plan: the hire date's, but not before the data starts.

    The inputs start with their first deal (`data_start`; for one rep's credits alone, the
    first of them): a draw advanced or a clawback carried before it cannot be known.
    """
    plan = calc.plan
    known = calc.data_start
    if known is None and calc.credits:
        known = calc.credits[0].credit_date
    days = [d for d in (calc.rep.hire_date, known) if d is not None]
    if not days:
        return None
    return period_of(max(days), plan.period, plan.fiscal_year_start_month)


def _results(calc: _Pay, *, start: date, end: date) -> list[PeriodResult]:
    plan, rep = calc.plan, calc.rep
    first = fiscal_year_start(start, plan.fiscal_year_start_month)
    # Balances carry from the rep's first period on the plan, whatever window is asked for.
    on_plan = _first_on_plan(calc)
    if on_plan is not None:
        first = min(first, on_plan.start)
    periods = calc.periods(first, end)
    out: list[PeriodResult] = []
    balance = Balance()
    ytd_credit = ytd_quota = ytd_gross = ZERO
    year: date | None = None
    on_plan_count = 0  # periods paid so far from the rep's first period on the plan
    for period in periods:
        # An effective-dated rep changes plans: each period settles under the plan in force.
        plan = calc.plan_at(period)
        draw_periods = plan.draw.periods if plan.draw is not None else None
        if period.year_start != year:
            if year is not None:
                balance.new_year(plan)
            year, ytd_credit, ytd_quota, ytd_gross = period.year_start, ZERO, ZERO, ZERO
        done = calc.compute(period)
        components, lines = list(done.components), list(done.lines)
        claw = ZERO
        credit = done.credit
        if plan.clawback is not None:
            raw, reversed_credit = calc.clawbacks(period)
            claw, claw_lines = finish(CLAWBACK, raw)
            components.append((CLAWBACK, claw))
            lines += claw_lines
            credit -= reversed_credit
        taken = ZERO
        adjustments = calc.adjustments.get(period.name)
        if adjustments:
            components, adjustment_lines, taken = paid_lines(components, adjustments)
            lines += adjustment_lines
        gross = sum((a for _, a in components), ZERO)
        with_draw = on_plan is None or period.start >= on_plan.start
        if with_draw:
            # `draw.periods`: the guarantee is paid for the first N periods on the plan only;
            # what is owed keeps being recovered after it ends.
            on_plan_count += 1
            with_draw = draw_periods is None or on_plan_count <= draw_periods
        draw = balance.settle(plan, gross, claw + taken, with_draw=with_draw)
        ytd_credit += credit
        ytd_quota += done.quota
        ytd_gross += gross
        if period.end < start:
            continue
        attainment = credit / done.quota if done.quota > 0 else ZERO
        out.append(
            PeriodResult(
                rep.id,
                plan.id,
                period,
                done.quota,
                credit,
                fraction4(attainment),
                fraction4(ytd_credit / ytd_quota) if ytd_quota > 0 else ZERO,
                tuple(components),
                gross,
                draw,
                cents(gross + draw.top_up - draw.recovered + draw.shortfall),
                tuple(annotate(lines, calc.conversions) if calc.conversions else lines),
                ytd_gross,
            )
        )
    return out


@dataclass(slots=True)
class KeptPeriods:
    """One rep's computed periods, kept for its next calculation (`calculate_book(kept=)`)."""

    plan: Plan
    rep: Rep
    credits: list[Credit]  # in credit order, as the calculation used them
    memo: dict[date, _Computed]
    # The same credits by period start, and each SPIFF's payouts in order (_RepCalc).
    by_period: dict[date, list[Credit]] | None = None
    spiffs: dict[str, dict[tuple[str, str], int]] | None = None


def _period_local(plan: Plan) -> bool:
    """Whether each period's components read that period's credits only (and the SPIFFs'
    paid order): no year-to-date component and no annual cap, which read the year before."""
    for comp in plan.components:
        if not isinstance(comp, Spiff) and comp.ytd is not None:
            return False
        if comp.cap is not None and comp.cap.annual is not None:
            return False
    return True


def _same_period(calc: _RepCalc, found: KeptPeriods, start: date) -> bool:
    """Whether a period of a period-local plan has the very same inputs as when kept: its
    credits, and for each SPIFF the same payouts in order (a credit's payout is keyed by its
    deal and credit type, so with the period's credits the same, so are its SPIFF lines)."""
    if found.by_period is None or found.spiffs is None:
        return False
    if found.by_period.get(start) != calc.by_period.get(start):
        return False
    return found.spiffs == calc.spiffs


def _reuse(calc: _RepCalc, found: KeptPeriods | None) -> None:
    """Give the calculation the kept periods that end before the rep's first changed credit.

    A period's components read only credits dated up to its end (its own, the year before
    it, SPIFF order, cancellations within it), so when those are the same credits under the
    same plan and rep, the period computes the same. Under a plan whose periods read only
    their own credits (`_period_local`), a later period whose credits (and SPIFF payouts)
    are the very same is reused too: a change in March leaves April's components as they
    were. Draws, clawbacks, adjustments and year-to-date totals are settled afresh by
    `_results` from these.
    """
    if found is None or found.plan is not calc.plan or found.rep != calc.rep:
        return
    old, new = found.credits, calc.credits
    i, n = 0, min(len(old), len(new))
    while i < n and (old[i] is new[i] or old[i] == new[i]):
        i += 1
    dates = [c.credit_date for c in (*old[i : i + 1], *new[i : i + 1])]
    first = min(dates) if dates else None  # None: the very same credits
    plan = calc.plan
    local = first is not None and _period_local(plan)
    for start, done in found.memo.items():
        before = (
            first is None or period_of(start, plan.period, plan.fiscal_year_start_month).end < first
        )
        if before or (local and _same_period(calc, found, start)):
            calc.memo[start] = done


def calculate_book(
    book: Book,
    *,
    start: date,
    end: date,
    rep_ids: Iterable[str] | None = None,
    kept: dict[str, KeptPeriods] | None = None,
) -> CalcResult:
    """Calculate from an indexed Book, for every rep or only `rep_ids` (cheap for a few reps).

    With `kept`, each rep on one plan (no assignments) reuses the periods kept from its last
    calculation that its changed credits cannot reach, and keeps its new ones there.
    """
    streamed = stream_book(book, start=start, end=end, rep_ids=rep_ids, kept=kept)
    results: list[PeriodResult] = []
    credits: list[Credit] = []
    for rep_results_, rep_credits in streamed.reps:
        results += rep_results_
        credits += rep_credits
    return CalcResult(streamed.currency, tuple(results), tuple(credits), streamed.unresolved)


@dataclass(frozen=True, slots=True)
class StreamedResult:
    """A calculation handed out rep by rep, in rep id order: each rep's period results and
    its credits in the range (a CalcResult's `results` and `credits`, cut by rep), so a
    caller can write out and drop one rep's lines before the next rep is calculated."""

    currency: str
    reps: Iterator[tuple[list[PeriodResult], list[Credit]]]
    unresolved: tuple[Unresolved, ...]


def stream_book(
    book: Book,
    *,
    start: date,
    end: date,
    rep_ids: Iterable[str] | None = None,
    kept: dict[str, KeptPeriods] | None = None,
) -> StreamedResult:
    """`calculate_book`, rep by rep: each rep is calculated when `reps` reaches it."""
    by_rep, wanted, unresolved, ordered = _credited(book, start=start, end=end, rep_ids=rep_ids)
    reps = _rep_parts(book, by_rep, wanted, start=start, end=end, kept=kept, ordered=ordered)
    return StreamedResult(book.doc.plans[0].currency, reps, unresolved)


@dataclass(frozen=True, slots=True)
class SplitResult:
    """A calculation cut into runs of consecutive reps (in rep id order), each calculated
    only when its iterator is read: `StreamedResult.reps` is the runs read one after the
    other. The credits are known before the cut (rollup credit spans reps), so processes
    forked after it can each calculate one run (`quotaflow calc --jobs`)."""

    currency: str
    runs: tuple[Iterator[tuple[list[PeriodResult], list[Credit]]], ...]
    unresolved: tuple[Unresolved, ...]


# The fixed work of a rep (its periods, draws, year-to-date), in credits' worth of work.
REP_WEIGHT = 12


def split_book(book: Book, *, start: date, end: date, shares: Sequence[int]) -> SplitResult:
    """`stream_book` for every rep, cut into one run per share, each run's work (credits
    plus a fixed amount per rep) about in proportion to its share."""
    by_rep, wanted, unresolved, ordered = _credited(book, start=start, end=end, rep_ids=None)
    # Every rep reads it; found once here, not once per process forked after the cut.
    _ = book.data_start
    weights = [len(by_rep.get(rep_id, ())) + REP_WEIGHT for rep_id in wanted]
    total, whole = sum(weights), sum(shares)
    runs: list[Iterator[tuple[list[PeriodResult], list[Credit]]]] = []
    first = done = taken = 0
    for share in shares:
        taken += share
        last = first
        # Up to the rep that passes this run's part of the total (the last run takes the rest).
        goal = total * taken / whole if taken < whole else total + 1
        while last < len(wanted) and done + weights[last] <= goal:
            done += weights[last]
            last += 1
        runs.append(
            _rep_parts(book, by_rep, wanted[first:last], start=start, end=end, ordered=ordered)
        )
        first = last
    return SplitResult(book.doc.plans[0].currency, tuple(runs), unresolved)


def _credited(
    book: Book, *, start: date, end: date, rep_ids: Iterable[str] | None
) -> tuple[dict[str, list[Credit]], list[str], tuple[Unresolved, ...], bool]:
    """Every credit by rep, the reps wanted in order, the unresolved deals in the range, and
    whether each rep's credits are already in credit order (the Book's kept lists)."""
    with localcontext(exact_context()):
        found = book.credits(rep_ids)
    unresolved = sorted(
        {
            u
            for u in found.unresolved
            if (d := book.deals[u.deal_id].close_date) is None or start <= d <= end
        },
        key=lambda u: (u.deal_id, u.reason),
    )
    wanted = sorted(book.reps) if rep_ids is None else sorted(set(rep_ids) & set(book.reps))
    return found.by_rep, wanted, tuple(unresolved), found.ordered


def _rep_parts(
    book: Book,
    by_rep: dict[str, list[Credit]],
    wanted: list[str],
    *,
    start: date,
    end: date,
    kept: dict[str, KeptPeriods] | None = None,
    ordered: bool = False,
) -> Iterator[tuple[list[PeriodResult], list[Credit]]]:
    quotas: QuotaCache = {}
    paths = {plan.id: f"plans[{i}]" for i, plan in enumerate(book.doc.plans)}
    for rep_id in wanted:
        # Handed over: the caller's copy is the only one left once it is done with it.
        mine = by_rep.pop(rep_id, [])
        # The exact context per rep, so that it never leaks to the caller between reps.
        with localcontext(exact_context()):
            results = _rep_results(
                book, rep_id, mine, quotas, paths, start=start, end=end, kept=kept, ordered=ordered
            )
        if mine and start <= mine[0].credit_date and mine[-1].credit_date <= end:
            # Sorted by credit date, each inside its period: every period is in the range.
            yield results, mine
        else:
            yield results, [c for c in mine if c.period.end >= start and c.period.start <= end]


def _rep_results(
    book: Book,
    rep_id: str,
    mine: list[Credit],
    quotas: QuotaCache,
    paths: dict[str, str],
    *,
    start: date,
    end: date,
    kept: dict[str, KeptPeriods] | None = None,
    ordered: bool = False,
) -> list[PeriodResult]:
    rep = book.reps[rep_id]
    if not ordered:
        mine.sort(key=CREDIT_ORDER)
    plan = book.ctx(rep_id).plan
    if rep.assignments:
        from calc.dated import dated_calc  # calc.dated builds on this module

        plans = {p.id: p for p in book.doc.plans}
        dated = dated_calc(
            plans,
            rep,
            mine,
            quotas,
            data_start=book.data_start,
            paths=paths,
            adjustments=book.adjustments.get(rep_id),
            conversions=book.conversions,
        )
        return [] if dated is None else _results(dated, start=start, end=end)
    if plan is None:
        return []
    calc = _RepCalc(
        plan,
        rep,
        mine,
        quotas,
        ordered=True,
        data_start=book.data_start,
        path=paths[plan.id],
        adjustments=book.adjustments.get(rep_id),
        conversions=book.conversions,
    )
    if kept is not None:
        _reuse(calc, kept.get(rep_id))
    results = _results(calc, start=start, end=end)
    if kept is not None:
        kept[rep_id] = KeptPeriods(plan, rep, calc.credits, calc.memo, calc.by_period, calc.spiffs)
    return results


def calculate(
    doc: PlanDoc,
    reps: Iterable[Rep],
    deals: Iterable[Deal],
    splits: Iterable[Split] = (),
    team: Iterable[TeamMember] = (),
    *,
    start: date,
    end: date,
    rep_ids: Iterable[str] | None = None,
    adjustments: Iterable[Adjustment] = (),
    rates: Rates | None = None,
) -> CalcResult:
    """Credits, attainment and earnings for every rep (or `rep_ids`) and period in start..end."""
    book = Book(doc, reps, deals, splits, team, adjustments=adjustments, rates=rates)
    return calculate_book(book, start=start, end=end, rep_ids=rep_ids)


__all__ = [
    "SplitResult",
    "StreamedResult",
    "calculate",
    "calculate_book",
    "period_gross",
    "period_of",
    "rep_results",
    "spiff_payouts",
    "split_book",
    "stream_book",
]
