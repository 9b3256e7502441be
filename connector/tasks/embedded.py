"""The embedded engine: every active org's sync from the one clock process (no broker).

The clock's jobs call `job(mode)`, which runs the orgs one after another in this process. This
is the default of the demo and of a single-org deployment on SQLite; with many orgs, use the
distributed workers (`quotaflow worker`, docs/orgs.md), which run them in parallel.
"""

from __future__ import annotations

from dataclasses import dataclass

from connector.clock import ClockOptions
from connector.tasks.org_sync import OrgSyncer


@dataclass
class FleetClockWorker:
    """What the clock's jobs call when it serves every registered org."""

    syncer: OrgSyncer
    options: ClockOptions

    @property
    def holder(self) -> str:
        """The lease holder name of this process."""
        return self.syncer.holder

    def job(self, default_mode: str | None) -> None:
        """One tick: each active org's queued request, else a `default_mode` run."""
        for org_id in self.syncer.active_org_ids():
            self.syncer.run_safely(org_id, mode=default_mode)
