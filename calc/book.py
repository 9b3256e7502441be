"""The indexed inputs of a calculation: reps, deals, splits and team by id, with credit lookup.

A `Book` is built once from the inputs; `credits(rep_ids=...)` finds a subset of reps' credits
without scanning every deal (deals are indexed by the reps they touch, and managers reach
their reports' deals through the ManagerId chain). `put_deal` and `remove_deal` update the
index in place so one changed deal is cheap to recompute; nothing else mutates. Subset
calculations remember the credits of every deal they looked at (a kept Book recomputes the
same few reps again and again); `put_deal` and `remove_deal` forget that deal's. A Book
that remembers its full calculation's credits also keeps every rep's credits in credit order
and moves them by deltas: a changed deal's old credits leave their reps' lists (its owner's,
its split holders', every manager's up the chain for rollup) and its new ones go in, so a
manager's credits are read, not gathered again from the team's deals.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from operator import attrgetter
from typing import cast

from calc.adjustments import Adjustment, by_rep, period_kind, period_named
from calc.assignments import all_managers, covers, territory_ok
from calc.crediting import (
    CREDIT_ORDER,
    Chain,
    Credit,
    Share,
    Unresolved,
    manager_chain,
    new_credit,
    resolve_shares,
    rollup_shares,
)
from calc.criteria import Criterion, Eq, Predicate, compile_all, date_value, numeric_value
from calc.currency import MONEY_FIELDS, Conversion, Rates, convert_deal
from calc.model import DEAL_FIELD_TYPES, Deal, Rep, Split, TeamMember
from calc.money import CENT, HUNDRED, ZERO, Exact, allocate, cents, exact_sum, round_cents
from calc.periods import Period, PeriodKind, period_of
from calc.plan import Plan, PlanDoc


@dataclass(frozen=True, slots=True)
class PlanCtx:
    """What crediting needs from a rep's plan (defaults for reps without a plan)."""

    plan: Plan | None
    kind: PeriodKind
    fy_start_month: int
    measure: str
    date_field: str
    eligible: Predicate
    value: Callable[[Deal], Decimal | None]
    day: Callable[[Deal], date | None]
    territory: bool = False  # the plan pays only on deals in the rep's territory


def _value_getter(name: str) -> Callable[[Deal], Decimal | None]:
    if DEAL_FIELD_TYPES.get(name) is Decimal:
        return cast("Callable[[Deal], Decimal | None]", attrgetter(name))
    return lambda deal: numeric_value(deal, name)


def _day_getter(name: str) -> Callable[[Deal], date | None]:
    if DEAL_FIELD_TYPES.get(name) is date:
        return cast("Callable[[Deal], date | None]", attrgetter(name))
    return lambda deal: date_value(deal, name)


def _ctx(
    plan: Plan | None,
    kind: PeriodKind,
    fy: int,
    measure: str,
    date_field: str,
    eligible: list[Criterion],
) -> PlanCtx:
    return PlanCtx(
        plan,
        kind,
        fy,
        measure,
        date_field,
        compile_all(eligible),
        _value_getter(measure),
        _day_getter(date_field),
        plan is not None and plan.territory == "match",
    )


DEFAULT_CTX = _ctx(None, "month", 1, "amount", "close_date", [Eq(field="is_won", value=True)])


def plan_ctx(plan: Plan) -> PlanCtx:
    """Compile a plan's crediting settings."""
    return _ctx(
        plan,
        plan.period,
        plan.fiscal_year_start_month,
        plan.measure,
        plan.credit_date,
        plan.eligible,
    )


@dataclass(frozen=True, slots=True)
class CreditSet:
    """Credits by rep, plus the deals that could not be credited and chain warnings."""

    by_rep: dict[str, list[Credit]]
    unresolved: list[Unresolved]
    ordered: bool = False  # each rep's credits already in credit order (CREDIT_ORDER)


