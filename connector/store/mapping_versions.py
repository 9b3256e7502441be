"""Mapping versions: every imported mapping document, exactly one active per org.

The document is stored as canonical YAML text (what `quotaflow mappings export` writes), so a
version reads back as exactly the document that was active when a number was computed
(canonical records carry the `mapping_version_id` they were mapped with).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    text,
    union,
)
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Mapped, Session, mapped_column

from connector.store.base import Base, UtcDateTime
from connector.store.models import ORG_ID, SyncRun
from mappings.defaults import default_mapping
from mappings.loader import dump_mapping, load_mapping
from mappings.schema import MappingDocument

ACTIVE_INDEX = "uq_mapping_versions_org_id_active"


class MappingVersion(Base):
    """One version of an org's mapping document; `is_active` marks the one in use."""

    __tablename__ = "mapping_versions"
    __table_args__ = (
        UniqueConstraint("org_id", "version"),
        # At most one active version per org, enforced by the database where partial
        # indexes exist (PostgreSQL and SQLite both have them).
        Index(
            ACTIVE_INDEX,
            "org_id",
            unique=True,
            sqlite_where=text("is_active"),
            postgresql_where=text("is_active"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ORG_ID)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))
    document: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(120))
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    activated_by: Mapped[str | None] = mapped_column(String(120))
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)

    def load(self) -> MappingDocument:
        """The stored document, parsed and checked again."""
        return load_mapping(self.document, source=f"mapping version {self.version}")


def checksum(document: str) -> str:
    """sha256 of the stored text."""
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def list_versions(session: Session, org_id: str) -> list[MappingVersion]:
    """Every version of the org's mapping, oldest first."""
    query = select(MappingVersion).where(MappingVersion.org_id == org_id)
    return list(session.scalars(query.order_by(MappingVersion.version)))


def get_version(session: Session, org_id: str, version: int) -> MappingVersion | None:
    """One version by its number."""
    query = select(MappingVersion).where(
        MappingVersion.org_id == org_id, MappingVersion.version == version
    )
    return session.scalars(query).one_or_none()


def active_version(session: Session, org_id: str) -> MappingVersion | None:
    """The version in use, if any."""
    query = select(MappingVersion).where(
        MappingVersion.org_id == org_id, MappingVersion.is_active.is_(True)
    )
    return session.scalars(query).one_or_none()


def known_org_ids(session: Session) -> list[str]:
    """Orgs that have a mapping version or a sync run (to default the CLI's --org)."""
    query = union(select(MappingVersion.org_id), select(SyncRun.org_id))
    return sorted(str(org) for org in session.scalars(query))


def add_version(
    session: Session, org_id: str, doc: MappingDocument, *, created_by: str, now: datetime
) -> MappingVersion:
    """Store `doc` as the next version number (not active yet)."""
    current = session.scalar(
        select(func.max(MappingVersion.version)).where(MappingVersion.org_id == org_id)
    )
    document = dump_mapping(doc)
    row = MappingVersion(
        org_id=org_id,
        version=(current or 0) + 1,
        name=doc.name[:120],
        document=document,
        checksum=checksum(document),
        created_at=now,
        created_by=created_by,
        is_active=False,
    )
    session.add(row)
    session.flush()
    return row


def activate_version(
    session: Session, org_id: str, version: int, *, activated_by: str, now: datetime
) -> MappingVersion:
    """Make `version` the only active one, recording who and when; KeyError if unknown."""
    row = get_version(session, org_id, version)
    if row is None:
        raise KeyError(f"mapping version {version} does not exist")
    # Deactivate first and flush, so the one-active index never sees two at once.
    session.execute(
        sql_update(MappingVersion)
        .where(MappingVersion.org_id == org_id, MappingVersion.is_active.is_(True))
        .values(is_active=False)
        .execution_options(synchronize_session="fetch")
    )
    row.is_active = True
    row.activated_at = now
    row.activated_by = activated_by
    session.flush()
    return row


def import_version(
    session: Session, org_id: str, doc: MappingDocument, *, by: str, now: datetime
) -> tuple[MappingVersion, bool]:
    """Store and activate `doc`; if it equals the active version, keep that one (False)."""
    active = active_version(session, org_id)
    if active is not None and active.checksum == checksum(dump_mapping(doc)):
        return active, False
    row = add_version(session, org_id, doc, created_by=by, now=now)
    return activate_version(session, org_id, row.version, activated_by=by, now=now), True


def ensure_active(session: Session, org_id: str, *, now: datetime) -> MappingVersion:
    """The active version, seeding the shipped default mapping as version 1 for a new org."""
    active = active_version(session, org_id)
    if active is not None:
        return active
    return import_version(session, org_id, default_mapping(), by="quotaflow", now=now)[0]
