"""One sync run, start to finish: pull, map, calculate, store, diff, write, finish.

The imperative shell of the sync data flow (ARCHITECTURE.md): it gathers inputs, asks pure functions
(calc, connector.sync.compute, calc.writeback) what to do, and does it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta

from connector.close.plan_tasks import owe_plan_tasks
from connector.deps import SyncDeps
from connector.disputes.tasks import deliver_tasks
from connector.errors import ConfigError, ConnectorError
from connector.pull import PullResult, run_pull
from connector.salesforce.write_batches import WriteOptions
from connector.store.repositories import RunUsage
from connector.store.unit import OrgUnit
from connector.sync.collector import fewer_collections
from connector.sync.compute import Computed
from connector.sync.grant_ids import pin_grant_names
from connector.sync.inputs import default_holder, held_lease
from connector.sync.plans import load_active_plan
from connector.sync.progress import Progress, QuietProgress
from connector.sync.rates import refresh_rates
from connector.sync.stages import Where, calc_window, calculate_stage, store_stage
from connector.sync.summary import SyncSummary
from connector.sync.writeback_stage import WriteResult, run_writeback

MODES = ("incremental", "full")


@dataclass(frozen=True, slots=True)
class SyncOptions:
    """Tunables of a run."""

    history_years: int = 1  # also calculate this many fiscal years before the as-of year
    lease_ttl: timedelta = timedelta(seconds=60)  # renewed every 20 s while a run is alive
    lease_wait_seconds: float = 0.0
    write: WriteOptions = field(default_factory=WriteOptions)


@dataclass
class _Run:
    deps: SyncDeps
    org_id: str
    run_id: int
    mode: str
    dry_run: bool
    options: SyncOptions
    progress: Progress
    started: float = field(default_factory=time.monotonic)
    calls_before: int = 0
    stages: dict[str, float] = field(default_factory=dict)
    confirm: Callable[[], None] = field(default=lambda: None)

    def timed(self, name: str, since: float) -> float:
        now = time.monotonic()
        self.stages[name] = now - since
        return now


def run_sync(
    deps: SyncDeps,
    *,
    mode: str = "incremental",
    dry_run: bool = False,
    progress: Progress | None = None,
    holder: str | None = None,
    options: SyncOptions | None = None,
) -> SyncSummary:
    """One run under the org's lease; its summary (status `failed` on a fatal error).

    Raises SyncBusy when another run holds the lease past `options.lease_wait_seconds`.
    """
    options = options or SyncOptions()
    org_id = deps.gateway.org_id()
    with held_lease(
        deps.sessions,
        org_id=org_id,
        holder=holder or default_holder(),
        ttl=options.lease_ttl,
        wait_seconds=options.lease_wait_seconds,
        clock=deps.clock,
    ) as lease:
        return run_locked(
            deps,
            org_id=org_id,
            mode=mode,
            dry_run=dry_run,
            progress=progress,
            options=options,
            confirm=lease.confirm,
        )


def run_locked(
    deps: SyncDeps,
    *,
    org_id: str,
    mode: str,
    dry_run: bool = False,
    run_id: int | None = None,
    progress: Progress | None = None,
    options: SyncOptions | None = None,
    requested_by: str = "cli",
    confirm: Callable[[], None] | None = None,
) -> SyncSummary:
    """One run; the caller holds the org's lease. `run_id` is a claimed queued request."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    now = deps.clock()
    # Under the lease, any run still marked running was left by a process that died.
    with deps.unit(org_id) as unit:
        unit.runs.fail_interrupted_runs(now=now, keep=run_id)
        unit.commit()
    with deps.unit(org_id) as unit:
        if run_id is None:
            run_id = unit.runs.create_run(
                mode=mode, now=now, dry_run=dry_run, requested_by=requested_by
            )
            unit.commit()
        unit.runs.start_run(run_id=run_id, now=now)
        unit.commit()
    run = _Run(
        deps, org_id, run_id, mode, dry_run, options or SyncOptions(), progress or QuietProgress()
    )
    run.confirm = confirm or (lambda: None)
    run.calls_before = deps.gateway.calls
    try:
        summary = _execute(run)
    except ConnectorError as exc:
        error = f"{type(exc).__name__}: {exc}"
        failed = SyncSummary(run_id, org_id, mode, "failed", dry_run, error=error)
        summary = _finish(run, failed)
    finally:
        run.progress.finish()
    return summary


