"""Writing one pulled page (raw, canonical, issues, run usage, watermark) in one transaction,
and the full reconcile's marking of records that vanished from Salesforce."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from connector.store.bulk import insert_rows, update_many, update_rows
from connector.store.canonical import CANONICAL_TABLES, KEY_COLUMNS
from connector.store.models import RawRecord, RecordIssue, SyncRun, Watermark
from connector.store.repositories import (
    CanonicalRow,
    IssueRow,
    PageWrite,
    RawRow,
    RunUsage,
    WatermarkState,
    chunks,
)


def commit_page(
    session: Session,
    *,
    org_id: str,
    page: PageWrite,
    run_id: int,
    mapping_version_id: int | None,
    usage: RunUsage,
    now: datetime,
) -> None:
    """Store a page and advance its object's watermark (the unit commits it all or nothing)."""
    _write_raw(session, org_id, page, run_id=run_id, now=now)
    _write_canonical(session, org_id, page, run_id=run_id, version=mapping_version_id, now=now)
    _write_issues(session, org_id, page, run_id=run_id, now=now)
    if page.watermark is not None:
        _advance(session, org_id, page.object_name, page.watermark, run_id=run_id, now=now)
    session.execute(
        update(SyncRun)
        .where(SyncRun.org_id == org_id, SyncRun.id == run_id)
        .values(api_calls=usage.calls, api_usage=usage.used, api_limit=usage.limit,
                heartbeat_at=now)
    )  # fmt: skip


def _existing(
    session: Session, model: Any, org_id: str, ids: Sequence[str], *, object_name: str | None
) -> set[str]:
    key = model.record_id if object_name is not None else model.id
    found: set[str] = set()
    for chunk in chunks(ids):
        query = select(key).where(model.org_id == org_id, key.in_(chunk))
        if object_name is not None:
            query = query.where(model.object_name == object_name)
        found.update(session.scalars(query))
    return found


def _write_raw(
    session: Session, org_id: str, page: PageWrite, *, run_id: int, now: datetime
) -> None:
    inserts = [
        {**_raw_values(org_id, page.object_name, r, run_id, now), "first_run_id": run_id}
        for r in page.raw
        if not r.exists
    ]
    updates = [_raw_values(org_id, page.object_name, r, run_id, now) for r in page.raw if r.exists]
    insert_rows(session, RawRecord, org_id=org_id, rows=inserts)
    update_many(session, RawRecord, org_id=org_id, keys=_RAW_KEY, rows=updates)
    restamped = [
        {"org_id": org_id, "object_name": page.object_name, "record_id": rid,
         "system_modstamp": stamp, "last_run_id": run_id}
        for rid, stamp in page.restamped
    ]  # fmt: skip
    update_many(session, RawRecord, org_id=org_id, keys=_RAW_KEY, rows=restamped)
    for chunk in chunks(list(page.unchanged_ids)):
        session.execute(
            update(RawRecord)
            .where(
                RawRecord.org_id == org_id,
                RawRecord.object_name == page.object_name,
                RawRecord.record_id.in_(chunk),
            )
            .values(last_run_id=run_id)
        )


def _raw_values(
    org_id: str, object_name: str, row: RawRow, run_id: int, now: datetime
) -> dict[str, Any]:
    return {
        "org_id": org_id,
        "object_name": object_name,
        "record_id": row.record_id,
        "system_modstamp": row.modstamp,
        "payload": row.payload,
        "is_deleted": row.is_deleted,
        "input_hash": row.input_hash,
        "payload_hash": row.payload_hash,
        "last_run_id": run_id,
        "updated_at": now,
    }


_RAW_KEY = ("org_id", "object_name", "record_id")


def _write_canonical(
    session: Session,
    org_id: str,
    page: PageWrite,
    *,
    run_id: int,
    version: int | None,
    now: datetime,
) -> None:
    if not page.canonical:
        return
    model = CANONICAL_TABLES[page.kind]
    ids = [c.record_id for c in page.canonical]
    present = _existing(session, model, org_id, ids, object_name=None)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    deletes: list[dict[str, Any]] = []  # fewer columns: bulk UPDATE wants one key set per batch
    for row in page.canonical:
        values = _canonical_values(org_id, page.kind, row, run_id=run_id, version=version, now=now)
        if row.record_id not in present:
            values.setdefault("payload", {"id": row.record_id})
            # Core executemany wants one column set: a delete seen first has no keys.
            for name in ("input_hash", "mapping_version_id", *KEY_COLUMNS[page.kind]):
                values.setdefault(name, None)
            inserts.append(values)
        elif row.payload is None:
            deletes.append(values)
        else:
            updates.append(values)
    for batch in (updates, deletes):
        update_rows(session, model, org_id=org_id, keys=("id",), rows=batch)
    insert_rows(session, model, org_id=org_id, rows=inserts)


