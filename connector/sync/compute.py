"""The calculation step of a run: results for the touched reps, then the desired CRM values.

Pure: everything comes in as arguments (the Book, the scope, frozen results of locked
periods) and goes out as plain data ready to store and diff.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from calc.adjustments import book_problem
from calc.book import Book
from calc.crediting import CREDIT_ORDER, Credit
from calc.engine import KeptPeriods, calculate_book
from calc.money import money_str
from calc.render import credit_dict, result_dict
from calc.results import PeriodResult
from connector.sync.desired import (
    Estimate,
    Targets,
    deal_values,
    in_deal_currency,
    in_rep_currency,
    owner_deal_lines,
    rep_values,
    to_fields,
)
from connector.sync.lock_adjustments import apply_locks
from connector.sync.scope import owned_deals

Key = tuple[str, str]  # (object, record id)
FieldValues = dict[str, str | None]
CalcIssue = tuple[str, str, str]  # (object, record id, reason)


class Examined(Collection[Key]):
    """The records an incremental calculation looked at: the recomputed reps' Users and every
    deal that may credit them. The deals are gathered only when asked for: most runs have no
    open issue to look up, and the deals under a director of a large org are most of it."""

    def __init__(self, book: Book, reps: Sequence[str]) -> None:
        self._book, self._reps = book, frozenset(reps)
        self._keys: frozenset[Key] | None = None

    def _all(self) -> frozenset[Key]:
        if self._keys is None:
            deals = set().union(*(self._book.touching(rep) for rep in self._reps))
            self._keys = frozenset(
                {("User", rep) for rep in self._reps} | {("Opportunity", d) for d in deals}
            )
        return self._keys

    def __contains__(self, key: object) -> bool:
        if isinstance(key, tuple) and len(key) == 2 and key[0] == "User":
            return key[1] in self._reps
        return key in self._all()

    def __iter__(self) -> Iterator[Key]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


@dataclass(frozen=True, slots=True)
class Computed:
    """Results and credits of the recomputed reps (contract shape, locks applied)."""

    rep_ids: tuple[str, ...]
    results: dict[str, list[dict[str, Any]]]  # rep id -> period results in order
    credits: list[dict[str, Any]]
    # Records the calculation could not fully use (a deal whose splits do not add up, a rep
    # whose plan is not in the plan document), and the records whose issues this run
    # re-examined (None: every record, on a full recompute).
    issues: tuple[CalcIssue, ...] = ()
    examined: Collection[Key] | None = None
    # The deals whose credits `credits` holds (None: every deal of the recomputed reps). An
    # incremental run renders only the credits of the deals its changes touch: a manager's
    # other credits are the same as stored.
    credit_deals: frozenset[str] | None = None
    # The (rep, period) results equal to what the run that committed the kept state stored
    # (so the store leaves them alone without reading them), and each recomputed rep's
    # results with their rendering, for the next run (only when given `rendered`).
    same: frozenset[tuple[str, str]] = frozenset()
    rendered: dict[str, Rendered] | None = None


Rendered = dict[str, tuple[PeriodResult, dict[str, Any]]]  # period name -> result, its dict


def compute_results(
    book: Book,
    rep_ids: Iterable[str] | None,
    *,
    start: date,
    end: date,
    credit_deals: Iterable[str] | None = None,
    kept: dict[str, KeptPeriods] | None = None,
    rendered: Mapping[str, Rendered] | None = None,
) -> Computed:
    """Calculate every period of start..end for `rep_ids` (None: every rep); credits of
    `credit_deals` only when given; `kept`: the reps' periods kept from their last run;
    `rendered`: the results the last committed run stored for the reps it recomputed."""
    result = calculate_book(book, start=start, end=end, rep_ids=rep_ids, kept=kept)
    by_rep: dict[str, list[dict[str, Any]]] = {}
    same: set[tuple[str, str]] = set()
    fresh: dict[str, Rendered] | None = None if rendered is None else {}
    for period_result in result.results:
        rep_id, name = period_result.rep_id, period_result.period.name
        before = None if rendered is None else rendered.get(rep_id, {}).get(name)
        if before is not None and before[0] == period_result:
            # A manager's periods before the first changed credit come out as they were:
            # neither rendered again nor compared with the stored row.
            as_dict = before[1]
            same.add((rep_id, name))
        elif before is not None and before[0].lines == period_result.lines:
            # A manager's period after a changed one: its lines are as they were (only the
            # year-to-date figures moved), so only the figures are rendered again.
            as_dict = result_dict(period_result, lines=False)
            as_dict["lines"] = before[1]["lines"]
        else:
            as_dict = result_dict(period_result)
        by_rep.setdefault(rep_id, []).append(as_dict)
        if fresh is not None:
            fresh.setdefault(rep_id, {})[name] = (period_result, as_dict)
    wanted = sorted(book.reps) if rep_ids is None else sorted(set(rep_ids) & set(book.reps))
    issues = {("Opportunity", u.deal_id, u.reason) for u in result.unresolved}
    issues.update(unknown_plans(book, wanted))
    issues.update(unpaid_adjustments(book, None if rep_ids is None else wanted))
    examined = None if rep_ids is None else Examined(book, wanted)
    only = None if credit_deals is None else frozenset(credit_deals)
    credits = result.credits if only is None else _deal_credits(book, wanted, only, start, end)
    return Computed(
        tuple(wanted),
        by_rep,
        [credit_dict(c) for c in credits],
        tuple(sorted(issues)),
        examined,
        only,
        frozenset(same),
        fresh,
    )


def _deal_credits(
    book: Book, wanted: list[str], deal_ids: frozenset[str], start: date, end: date
) -> list[Credit]:
    """The credits of these deals among the calculation's: the reps' in rep order, each
    rep's in credit order, of periods overlapping start..end (what `calculate_book` hands
    out), without going through every credit of a manager's team."""
    by_rep: dict[str, list[Credit]] = {}
    for credit in book.deal_credits_of(sorted(deal_ids), set(wanted)):
        by_rep.setdefault(credit.rep_id, []).append(credit)
    out: list[Credit] = []
    for rep_id in wanted:
        mine = sorted(by_rep.get(rep_id, ()), key=CREDIT_ORDER)
        out += [c for c in mine if c.period.end >= start and c.period.start <= end]
    return out


