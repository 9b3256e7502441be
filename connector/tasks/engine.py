"""The distributed engine: procrastinate, a task queue kept in the PostgreSQL database
(the only module importing procrastinate). Why this engine: docs/orgs.md.

Tasks (built by `build_app`, nothing at import):
- `quotaflow.sync_org(org_id, mode)`: one org's sync (`OrgSyncer.run`). Deferred with the
  procrastinate `lock` `org:<id>` (no two jobs of one org run at once, across every worker)
  and `queueing_lock` `org:<id>` (a request while one waits is not queued twice). The org's
  database lease stays the guard against every other runner (CLI, an embedded clock).
- `quotaflow.tick` (every QUOTAFLOW_SYNC_INTERVAL, at least a minute), `quotaflow.nightly`
  (02:00 UTC full reconcile), `quotaflow.poll` (every 5 s: orgs with a queued request) and
  `quotaflow.recover` (every 30 s: jobs of workers that stopped heartbeating are retried).
  Periodic tasks are deferred by every worker but recorded once per due time in the
  database, so each runs once for the whole pool.
A worker killed mid-run stops heartbeating; `recover` puts its job back, and the retried run
resumes the interrupted SyncRun (same id) from its committed pages.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation
from procrastinate.jobs import Status

from connector.errors import ConfigError
from connector.orgs.registry import active_org_ids
from connector.settings import Settings
from connector.store.engine import libpq_url
from connector.store.orgs import OrgRegistry
from connector.store.repositories import SessionFactory
from connector.sync.inputs import SyncBusy
from connector.sync.queue import request_sync
from connector.tasks.org_sync import OrgSyncer

log = logging.getLogger("quotaflow.worker")
SYNC_TASK = "quotaflow.sync_org"
STALLED_SECONDS = 30.0


class OrgBusy(Exception):
    """The org's lease is held by a runner outside the engine: try again shortly."""


def _cron(interval_seconds: int) -> str:
    minutes = max(1, round(interval_seconds / 60))
    return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"


def build_app(settings: Settings) -> procrastinate.App:
    """The procrastinate app on the settings' PostgreSQL database, with Quotaflow's tasks."""
    conninfo = libpq_url(settings.database_url)
    if conninfo is None:
        raise ConfigError(
            "QUOTAFLOW_DATABASE_URL: the distributed workers need PostgreSQL (the queue lives "
            "there); with SQLite run `quotaflow clock`, which syncs every org in one process"
        )
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo))
    _add_tasks(app, settings)
    return app


def _syncer(context: Any) -> OrgSyncer:
    syncer: OrgSyncer = context.additional_context["syncer"]
    return syncer


async def defer_sync(app: procrastinate.App, org_id: str, mode: str | None) -> bool:
    """Queue a sync of the org unless one already waits; True when queued now."""
    deferrer = app.configure_task(SYNC_TASK, lock=f"org:{org_id}", queueing_lock=f"org:{org_id}")
    try:
        await deferrer.defer_async(org_id=org_id, mode=mode)
    except AlreadyEnqueued:
        return False
    return True


def _active(sessions: SessionFactory) -> list[str]:
    return active_org_ids(sessions)


def _queued(sessions: SessionFactory) -> list[str]:
    return OrgRegistry(sessions).orgs_with_queued_runs()


def _request_full(sessions: SessionFactory, org_ids: list[str]) -> None:
    now = datetime.now(UTC)
    for org_id in org_ids:
        request_sync(sessions, org_id=org_id, mode="full", requested_by="nightly", now=now)


async def recover_stalled(app: procrastinate.App) -> None:
    """Put the jobs of workers that stopped heartbeating back in the queue."""
    manager = app.job_manager
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_SECONDS):
        try:
            await manager.retry_job(job)
        except UniqueViolation:
            # The org already has a job waiting: that one resumes the interrupted run.
            await manager.finish_job(job, status=Status.FAILED, delete_job=False)
            log.warning("job %s of a dead worker: the org's waiting job resumes it", job.id)
        else:
            log.warning("job %s (%s) of a dead worker: retried", job.id, job.task_name)


def _add_tasks(app: procrastinate.App, settings: Settings) -> None:
    retry = procrastinate.RetryStrategy(max_attempts=120, wait=5, retry_exceptions={OrgBusy})

    @app.task(name=SYNC_TASK, pass_context=True, retry=retry)
    def sync_org(context: Any, org_id: str, mode: str | None) -> None:
        """One org's sync (a worker thread; other orgs run beside it)."""
        try:
            _syncer(context).run_safely(org_id, mode=mode, raise_busy=True)
        except SyncBusy as exc:
            raise OrgBusy(str(exc)) from None

    @app.periodic(cron=_cron(settings.sync_interval))
    @app.task(name="quotaflow.tick", pass_context=True, queueing_lock="quotaflow.tick")
    async def tick(context: Any, timestamp: int) -> None:
        """An incremental sync of every active org."""
        sessions = _syncer(context).sessions
        for org_id in await asyncio.to_thread(_active, sessions):
            await defer_sync(context.app, org_id, "incremental")

    @app.periodic(cron="0 2 * * *")
    @app.task(name="quotaflow.nightly", pass_context=True, queueing_lock="quotaflow.nightly")
    async def nightly(context: Any, timestamp: int) -> None:
        """The nightly full reconcile of every active org."""
        sessions = _syncer(context).sessions
        org_ids = await asyncio.to_thread(_active, sessions)
        await asyncio.to_thread(_request_full, sessions, org_ids)
        for org_id in org_ids:
            await defer_sync(context.app, org_id, None)

    @app.periodic(cron="* * * * * */5")
    @app.task(name="quotaflow.poll", pass_context=True, queueing_lock="quotaflow.poll")
    async def poll(context: Any, timestamp: int) -> None:
        """Wake the orgs with a queued request (the web's Resync button, `sync --queue`)."""
        for org_id in await asyncio.to_thread(_queued, _syncer(context).sessions):
            await defer_sync(context.app, org_id, None)

    @app.periodic(cron="* * * * * */30")
    @app.task(name="quotaflow.recover", pass_context=True, queueing_lock="quotaflow.recover")
    async def recover(context: Any, timestamp: int) -> None:
        """Retry the jobs of workers that stopped heartbeating (killed, lost machine)."""
        await recover_stalled(context.app)


def ensure_schema(settings: Settings) -> bool:
    """Create the queue's tables in the PostgreSQL database if absent; True when created."""
    import psycopg

    conninfo = libpq_url(settings.database_url)
    if conninfo is None:
        return False
    with psycopg.connect(conninfo, autocommit=True) as conn:
        found = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
        if found is not None and found[0] is not None:
            return False
        conn.execute(procrastinate.schema.SchemaManager.get_schema())
    return True


def run_worker(syncer: OrgSyncer, *, concurrency: int, name: str | None = None) -> None:
    """Run a worker until SIGTERM/SIGINT: `concurrency` orgs sync at once in this process."""
    app = build_app(syncer.settings)
    app.run_worker(
        concurrency=concurrency,
        name=name,
        additional_context={"syncer": syncer},
        update_heartbeat_interval=10.0,
        stalled_worker_timeout=STALLED_SECONDS,
    )
