"""The org's write-back allow-list: fields an admin added beyond those force-app ships, and
the audit trail of every addition and removal (who, when)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Index, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from connector.store.base import Base, UtcDateTime
from connector.store.models import OBJECT_NAME, ORG_ID, RecordIssue
from mappings.writeback_rules import SHIPPED_FIELDS, FieldKey, refusal

ACTIONS = ("added", "removed")
FIELD_NAME = String(80)


class WritebackField(Base):
    """A field an admin added to the org's write-back allow-list."""

    __tablename__ = "writeback_fields"

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    object_name: Mapped[str] = mapped_column(OBJECT_NAME, primary_key=True)
    field_name: Mapped[str] = mapped_column(FIELD_NAME, primary_key=True)
    added_by: Mapped[str] = mapped_column(String(120))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime())


class WritebackFieldEvent(Base):
    """One change to the allow-list: a field added or removed, by whom and when."""

    __tablename__ = "writeback_field_events"
    __table_args__ = (Index(None, "org_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ORG_ID)
    action: Mapped[str] = mapped_column(String(16))
    object_name: Mapped[str] = mapped_column(OBJECT_NAME)
    field_name: Mapped[str] = mapped_column(FIELD_NAME)
    by: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class AllowListError(ValueError):
    """An allow-list change that is refused; the message says why."""


@dataclass(frozen=True, slots=True)
class ListedField:
    """One allow-listed field as the mapping page shows it (shipped ones have no `by`)."""

    object_name: str
    field_name: str
    shipped: bool
    added_by: str | None = None
    added_at: datetime | None = None

    @property
    def key(self) -> str:
        """`Object.Field`, the form value naming it."""
        return f"{self.object_name}.{self.field_name}"


def _rows(session: Session, org_id: str) -> list[WritebackField]:
    query = select(WritebackField).where(WritebackField.org_id == org_id)
    return list(
        session.scalars(query.order_by(WritebackField.object_name, WritebackField.field_name))
    )


def allowed_fields(session: Session, *, org_id: str) -> frozenset[FieldKey]:
    """The org's allow-list: force-app's write-back fields and the ones an admin added."""
    added = {(r.object_name, r.field_name) for r in _rows(session, org_id)}
    return SHIPPED_FIELDS | frozenset(added)


def listed_fields(session: Session, *, org_id: str) -> list[ListedField]:
    """The allow-list for display: shipped fields first, then the added ones."""
    shipped = [ListedField(o, f, shipped=True) for o, f in sorted(SHIPPED_FIELDS)]
    added = [
        ListedField(r.object_name, r.field_name, False, r.added_by, r.added_at)
        for r in _rows(session, org_id)
    ]
    return shipped + added


def field_events(session: Session, *, org_id: str, limit: int = 20) -> list[WritebackFieldEvent]:
    """The latest allow-list changes, newest first."""
    query = select(WritebackFieldEvent).where(WritebackFieldEvent.org_id == org_id)
    ordered = query.order_by(WritebackFieldEvent.at.desc(), WritebackFieldEvent.id.desc())
    return list(session.scalars(ordered.limit(limit)))


def parse_key(text: str) -> FieldKey:
    """`Object.Field` to (object, field); AllowListError if it is not of that shape."""
    obj, dot, field = text.strip().partition(".")
    if not dot or not obj or not field or "." in field:
        raise AllowListError(f"{text.strip()[:100]!r}: write the field as Object.Field__c")
    return obj, field


def add_field(
    session: Session,
    *,
    org_id: str,
    key: FieldKey,
    read: Collection[FieldKey],
    by: str,
    now: datetime,
) -> bool:
    """Add (object, field) to the allow-list (False if already there); AllowListError when
    it can never be a write-back target (standard field, read by the mapping, bad name)."""
    reason = refusal(*key, read=read)
    if reason is not None:
        raise AllowListError(reason)
    if key in allowed_fields(session, org_id=org_id):
        return False
    session.add(
        WritebackField(
            org_id=org_id, object_name=key[0], field_name=key[1], added_by=by, added_at=now
        )
    )
    _audit(session, org_id, "added", key, by, now)
    session.flush()
    return True


def remove_field(session: Session, *, org_id: str, key: FieldKey, by: str, now: datetime) -> None:
    """Remove an added field; AllowListError for a shipped or unlisted one."""
    if key in SHIPPED_FIELDS:
        raise AllowListError(f"{key[0]}.{key[1]} ships with force-app and stays on the list")
    row = session.get(WritebackField, (org_id, key[0], key[1]))
    if row is None:
        raise AllowListError(f"{key[0]}.{key[1]} is not on the allow-list; reload the page")
    session.delete(row)
    _audit(session, org_id, "removed", key, by, now)
    session.flush()


def _audit(
    session: Session, org_id: str, action: str, key: FieldKey, by: str, now: datetime
) -> None:
    session.add(
        WritebackFieldEvent(
            org_id=org_id, action=action, object_name=key[0], field_name=key[1], by=by, at=now
        )
    )


NOT_ALLOWED = "FIELD_NOT_ALLOWED"


def reconcile_refusals(
    session: Session,
    *,
    org_id: str,
    run_id: int,
    refused: Collection[FieldKey],
    now: datetime,
) -> int:
    """One open write-back issue per field the sync refused to write (not on the allow-list):
    new ones are added, ones no longer refused are resolved. Returns how many are open."""
    query = select(RecordIssue).where(
        RecordIssue.org_id == org_id,
        RecordIssue.stage == "writeback",
        RecordIssue.status == "open",
        RecordIssue.error_code == NOT_ALLOWED,
    )
    open_now: set[FieldKey] = set()
    for row in session.scalars(query):
        key = (row.object_name, row.field or "")
        if key in refused and key not in open_now:
            open_now.add(key)
        else:
            row.status, row.resolved_at = "resolved", now
    for obj, field in sorted(set(refused) - open_now):
        session.add(
            RecordIssue(
                org_id=org_id,
                run_id=run_id,
                stage="writeback",
                object_name=obj,
                record_id=None,
                field=field[:255],
                error_code=NOT_ALLOWED,
                reason=(
                    f"not written: {obj}.{field} is not on the org's write-back allow-list "
                    "(the active mapping names it; an admin must fix the mapping)"
                ),
                status="open",
                created_at=now,
            )
        )
    session.flush()
    return len(set(refused))