def unknown_plans(book: Book, rep_ids: Iterable[str]) -> list[CalcIssue]:
    """Reps assigned a plan id the active plan document does not define.

    Such a rep is paid nothing and Quotaflow leaves their fields alone, which would be
    invisible to a comp admin; it is reported instead.
    """
    plans = sorted(plan.id for plan in book.doc.plans)
    issues = []
    for rep_id in rep_ids:
        rep = book.reps[rep_id]
        plan_id = rep.plan_id
        if plan_id and plan_id not in plans:
            reason = (
                f"plan {plan_id!r} is not in the active plan document "
                f"(it defines {', '.join(plans)}); this rep is not calculated"
            )
            issues.append(("User", rep_id, reason))
            continue
        # An earlier assignment (the plan before a change the sync saw) counts as much.
        old = next((a for a in rep.assignments if a.plan_id and a.plan_id not in plans), None)
        if old is not None:
            reason = (
                f"plan {old.plan_id!r} (assigned from {old.effective_from or 'the start'} to "
                f"{old.effective_to}) is not in the active plan document "
                f"(it defines {', '.join(plans)}); those dates are not calculated"
            )
            issues.append(("User", rep_id, reason))
    return issues


def unpaid_adjustments(book: Book, rep_ids: Iterable[str] | None) -> list[CalcIssue]:
    """Stored adjustments that the rep or their plan cannot pay (None: every rep's).

    An unknown rep, a rep without a plan, a period of another kind than the plan's, a
    component the plan does not have or a period the rep was not employed in: the money would
    silently not be paid, so it is reported on the rep instead.
    """
    wanted = book.adjustments.keys() if rep_ids is None else set(rep_ids) & book.adjustments.keys()
    issues: list[CalcIssue] = []
    for rep_id in sorted(wanted):
        rep = book.reps.get(rep_id)
        plan = book.ctx(rep_id).plan if rep is not None else None
        for adjustments in book.adjustments[rep_id].values():
            for adj in adjustments:
                found = book_problem(adj, rep, plan)
                if found is not None:
                    what = f"adjustment {money_str(adj.amount)} for {adj.period}"
                    ref = f" ({adj.reference})" if adj.reference else ""
                    issues.append(("User", rep_id, f"{what}{ref} is not paid: {found[1]}"))
    return issues


