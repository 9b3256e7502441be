"""The calculate and store stages of a run (the run's other stages are in run.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from calc.book import Book
from calc.estimate import owner_estimates
from connector.deps import SyncDeps
from connector.pull import PullResult
from connector.store.assignments import last_correction
from connector.store.periods import PeriodLock, locked_periods
from connector.store.results import (
    CalcRun,
    any_changed,
    begin_calc_run,
    commit_calc_run,
    credited_reps,
    last_committed_calc,
    locked_results,
    reconcile_issues,
    replace_results,
    runs_started_after,
    save_writeback,
)
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
    sessions = where.deps.sessions
    as_of, window = where.as_of, where.window
    with sessions() as session:
        locks = locked_periods(session, org_id=where.org_id)
        last = last_committed_calc(session, org_id=where.org_id)
        corrected = last_correction(session, org_id=where.org_id)
    locked = frozenset(lock.period for lock in locks)
    since = (
        None
        if where.mode == "full"
        else baseline(last, locks, as_of=as_of, plan=plan, pull=pull, corrected=corrected)
    )
    book, rep_ids, deal_ids = _scope(where, plan, since)
    computed = compute_results(book, rep_ids, start=window[0], end=window[1])
    with sessions() as session:
        stored = locked_results(
            session, org_id=where.org_id, rep_ids=list(computed.rep_ids), locked=locked
        )
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
    sessions = where.deps.sessions
    changed_in = None
    if since is not None:
        with sessions() as session:
            changed_in = runs_started_after(session, org_id=where.org_id, run_id=since)
            if not any_changed(session, org_id=where.org_id, run_ids=changed_in):
                # Nothing to recompute (e.g. the echo of our own write): skip loading inputs.
                return Book(plan.doc, (), ()), set(), set()
    inputs = load_inputs(sessions, org_id=where.org_id, changed_in=changed_in)
    # Plan, manager and quota changes are kept with the day they were seen, so the periods
    # before a change keep being paid under the old values (docs/plan-effective-dating.md).
    reps = keep_history(
        sessions,
        org_id=where.org_id,
        reps=inputs.reps,
        seen_on=where.as_of,
        run_id=where.run_id,
        now=where.deps.clock(),
    )
    book = Book(plan.doc, reps, inputs.deals, inputs.splits, inputs.team)
    if since is None:
        return book, None, set()
    deal_ids = changed_deal_ids(book, inputs.changes)
    with sessions() as session:
        previous = credited_reps(session, org_id=where.org_id, deal_ids=sorted(deal_ids))
    return book, touched_reps(book, inputs.changes, deal_ids, previous), deal_ids


def baseline(
    last: CalcRun | None,
    locks: Sequence[PeriodLock],
    *,
    as_of: date,
    plan: ActivePlan,
    pull: PullResult,
    corrected: datetime | None = None,
) -> int | None:
    """The sync run whose results an incremental run builds on; None recomputes everything.

    Everything is recomputed when there is no baseline, when the plan or the mapping changed,
    when a period was locked since (SPIFF statuses turn `Paid`), when an admin corrected an
    assignment's effective date since, or on a new day: the current period's attainment and
    the estimates of open deals depend on the as-of date.
    """
    if last is None or last.sync_run_id is None or last.as_of != as_of:
        return None
    if last.plan_version_id != plan.version_id:
        return None
    if last.mapping_version_id != pull.mapping_version_id:
        return None
    if any(lock.locked_at >= last.created_at for lock in locks):
        return None
    if corrected is not None and corrected >= last.created_at:
        return None
    return last.sync_run_id


def store_stage(
    where: Where, plan: ActivePlan, pull: PullResult, computed: Computed, desired: Wanted
) -> None:
    """Store the calc run, results, credits and pending write-back values in one transaction."""
    now = where.deps.clock()
    as_of, window = where.as_of, where.window
    with where.deps.sessions() as session:
        locked = frozenset(lock.period for lock in locked_periods(session, org_id=where.org_id))
        stored = locked_results(
            session, org_id=where.org_id, rep_ids=list(computed.rep_ids), locked=locked
        )
        calc_run = begin_calc_run(
            session,
            org_id=where.org_id,
            sync_run_id=where.run_id,
            mode=where.mode,
            as_of=as_of,
            range_start=window[0],
            range_end=window[1],
            mapping_version_id=pull.mapping_version_id,
            plan_version_id=plan.version_id,
            created_at=now,
        )
        replace_results(
            session,
            run=calc_run,
            rep_ids=list(computed.rep_ids),
            results=flat_results(computed),
            credits=computed.credits,
            locked=locked,
            kept=frozenset((rep, period) for rep, period, _r in stored),
            now=now,
        )
        save_writeback(session, run=calc_run, values=desired, now=now)
        reconcile_issues(
            session,
            org_id=where.org_id,
            run_id=where.run_id,
            stage="calc",
            found=computed.issues,
            examined=computed.examined,
            now=now,
        )
        commit_calc_run(session, calc_run, reps=len(computed.rep_ids), now=now)
        session.commit()
