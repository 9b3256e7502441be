"""Repositories: sync runs, watermarks, raw records, record issues and canonical records.

Code outside `connector/store/` reaches these through the org-scoped unit of work
(`connector/store/unit.py`) and plain dataclasses, so nothing there touches SQLAlchemy or
passes an org id. Every function takes the unit's Session and its org and never commits.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from connector.store.canonical import CANONICAL_TABLES
from connector.store.mapping_versions import ensure_active
from connector.store.models import RawRecord, RecordIssue, SyncRun, Watermark
from mappings.schema import MappingDocument

# Names for code outside the store, which must not import SQLAlchemy itself.
SessionFactory = sessionmaker[Session]
DbEngine = Engine
T = TypeVar("T")
CHUNK = 500  # ids per IN (...) list: well inside SQLite's and PostgreSQL's parameter limits


@dataclass(frozen=True, slots=True)
class StoredState:
    """What the pull needs to know about a raw record already stored."""

    modstamp: datetime
    input_hash: str | None
    is_deleted: bool
    # None: stored before payload hashes, or by the pull's echo path, which compares the
    # stored payload itself (the general path then writes the payload again).
    payload_hash: str | None = None
    # The stored payload's JSON text, decoded only for a record that may be an echo of our
    # own write-back (connector/pull/changes.py); None when not read.
    payload: str | bytes | None = None


@dataclass(frozen=True, slots=True)
class RawRow:
    """A raw record to upsert."""

    record_id: str
    modstamp: datetime
    payload: dict[str, Any]
    is_deleted: bool
    input_hash: str | None
    exists: bool = False  # already stored (known from `stored_states` under the run lease)
    payload_hash: str | None = None


@dataclass(frozen=True, slots=True)
class CanonicalRow:
    """A canonical record to upsert (payload None keeps the stored payload: a delete)."""

    record_id: str
    payload: dict[str, Any] | None
    deleted: bool
    input_hash: str | None
    keys: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IssueRow:
    """A record that failed to map."""

    record_id: str | None
    field: str | None
    error_code: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class WatermarkState:
    """The greatest replication key committed for an object, and the Id at it."""

    modstamp: datetime
    last_id: str | None


@dataclass(frozen=True, slots=True)
class PageWrite:
    """Everything one pulled page changes, written in one transaction."""

    object_name: str
    kind: str
    raw: Sequence[RawRow]
    canonical: Sequence[CanonicalRow]
    issues: Sequence[IssueRow]
    mapped_ok: Sequence[str]  # ids whose open map issues are now resolved
    unchanged_ids: Sequence[str]  # duplicates: only their last_run_id is touched
    watermark: WatermarkState | None
    # Echoes whose whole payload is unchanged (only SystemModstamp moved): only their stamp
    # and last_run_id are written, never the payload.
    restamped: Sequence[tuple[str, datetime]] = ()


@dataclass(frozen=True, slots=True)
class RunUsage:
    """API calls made by the run so far and the org's usage as last reported."""

    calls: int
    used: int | None
    limit: int | None


def chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    """Slices of at most CHUNK ids."""
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


# --- sync runs ------------------------------------------------------------------------


def create_run(
    session: Session,
    *,
    org_id: str,
    mode: str,
    now: datetime,
    requested_by: str | None = None,
    dry_run: bool = False,
) -> int:
    """A queued SyncRun; returns its id."""
    run = SyncRun.queued(
        org_id=org_id, mode=mode, now=now, requested_by=requested_by, dry_run=dry_run
    )
    session.add(run)
    session.flush()
    return run.id


def start_run(session: Session, *, org_id: str, run_id: int, now: datetime) -> None:
    """Mark a run running."""
    session.execute(
        update(SyncRun)
        .where(SyncRun.org_id == org_id, SyncRun.id == run_id)
        .values(status="running", started_at=now, heartbeat_at=now)
    )


def finish_run(
    session: Session,
    *,
    org_id: str,
    run_id: int,
    status: str,
    now: datetime,
    counts: Mapping[str, Any],
    usage: RunUsage,
    error: str | None = None,
) -> None:
    """Finish a run with its status, counts, API usage, duration and error."""
    run = get_run(session, org_id=org_id, run_id=run_id)
    if run is None:
        raise LookupError(f"no sync run {run_id}")
    started = run.started_at or run.requested_at
    run.status = status
    run.finished_at = now
    run.heartbeat_at = now
    run.counts = dict(counts)
    run.api_calls = usage.calls
    run.api_usage = usage.used
    run.api_limit = usage.limit
    run.duration_ms = max(0, int((now - started).total_seconds() * 1000))
    run.error = error


def get_run(session: Session, *, org_id: str, run_id: int) -> SyncRun | None:
    """One run of the org by id."""
    return session.scalars(
        select(SyncRun).where(SyncRun.org_id == org_id, SyncRun.id == run_id)
    ).first()