class Book:
    """Indexed calculation inputs (see module docstring)."""

    def __init__(
        self,
        doc: PlanDoc,
        reps: Iterable[Rep],
        deals: Iterable[Deal],
        splits: Iterable[Split] = (),
        team: Iterable[TeamMember] = (),
        *,
        adjustments: Iterable[Adjustment] = (),
        rates: Rates | None = None,
    ) -> None:
        self.doc = doc
        # Adjustments by rep id, then period name (calc.adjustments).
        self.adjustments = by_rep(adjustments)
        self.reps: dict[str, Rep] = {r.id: r for r in reps}
        self._currency = doc.plans[0].currency  # every plan shares it (calc.plan_checks)
        # Deals in another currency are held converted (calc.currency): how each was
        # converted, its original, and why a deal could not be.
        self.rates = rates
        self.conversions: dict[str, Conversion] = {}
        self._originals: dict[str, Deal] = {}
        self._fx_problems: dict[str, str] = {}
        currency = self._currency
        self.deals: dict[str, Deal] = {
            d.id: d if d.currency is None or d.currency == currency else self._converted(d)
            for d in deals
        }
        self.splits: dict[str, list[Split]] = defaultdict(list)
        self.team: dict[str, list[TeamMember]] = defaultdict(list)
        for split in splits:
            self.splits[split.deal_id].append(split)
        for member in team:
            self.team[member.deal_id].append(member)
        self._ctx = {plan.id: plan_ctx(plan) for plan in doc.plans}
        self._chains: dict[str, Chain] = {}
        self._rep_ctx: dict[str, PlanCtx] = {}
        for rep_id in self.reps:
            self.ctx(rep_id)
        self._plain = doc.crediting.rollup is None
        self._touching: dict[str, set[str]] | None = None
        self._reports: dict[str, list[str]] | None = None
        self._memo: dict[str, tuple[list[Credit], list[Unresolved]]] = {}
        # A Book kept between calculations (the sync's state) remembers the credits of every
        # deal its full calculation credited, so that a later calculation of a few reps (a
        # manager with rollup credit from a large team) credits only the deals changed since.
        self.remember_credits = False
        # With remember_credits, each rep's credits (every rep's from a full calculation on,
        # or from the first calculation of that rep), moved by deltas as deals change
        # (`_kept_unsorted`: lists not yet put in credit order), and the deals that could
        # not be (fully) credited with the reps they reach.
        self._kept: dict[str, list[Credit]] = {}
        self._kept_unsorted: set[str] = set()
        self._noted: dict[str, tuple[list[Unresolved], frozenset[str]]] = {}
        self._noted_by_rep: dict[str, set[str]] = defaultdict(set)
        self._data_start: date | None = None
        self._data_start_known = False
        # Reps whose plan, manager or quota changes over time, or whose plan pays by territory.
        self.dated = {r.id for r in self.reps.values() if r.assignments or self.ctx(r.id).territory}
        self._dated_chains: dict[tuple[str, date], Chain] = {}

    def _converted(self, deal: Deal) -> Deal:
        found = convert_deal(deal, self.rates, self._currency)
        if isinstance(found, str):
            self._fx_problems[deal.id] = found
            return deal
        converted, how = found
        if how is not None:
            self.conversions[deal.id] = how
            self._originals[deal.id] = deal
        return converted

    @property
    def data_start(self) -> date | None:
        """The first close date in the deals, or the start of an earlier adjusted period:
        what happened before it is not known."""
        if not self._data_start_known:
            days = [d.close_date for d in self.deals.values() if d.close_date is not None]
            days += self._adjusted_starts()
            self._data_start = min(days, default=None)
            self._data_start_known = True
        return self._data_start

    def _adjusted_starts(self) -> list[date]:
        out = []
        for rep_id, periods in self.adjustments.items():
            plan = self.ctx(rep_id).plan if rep_id in self.reps else None
            if plan is None:
                continue
            for name in periods:
                if period_kind(name) == plan.period:
                    out.append(period_named(name, plan.fiscal_year_start_month).start)
        return out

    def ctx(self, rep_id: str) -> PlanCtx:
        """The crediting settings of a rep's plan."""
        found = self._rep_ctx.get(rep_id)
        if found is None:
            rep = self.reps.get(rep_id)
            plan_id = rep.plan_id if rep is not None else None
            found = DEFAULT_CTX if plan_id is None else self._ctx.get(plan_id, DEFAULT_CTX)
            self._rep_ctx[rep_id] = found
        return found

    def ctx_of(self, rep_id: str, deal: Deal) -> tuple[PlanCtx, bool]:
        """The crediting settings in force for this rep on the deal's credit date, and whether
        the rep is paid on the deal (on a plan then, the plan's rules, its territory)."""
        if rep_id not in self.dated:
            ctx = self.ctx(rep_id)
            return ctx, ctx.eligible(deal)
        rep = self.reps[rep_id]
        found: PlanCtx | None = None
        on: date | None = None
        for row in rep.assignments:
            ctx = self._ctx.get(row.plan_id, DEFAULT_CTX) if row.plan_id else DEFAULT_CTX
            day = ctx.day(deal)
            if found is None:
                found = ctx  # a deal without a date is reported under the first plan
            if day is not None and covers(row, day):
                found, on = ctx, day
                break
        if not rep.assignments:
            found = self.ctx(rep_id)
            on = found.day(deal)
        if found is None or on is None:
            return found or self.ctx(rep_id), False
        if found.territory and not territory_ok(rep, deal, on):
            return found, False
        return found, found.eligible(deal)

    def chain_on(self, rep_id: str, deal: Deal) -> Chain:
        """The rep's manager chain as it stood on the deal's credit date."""
        if not self.dated:
            return self.chain(rep_id)
        day = self.ctx_of(rep_id, deal)[0].day(deal)
        if day is None:
            return self.chain(rep_id)
        key = (rep_id, day)
        found = self._dated_chains.get(key)
        if found is None:
            found = self._dated_chains[key] = manager_chain(rep_id, self.reps, on=day)
        return found

    def chain(self, rep_id: str) -> Chain:
        """A rep's manager chain (memoized)."""
        found = self._chains.get(rep_id)
        if found is None:
            found = self._chains[rep_id] = manager_chain(rep_id, self.reps)
        return found

    def deal_credits(self, deal: Deal) -> tuple[list[Credit], list[Unresolved]]:
        """Every credit a deal gives, or why it gives none (and a chain-cycle warning)."""
        return self._deal_credits(deal)

    def _shares(self, deal: Deal) -> tuple[list[Share], str | None, str | None]:
        splits = self.splits.get(deal.id, ())
        team = self.team.get(deal.id, ())
        owner = deal.owner_id
        chain_of = self.chain if not self.dated else lambda r: self.chain_on(r, deal)
        if splits or team or owner is None or owner not in self.reps:
            return resolve_shares(
                deal, splits, team, reps=self.reps, rules=self.doc.crediting, chain_of=chain_of
            )
        shares: list[Share] = [(owner, "owner", HUNDRED)]
        rollup = self.doc.crediting.rollup
        if rollup is None:
            return shares, None, None
        # The common case (owner only): the owner's managers get rollup credit for all of it.
        levels = rollup.levels if isinstance(rollup.levels, int) else None
        rolled, warning = rollup_shares(shares, levels, chain_of)
        return shares + rolled, None, warning

    def _deal_credits(
        self, deal: Deal, only: set[str] | None = None
    ) -> tuple[list[Credit], list[Unresolved]]:
        owner = deal.owner_id
        if owner:
            owner_ctx, owner_takes = self.ctx_of(owner, deal)
        else:
            owner_ctx, owner_takes = DEFAULT_CTX, DEFAULT_CTX.eligible(deal)
        if not owner_takes and deal.id not in self.splits:
            return [], []
        if deal.currency is not None and deal.currency != self._currency:
            # Not converted (no rates, no rate in force): crediting it as it stands would be
            # wrong by the exchange rate.
            return [], [Unresolved(deal.id, self._fx_problems[deal.id])]
        if (
            self._plain
            and owner_takes
            and owner in self.reps
            and deal.id not in self.splits
            and deal.id not in self.team
        ):
            # The common case: the owner alone gets 100% (no splits, team or rollup).
            value, day = owner_ctx.value(deal), owner_ctx.day(deal)
            if value is not None and day is not None and owner is not None:
                period = period_of(day, owner_ctx.kind, owner_ctx.fy_start_month)
                amount = self._owner_amount(deal, value, owner_ctx.measure)
                return [new_credit(deal, deal.id, owner, "owner", HUNDRED, amount, day, period)], []
        shares, reason, warning = self._shares(deal)
        if reason is not None:
            # A deal its owner's plan does not take (an open deal, say) is no problem to report.
            return [], [Unresolved(deal.id, reason)] if owner_takes else []
        credits = self._measure(deal, shares, only)
        notes = [Unresolved(deal.id, warning)] if warning else []
        if isinstance(credits, Unresolved):
            return [], [credits, *notes]
        return credits, notes

    def _owner_amount(self, deal: Deal, value: Decimal, measure: str) -> Decimal:
        """The owner's whole credit in cents: of a converted deal, its original amount
        converted exactly (calc.currency)."""
        fx = self.conversions.get(deal.id)
        if fx is None or measure not in MONEY_FIELDS:
            return cents(value)
        return fx.credit(getattr(self._originals[deal.id], measure))

    def _measure(
        self, deal: Deal, shares: list[Share], only: set[str] | None
    ) -> list[Credit] | Unresolved:
        # Each payee's own plan decides what they are paid on: a holder whose plan rejects
        # the deal gets nothing, and their share is credited to nobody else. Rejected split
        # shares still take part in the remainder rule, so it moves cents only.
        parts: list[tuple[str, str, Decimal, Exact, date, Period]] = []
        kept: list[bool] = []
        measures: list[str] = []
        fx = self.conversions.get(deal.id)
        for rep_id, ctype, pct in shares:
            ctx, eligible = self.ctx_of(rep_id, deal)
            if not eligible and ctype != "split":
                continue
            value = ctx.value(deal)
            day = ctx.day(deal)
            if not eligible and (value is None or day is None):
                continue
            if value is None:
                return Unresolved(deal.id, f"no {ctx.measure} to credit")
            if day is None:
                return Unresolved(deal.id, f"no {ctx.date_field} to date the credit")
            wanted = only is None or rep_id in only
            if not wanted and ctype != "split":
                continue  # not asked for (split shares are needed for the remainder rule)
            part: Exact = value if pct == HUNDRED else value * pct / HUNDRED
            if fx is not None and ctx.measure in MONEY_FIELDS:
                # The share of the original amount, converted exactly (calc.currency).
                part = fx.share(getattr(self._originals[deal.id], ctx.measure), pct)
            period = period_of(day, ctx.kind, ctx.fy_start_month)
            parts.append((rep_id, ctype, pct, part, day, period))
            kept.append(eligible)
            measures.append(ctx.measure)
        amounts = [
            p[3].quantize(CENT, ROUND_HALF_UP) if isinstance(p[3], Decimal) else round_cents(p[3])
            for p in parts
        ]
        if len(parts) > 1 and any(p[1] == "split" for p in parts):
            self._allocate_splits(parts, amounts, measures)
        return [
            new_credit(deal, deal.id, rep_id, ctype, pct, amount, day, period)
            for (rep_id, ctype, pct, _, day, period), amount, keep in zip(
                parts, amounts, kept, strict=True
            )
            if keep
        ]

    def _allocate_splits(
        self,
        parts: list[tuple[str, str, Decimal, Exact, date, Period]],
        amounts: list[Decimal],
        measures: list[str],
    ) -> None:
        # Revenue split credits must add up to the deal's measure to the cent: apply the
        # remainder rule (calc.money.allocate) within each measure.
        groups: dict[str, list[int]] = defaultdict(list)
        for i, part in enumerate(parts):
            if part[1] == "split":
                groups[measures[i]].append(i)
        # The target is the exact sum of the shares present (the deal's measure when every
        # holder has one), so the rule moves cents only, never a holder's share.
        for idx in groups.values():
            if len(idx) < 2:
                continue
            exact = [parts[i][3] for i in idx]
            for i, amount in zip(idx, allocate(exact_sum(exact), exact), strict=True):
                amounts[i] = amount

    def credits(self, rep_ids: Iterable[str] | None = None) -> CreditSet:
        """Credits of every rep (None) or of the given reps only, without scanning all deals."""
        wanted = None if rep_ids is None else set(rep_ids)
        if wanted is not None and self.remember_credits:
            return self._kept_credits(wanted)
        if wanted is None:
            deal_ids: Iterable[str] = self.deals
        else:
            deal_ids = sorted(set().union(*(self.touching(r) for r in wanted)))
        by_rep: dict[str, list[Credit]] = defaultdict(list)
        unresolved: list[Unresolved] = []
        deals = self.deals
        if wanted is None and self._plain:
            deal_ids = self._owner_only(by_rep)
        memo = self._memo if wanted is not None else None
        for deal_id in deal_ids:
            if memo is None:
                credits, notes = self._deal_credits(deals[deal_id], wanted)
                if self.remember_credits:
                    self._memo[deal_id] = (credits, notes)
            elif (found := memo.get(deal_id)) is not None:
                credits, notes = found
            else:
                # A kept Book recomputes a few reps after each change: remember every credit
                # of the deals it looked at (put_deal and remove_deal forget them).
                credits, notes = memo[deal_id] = self._deal_credits(deals[deal_id])
            if notes:
                unresolved += notes
            for credit in credits:
                if wanted is None or credit.rep_id in wanted:
                    by_rep[credit.rep_id].append(credit)
        if wanted is None and self.remember_credits:
            self._keep_all(by_rep)
        return CreditSet(dict(by_rep), unresolved)

    def _keep_all(self, by_rep: dict[str, list[Credit]]) -> None:
        """Keep every rep's credits of a full calculation (put in credit order when first
        read) and the deals with notes, for later calculations of a few reps.

        The very lists handed to the engine, which sorts each rep's in place (a second sorted
        copy of every credit would cost the full run a sort of them all); the lists are
        copied whenever they are handed out again (`_kept_credits`)."""
        self._kept = dict(by_rep)
        self._kept_unsorted = set(self._kept)
        for rep_id in self.reps:
            self._kept.setdefault(rep_id, [])
        self._noted, self._noted_by_rep = {}, defaultdict(set)
        for deal_id, (_credits, notes) in self._memo.items():
            if notes:
                self._note(deal_id, notes)

    def _keep_reps(self, rep_ids: list[str]) -> None:
        """Keep the credits of reps met for the first time since the Book was built: every
        deal that may credit them, credited once (remembered) and gathered by rep."""
        wanted = set(rep_ids)
        lists: dict[str, list[Credit]] = {r: [] for r in rep_ids}
        deals = self.deals
        for deal_id in sorted(set().union(*(self.touching(r) for r in rep_ids))):
            found = self._memo.get(deal_id)
            if found is None:
                found = self._memo[deal_id] = self._deal_credits(deals[deal_id])
            credits, notes = found
            if notes and deal_id not in self._noted:
                self._note(deal_id, notes)
            for credit in credits:
                if credit.rep_id in wanted:
                    lists[credit.rep_id].append(credit)
        self._kept.update(lists)
        self._kept_unsorted.update(rep_ids)

    def _kept_list(self, rep_id: str) -> list[Credit]:
        found = self._kept[rep_id]
        if rep_id in self._kept_unsorted:
            found.sort(key=CREDIT_ORDER)  # unique within a rep: (date, deal, credit type)
            self._kept_unsorted.discard(rep_id)
        return found

    def _kept_credits(self, wanted: set[str]) -> CreditSet:
        """`credits(rep_ids)` from the kept lists: the same credits (in credit order) and the
        notes of every deal that may credit one of the reps (the deals `touching` finds)."""
        missing = sorted(r for r in wanted if r not in self._kept)
        if missing:
            self._keep_reps(missing)
        by_rep = {r: list(self._kept_list(r)) for r in sorted(wanted)}
        noted = set().union(*(self._noted_by_rep.get(r, ()) for r in wanted))
        unresolved = [note for deal_id in sorted(noted) for note in self._noted[deal_id][0]]
        return CreditSet({r: c for r, c in by_rep.items() if c}, unresolved, ordered=True)

    def deal_credits_of(self, deal_ids: Iterable[str], rep_ids: set[str]) -> list[Credit]:
        """The credits these deals give these reps (remembered when kept), in no order."""
        out: list[Credit] = []
        for deal_id in deal_ids:
            deal = self.deals.get(deal_id)
            if deal is None:
                continue
            found = self._memo.get(deal_id) if self.remember_credits else None
            credits = found[0] if found is not None else self._deal_credits(deal)[0]
            out += [c for c in credits if c.rep_id in rep_ids]
        return out

    def _reach(self, deal_id: str) -> frozenset[str]:
        """The reps whose `touching` holds this deal: the people it names and, with rollup,
        every manager they have had up to the rollup's levels."""
        deal = self.deals[deal_id]
        people = {deal.owner_id} | {s.rep_id for s in self.splits.get(deal_id, ())}
        people |= {m.rep_id for m in self.team.get(deal_id, ())}
        people.discard(None)
        found = set(cast("set[str]", people))
        rollup = self.doc.crediting.rollup
        if rollup is None:
            return frozenset(found)
        levels = rollup.levels if isinstance(rollup.levels, int) else len(self.reps)
        frontier = list(found)
        for _ in range(levels):
            frontier = [
                boss
                for r in frontier
                if (rep := self.reps.get(r)) is not None
                for boss in sorted(all_managers(rep))
                if boss not in found
            ]
            if not frontier:
                break
            found.update(frontier)
        return frozenset(found)

    def _move_out(self, deal_id: str) -> None:
        """Take a deal's remembered credits out of the kept lists (a delta down the chain)."""
        old = self._memo.pop(deal_id, None)
        noted = self._noted.pop(deal_id, None)
        for rep_id in noted[1] if noted is not None else ():
            self._noted_by_rep[rep_id].discard(deal_id)
        if old is None:
            return  # no credits (its owner's plan does not take it)
        for credit in old[0]:
            if credit.rep_id not in self._kept:
                continue  # not met yet: gathered when first asked for
            found = self._kept_list(credit.rep_id)
            i = bisect_left(found, CREDIT_ORDER(credit), key=CREDIT_ORDER)
            while found[i] is not credit:
                i += 1  # the very credit remembered (an IndexError here is a broken index)
            del found[i]

    def _move_in(self, deal_id: str) -> None:
        """Credit a deal put into the Book and add its credits to the kept lists."""
        credits, notes = self._memo[deal_id] = self._deal_credits(self.deals[deal_id])
        for credit in credits:
            if credit.rep_id in self._kept:
                insort(self._kept_list(credit.rep_id), credit, key=CREDIT_ORDER)
        if notes:
            self._note(deal_id, notes)

    def _note(self, deal_id: str, notes: list[Unresolved]) -> None:
        """Keep a deal's notes, found by the reps whose calculation reports them."""
        reach = self._reach(deal_id)
        self._noted[deal_id] = (notes, reach)
        for rep_id in reach:
            self._noted_by_rep[rep_id].add(deal_id)

    def _owner_only(self, by_rep: dict[str, list[Credit]]) -> list[str]:
        """Credit the common deals (owner only, no splits, team or rollup) in one tight loop.

        Returns the ids of the other deals, for the general path. Same result as
        `_deal_credits`, which the subset path and the tests use for every deal.
        """
        rest: list[str] = []
        currency = self._currency
        special = self.splits.keys() | self.team.keys() | self.conversions.keys()
        owners = self._owner_infos()
        splits = self.splits
        remember = self._memo if self.remember_credits else None
        for deal in self.deals.values():
            deal_id = deal.id
            info = owners.get(deal.owner_id)
            if deal_id in special and (deal.currency is None or deal.currency == currency):
                if deal_id in splits and not (deal_id in self.team or deal_id in self.conversions):
                    found = _revenue_split_credits(deal, splits[deal_id], owners)
                    if found is not None:
                        for credit in found:
                            by_rep[credit.rep_id].append(credit)
                        if remember is not None:
                            remember[deal_id] = (list(found), [])
                        continue
                rest.append(deal_id)
                continue
            if info is None or (deal.currency is not None and deal.currency != currency):
                rest.append(deal_id)
                continue
            owner, ctx, periods = info
            if not ctx.eligible(deal):
                continue
            value, day = ctx.value(deal), ctx.day(deal)
            if value is None or day is None:
                rest.append(deal_id)
                continue
            period = periods.get(day)
            if period is None:
                period = periods[day] = period_of(day, ctx.kind, ctx.fy_start_month)
            amount = value.quantize(CENT, ROUND_HALF_UP)
            credit = new_credit(deal, deal_id, owner, "owner", HUNDRED, amount, day, period)
            by_rep[owner].append(credit)
            if remember is not None:
                remember[deal_id] = ([credit], [])
        return rest

    def _owner_infos(self) -> dict[str | None, tuple[str, PlanCtx, dict[date, Period]]]:
        """Each rep's crediting settings with a day -> period memo shared by its period kind."""
        memos: dict[tuple[str, int], dict[date, Period]] = {}
        out: dict[str | None, tuple[str, PlanCtx, dict[date, Period]]] = {}
        for rep_id in self.reps:
            if rep_id in self.dated:
                continue  # credited under the assignment in force: the general path
            ctx = self.ctx(rep_id)
            memo = memos.setdefault((ctx.kind, ctx.fy_start_month), {})
            out[rep_id] = (rep_id, ctx, memo)
        return out

    def naming(self, rep_id: str) -> set[str]:
        """Ids of deals that name this rep: as owner, split holder or team member."""
        return set(self._index().get(rep_id, ()))

    def touching(self, rep_id: str) -> set[str]:
        """Ids of deals that may credit this rep (directly, or through reports for rollup)."""
        index = self._index()
        found = set(index.get(rep_id, ()))
        rollup = self.doc.crediting.rollup
        if rollup is None:
            return found
        levels = rollup.levels if isinstance(rollup.levels, int) else len(self.reps)
        frontier, seen = [rep_id], {rep_id}
        for _ in range(levels):
            frontier = [r for m in frontier for r in self._reports_of(m) if r not in seen]
            if not frontier:
                break
            seen.update(frontier)
            for report in frontier:
                found |= index.get(report, set())
        return found

    def _reports_of(self, manager_id: str) -> list[str]:
        if self._reports is None:
            self._reports = defaultdict(list)
            for rep in self.reps.values():
                # Every manager the rep has had: rollup credit follows the date of the deal.
                for boss in sorted(all_managers(rep)):
                    self._reports[boss].append(rep.id)
        return self._reports.get(manager_id, [])

    def _index(self) -> dict[str, set[str]]:
        if self._touching is None:
            self._touching = defaultdict(set)
            for deal in self.deals.values():
                self._link(deal.id)
        return self._touching

    def _link(self, deal_id: str, *, unlink: bool = False) -> None:
        assert self._touching is not None
        deal = self.deals[deal_id]
        people = {deal.owner_id} | {s.rep_id for s in self.splits.get(deal_id, ())}
        people |= {m.rep_id for m in self.team.get(deal_id, ())}
        for rep_id in people:
            if rep_id is None:
                continue
            if unlink:
                self._touching[rep_id].discard(deal_id)
            else:
                self._touching[rep_id].add(deal_id)

    def put_deal(
        self,
        deal: Deal,
        *,
        splits: Iterable[Split] | None = None,
        team: Iterable[TeamMember] | None = None,
    ) -> None:
        """Add or replace a deal (and optionally its splits and team) in the index."""
        if self.remember_credits:
            self._move_out(deal.id)
        self._memo.pop(deal.id, None)
        if deal.id in self.deals:
            self.remove_deal(deal.id, keep_related=True)
        self.deals[deal.id] = deal = self._converted(deal)
        day = deal.close_date
        known, first = self._data_start_known, self._data_start
        if known and day is not None and (first is None or day < first):
            self._data_start = day
        if splits is not None:
            self.splits[deal.id] = list(splits)
        if team is not None:
            self.team[deal.id] = list(team)
        if self._touching is not None:
            self._link(deal.id)
        if self.remember_credits:
            self._move_in(deal.id)

    def remove_deal(self, deal_id: str, *, keep_related: bool = False) -> None:
        """Drop a deal (and, unless told otherwise, its splits and team) from the index."""
        if self.remember_credits:
            self._move_out(deal_id)
        self._memo.pop(deal_id, None)
        if deal_id not in self.deals:
            return
        day = self.deals[deal_id].close_date
        if day is not None and self._data_start is not None and day <= self._data_start:
            self._data_start_known = False  # it may have been the first: look again
        if self._touching is not None:
            self._link(deal_id, unlink=True)
        del self.deals[deal_id]
        for known in (self.conversions, self._originals, self._fx_problems):
            known.pop(deal_id, None)
        if not keep_related:
            self.splits.pop(deal_id, None)
            self.team.pop(deal_id, None)


