"""The calculate and store stages of a run (the run's other stages are in run.py)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from calc.book import Book
from calc.estimate import owner_estimates
from connector.deps import SyncDeps
from connector.pull import PullResult
from connector.store.periods import PeriodLock
from connector.store.results import CalcRun, CreditKey
from connector.store.unit import OrgUnit
from connector.sync.assignments import keep_history
from connector.sync.compute import (
    Computed,
    FieldValues,
    Key,
    affected_deals,
    compute_results,
    desired_values,
    flat_results,
    frozen_periods,
    open_deals,
    with_locks,
)
from connector.sync.desired import Targets
from connector.sync.plans import ActivePlan
from connector.sync.scope import Changes, changed_deal_ids, touched_reps
from connector.sync.state import CalcState, apply_changes, keep, load_state, take

Wanted = dict[Key, FieldValues]
log = logging.getLogger("quotaflow.sync")


@dataclass(frozen=True, slots=True)
class Where:
    """The run a stage works for."""

    deps: SyncDeps
    org_id: str
    run_id: int
    mode: str
    as_of: date
    window: tuple[date, date]


def calc_window(as_of: date, history_years: int) -> tuple[date, date]:
    """Calendar years from `history_years` before the as-of year to the as-of year's end."""
    return date(as_of.year - history_years, 1, 1), date(as_of.year, 12, 31)


@dataclass(frozen=True, slots=True)
class Expected:
    """What a full run may find different from the stored state: the scope an incremental
    run would have recomputed for the changes since the last committed calculation. Any
    other difference is drift of the incremental state, reported and corrected."""

    deals: frozenset[str]
    reps: frozenset[str]
    results: bool  # compare period results too (same as-of day, window, no new lock)


@dataclass(frozen=True, slots=True)
class Calculated:
    """The calculate stage's output: results, desired values, and the state to keep."""

    computed: Computed
    desired: Wanted
    state: CalcState | None = None
    expected: Expected | None = None


@dataclass(frozen=True, slots=True)
class _Scope:
    book: Book
    rep_ids: set[str] | None  # None: every rep
    deal_ids: set[str]  # deals whose credits may have changed (incremental)
    state: CalcState | None
    expected: Expected | None = None


def calculate_stage(where: Where, plan: ActivePlan, pull: PullResult) -> Calculated:
    """Results of the touched reps (all on a full run) and the values they put on records."""
    as_of, window = where.as_of, where.window
    with where.deps.unit(where.org_id) as unit:
        locks = unit.periods.locked_periods()
        last = unit.results.last_committed_calc()
        rates = unit.rates.sync_state()
        moved = [unit.adjustments.last_entered_at(), rates.changed_at if rates else None]
        moved.append(unit.assignments.last_correction())
        changed = max((m for m in moved if m is not None), default=None)
    locked = frozenset(lock.period for lock in locks)
    since = (
        None
        if where.mode == "full"
        else baseline(last, locks, as_of=as_of, plan=plan, pull=pull, changed_at=changed)
    )
    scope = _scope(where, plan, pull, since, last=last, locks=locks, changed_at=changed)
    book, rep_ids, deal_ids = scope.book, scope.rep_ids, scope.deal_ids
    computed = compute_results(
        book,
        rep_ids,
        start=window[0],
        end=window[1],
        credit_deals=None if rep_ids is None else deal_ids,
        kept=None if rep_ids is None or scope.state is None else scope.state.periods,
        rendered=None if rep_ids is None or scope.state is None else scope.state.rendered,
    )
    with where.deps.unit(where.org_id) as unit:
        stored = unit.results.locked_results(rep_ids=list(computed.rep_ids), locked=locked)
    computed = with_locks(computed, frozen_periods(stored, locked), as_of=as_of)
    mapping = where.deps.mapping_source(where.org_id)
    targets = Targets(
        {w.result: (w.object_name, w.field) for w in mapping.compiled.writeback_targets}
    )
    deals = affected_deals(book, computed, extra=deal_ids, window=window)
    estimates = owner_estimates(book, open_deals(book, deals), as_of=as_of)
    desired = desired_values(
        book,
        computed,
        deal_ids=deals,
        targets=targets,
        estimate=lambda deal: estimates.get(deal.id),
        locked=locked,
        as_of=as_of,
    )
    return Calculated(computed, desired, scope.state, scope.expected)