def list_runs(session: Session, *, org_id: str, limit: int = 50) -> list[SyncRun]:
    """The org's most recent runs, newest first."""
    query = (
        select(SyncRun)
        .where(SyncRun.org_id == org_id)
        .order_by(SyncRun.requested_at.desc(), SyncRun.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def fail_interrupted_runs(
    session: Session, *, org_id: str, now: datetime, keep: int | None = None
) -> int:
    """Runs left `running` by a process that died become `failed` (call under the lease)."""
    query = update(SyncRun).where(SyncRun.org_id == org_id, SyncRun.status == "running")
    if keep is not None:
        query = query.where(SyncRun.id != keep)
    result = session.execute(
        query.values(status="failed", finished_at=now, error="interrupted (process ended)")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- watermarks and raw records -------------------------------------------------------


def load_watermarks(session: Session, *, org_id: str) -> dict[str, WatermarkState]:
    """Every object's watermark for the org."""
    rows = session.scalars(select(Watermark).where(Watermark.org_id == org_id))
    return {w.object_name: WatermarkState(w.modstamp, w.last_id) for w in rows}


def stored_states(
    session: Session, *, org_id: str, object_name: str, ids: Sequence[str]
) -> dict[str, StoredState]:
    """The stored modstamp, input hash, deleted flag, payload hash and payload text of these
    raw records."""
    found: dict[str, StoredState] = {}
    connection = session.connection()
    dialect = connection.dialect
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    column_type = RawRecord.__table__.c.system_modstamp.type
    stamp = column_type.dialect_impl(dialect).result_processor(dialect, None)
    # The driver's own statement, one per 500 ids: a pull after a large write-back asks for
    # every record it reads, and Core's expanding IN and row processing cost more than the
    # lookup. The payload comes as the text stored (decoded by the pull only where needed).
    head = (
        "SELECT record_id, system_modstamp, input_hash, is_deleted, payload_hash, "
        f"CAST(payload AS TEXT) FROM {RawRecord.__tablename__} "
        f"WHERE org_id = {mark} AND object_name = {mark} AND record_id IN "
    )
    for chunk in chunks(ids):
        marks = ", ".join(mark for _ in chunk)
        rows = connection.exec_driver_sql(f"{head}({marks})", (org_id, object_name, *chunk))
        for record_id, modstamp, input_hash, is_deleted, payload_hash, payload in rows:
            when = cast(datetime, stamp(modstamp) if stamp is not None else modstamp)
            found[record_id] = StoredState(
                when, input_hash, bool(is_deleted), payload_hash, payload
            )
    return found


# --- canonical records and issues (read side, for the recompute and the ops views) ------


@dataclass(frozen=True, slots=True)
class StoredCanonical:
    """A canonical record as stored."""

    record_id: str
    payload: dict[str, Any]
    deleted: bool
    changed_run_id: int | None


def load_canonical(
    session: Session,
    *,
    org_id: str,
    kind: str,
    ids: Sequence[str] | None = None,
    include_deleted: bool = False,
) -> dict[str, StoredCanonical]:
    """Canonical records of one kind (rep, deal, split, team_member), by id."""
    model = CANONICAL_TABLES[kind]
    found: dict[str, StoredCanonical] = {}
    for chunk in [None] if ids is None else list(chunks(ids)):
        query = select(model).where(model.org_id == org_id)
        if chunk is not None:
            query = query.where(model.id.in_(chunk))
        if not include_deleted:
            query = query.where(model.deleted.is_(False))
        for row in session.scalars(query):
            found[row.id] = StoredCanonical(row.id, row.payload, row.deleted, row.changed_run_id)
    return found


CanonicalTuple = tuple[str, dict[str, Any], bool, int | None]  # id, payload, deleted, run


def canonical_rows(
    session: Session, *, org_id: str, kind: str, changed_in: Collection[int] | None = None
) -> list[CanonicalTuple]:
    """(id, payload, deleted, changed run) of one kind's canonical records, deleted ones
    included, in id order; only those changed by one of the runs `changed_in` when given
    (an indexed lookup). Plain rows, no ORM objects: a full load reads a million of them."""
    model = CANONICAL_TABLES[kind]
    query = select(model.id, model.payload, model.deleted, model.changed_run_id).where(
        model.org_id == org_id
    )
    out: list[CanonicalTuple] = []
    if changed_in is None:
        out.extend((r[0], r[1], r[2], r[3]) for r in session.execute(query.order_by(model.id)))
    else:
        for chunk in chunks(sorted(changed_in)):
            rows = session.execute(query.where(model.changed_run_id.in_(chunk)))
            out.extend((r[0], r[1], r[2], r[3]) for r in rows)
        out.sort(key=lambda row: row[0])
    return out


def open_issues(session: Session, *, org_id: str, stage: str | None = None) -> list[RecordIssue]:
    """Open record issues of the org, oldest first."""
    query = select(RecordIssue).where(RecordIssue.org_id == org_id, RecordIssue.status == "open")
    if stage is not None:
        query = query.where(RecordIssue.stage == stage)
    return list(session.scalars(query.order_by(RecordIssue.id)))


def load_active_mapping(
    session: Session, *, org_id: str, now: datetime
) -> tuple[int, MappingDocument]:
    """The org's active mapping version id and document (the default seeds version 1)."""
    version = ensure_active(session, org_id, now=now)
    return version.id, version.load()
