"""Period locks: a locked (paid) period is never silently recomputed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Date, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from connector.store.base import Base, UtcDateTime
from connector.store.models import ORG_ID


class PeriodLock(Base):
    """A pay period (by contract name, e.g. `2026-Q1`) that has been paid and is frozen."""

    __tablename__ = "period_locks"

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    locked_by: Mapped[str | None] = mapped_column(String(120))
    locked_at: Mapped[datetime] = mapped_column(UtcDateTime())


def lock_period(
    session: Session,
    *,
    org_id: str,
    period: str,
    start: date,
    end: date,
    locked_by: str | None,
    now: datetime,
) -> PeriodLock:
    """Lock a period (idempotent: locking a locked period keeps the first lock)."""
    existing = session.get(PeriodLock, (org_id, period))
    if existing is not None:
        return existing
    lock = PeriodLock(
        org_id=org_id, period=period, start=start, end=end, locked_by=locked_by, locked_at=now
    )
    session.add(lock)
    session.flush()
    return lock


def locked_periods(session: Session, *, org_id: str) -> Sequence[PeriodLock]:
    """Every locked period of the org, oldest first."""
    return session.scalars(
        select(PeriodLock).where(PeriodLock.org_id == org_id).order_by(PeriodLock.start)
    ).all()


def unlock_period(session: Session, *, org_id: str, period: str) -> bool:
    """Unlock a period (its results are recomputed from the next run on); False if not locked."""
    existing = session.get(PeriodLock, (org_id, period))
    if existing is None:
        return False
    session.delete(existing)
    session.flush()
    return True