def _scope(
    where: Where,
    plan: ActivePlan,
    pull: PullResult,
    since: int | None,
    *,
    last: CalcRun | None,
    locks: Sequence[PeriodLock],
    changed_at: datetime | None = None,
) -> _Scope:
    """The Book, the reps to recompute and the deals whose credits may have changed.

    An incremental run reuses the state kept by this process when it matches the baseline
    and reads only the records changed since; otherwise it loads every record.
    """
    deps, org_id = where.deps, where.org_id
    versions = {"plan_version_id": plan.version_id, "mapping_version_id": pull.mapping_version_id}
    if since is None:
        changed_in = _verifiable(where, plan, pull, last, changed_at)
        state, changes = load_state(
            deps, org_id=org_id, doc=plan.doc, changed_in=changed_in, **versions
        )
        expected = None
        if changed_in is not None and last is not None:
            deal_ids, reps = _touched(where, state.book, changes, frozenset())
            results = (
                last.as_of == where.as_of
                and not any(lock.locked_at >= last.created_at for lock in locks)
                and _start_kept(state.book, changes)
            )
            expected = Expected(frozenset(deal_ids), frozenset(reps), results)
        _with_history(where, state)
        return _Scope(state.book, None, set(), state, expected)
    with deps.unit(org_id) as unit:
        changed_in = unit.results.runs_started_after(run_id=since)
        nothing = not unit.results.any_changed(run_ids=changed_in)
    kept = take(deps, org_id=org_id, baseline=since, **versions)
    if nothing:
        # Nothing to recompute (e.g. the echo of our own write): skip loading inputs.
        return _Scope(Book(plan.doc, (), ()), set(), set(), kept)
    if kept is not None:
        applied = apply_changes(kept, deps, changed_in=changed_in)
        state, changes, before = kept, applied.changes, applied.touched_before
        moved = applied.start_moved
        # The kept reps were all seen by the run that committed the state, and their stored
        # history moves only with a sighting or an admin's correction (which recomputes
        # everything): unless a rep changed, there is nothing new to keep or to date.
        if changes.reps:
            _with_history(where, state)
    else:
        state, changes = load_state(
            deps, org_id=org_id, doc=plan.doc, changed_in=changed_in, **versions
        )
        before, moved = frozenset(), False
        _with_history(where, state)
    deal_ids, reps = _touched(where, state.book, changes, before)
    # The first close date moved: what happened before it was unknown, so every rep's
    # history (draws, carried negatives) may read differently.
    return _Scope(state.book, None if moved else reps, deal_ids, state)


def _with_history(where: Where, state: CalcState) -> None:
    """Keep plan, manager and quota changes with the day they were seen and calculate the
    reps with their whole history, so the periods before a change keep being paid under the
    old values (docs/plan-effective-dating.md)."""
    with where.deps.unit(where.org_id) as unit:
        dated = keep_history(
            unit,
            reps=list(state.reps.values()),
            seen_on=where.as_of,
            run_id=where.run_id,
            now=where.deps.clock(),
            plan_ids=frozenset(p.id for p in state.doc.plans),
        )
    state.use_dated_reps(dated)


def _touched(
    where: Where, book: Book, changes: Changes, before: frozenset[str]
) -> tuple[set[str], set[str]]:
    """Deals whose credits may have changed and the reps to recompute for `changes`."""
    deal_ids = changed_deal_ids(book, changes) | set(before)
    with where.deps.unit(where.org_id) as unit:
        # A changed rep's stored credits name every deal that credited them (rollup too),
        # also when the rep is gone from the Book.
        deal_ids |= unit.results.credited_deals(rep_ids=sorted(changes.reps))
        previous = unit.results.credited_reps(deal_ids=sorted(deal_ids))
    return deal_ids, touched_reps(book, changes, deal_ids, previous)


def _verifiable(
    where: Where,
    plan: ActivePlan,
    pull: PullResult,
    last: CalcRun | None,
    changed_at: datetime | None,
) -> set[int] | None:
    """The runs whose changes a full run expects to see, when it can check the stored state
    against its full recompute (same plan, mapping, adjustments and exchange rates as the
    last calculation); else None."""
    if where.mode != "full" or last is None or last.sync_run_id is None:
        return None
    if changed_at is not None and changed_at >= last.created_at:
        return None  # an adjustment or new rates move results and converted credits
    if (last.range_start, last.range_end) != where.window:
        return None  # a new year: the window itself moved
    if (last.plan_version_id, last.mapping_version_id) != (
        plan.version_id,
        pull.mapping_version_id,
    ):
        return None
    with where.deps.unit(where.org_id) as unit:
        return unit.results.runs_started_after(run_id=last.sync_run_id)


def _start_kept(book: Book, changes: Changes) -> bool:
    """Whether the changed deals left the first close date of the data where it was."""
    first = book.data_start
    for deal_id in changes.deals:
        deal = book.deals.get(deal_id)
        if deal is None or deal.close_date is None or first is None or deal.close_date <= first:
            return False
    return True


def baseline(
    last: CalcRun | None,
    locks: Sequence[PeriodLock],
    *,
    as_of: date,
    plan: ActivePlan,
    pull: PullResult,
    changed_at: datetime | None = None,
) -> int | None:
    """The sync run whose results an incremental run builds on; None recomputes everything.

    Everything is recomputed when there is no baseline, when the plan or the mapping changed,
    when a period was locked, an adjustment entered, the exchange rates changed or an admin
    corrected an assignment's effective date since (`changed_at`: SPIFF statuses turn
    `Paid`, the adjustment is paid, converted deals change, earlier periods change plan), or
    on a new day: the current period's attainment and the estimates of open deals depend on
    the as-of date.
    """
    if last is None or last.sync_run_id is None or last.as_of != as_of:
        return None
    if last.plan_version_id != plan.version_id:
        return None
    if last.mapping_version_id != pull.mapping_version_id:
        return None
    if any(lock.locked_at >= last.created_at for lock in locks):
        return None
    if changed_at is not None and changed_at >= last.created_at:
        return None
    return last.sync_run_id


