"""The estimator: what one deal pays each participant (or would pay if won on `as_of`).

The one definition of the open-deal estimate, used by the CLI, the sync's
`Estimated_Commission__c` and the rep views alike. For an open deal the deal is treated as
won with credit date `as_of`; for a won deal its own credit date is used. Each
participant's amount is their gross for that period with the deal minus without it, so a
deal that lifts earlier deals into a higher tier, unlocks a bonus or crosses a gate is
estimated in full; the part not on the deal's own lines is shown as one
`effect on the rest of the period` line.

Callers bring a rep's credits from wherever they keep them (a `Book`, or the connector's
stored credits) and call `estimate_credits`; nothing else computes the difference.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from calc.book import Book
from calc.crediting import CREDIT_ORDER, Credit
from calc.engine import PeriodGross, QuotaCache, period_gross, rep_results
from calc.model import Deal, Rep, Split, TeamMember
from calc.money import ZERO, money_str
from calc.periods import Period, fiscal_year_start
from calc.plan import Plan, PlanDoc, Spiff
from calc.results import Line, PeriodResult

# (rep id, period name) -> the period's result with none of the open deals: an open deal
# gives no credit, so the period as it stands is the baseline for every open deal in it.
Baselines = dict[tuple[str, str], PeriodResult | PeriodGross | None]


@dataclass(frozen=True, slots=True)
class RepEstimate:
    """What one deal adds to one rep's period gross, with the lines that explain it."""

    amount: Decimal
    lines: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class ParticipantEstimate:
    """What the deal adds to one rep's period gross, with the lines that explain it."""

    rep_id: str
    credit_types: tuple[str, ...]
    period: str
    amount: Decimal
    lines: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class DealEstimate:
    """The estimate for every participant of one deal."""

    deal_id: str
    as_of: date
    won: bool
    participants: tuple[ParticipantEstimate, ...]
    owner_id: str | None

    def owner_amount(self) -> Decimal:
        """What the deal pays (or would pay) its owner: the `Estimated_Commission__c` value."""
        return sum((p.amount for p in self.participants if p.rep_id == self.owner_id), ZERO)


def won_on(deal: Deal, as_of: date) -> Deal:
    """The deal as if won on `as_of` (what an open deal is estimated as)."""
    return replace(deal, is_won=True, is_closed=True, close_date=as_of)


def period_result(
    plan: Plan,
    rep: Rep,
    credits: list[Credit],
    period: Period,
    *,
    plans: Mapping[str, Plan] | None = None,
) -> PeriodResult | None:
    """The rep's result for one period from these credits (None: not employed then); with
    `plans`, an effective-dated rep's period is paid under the assignments in force."""
    results = rep_results(plan, rep, credits, start=period.start, end=period.end, plans=plans)
    return next((r for r in results if r.period.name == period.name), None)


def _gross(
    plan: Plan,
    rep: Rep,
    credits: list[Credit],
    period: Period,
    *,
    plans: Mapping[str, Plan] | None,
    quota_cache: QuotaCache | None,
) -> PeriodResult | PeriodGross | None:
    """The period's gross and lines: of that period alone, unless effective-dated."""
    if rep.assignments and plans is not None:
        return period_result(plan, rep, credits, period, plans=plans)
    return period_gross(plan, rep, credits, period, quota_cache=quota_cache)


def estimate_credits(
    plan: Plan,
    rep: Rep,
    current: Sequence[Credit],
    mine: Sequence[Credit],
    *,
    baselines: Baselines | None = None,
    plans: Mapping[str, Plan] | None = None,
    quota_cache: QuotaCache | None = None,
) -> RepEstimate:
    """What one deal's credits `mine` (hypothetical if open) add to the rep's period gross.

    `current` is the rep's credits as they stand (at least every period that can change
    this one's gross); the deal's own credits in it, if any, are replaced by `mine`. With
    `baselines`, the result without the deal is shared by all the deals of a period that
    gave no credit as they stand.
    """
    period, deal_id = mine[0].period, mine[0].deal_id
    others = [c for c in current if c.deal_id != deal_id]
    cache = {} if quota_cache is None else quota_cache
    with_deal = _gross(plan, rep, [*others, *mine], period, plans=plans, quota_cache=cache)
    if baselines is not None and len(others) == len(current):
        key = (rep.id, period.name)
        if key not in baselines:
            baselines[key] = _gross(
                plan, rep, list(current), period, plans=plans, quota_cache=cache
            )
        without = baselines[key]
    else:  # no cache, or credited while open (a custom `eligible`)
        without = _gross(plan, rep, others, period, plans=plans, quota_cache=cache)
    return _explained(deal_id, with_deal, without)


