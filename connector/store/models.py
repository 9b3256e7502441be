"""Tables of the sync service. Every row belongs to an org (the Salesforce organization id)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from connector.store.base import Base, UtcDateTime

ORG_ID = String(18)  # Salesforce organization ids are 15 or 18 characters
SF_ID = String(18)
OBJECT_NAME = String(80)

RUN_STATUSES = ("queued", "running", "succeeded", "partial", "failed")
RUN_MODES = ("incremental", "full")
ISSUE_STAGES = ("pull", "map", "calc", "writeback")
ISSUE_STATUSES = ("open", "resolved")


class SyncRun(Base):
    """One sync run: requested, running, then finished with counts and a status."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        Index(None, "org_id", "status"),
        Index(None, "org_id", "requested_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ORG_ID)
    mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    requested_by: Mapped[str | None] = mapped_column(String(120))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    api_usage: Mapped[int | None] = mapped_column(Integer)
    api_limit: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)

    @classmethod
    def queued(
        cls,
        *,
        org_id: str,
        mode: str,
        now: datetime,
        requested_by: str | None = None,
        dry_run: bool = False,
    ) -> SyncRun:
        """A new run request, waiting to be started."""
        return cls(
            org_id=org_id,
            mode=mode,
            status="queued",
            dry_run=dry_run,
            requested_by=requested_by,
            requested_at=now,
            counts={},
            api_calls=0,
        )


class Watermark(Base):
    """How far the pull of one object has committed: the greatest SystemModstamp stored."""

    __tablename__ = "watermarks"

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    object_name: Mapped[str] = mapped_column(OBJECT_NAME, primary_key=True)
    modstamp: Mapped[datetime] = mapped_column(UtcDateTime())
    last_id: Mapped[str | None] = mapped_column(SF_ID)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RawRecord(Base):
    """The last version of a Salesforce record as pulled, upserted by Id."""

    __tablename__ = "raw_records"
    __table_args__ = (Index(None, "org_id", "object_name", "system_modstamp"),)

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    object_name: Mapped[str] = mapped_column(OBJECT_NAME, primary_key=True)
    record_id: Mapped[str] = mapped_column(SF_ID, primary_key=True)
    system_modstamp: Mapped[datetime] = mapped_column(UtcDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # Hash of only the mapped input fields: our own write-back bumps SystemModstamp but
    # leaves this unchanged, so the echo is recognised as no change.
    input_hash: Mapped[str | None] = mapped_column(String(64))
    # Hash of the whole payload but its modification stamps: an echo whose payload is
    # unchanged (a field outside the mapping was edited) moves only the stamp.
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    first_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id"))
    last_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RecordIssue(Base):
    """A record that could not be pulled, mapped, calculated or written back, with the reason."""

    __tablename__ = "record_issues"
    __table_args__ = (
        Index(None, "org_id", "status"),
        Index(None, "org_id", "object_name", "record_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ORG_ID)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id"))
    stage: Mapped[str] = mapped_column(String(16))
    object_name: Mapped[str] = mapped_column(OBJECT_NAME)
    record_id: Mapped[str | None] = mapped_column(SF_ID)
    field: Mapped[str | None] = mapped_column(String(255))
    error_code: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
