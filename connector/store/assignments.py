"""Assignment history: each rep's plan, manager, quota and target incentive over time.

Salesforce keeps only a User's current values; the sync stores each change it sees as a
new row effective from the day it was seen (connector/sync/assignments.py). An admin may
correct that day; every correction is kept in `rep_assignment_events` with who and when.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from connector.store.base import Base, UtcDateTime
from connector.store.models import ORG_ID, SF_ID

# Text: the values come from Salesforce fields through the mapping, of any length (a plan id
# longer than any plan's is stored, and reported by the calculation as an unknown plan).
PLAN_ID = Text()
AMOUNT = Text()  # an exact decimal as text: money never passes through a float


class RepAssignment(Base):
    """One assignment of a rep, in force from `effective_from` (None: since ever) until the
    day before the rep's next row."""

    __tablename__ = "rep_assignments"
    __table_args__ = (Index(None, "org_id", "rep_id", "effective_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ORG_ID)
    rep_id: Mapped[str] = mapped_column(SF_ID)
    effective_from: Mapped[date | None] = mapped_column(Date)
    plan_id: Mapped[str | None] = mapped_column(PLAN_ID)
    manager_id: Mapped[str | None] = mapped_column(SF_ID)
    quota: Mapped[str | None] = mapped_column(AMOUNT)
    target_incentive: Mapped[str | None] = mapped_column(AMOUNT)
    seen_on: Mapped[date] = mapped_column(Date)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    seen_run_id: Mapped[int | None] = mapped_column(Integer)
    corrected_by: Mapped[str | None] = mapped_column(String(120))
    corrected_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class RepAssignmentEvent(Base):
    """The audit of an effective-date correction: which row, from what to what, who, when."""

    __tablename__ = "rep_assignment_events"
    __table_args__ = (Index(None, "org_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ORG_ID)
    assignment_id: Mapped[int] = mapped_column(Integer)
    rep_id: Mapped[str] = mapped_column(SF_ID)
    old_from: Mapped[date | None] = mapped_column(Date)
    new_from: Mapped[date] = mapped_column(Date)
    by: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


@dataclass(frozen=True, slots=True)
class NewAssignment:
    """A row to store: the rep's values as seen, effective from `effective_from`."""

    rep_id: str
    effective_from: date | None
    plan_id: str | None
    manager_id: str | None
    quota: str | None
    target_incentive: str | None


def history(session: Session, *, org_id: str) -> dict[str, list[RepAssignment]]:
    """Every rep's rows, oldest first (the open start first)."""
    rows = session.scalars(
        select(RepAssignment)
        .where(RepAssignment.org_id == org_id)
        .order_by(RepAssignment.rep_id, RepAssignment.effective_from.is_not(None))
        .order_by(RepAssignment.effective_from, RepAssignment.id)
    ).all()
    out: dict[str, list[RepAssignment]] = {}
    for row in rows:
        out.setdefault(row.rep_id, []).append(row)
    return out


def record(
    session: Session,
    *,
    org_id: str,
    rows: Iterable[NewAssignment],
    replace: Sequence[tuple[RepAssignment, NewAssignment]] = (),
    seen_on: date,
    run_id: int | None,
    now: datetime,
) -> None:
    """Store new rows, and overwrite the values of rows seen again the same day."""
    for old, new in replace:
        old.plan_id, old.manager_id = new.plan_id, new.manager_id
        old.quota, old.target_incentive = new.quota, new.target_incentive
        old.seen_at, old.seen_run_id = now, run_id
    for new in rows:
        session.add(
            RepAssignment(
                org_id=org_id,
                rep_id=new.rep_id,
                effective_from=new.effective_from,
                plan_id=new.plan_id,
                manager_id=new.manager_id,
                quota=new.quota,
                target_incentive=new.target_incentive,
                seen_on=seen_on,
                seen_at=now,
                seen_run_id=run_id,
            )
        )
    session.flush()


def changes(session: Session, *, org_id: str, limit: int = 200) -> list[RepAssignment]:
    """Rows that start on a date (a change seen by a sync), newest first."""
    return list(
        session.scalars(
            select(RepAssignment)
            .where(RepAssignment.org_id == org_id, RepAssignment.effective_from.is_not(None))
            .order_by(RepAssignment.effective_from.desc(), RepAssignment.id.desc())
            .limit(limit)
        ).all()
    )


def correction_events(
    session: Session, *, org_id: str, limit: int = 20
) -> list[RepAssignmentEvent]:
    """The latest effective-date corrections, newest first."""
    return list(
        session.scalars(
            select(RepAssignmentEvent)
            .where(RepAssignmentEvent.org_id == org_id)
            .order_by(RepAssignmentEvent.at.desc(), RepAssignmentEvent.id.desc())
            .limit(limit)
        ).all()
    )


def last_correction(session: Session, *, org_id: str) -> datetime | None:
    """When an effective date was last corrected (a full recompute follows it)."""
    found: datetime | None = session.scalar(
        select(func.max(RepAssignmentEvent.at)).where(RepAssignmentEvent.org_id == org_id)
    )
    return found


class BadEffectiveDate(ValueError):
    """A correction that would leave the rep's history out of order; nothing is changed."""


def correct_effective_from(
    session: Session, *, org_id: str, assignment_id: int, new_from: date, by: str, now: datetime
) -> RepAssignment:
    """Move one row's start; KeyError if there is no such row, BadEffectiveDate if the date
    does not fall strictly between the rep's previous and next starts."""
    row = session.scalar(
        select(RepAssignment).where(
            RepAssignment.org_id == org_id, RepAssignment.id == assignment_id
        )
    )
    if row is None:
        raise KeyError(assignment_id)
    if row.effective_from is None:
        raise BadEffectiveDate("the first assignment of a rep is in force since ever")
    rows = history(session, org_id=org_id)[row.rep_id]
    at = next(i for i, r in enumerate(rows) if r.id == row.id)
    before = rows[at - 1].effective_from if at > 0 else None
    after = rows[at + 1].effective_from if at + 1 < len(rows) else None
    if before is not None and new_from <= before:
        raise BadEffectiveDate(
            f"{new_from.isoformat()} is not after the previous assignment's start "
            f"({before.isoformat()})"
        )
    if after is not None and new_from >= after:
        raise BadEffectiveDate(
            f"{new_from.isoformat()} is not before the next assignment's start "
            f"({after.isoformat()})"
        )
    session.add(
        RepAssignmentEvent(
            org_id=org_id,
            assignment_id=row.id,
            rep_id=row.rep_id,
            old_from=row.effective_from,
            new_from=new_from,
            by=by,
            at=now,
        )
    )
    row.effective_from = new_from
    row.corrected_by, row.corrected_at = by, now
    session.flush()
    return row
