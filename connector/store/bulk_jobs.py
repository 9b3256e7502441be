"""The Bulk API 2.0 ingest jobs a write-back opened and has not yet settled.

A job outlives the process that closed it: a clock killed mid-job, or a run that gave up on
a stuck job, leaves it writing in Salesforce. The job is recorded here as soon as it exists
and settled once its result lists are read and applied, so the next write-back knows which
jobs to finish first (and never sends again what they wrote).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from connector.store.base import Base, UtcDateTime
from connector.store.models import OBJECT_NAME, ORG_ID, SF_ID


class BulkIngestJob(Base):
    """One ingest job of a write-back; `settled_at` is null until its results were applied."""

    __tablename__ = "bulk_ingest_jobs"

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    job_id: Mapped[str] = mapped_column(SF_ID, primary_key=True)
    object_name: Mapped[str] = mapped_column(OBJECT_NAME)
    run_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


def record_job(
    session: Session,
    *,
    org_id: str,
    job_id: str,
    object_name: str,
    run_id: int | None,
    now: datetime,
) -> None:
    """Remember a job just created (the caller commits before any data is uploaded)."""
    session.add(
        BulkIngestJob(
            org_id=org_id, job_id=job_id, object_name=object_name, run_id=run_id, created_at=now
        )
    )


def settle_job(session: Session, *, org_id: str, job_id: str, now: datetime) -> None:
    """The job's results were read and applied."""
    session.execute(
        update(BulkIngestJob)
        .where(BulkIngestJob.org_id == org_id, BulkIngestJob.job_id == job_id)
        .values(settled_at=now)
    )


def unsettled_jobs(session: Session, *, org_id: str) -> list[tuple[str, str]]:
    """(job id, object) of the org's jobs not settled yet, oldest first."""
    rows = session.execute(
        select(BulkIngestJob.job_id, BulkIngestJob.object_name)
        .where(BulkIngestJob.org_id == org_id, BulkIngestJob.settled_at.is_(None))
        .order_by(BulkIngestJob.created_at, BulkIngestJob.job_id)
    ).all()
    return [(str(job), str(obj)) for job, obj in rows]
