"""The journal of REST write-back batches (sObject Collections calls) not yet settled.

A process killed after Salesforce applied a call and before the commit that settles its
records would, on resume, trust the values read in its pull and send the batch again. So each
call is recorded here (committed) before it is sent, with the values it sends, and settled in
the same transaction that settles its records. A run that finds a batch unsettled re-reads
its records from Salesforce before diffing (connector/sync/writeback_stage.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, delete, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from connector.store.base import Base, UtcDateTime
from connector.store.models import OBJECT_NAME, ORG_ID


class WritebackBatch(Base):
    """One sObject Collections update call; `settled_at` is null until its outcome was applied.

    `counted_run_id` is the run whose write calls include this call (the sending run, or the
    run that found it landed after the sender was killed); `made` says whether it reached
    Salesforce."""

    __tablename__ = "writeback_batches"
    __table_args__ = (
        Index(None, "org_id", "settled_at"),
        Index(None, "org_id", "counted_run_id"),
        # What a run's earlier attempts wrote is looked up on every write stage: by run, not
        # by a scan of the week of settled calls the journal keeps.
        Index(None, "org_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ORG_ID)
    run_id: Mapped[int | None] = mapped_column(Integer)
    object_name: Mapped[str] = mapped_column(OBJECT_NAME)
    records: Mapped[dict[str, Any]] = mapped_column(JSON)  # record id -> {field: value sent}
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    counted_run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    made: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


def record_batch(
    session: Session,
    *,
    org_id: str,
    run_id: int | None,
    object_name: str,
    records: Mapping[str, Mapping[str, Any]],
    now: datetime,
) -> int:
    """Journal a batch about to be sent (the caller commits before sending); its id."""
    row = WritebackBatch(
        org_id=org_id,
        run_id=run_id,
        object_name=object_name,
        records={rid: dict(values) for rid, values in records.items()},
        created_at=now,
    )
    session.add(row)
    session.flush()
    return int(row.id)


def settle_batches(
    session: Session,
    *,
    org_id: str,
    ids: Sequence[int],
    counted_run_id: int | None,
    made: bool,
    now: datetime,
) -> None:
    """The batches' outcomes were applied; `made`: their calls count as made for the run."""
    if not ids:
        return
    session.execute(
        update(WritebackBatch)
        .where(WritebackBatch.org_id == org_id, WritebackBatch.id.in_(list(ids)))
        .values(settled_at=now, counted_run_id=counted_run_id, made=made)
    )


def keep_written(session: Session, *, org_id: str, batch_id: int, written: Sequence[str]) -> None:
    """Keep in a batch's values only the records Salesforce accepted (what it now holds)."""
    row = session.scalars(
        select(WritebackBatch).where(WritebackBatch.org_id == org_id, WritebackBatch.id == batch_id)
    ).first()
    if row is not None:
        kept = set(written)
        row.records = {rid: values for rid, values in (row.records or {}).items() if rid in kept}


def written_by_run(
    session: Session, *, org_id: str, run_id: int
) -> list[tuple[str, dict[str, Any]]]:
    """(object, {record id: values}) of the settled calls `run_id` sent and Salesforce
    applied, oldest first: what an earlier attempt of the run wrote."""
    rows = session.execute(
        select(WritebackBatch.object_name, WritebackBatch.records)
        .where(
            WritebackBatch.org_id == org_id,
            WritebackBatch.run_id == run_id,
            WritebackBatch.settled_at.is_not(None),
            WritebackBatch.made.is_(True),
        )
        .order_by(WritebackBatch.id)
    ).all()
    return [(str(obj), dict(records or {})) for obj, records in rows]


def unsettled_batches(
    session: Session, *, org_id: str
) -> list[tuple[int, str, dict[str, dict[str, Any]]]]:
    """(id, object, {record id: values sent}) of the org's unsettled batches, oldest first."""
    rows = session.execute(
        select(WritebackBatch.id, WritebackBatch.object_name, WritebackBatch.records)
        .where(WritebackBatch.org_id == org_id, WritebackBatch.settled_at.is_(None))
        .order_by(WritebackBatch.id)
    ).all()
    return [(int(i), str(obj), dict(records or {})) for i, obj, records in rows]


def calls_made(session: Session, *, org_id: str, run_id: int) -> int:
    """Settled batches whose calls were made and are counted in `run_id`'s write calls."""
    found = session.scalar(
        select(func.count())
        .select_from(WritebackBatch)
        .where(
            WritebackBatch.org_id == org_id,
            WritebackBatch.counted_run_id == run_id,
            WritebackBatch.made.is_(True),
        )
    )
    return int(found or 0)


def prune_settled(session: Session, *, org_id: str, before: datetime) -> None:
    """Forget batches settled before `before` (a run's attempts are minutes apart, not days)."""
    session.execute(
        delete(WritebackBatch).where(
            WritebackBatch.org_id == org_id,
            WritebackBatch.settled_at.is_not(None),
            WritebackBatch.settled_at < before,
        )
    )