def _explained(
    deal_id: str,
    with_deal: PeriodResult | PeriodGross | None,
    without: PeriodResult | PeriodGross | None,
) -> RepEstimate:
    """The difference in gross and the lines explaining it (the deal's own, then the rest)."""
    amount = (with_deal.gross if with_deal else ZERO) - (without.gross if without else ZERO)
    own = [ln for ln in (with_deal.lines if with_deal else ()) if ln.deal_id == deal_id]
    rest = amount - sum((ln.amount for ln in own), ZERO)
    if rest:
        with_c = dict(with_deal.components) if with_deal else {}
        without_c = dict(without.components) if without else {}
        effect = _effect(own, with_c, without_c)
        own.append(Line("effect", None, None, rest, Decimal(1), rest, effect))
    return RepEstimate(amount, tuple(own))


def _effect(own: list[Line], with_c: dict[str, Decimal], without_c: dict[str, Decimal]) -> str:
    """Which components moved beyond the deal's own lines, e.g. `quota-bonus +1000.00`."""
    parts = []
    for name, amount in with_c.items():
        delta = (
            amount
            - without_c.get(name, ZERO)
            - sum((ln.amount for ln in own if ln.component == name), ZERO)
        )
        if delta:
            parts.append(f"{name} {'+' if delta > 0 else ''}{money_str(delta)}")
    return "effect on the rest of the period: " + ", ".join(parts)


def _plans(book: Book) -> dict[str, Plan]:
    return {p.id: p for p in book.doc.plans}


def estimate_in_book(book: Book, deal_id: str, *, as_of: date) -> DealEstimate:
    """Estimate against an indexed Book, for every participant with a plan."""
    original = book.deals[deal_id]
    won = original.is_won
    hypo = original if won else won_on(original, as_of)
    credits, _ = book.deal_credits(hypo)
    plans = {c.rep_id: plan for c in credits if (plan := book.ctx(c.rep_id).plan) is not None}
    current = book.credits(plans).by_rep
    out = []
    for rep_id, plan in sorted(plans.items()):
        mine = [c for c in credits if c.rep_id == rep_id]
        found = estimate_credits(
            plan, book.reps[rep_id], current.get(rep_id, []), mine, plans=_plans(book)
        )
        types = tuple(sorted({c.credit_type for c in mine}))
        period = mine[0].period.name
        out.append(ParticipantEstimate(rep_id, types, period, found.amount, found.lines))
    return DealEstimate(deal_id, as_of, won, tuple(out), original.owner_id)


