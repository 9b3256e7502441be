"""Requesting a run from the CLI or the web: queued in the database, started by the clock."""

from __future__ import annotations

from datetime import datetime

from connector.store.results import SessionFactory
from connector.store.run_queue import enqueue

MODES = ("incremental", "full")


def request_sync(
    sessions: SessionFactory, *, org_id: str, mode: str, requested_by: str | None, now: datetime
) -> int:
    """Queue a run (joining one already waiting; full wins over incremental); its run id."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    with sessions() as session:
        run = enqueue(session, org_id=org_id, mode=mode, requested_by=requested_by, now=now)
        session.commit()
        return run.id
