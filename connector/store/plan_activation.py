"""Activating an earlier plan version again (every upload is kept in `plan_versions`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connector.store.plans import PlanVersion


def activate_plan_version(
    session: Session, *, org_id: str, version: int, now: datetime
) -> PlanVersion:
    """Make a stored version the only active one; KeyError if the org has no such version."""
    row = session.scalars(
        select(PlanVersion).where(PlanVersion.org_id == org_id, PlanVersion.version == version)
    ).one_or_none()
    if row is None:
        raise KeyError(f"plan version {version} does not exist")
    if row.is_active:
        return row
    # Deactivate first and flush, so the one-active index never sees two at once.
    session.execute(
        update(PlanVersion)
        .where(PlanVersion.org_id == org_id, PlanVersion.is_active.is_(True))
        .values(is_active=False)
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    row.is_active = True
    row.activated_at = now
    session.flush()
    return row
