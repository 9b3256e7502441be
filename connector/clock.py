"""The clock process: scheduled and requested sync runs (the only module importing APScheduler).

Jobs run one at a time in this process (a single worker thread), and the per-org lease in
the database keeps a second clock — another process or machine — from running the same org
at once; a clock that finds the lease taken skips that tick, which coalesces the request
with the run in progress. Jobs:
- `incremental` every QUOTAFLOW_SYNC_INTERVAL seconds (missed ticks coalesce into one);
- `nightly` full reconcile once a day (default 02:00 UTC), which also re-evaluates values
  that depend only on the date (the current period's attainment after a period rolls over);
- `queue` every couple of seconds: starts a run requested from the CLI or the web.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from connector.deps import SyncDeps
from connector.sync.inputs import SyncBusy, default_holder, held_lease
from connector.sync.progress_store import StoredProgress
from connector.sync.run import SyncOptions, run_locked
from connector.sync.summary import SyncSummary

log = logging.getLogger("quotaflow.clock")


@dataclass(frozen=True, slots=True)
class ClockOptions:
    """When the clock runs syncs."""

    interval_seconds: int = 60
    nightly_hour: int = 2  # UTC
    nightly_minute: int = 0
    queue_poll_seconds: float = 2.0
    sync: SyncOptions = field(default_factory=SyncOptions)


class ClockWorker(Protocol):
    """What the scheduler's jobs call: one org (`SyncWorker`) or every registered org."""

    @property
    def options(self) -> ClockOptions:
        """When the clock runs syncs."""
        ...

    @property
    def holder(self) -> str:
        """The lease holder name of this process."""
        ...

    def job(self, default_mode: str | None) -> None:
        """One tick."""
        ...


class SyncWorker:
    """What the clock's jobs call: one run at a time, queued requests first."""

    def __init__(self, deps: SyncDeps, *, options: ClockOptions, holder: str | None = None):
        self.deps = deps
        self.options = options
        self.holder = holder or default_holder()

    def tick(self, default_mode: str | None) -> SyncSummary | None:
        """Run a queued request, else `default_mode` (None: only queued requests)."""
        deps = self.deps
        org_id = deps.gateway.org_id()
        sync = self.options.sync
        try:
            with held_lease(
                deps.sessions,
                org_id=org_id,
                holder=self.holder,
                ttl=sync.lease_ttl,
                wait_seconds=0,
                clock=deps.clock,
            ) as lease:
                with deps.unit(org_id) as unit:
                    claimed = unit.runs.claim_next(now=deps.clock())
                    unit.commit()
                if claimed is None and default_mode is None:
                    return None
                run_id, mode = claimed if claimed is not None else (None, default_mode or "")
                return run_locked(
                    deps,
                    org_id=org_id,
                    mode=mode,
                    run_id=run_id,
                    options=sync,
                    requested_by="clock",
                    confirm=lease.confirm,
                    # The ops console shows the stage and counts of the running run live.
                    progress=StoredProgress(deps.sessions, org_id=org_id, run_id=run_id),
                )
        except SyncBusy:
            log.info("org %s: another process is running a sync; tick skipped", org_id)
            return None

    def job(self, default_mode: str | None) -> None:
        """A scheduler job: never lets an error kill the clock."""
        try:
            summary = self.tick(default_mode)
        except Exception:  # the clock must outlive any one run's failure
            log.exception("sync tick failed")
            return
        if summary is not None:
            log.info(" | ".join(summary.lines()))


def build_scheduler(worker: ClockWorker) -> BackgroundScheduler:
    """A scheduler with the three jobs, one worker thread, missed runs coalesced."""
    options = worker.options
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": max(1, options.interval_seconds),
        },
        timezone=UTC,
    )
    now = datetime.now(UTC)
    scheduler.add_job(
        worker.job,
        IntervalTrigger(seconds=options.interval_seconds, timezone=UTC),
        args=["incremental"],
        id="incremental",
        next_run_time=now,
    )
    scheduler.add_job(
        worker.job,
        CronTrigger(hour=options.nightly_hour, minute=options.nightly_minute, timezone=UTC),
        args=["full"],
        id="nightly",
    )
    scheduler.add_job(
        worker.job,
        IntervalTrigger(seconds=options.queue_poll_seconds, timezone=UTC),
        args=[None],
        id="queue",
    )
    return scheduler


def run_clock(worker: ClockWorker, *, stop: threading.Event) -> None:
    """Run the scheduler until `stop` is set; a running sync finishes first."""
    scheduler = build_scheduler(worker)
    scheduler.start()
    log.info(
        "clock %s: incremental every %ss, full nightly at %02d:%02d UTC",
        worker.holder,
        worker.options.interval_seconds,
        worker.options.nightly_hour,
        worker.options.nightly_minute,
    )
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)