def with_locks(
    computed: Computed, frozen: Mapping[str, Mapping[str, Mapping[str, Any]]], *, as_of: date
) -> Computed:
    """Locked periods replaced by what was paid, differences added as adjustment lines."""
    results = {
        rep: apply_locks(rows, frozen.get(rep, {}), as_of=as_of)
        for rep, rows in computed.results.items()
    }
    # A rep with locked periods: its open period carries adjustment lines that depend on the
    # locked periods' fresh figures, so none of its rows is known to be as stored.
    same = frozenset(k for k in computed.same if k[0] not in frozen)
    return replace(computed, results=results, same=same)


def _text(value: Decimal | str | None) -> str | None:
    return None if value is None else str(value)


def affected_deals(
    book: Book, computed: Computed, *, extra: Iterable[str], window: tuple[date, date]
) -> list[str]:
    """Deals whose values may change: owned by a recomputed rep, or changed, inside the window."""
    out = []
    for deal_id in sorted(owned_deals(book, computed.rep_ids) | set(extra)):
        deal = book.deals.get(deal_id)
        day = deal.close_date if deal is not None else None
        if day is not None and window[0] <= day <= window[1]:
            out.append(deal_id)
    return out


def open_deals(book: Book, deal_ids: Iterable[str]) -> list[str]:
    """The deals among these that are still open."""
    return [d for d in deal_ids if not book.deals[d].is_closed and not book.deals[d].is_won]


def desired_values(
    book: Book,
    computed: Computed,
    *,
    deal_ids: Sequence[str],
    targets: Targets,
    estimate: Estimate,
    locked: frozenset[str],
    as_of: date,
) -> dict[Key, FieldValues]:
    """The write-back values of the recomputed reps and of `deal_ids`."""
    out: dict[Key, FieldValues] = {}
    # Only owners of these deals need their lines by deal (a manager's results hold a line
    # for every deal of the team, and most managers own none).
    owners = {book.deals[d].owner_id for d in deal_ids}
    lines_by_owner: dict[str, dict[str, list[tuple[str, str, Decimal]]]] = {}
    for rep_id in computed.rep_ids:
        plan = book.ctx(rep_id).plan
        rows = computed.results.get(rep_id, [])
        if rep_id in owners:
            lines_by_owner[rep_id] = owner_deal_lines(rows)
        if plan is None:
            continue  # no plan: Quotaflow does not manage this user's fields
        values = in_rep_currency(
            rep_values(plan, rows, as_of=as_of),
            book.reps[rep_id].currency,
            plan.currency,
            book.rates,
            as_of=as_of,
        )
        for obj, field, value in to_fields(values, targets):
            out.setdefault((obj, rep_id), {})[field] = _text(value)
    for deal_id in deal_ids:
        deal = book.deals[deal_id]
        owner = deal.owner_id
        plan = book.ctx(owner).plan if owner else None
        lines = lines_by_owner.get(owner or "", {}).get(deal_id, [])
        found = deal_values(deal, plan, lines, estimate=estimate, locked=locked)
        found = in_deal_currency(found, book.conversions.get(deal_id))
        for obj, field, value in to_fields(found, targets):
            out.setdefault((obj, deal_id), {})[field] = _text(value)
    return out


def flat_results(computed: Computed) -> list[dict[str, Any]]:
    """Every result row of the computation, rep by rep."""
    return [row for rep in computed.rep_ids for row in computed.results.get(rep, [])]


def frozen_periods(
    stored: Sequence[tuple[str, str, dict[str, Any]]], locked: frozenset[str]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Stored results of locked periods, by rep and period, from (rep, period, result) rows."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for rep_id, period, result in stored:
        if period in locked:
            out.setdefault(rep_id, {})[period] = result
    return out