def _learn_org(run: _Run) -> None:
    deps, now = run.deps, run.deps.clock()
    # The web app sends users' tokens only to the host the integration login vouched for.
    with deps.unit(run.org_id) as unit:
        unit.hosts.remember_host(url=deps.gateway.instance_url(), now=now)
        unit.commit()
    if not run.dry_run:
        pin_grant_names(deps.gateway, deps.sessions, org_id=run.org_id, now=now)


@fewer_collections()
def _execute(run: _Run) -> SyncSummary:
    deps = run.deps
    now = deps.clock()
    _learn_org(run)
    t = time.monotonic()
    run.progress.stage("pull")
    pull = run_pull(deps, org_id=run.org_id, mode=run.mode, run_id=run.run_id, now=now)
    t = run.timed("pull", t)
    plan = load_active_plan(deps.sessions, org_id=run.org_id)
    if plan is None:
        raise ConfigError(
            f"org {run.org_id} has no compensation plan; "
            "import one with `quotaflow plans import FILE`"
        )
    refresh_rates(deps, org_id=run.org_id, run_id=run.run_id, full=run.mode == "full", now=now)
    run.progress.stage("calculate")
    window = calc_window(now.date(), run.options.history_years)
    where = Where(deps, run.org_id, run.run_id, run.mode, now.date(), window)
    calculated = calculate_stage(where, plan, pull)
    computed, desired = calculated.computed, calculated.desired
    t = run.timed("calculate", t)
    run.progress.stage("store")
    if not run.dry_run:
        store_stage(where, plan, pull, calculated)
    t = run.timed("store", t)
    # Still ours after a long store transaction? Never write beside another run.
    run.confirm()
    run.progress.stage("write")
    named = deps.mapping_source(run.org_id).compiled.writeback_targets
    wrote = run_writeback(
        deps.gateway,
        deps.sessions,
        org_id=run.org_id,
        run_id=run.run_id,
        named={(w.object_name, w.field) for w in named},
        overrides=desired if run.dry_run else None,
        dry_run=run.dry_run,
        options=run.options.write,
        progress=run.progress,
        now=now,
    )
    t = run.timed("write", t)
    if not run.dry_run:
        # Salesforce Tasks owed by dispute changes since the last run (connector/disputes).
        with OrgUnit(deps.sessions, run.org_id) as unit:
            owe_plan_tasks(unit, now=deps.clock())
            unit.commit()
        deliver_tasks(deps.gateway, deps.sessions, org_id=run.org_id, now=deps.clock())
        run.timed("tasks", t)
    return _finish(run, _summary(run, pull, computed, wrote))


def _summary(run: _Run, pull: PullResult, computed: Computed, wrote: WriteResult) -> SyncSummary:
    issues = sum(c.issues for c in pull.objects.values()) + wrote.issues + len(computed.issues)
    return SyncSummary(
        run_id=run.run_id,
        org_id=run.org_id,
        mode=run.mode,
        status="partial" if issues else "succeeded",
        dry_run=run.dry_run,
        pulled=sum(c.fetched for c in pull.objects.values()),
        mapped=sum(max(0, c.stored - c.issues) for c in pull.objects.values()),
        changed=sum(c.changed for c in pull.objects.values()),
        reps_recomputed=len(computed.rep_ids),
        issues=issues,
        to_write=len(wrote.planned),
        written=wrote.written,
        write_calls=wrote.calls,
        writes=wrote.planned,
    )


def _finish(run: _Run, summary: SyncSummary) -> SyncSummary:
    gateway = run.deps.gateway
    usage = gateway.usage
    calls = gateway.calls - run.calls_before
    summary = replace(
        summary,
        api_calls=calls,
        seconds=time.monotonic() - run.started,
        stage_seconds=dict(run.stages),
    )
    with run.deps.unit(run.org_id) as unit:
        unit.runs.finish_run(
            run_id=run.run_id,
            status=summary.status,
            now=run.deps.clock(),
            counts=summary.counts(),
            usage=RunUsage(calls, usage.used if usage else None, usage.limit if usage else None),
            error=summary.error,
        )
        unit.commit()
    return summary
