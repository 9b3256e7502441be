"""Queued sync requests (from the CLI, the web or the clock), kept as SyncRun rows.

A request is a `SyncRun(status="queued")`. Requests coalesce: while one is waiting, another
for the same org joins it (a full request upgrades a waiting incremental one), so a burst
of clicks is one run. The clock claims the oldest with a conditional UPDATE, so two clocks
never start the same request.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connector.store.models import SyncRun


def enqueue(
    session: Session, *, org_id: str, mode: str, requested_by: str | None, now: datetime
) -> SyncRun:
    """Queue a run for the org, or join the one already waiting; the caller commits."""
    waiting = session.scalars(
        select(SyncRun)
        .where(SyncRun.org_id == org_id, SyncRun.status == "queued")
        .order_by(SyncRun.id)
    ).first()
    if waiting is not None:
        if mode == "full" and waiting.mode != "full":
            waiting.mode = "full"
        return waiting
    run = SyncRun.queued(org_id=org_id, mode=mode, now=now, requested_by=requested_by)
    session.add(run)
    session.flush()
    return run


def claim_next(session: Session, *, org_id: str, now: datetime) -> tuple[int, str] | None:
    """Mark the oldest queued run of the org running; its (id, mode), or None if none waits."""
    candidate = session.scalars(
        select(SyncRun)
        .where(SyncRun.org_id == org_id, SyncRun.status == "queued")
        .order_by(SyncRun.id)
    ).first()
    if candidate is None:
        return None
    run_id, mode = candidate.id, candidate.mode
    claimed = session.execute(
        update(SyncRun)
        .where(SyncRun.org_id == org_id, SyncRun.id == run_id, SyncRun.status == "queued")
        .values(status="running", started_at=now, heartbeat_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return run_id, mode


def queued_count(session: Session, *, org_id: str) -> int:
    """How many requests wait for the org (0 or 1, since requests coalesce)."""
    return len(
        session.scalars(
            select(SyncRun.id).where(SyncRun.org_id == org_id, SyncRun.status == "queued")
        ).all()
    )