def store_stage(where: Where, plan: ActivePlan, pull: PullResult, calculated: Calculated) -> None:
    """Store the calc run, results, credits and pending write-back values in one transaction,
    writing only rows that differ from what is stored."""
    computed, desired = calculated.computed, calculated.desired
    now = where.deps.clock()
    as_of, window = where.as_of, where.window
    with where.deps.unit(where.org_id) as unit:
        locked = frozenset(lock.period for lock in unit.periods.locked_periods())
        stored = unit.results.locked_results(rep_ids=list(computed.rep_ids), locked=locked)
        kept = frozenset((rep, period) for rep, period, _r in stored)
        last = unit.results.last_committed_calc()
        calc_run = unit.results.begin_calc_run(
            sync_run_id=where.run_id,
            mode=where.mode,
            as_of=as_of,
            range_start=window[0],
            range_end=window[1],
            mapping_version_id=pull.mapping_version_id,
            plan_version_id=plan.version_id,
            created_at=now,
        )
        results = unit.results.store_results(
            run=calc_run,
            rep_ids=computed.rep_ids,
            results=flat_results(computed),
            kept=kept,
            now=now,
            same=computed.same,
            # A full recompute reads every stored document (it verifies the stored state);
            # an incremental one trusts the digest stored beside each row.
            use_digests=computed.examined is not None,
        )
        credits = unit.results.store_credits(
            run=calc_run,
            rep_ids=computed.rep_ids,
            deal_ids=computed.credit_deals,
            credits=computed.credits,
            kept=kept,
        )
        drift = drift_issues(calculated.expected, credits=credits, results=results)
        if drift:
            log.warning(
                "org %s: %d records differed from a full recalculation; corrected",
                where.org_id,
                len(drift),
            )
        # A full recompute looks at every record again (also what a describe or an
        # allow-list change moved); an incremental one at those whose values changed or
        # whose CRM record is not known to hold them.
        unit.results.save_writeback(
            run=calc_run, values=desired, now=now, recheck_all=computed.examined is None
        )
        unit.issues.reconcile_issues(
            run_id=where.run_id,
            stage="calc",
            found=[*computed.issues, *drift],
            examined=computed.examined,
            now=now,
        )
        unit.results.commit_calc_run(calc_run, reps=len(computed.rep_ids), now=now)
        if last is not None:
            carry_pages(unit, last=last, run=calc_run, computed=computed, desired=desired)
        unit.commit()
    if calculated.state is not None:
        calculated.state.remember(computed)
        keep(where.deps, calculated.state, sync_run_id=where.run_id)


def carry_pages(
    unit: OrgUnit, *, last: CalcRun, run: CalcRun, computed: Computed, desired: Wanted
) -> None:
    """Keep the stored rep pages this run did not touch (connector/store/rep_pages.py): not
    the pages of recomputed reps, of changed reps and owners, or showing a changed deal, a
    deal whose credits were recomputed or whose CRM values were stored again."""
    runs = (
        set()
        if last.sync_run_id is None
        else unit.results.runs_started_after(run_id=last.sync_run_id)
    )
    reps, deals = unit.rep_pages.changed_since(run_ids=runs)
    reps |= set(computed.rep_ids)
    deals |= set(computed.credit_deals or ())
    deals |= {record_id for (object_name, record_id) in desired if object_name == "Opportunity"}
    unit.rep_pages.carry_forward(
        from_run=last.id, to_run=run.id, stale_reps=reps, stale_deals=deals
    )


def drift_issues(
    expected: Expected | None,
    *,
    credits: Sequence[CreditKey],
    results: Sequence[tuple[str, str]],
) -> list[tuple[str, str, str]]:
    """Calc issues for stored rows a full run found different outside the expected scope."""
    if expected is None:
        return []
    by_deal: dict[str, list[CreditKey]] = {}
    for key in credits:
        if key[2] not in expected.deals:
            by_deal.setdefault(key[2], []).append(key)
    by_rep: dict[str, list[str]] = {}
    if expected.results:
        for rep, period in results:
            if rep not in expected.reps:
                by_rep.setdefault(rep, []).append(period)
    issues = [
        (
            "Opportunity",
            deal,
            f"the stored credits of this deal differed from a full recalculation "
            f"({', '.join(f'{k[0]} {k[1]} {k[3]}' for k in keys[:5])}); corrected",
        )
        for deal, keys in sorted(by_deal.items())
    ]
    issues += [
        (
            "User",
            rep,
            f"the stored results of {', '.join(periods[:5])} differed from a full "
            f"recalculation; corrected",
        )
        for rep, periods in sorted(by_rep.items())
    ]
    return issues