@dataclass(slots=True)
class _Owner:
    """One owner's credits in credit order, shared by every open deal of the owner.

    An open deal won on `as_of` is credited in the period holding `as_of`, and a period's
    gross reads only the credits of `_reach`: none dated after its end (a cancellation falls
    on or after the credit date, a SPIFF pays in credit order), none before its fiscal year,
    the fiscal year of the deals it claws back (credited at most the clawback window before
    it) or the start of a SPIFF window. So each deal is estimated from the owner's credits in
    that reach, already ordered, with the deal's credits put in place, and the period
    without the open deals is computed once per period.
    """

    plan: Plan
    rep: Rep
    ordered: list[Credit]
    credited: set[str]
    quotas: QuotaCache
    heads: dict[date, list[Credit]] = field(default_factory=dict)
    baselines: dict[date, PeriodGross | None] = field(default_factory=dict)

    @classmethod
    def of(cls, plan: Plan, rep: Rep, credits: Iterable[Credit], quotas: QuotaCache) -> _Owner:
        ordered = sorted(credits, key=CREDIT_ORDER)
        return cls(plan, rep, ordered, {c.deal_id for c in ordered}, quotas)

    def head(self, period: Period) -> list[Credit]:
        """The owner's credits that can change the period's gross, in credit order."""
        found = self.heads.get(period.start)
        if found is None:
            dates = [c.credit_date for c in self.ordered]
            first = bisect_left(dates, _reach(self.plan, period))
            found = self.ordered[first : bisect_right(dates, period.end)]
            self.heads[period.start] = found
        return found

    def estimate(self, mine: Sequence[Credit]) -> Decimal:
        """`estimate_credits(...).amount` for one deal's credits `mine`, from shared work."""
        period, deal_id = mine[0].period, mine[0].deal_id
        head = self.head(period)
        # Most open deals give no credit as they stand: the head is the period without them.
        credited = deal_id in self.credited
        others = [c for c in head if c.deal_id != deal_id] if credited else head
        with_mine = list(others)
        for c in sorted(mine, key=CREDIT_ORDER):
            insort(with_mine, c, key=CREDIT_ORDER)
        with_deal = self._gross(with_mine, period)
        if credited:
            without = self._gross(others, period)
        else:
            if period.start not in self.baselines:
                self.baselines[period.start] = self._gross(head, period)
            without = self.baselines[period.start]
        return (with_deal.gross if with_deal else ZERO) - (without.gross if without else ZERO)

    def _gross(self, ordered: list[Credit], period: Period) -> PeriodGross | None:
        return period_gross(
            self.plan, self.rep, ordered, period, quota_cache=self.quotas, ordered=True
        )


def _reach(plan: Plan, period: Period) -> date:
    """The first credit date that can change the period's gross (`period_gross`): year-to-date
    components and annual caps read the period's fiscal year; a clawback recomputes the
    credit period of a deal cancelled in it, with that period's fiscal year; a SPIFF counts
    its payouts from the start of its window."""
    first = period.year_start
    if plan.clawback is not None:
        back = period.start - timedelta(days=plan.clawback.window_days)
        first = min(first, fiscal_year_start(back, plan.fiscal_year_start_month))
    for comp in plan.components:
        if isinstance(comp, Spiff):
            first = min(first, comp.window.start)
    return first


def owner_estimates(book: Book, deal_ids: Iterable[str], *, as_of: date) -> dict[str, Decimal]:
    """Per open deal id, what it would add to its owner's gross if won on `as_of` (in bulk).

    Only the owner is estimated, from the owner's credits (loaded and put in credit order
    once per owner, `_Owner`), and each owner's period without the open deals is computed
    once. Effective-dated owners are estimated through `estimate_credits` (their full run).
    """
    credits_of: dict[str, list[Credit]] = {}
    owners: dict[str, _Owner] = {}
    baselines: Baselines = {}
    out: dict[str, Decimal] = {}
    plans = _plans(book)
    quotas: QuotaCache = {}
    for deal_id in deal_ids:
        original = book.deals[deal_id]
        owner = original.owner_id
        rep = book.reps.get(owner) if owner is not None else None
        plan = book.ctx(owner).plan if owner is not None else None
        mine: list[Credit] = []
        if owner is not None and rep is not None and plan is not None:
            hypo = won_on(original, as_of)
            mine = [c for c in book.deal_credits(hypo)[0] if c.rep_id == owner]
        if owner is None or rep is None or plan is None or not mine:
            out[deal_id] = ZERO
            continue
        if owner not in credits_of and owner not in owners:
            credits_of[owner] = list(book.credits([owner]).by_rep.get(owner, []))
        if rep.assignments:
            found = estimate_credits(
                plan,
                rep,
                credits_of[owner],
                mine,
                baselines=baselines,
                plans=plans,
                quota_cache=quotas,
            )
            out[deal_id] = found.amount
            continue
        if owner not in owners:
            owners[owner] = _Owner.of(plan, rep, credits_of.pop(owner), quotas)
        out[deal_id] = owners[owner].estimate(mine)
    return out


def estimate_deal(
    doc: PlanDoc,
    reps: Iterable[Rep],
    deals: Iterable[Deal],
    splits: Iterable[Split],
    team: Iterable[TeamMember],
    deal_id: str,
    *,
    as_of: date,
) -> DealEstimate:
    """What `deal_id` adds for each participant if won on `as_of` (or adds, if already won)."""
    return estimate_in_book(Book(doc, reps, deals, splits, team), deal_id, as_of=as_of)