def _revenue_split_credits(
    deal: Deal,
    splits: list[Split],
    owners: dict[str | None, tuple[str, PlanCtx, dict[date, Period]]],
) -> list[Credit] | None:
    """The credits of a deal shared by revenue splits alone, in one pass (a tenth of a big
    book's deals): what `Book._deal_credits` gives it. None when the deal needs the general
    path: an overlay, a share outside 0..100 or not adding up to 100, a holder who is not a
    plain rep (unknown, effective-dated), a holder's plan without the measure or date on the
    deal, or holders measured on different fields."""
    revenue: dict[str, Decimal] = {}
    for split in splits:
        pct = split.percent
        if split.split_type != "revenue" or not ZERO <= pct <= HUNDRED:
            return None
        revenue[split.rep_id] = revenue[split.rep_id] + pct if split.rep_id in revenue else pct
    if not revenue or sum(revenue.values(), ZERO) != HUNDRED:
        return None
    parts: list[tuple[str, Decimal, Decimal, date, Period, bool]] = []
    measure = None
    for rep_id in sorted(revenue):
        info = owners.get(rep_id)
        if info is None:
            return None
        _rep, ctx, periods = info
        value, day = ctx.value(deal), ctx.day(deal)
        if value is None or day is None or (measure is not None and ctx.measure != measure):
            return None
        measure = ctx.measure
        pct = revenue[rep_id]
        period = periods.get(day)
        if period is None:
            period = periods[day] = period_of(day, ctx.kind, ctx.fy_start_month)
        part = value if pct == HUNDRED else value * pct / HUNDRED
        parts.append((rep_id, pct, part, day, period, ctx.eligible(deal)))
    if len(parts) > 1:
        exact = [p[2] for p in parts]
        amounts = allocate(exact_sum(exact), exact)
    else:
        amounts = [parts[0][2].quantize(CENT, ROUND_HALF_UP)]
    deal_id = deal.id
    return [
        new_credit(deal, deal_id, rep_id, "split", pct, amount, day, period)
        for (rep_id, pct, _, day, period, eligible), amount in zip(parts, amounts, strict=True)
        if eligible
    ]
