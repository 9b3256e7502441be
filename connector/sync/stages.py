"""The calculate and store stages of a run (the run's other stages are in run.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from calc.book import Book
from calc.estimate import owner_estimates
from connector.deps import SyncDeps
from connector.pull import PullResult
from connector.store.periods import PeriodLock
from connector.store.results import CalcRun
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
from connector.sync.inputs import load_inputs
from connector.sync.plans import ActivePlan
from connector.sync.scope import changed_deal_ids, touched_reps

Wanted = dict[Key, FieldValues]


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


def calculate_stage(where: Where, plan: ActivePlan, pull: PullResult) -> tuple[Computed, Wanted]:
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
    book, rep_ids, deal_ids = _scope(where, plan, since)
    computed = compute_results(book, rep_ids, start=window[0], end=window[1])
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
    return computed, desired


def _scope(
    where: Where, plan: ActivePlan, since: int | None
) -> tuple[Book, set[str] | None, set[str]]:
    """The Book, the reps to recompute (None: all) and the changed deals."""
    changed_in = None
    if since is not None:
        with where.deps.unit(where.org_id) as unit:
            changed_in = unit.results.runs_started_after(run_id=since)
            if not unit.results.any_changed(run_ids=changed_in):
                # Nothing to recompute (e.g. the echo of our own write): skip loading inputs.
                return Book(plan.doc, (), ()), set(), set()
    with where.deps.unit(where.org_id) as unit:
        inputs = load_inputs(unit, changed_in=changed_in)
        # Plan, manager and quota changes are kept with the day they were seen, so the
        # periods before a change keep being paid under the old values
        # (docs/plan-effective-dating.md).
        reps = keep_history(
            unit, reps=inputs.reps, seen_on=where.as_of, run_id=where.run_id, now=where.deps.clock()
        )
    book = Book(
        plan.doc,
        reps,
        inputs.deals,
        inputs.splits,
        inputs.team,
        adjustments=inputs.adjustments,
        rates=inputs.rates,
    )
    if since is None:
        return book, None, set()
    deal_ids = changed_deal_ids(book, inputs.changes)
    with where.deps.unit(where.org_id) as unit:
        previous = unit.results.credited_reps(deal_ids=sorted(deal_ids))
    return book, touched_reps(book, inputs.changes, deal_ids, previous), deal_ids


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


def store_stage(
    where: Where, plan: ActivePlan, pull: PullResult, computed: Computed, desired: Wanted
) -> None:
    """Store the calc run, results, credits and pending write-back values in one transaction."""
    now = where.deps.clock()
    as_of, window = where.as_of, where.window
    with where.deps.unit(where.org_id) as unit:
        locked = frozenset(lock.period for lock in unit.periods.locked_periods())
        stored = unit.results.locked_results(rep_ids=list(computed.rep_ids), locked=locked)
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
        unit.results.replace_results(
            run=calc_run,
            rep_ids=list(computed.rep_ids),
            results=flat_results(computed),
            credits=computed.credits,
            locked=locked,
            kept=frozenset((rep, period) for rep, period, _r in stored),
            now=now,
        )
        unit.results.save_writeback(run=calc_run, values=desired, now=now)
        unit.issues.reconcile_issues(
            run_id=where.run_id,
            stage="calc",
            found=computed.issues,
            examined=computed.examined,
            now=now,
        )
        unit.results.commit_calc_run(calc_run, reps=len(computed.rep_ids), now=now)
        unit.commit()
