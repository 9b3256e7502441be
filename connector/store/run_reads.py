"""Sync runs and record issues for the ops console, plus the few writes it needs.

Reads return plain frozen dataclasses (no live ORM rows leave a session). The writes are
the retry of write-back failures (re-pend their desired values) and a running run's stage
progress, kept in `SyncRun.counts["progress"]` until `finish_run` replaces the counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from connector.store.models import RecordIssue, SyncRun
from connector.store.repositories import chunks
from connector.store.results import WritebackValue

ACTIVE = ("queued", "running")


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A sync run as stored."""

    id: int
    mode: str
    status: str
    dry_run: bool
    requested_by: str | None
    requested_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None
    counts: dict[str, Any]
    api_calls: int
    api_usage: int | None
    api_limit: int | None
    duration_ms: int | None
    error: str | None


@dataclass(frozen=True, slots=True)
class IssueRecord:
    """A record issue as stored."""

    id: int
    run_id: int | None
    stage: str
    object_name: str
    record_id: str | None
    field: str | None
    error_code: str | None
    reason: str
    status: str
    created_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssueFilter:
    """Which issues to list; None means any."""

    stage: str | None = None
    status: str | None = None
    object_name: str | None = None
    run_id: int | None = None


def _run(row: SyncRun) -> RunRecord:
    return RunRecord(
        id=row.id,
        mode=row.mode,
        status=row.status,
        dry_run=bool(row.dry_run),
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        started_at=row.started_at,
        heartbeat_at=row.heartbeat_at,
        finished_at=row.finished_at,
        counts=dict(row.counts or {}),
        api_calls=row.api_calls or 0,
        api_usage=row.api_usage,
        api_limit=row.api_limit,
        duration_ms=row.duration_ms,
        error=row.error,
    )


def _issue(row: RecordIssue) -> IssueRecord:
    return IssueRecord(
        id=row.id,
        run_id=row.run_id,
        stage=row.stage,
        object_name=row.object_name,
        record_id=row.record_id,
        field=row.field,
        error_code=row.error_code,
        reason=row.reason,
        status=row.status,
        created_at=row.created_at,
        resolved_at=row.resolved_at,
    )


def recent_runs(session: Session, *, org_id: str, limit: int = 50) -> list[RunRecord]:
    """The org's latest runs, newest request first."""
    query = (
        select(SyncRun)
        .where(SyncRun.org_id == org_id)
        .order_by(SyncRun.requested_at.desc(), SyncRun.id.desc())
        .limit(limit)
    )
    return [_run(row) for row in session.scalars(query)]


def run_by_id(session: Session, *, org_id: str, run_id: int) -> RunRecord | None:
    """One run of the org, or None."""
    row = session.get(SyncRun, run_id)
    return _run(row) if row is not None and row.org_id == org_id else None


def active_runs(session: Session, *, org_id: str) -> list[RunRecord]:
    """The org's running run and queued request, running first."""
    query = select(SyncRun).where(SyncRun.org_id == org_id, SyncRun.status.in_(ACTIVE))
    rows = [_run(row) for row in session.scalars(query.order_by(SyncRun.id))]
    return sorted(rows, key=lambda r: (r.status != "running", r.id))


def queued_run_id(session: Session, *, org_id: str) -> int | None:
    """The id of the request waiting for the clock, if any."""
    query = select(SyncRun.id).where(SyncRun.org_id == org_id, SyncRun.status == "queued")
    return session.scalars(query.order_by(SyncRun.id).limit(1)).first()


def _filtered(query: Select[Any], org_id: str, filters: IssueFilter) -> Select[Any]:
    query = query.where(RecordIssue.org_id == org_id)
    if filters.stage is not None:
        query = query.where(RecordIssue.stage == filters.stage)
    if filters.status is not None:
        query = query.where(RecordIssue.status == filters.status)
    if filters.object_name is not None:
        query = query.where(RecordIssue.object_name == filters.object_name)
    if filters.run_id is not None:
        query = query.where(RecordIssue.run_id == filters.run_id)
    return query


def issue_page(
    session: Session, *, org_id: str, filters: IssueFilter, offset: int, limit: int
) -> tuple[list[IssueRecord], int]:
    """One page of matching issues (newest first) and how many match in all."""
    total = session.scalar(_filtered(select(func.count(RecordIssue.id)), org_id, filters)) or 0
    query = _filtered(select(RecordIssue), org_id, filters)
    rows = session.scalars(query.order_by(RecordIssue.id.desc()).offset(offset).limit(limit))
    return [_issue(row) for row in rows], int(total)


def issue_objects(session: Session, *, org_id: str) -> list[str]:
    """The object names that have issues, for the filter."""
    query = select(RecordIssue.object_name).where(RecordIssue.org_id == org_id).distinct()
    return sorted(session.scalars(query))


def open_writeback_count(session: Session, *, org_id: str) -> int:
    """How many write-back failures are open."""
    query = select(func.count(RecordIssue.id)).where(
        RecordIssue.org_id == org_id,
        RecordIssue.stage == "writeback",
        RecordIssue.status == "open",
    )
    return int(session.scalar(query) or 0)


def repend_writeback(session: Session, *, org_id: str, issue_ids: Sequence[int] | None) -> int:
    """Mark the desired values of these open write-back failures pending again (None: all).

    The next run's write stage diffs pending values against the CRM and writes what still
    differs; the open issue is resolved when the record is written. Returns how many records
    were re-pended (a record whose desired values are gone is skipped). The caller commits.
    """
    query = select(RecordIssue.object_name, RecordIssue.record_id).where(
        RecordIssue.org_id == org_id,
        RecordIssue.stage == "writeback",
        RecordIssue.status == "open",
        RecordIssue.record_id.is_not(None),
    )
    keys: set[tuple[str, str]] = set()
    slices = [None] if issue_ids is None else list(chunks(sorted(set(issue_ids))))
    for chunk in slices:
        stmt = query if chunk is None else query.where(RecordIssue.id.in_(chunk))
        keys.update((obj, rid) for obj, rid in session.execute(stmt) if rid)
    count = 0
    for obj in sorted({o for o, _ in keys}):
        for ids in chunks(sorted(rid for o, rid in keys if o == obj)):
            result = session.execute(
                update(WritebackValue)
                .where(
                    WritebackValue.org_id == org_id,
                    WritebackValue.object_name == obj,
                    WritebackValue.record_id.in_(ids),
                )
                .values(pending=True)
            )
            count += int(result.rowcount)  # type: ignore[attr-defined]
    return count


def record_progress(
    session: Session,
    *,
    org_id: str,
    run_id: int | None,
    progress: Mapping[str, Any],
    now: datetime,
) -> None:
    """Store a running run's progress in its counts (run None: the org's running run)."""
    query = select(SyncRun).where(SyncRun.org_id == org_id, SyncRun.status == "running")
    if run_id is not None:
        query = query.where(SyncRun.id == run_id)
    row = session.scalars(query.order_by(SyncRun.id.desc()).limit(1)).first()
    if row is None:
        return
    row.counts = {**(row.counts or {}), "progress": dict(progress)}
    row.heartbeat_at = now
