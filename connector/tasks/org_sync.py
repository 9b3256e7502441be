"""One org's sync as a task: the body both the embedded clock and the distributed workers run.

`OrgSyncer.run(org_id)` reads the org's registry entry (a paused or disconnected org does not
run), takes the org's lease (one run per org across every process sharing the database; a busy
org is skipped, its request coalesced with the run in progress), claims the org's queued
request if there is one, and runs. Each org has its own gateway (its own token and API usage),
kept between runs; a failure of one org (revoked token, exhausted API limit) ends that org's
run as `failed` and never touches another org.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from connector.deps import SyncDeps, build_gateway
from connector.errors import ConnectorError
from connector.orgs.connections import org_sync_deps
from connector.orgs.registry import (
    OrgLogin,
    active_org_ids,
    ensure_environment_org,
    org_login,
)
from connector.salesforce.gateway import GatewayOptions
from connector.salesforce.retry import RetryPolicy
from connector.settings import Settings
from connector.store.orgs import OrgRegistry
from connector.store.repositories import DbEngine, SessionFactory
from connector.store.unit import OrgUnit
from connector.sync.inputs import SyncBusy, default_holder, held_lease
from connector.sync.progress_store import StoredProgress
from connector.sync.run import SyncOptions, run_locked
from connector.sync.summary import SyncSummary

log = logging.getLogger("quotaflow.tasks")


@dataclass(frozen=True, slots=True)
class SyncerOptions:
    """Tunables of every org's runs."""

    sync: SyncOptions = field(default_factory=SyncOptions)
    gateway: GatewayOptions | None = None
    retry: RetryPolicy | None = None
    # A run a dead process left `running` is resumed (same id, from its committed pages)
    # instead of being marked failed: what the distributed workers do after a crash.
    resume_interrupted: bool = False


class OrgSyncer:
    """Runs registered orgs' syncs in this process (thread-safe: one call per org at a time)."""

    def __init__(
        self,
        settings: Settings,
        *,
        engine: DbEngine,
        sessions: SessionFactory,
        options: SyncerOptions | None = None,
        holder: str | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.sessions = sessions
        self.options = options or SyncerOptions()
        self.holder = holder or default_holder()
        self._deps: dict[str, tuple[OrgLogin, SyncDeps]] = {}
        self._lock = threading.Lock()

    def register_environment_org(self) -> str | None:
        """Register the org configured through SF_LOGIN_URL (one login); its id, or None."""
        if not self.settings.sf_login_url:
            return None
        gateway = build_gateway(self.settings, retry=self.options.retry)
        org_id = gateway.org_id()
        ensure_environment_org(
            self.sessions,
            org_id=org_id,
            instance_url=gateway.instance_url(),
            login_url=self.settings.sf_login_url,
            now=datetime.now(UTC),
        )
        return org_id

    def active_org_ids(self) -> list[str]:
        """The orgs whose syncs run now."""
        return active_org_ids(self.sessions)

    def deps_for(self, login: OrgLogin) -> SyncDeps:
        """The org's dependencies, rebuilt when its login changed (reconnected, new token)."""
        with self._lock:
            cached = self._deps.get(login.org_id)
            if cached is not None and cached[0] == login:
                return cached[1]
        o = self.options
        deps = org_sync_deps(
            self.settings,
            login,
            engine=self.engine,
            sessions=self.sessions,
            gateway_options=o.gateway,
            retry=o.retry,
        )
        with self._lock:
            self._deps[login.org_id] = (login, deps)
        return deps

    def run(
        self, org_id: str, *, mode: str | None, requested_by: str = "clock"
    ) -> SyncSummary | None:
        """The org's queued request, else a `mode` run (None: only a queued request); None
        when nothing ran (paused, disconnected, nothing queued). SyncBusy when another process
        holds the org's lease."""
        login = org_login(self.sessions, org_id)
        if login.status != "active":
            log.info("org %s is %s; no sync", org_id, login.status)
            return None
        deps = self.deps_for(login)
        sync = self.options.sync
        with held_lease(
            self.sessions,
            org_id=org_id,
            holder=self.holder,
            ttl=sync.lease_ttl,
            wait_seconds=0,
            clock=deps.clock,
        ) as lease:
            if self.options.resume_interrupted:
                self._resume_interrupted(org_id)
            with OrgUnit(self.sessions, org_id) as unit:
                claimed = unit.runs.claim_next(now=deps.clock())
                unit.commit()
            if claimed is None and mode is None:
                return None
            run_id, run_mode = claimed if claimed is not None else (None, mode or "")
            return run_locked(
                deps,
                org_id=org_id,
                mode=run_mode,
                run_id=run_id,
                options=sync,
                requested_by=requested_by,
                confirm=lease.confirm,
                progress=StoredProgress(self.sessions, org_id=org_id, run_id=run_id),
            )

    def _resume_interrupted(self, org_id: str) -> None:
        ids = OrgRegistry(self.sessions).requeue_interrupted(org_id)
        if ids:
            log.warning("org %s: resuming run(s) %s left by a process that died", org_id, ids)

    def run_safely(
        self, org_id: str, *, mode: str | None, raise_busy: bool = False
    ) -> SyncSummary | None:
        """`run`, logging instead of raising (one org's failure never stops the others);
        SyncBusy is raised only when asked (a worker's job retries later)."""
        try:
            summary = self.run(org_id, mode=mode)
        except SyncBusy:
            if raise_busy:
                raise
            log.info("org %s: another process is running its sync; skipped", org_id)
            return None
        except ConnectorError as exc:
            log.error("org %s: sync not started: %s: %s", org_id, type(exc).__name__, exc)
            return None
        except Exception:  # a scheduler must outlive any one org's failure
            log.exception("org %s: sync failed", org_id)
            return None
        if summary is not None:
            log.info(" | ".join(summary.lines()))
        return summary
