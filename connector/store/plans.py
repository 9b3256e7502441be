"""Plan document versions: every upload is kept, exactly one is active per org."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from connector.store.base import Base, UtcDateTime
from connector.store.models import ORG_ID


class PlanVersion(Base):
    """One uploaded plan document (the `quotaflow calc` format), validated before storing."""

    __tablename__ = "plan_versions"
    __table_args__ = (Index(None, "org_id", "version", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ORG_ID)
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    source_text: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


# At most one active version per org, enforced by the database itself (a partial index).
Index(
    "uq_plan_versions_active_org",
    PlanVersion.org_id,
    unique=True,
    sqlite_where=PlanVersion.is_active.is_(True),
    postgresql_where=PlanVersion.is_active.is_(True),
)


def document_checksum(document: dict[str, Any]) -> str:
    """A stable hash of a parsed plan document (key order does not matter)."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def active_plan(session: Session, *, org_id: str) -> PlanVersion | None:
    """The org's active plan version, if any."""
    return session.scalars(
        select(PlanVersion).where(PlanVersion.org_id == org_id, PlanVersion.is_active.is_(True))
    ).first()


def plan_versions(session: Session, *, org_id: str) -> Sequence[PlanVersion]:
    """Every version of the org's plans, newest first."""
    return session.scalars(
        select(PlanVersion).where(PlanVersion.org_id == org_id).order_by(PlanVersion.version.desc())
    ).all()


def add_plan_version(
    session: Session,
    *,
    org_id: str,
    document: dict[str, Any],
    source_text: str,
    created_by: str | None,
    now: datetime,
) -> tuple[PlanVersion, bool]:
    """Store and activate an (already validated) document; (version, created).

    Uploading the document that is already active creates nothing: versions record
    changes, not uploads. The caller commits.
    """
    checksum = document_checksum(document)
    current = active_plan(session, org_id=org_id)
    if current is not None and current.checksum == checksum:
        return current, False
    latest = session.scalar(
        select(func.max(PlanVersion.version)).where(PlanVersion.org_id == org_id)
    )
    session.execute(
        update(PlanVersion)
        .where(PlanVersion.org_id == org_id, PlanVersion.is_active.is_(True))
        .values(is_active=False)
    )
    session.flush()
    version = PlanVersion(
        org_id=org_id,
        version=(latest or 0) + 1,
        document=document,
        source_text=source_text,
        checksum=checksum,
        is_active=True,
        created_by=created_by,
        created_at=now,
        activated_at=now,
    )
    session.add(version)
    session.flush()
    return version, True


def plan_org_ids(session: Session) -> list[str]:
    """Orgs that have a plan version."""
    return sorted(set(session.scalars(select(PlanVersion.org_id).distinct())))
