"""The Salesforce Task outbox: Tasks Quotaflow owes the org, stored with the change that asked.

A workflow change (a dispute waiting on someone) adds a row in its own transaction; the
connector delivers rows later (`connector.disputes.tasks`). A row is `open` while its person
must act and `done` once they have; `delivery` says whether Salesforce already holds that
state (`pending` until it does, `failed` when Salesforce refused for good).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from connector.store.base import Base, UtcDateTime
from connector.store.models import ORG_ID, SF_ID

SUBJECT_LIMIT = 255  # Task.Subject
DESCRIPTION_LIMIT = 32000  # Task.Description


class SfTask(Base):
    """One Task for one person: what it says, whether it is still open, and its delivery."""

    __tablename__ = "sf_tasks"
    __table_args__ = (
        Index(None, "org_id", "delivery"),
        Index(None, "org_id", "source", "source_id"),
        Index(None, "org_id", "ref", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ORG_ID)
    # Ends the Task's Subject in Salesforce: random, so neither another Quotaflow database on
    # the same org nor a restored backup can mistake a Task for its own.
    ref: Mapped[str] = mapped_column(String(24))
    source: Mapped[str] = mapped_column(String(16))  # dispute, plan
    source_id: Mapped[int | None] = mapped_column(Integer)
    assignee_id: Mapped[str] = mapped_column(SF_ID)
    what_id: Mapped[str | None] = mapped_column(SF_ID)
    subject: Mapped[str] = mapped_column(String(SUBJECT_LIMIT))
    description: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # open, done
    delivery: Mapped[str] = mapped_column(String(16))  # pending, delivered, failed
    sf_task_id: Mapped[str | None] = mapped_column(SF_ID)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


def add_task(
    session: Session,
    *,
    org_id: str,
    source: str,
    source_id: int | None,
    assignee_id: str,
    what_id: str | None,
    subject: str,
    description: str,
    due_date: date,
    now: datetime,
) -> SfTask:
    """Owe a new open Task (flushed, delivered later)."""
    row = SfTask(
        org_id=org_id,
        ref="QF-" + secrets.token_hex(8),
        source=source,
        source_id=source_id,
        assignee_id=assignee_id,
        what_id=what_id,
        subject=subject[:SUBJECT_LIMIT],
        description=description[:DESCRIPTION_LIMIT],
        due_date=due_date,
        status="open",
        delivery="pending",
        attempts=0,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def complete_tasks(
    session: Session, *, org_id: str, source: str, source_id: int, now: datetime
) -> int:
    """Mark every open Task of a source record done (Salesforce is told on delivery)."""
    rows = session.scalars(
        select(SfTask).where(
            SfTask.org_id == org_id,
            SfTask.source == source,
            SfTask.source_id == source_id,
            SfTask.status == "open",
        )
    ).all()
    for row in rows:
        row.status = "done"
        if row.delivery != "failed":
            row.delivery = "pending"
        row.updated_at = now
    session.flush()
    return len(rows)


def pending_tasks(session: Session, *, org_id: str, limit: int = 200) -> Sequence[SfTask]:
    """Rows whose state Salesforce does not hold yet, oldest first."""
    return session.scalars(
        select(SfTask)
        .where(SfTask.org_id == org_id, SfTask.delivery == "pending")
        .order_by(SfTask.id)
        .limit(limit)
    ).all()


def tasks_by_ids(session: Session, *, org_id: str, row_ids: Sequence[int]) -> list[SfTask]:
    """The org's outbox rows with these ids, oldest first (one query)."""
    if not row_ids:
        return []
    return list(
        session.scalars(
            select(SfTask)
            .where(SfTask.org_id == org_id, SfTask.id.in_(list(row_ids)))
            .order_by(SfTask.id)
        )
    )


def tasks_of(session: Session, *, org_id: str, source: str, source_id: int) -> Sequence[SfTask]:
    """Every Task row of one source record, oldest first."""
    return session.scalars(
        select(SfTask)
        .where(SfTask.org_id == org_id, SfTask.source == source, SfTask.source_id == source_id)
        .order_by(SfTask.id)
    ).all()


def failed_tasks(session: Session, *, org_id: str, limit: int = 50) -> Sequence[SfTask]:
    """Rows Salesforce refused for good, newest first (shown to admins)."""
    return session.scalars(
        select(SfTask)
        .where(SfTask.org_id == org_id, SfTask.delivery == "failed")
        .order_by(SfTask.id.desc())
        .limit(limit)
    ).all()


def get_task(session: Session, *, org_id: str, row_id: int) -> SfTask | None:
    """One outbox row of the org, or None."""
    found = session.get(SfTask, row_id)
    return found if found is not None and found.org_id == org_id else None


def tasks_for(session: Session, *, org_id: str, source: str, assignee_id: str) -> Sequence[SfTask]:
    """Every Task row of one source kind for one person, oldest first."""
    return session.scalars(
        select(SfTask)
        .where(SfTask.org_id == org_id, SfTask.source == source, SfTask.assignee_id == assignee_id)
        .order_by(SfTask.id)
    ).all()


def tasks_by_person(session: Session, *, org_id: str, source: str) -> dict[str, list[SfTask]]:
    """Every Task row of one source kind, by assignee, oldest first (one query)."""
    out: dict[str, list[SfTask]] = {}
    rows = session.scalars(
        select(SfTask).where(SfTask.org_id == org_id, SfTask.source == source).order_by(SfTask.id)
    )
    for row in rows:
        out.setdefault(row.assignee_id, []).append(row)
    return out


def complete_for(
    session: Session, *, org_id: str, source: str, assignee_id: str, now: datetime
) -> int:
    """Mark one person's open Tasks of a source kind done (they acted)."""
    rows = [t for t in tasks_for(session, org_id=org_id, source=source, assignee_id=assignee_id)]
    done = 0
    for row in rows:
        if row.status == "open":
            row.status, row.updated_at = "done", now
            if row.delivery != "failed":
                row.delivery = "pending"
            done += 1
    session.flush()
    return done
