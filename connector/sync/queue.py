"""Requesting a run from the CLI or the web: queued in the database, started by the clock."""

from __future__ import annotations

from datetime import datetime

from connector.store.results import SessionFactory
from connector.store.unit import OrgUnit

MODES = ("incremental", "full")


def request_sync(
    sessions: SessionFactory, *, org_id: str, mode: str, requested_by: str | None, now: datetime
) -> int:
    """Queue a run (joining one already waiting; full wins over incremental); its run id."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    with OrgUnit(sessions, org_id) as unit:
        run = unit.runs.enqueue(mode=mode, requested_by=requested_by, now=now)
        unit.commit()
        return run.id