def _canonical_values(
    org_id: str, kind: str, row: CanonicalRow, *, run_id: int, version: int | None, now: datetime
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "org_id": org_id,
        "id": row.record_id,
        "deleted": row.deleted,
        "changed_run_id": run_id,
        "updated_at": now,
    }
    if row.payload is not None:  # a delete keeps the last good payload and keys
        values.update(payload=row.payload, input_hash=row.input_hash, mapping_version_id=version)
        values.update({name: row.keys.get(name) for name in KEY_COLUMNS[kind]})
    return values


def _write_issues(
    session: Session, org_id: str, page: PageWrite, *, run_id: int, now: datetime
) -> None:
    # Most pages resolve nothing: one indexed look for an open map issue of the object spares
    # an UPDATE per 500 mapped records.
    resolving = list(page.mapped_ok) if _open_map_issues(session, org_id, page.object_name) else []
    for chunk in chunks(resolving):
        session.execute(
            update(RecordIssue)
            .where(
                RecordIssue.org_id == org_id,
                RecordIssue.object_name == page.object_name,
                RecordIssue.stage == "map",
                RecordIssue.status == "open",
                RecordIssue.record_id.in_(chunk),
            )
            .values(status="resolved", resolved_at=now)
        )
    if page.issues:
        session.execute(  # executemany: issues are few
            insert(RecordIssue),
            [_issue_values(org_id, page.object_name, i, run_id, now) for i in page.issues],
        )


def _open_map_issues(session: Session, org_id: str, object_name: str) -> bool:
    query = (
        select(RecordIssue.id)
        .where(
            RecordIssue.org_id == org_id,
            RecordIssue.status == "open",
            RecordIssue.stage == "map",
            RecordIssue.object_name == object_name,
        )
        .limit(1)
    )
    return session.scalars(query).first() is not None


def _issue_values(
    org_id: str, object_name: str, issue: IssueRow, run_id: int, now: datetime
) -> dict[str, Any]:
    return {
        "org_id": org_id,
        "run_id": run_id,
        "stage": "map",
        "object_name": object_name,
        "record_id": issue.record_id,
        "field": issue.field,
        "error_code": issue.error_code,
        "reason": issue.reason,
        "status": "open",
        "created_at": now,
    }


def _advance(
    session: Session,
    org_id: str,
    object_name: str,
    mark: WatermarkState,
    *,
    run_id: int,
    now: datetime,
) -> None:
    current = session.get(Watermark, (org_id, object_name))
    if current is None:
        session.add(
            Watermark(org_id=org_id, object_name=object_name, modstamp=mark.modstamp,
                      last_id=mark.last_id, run_id=run_id, updated_at=now)
        )  # fmt: skip
        return
    # A watermark only moves forward: a full pull re-reads old pages without rewinding it.
    if (mark.modstamp, mark.last_id or "") > (current.modstamp, current.last_id or ""):
        current.modstamp = mark.modstamp
        current.last_id = mark.last_id
        current.run_id = run_id
        current.updated_at = now


def complete_object(
    session: Session, *, org_id: str, object_name: str, until: datetime, run_id: int, now: datetime
) -> None:
    """A pull of the object read everything before `until`: its watermark moves there.

    Even an empty pull advances it, so the next run asks only for what changed since this
    run started (minus the lookback), not again for everything since the last change.
    """
    _advance(session, org_id, object_name, WatermarkState(until, None), run_id=run_id, now=now)


def vanished_candidates(
    session: Session, *, org_id: str, object_name: str, run_id: int, before: datetime
) -> list[str]:
    """Live raw records a full pull of this run did not see (modified before `before`)."""
    query = select(RawRecord.record_id).where(
        RawRecord.org_id == org_id,
        RawRecord.object_name == object_name,
        RawRecord.is_deleted.is_(False),
        RawRecord.system_modstamp < before,
        (RawRecord.last_run_id != run_id) | RawRecord.last_run_id.is_(None),
    )
    return list(session.scalars(query))


def mark_vanished(
    session: Session,
    *,
    org_id: str,
    object_name: str,
    kind: str,
    ids: Sequence[str],
    run_id: int,
    now: datetime,
) -> None:
    """Records gone from Salesforce altogether (hard delete, emptied recycle bin): deleted."""
    model = CANONICAL_TABLES.get(kind)
    for chunk in chunks(list(ids)):
        session.execute(
            update(RawRecord)
            .where(
                RawRecord.org_id == org_id,
                RawRecord.object_name == object_name,
                RawRecord.record_id.in_(chunk),
            )
            .values(is_deleted=True, last_run_id=run_id, updated_at=now)
        )
        if model is not None:
            session.execute(
                update(model)
                .where(model.org_id == org_id, model.id.in_(chunk))
                .values(deleted=True, changed_run_id=run_id, updated_at=now)
            )
