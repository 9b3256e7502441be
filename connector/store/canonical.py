"""Canonical records: the mapped reps, deals, splits and team members the calculation reads.

One table per kind, keyed by (org_id, Salesforce record id). `payload` is the mapped calc
record as JSON (see connector.pull.codec); the key columns beside it are copies that the
recompute filters on (deals by owner, splits and team members by deal and by rep).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from connector.store.base import Base, UtcDateTime
from connector.store.models import ORG_ID, SF_ID


class _Canonical:
    """Columns every canonical table has."""

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    id: Mapped[str] = mapped_column(SF_ID, primary_key=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    input_hash: Mapped[str | None] = mapped_column(String(64))
    mapping_version_id: Mapped[int | None] = mapped_column(Integer)
    # The run in which this record last changed: what a recompute after a crash must redo.
    changed_run_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CanonicalRep(_Canonical, Base):
    """A User mapped to a calc Rep."""

    __tablename__ = "canonical_reps"
    __table_args__ = (
        Index(None, "org_id", "manager_id"),
        Index(None, "org_id", "changed_run_id"),
    )

    manager_id: Mapped[str | None] = mapped_column(SF_ID)


class CanonicalDeal(_Canonical, Base):
    """An Opportunity mapped to a calc Deal."""

    __tablename__ = "canonical_deals"
    __table_args__ = (
        Index(None, "org_id", "owner_id", "close_date"),
        Index(None, "org_id", "close_date"),
        Index(None, "org_id", "changed_run_id"),
    )

    owner_id: Mapped[str | None] = mapped_column(SF_ID)
    close_date: Mapped[date | None] = mapped_column(Date)


class CanonicalSplit(_Canonical, Base):
    """An OpportunitySplit mapped to a calc Split."""

    __tablename__ = "canonical_splits"
    __table_args__ = (
        Index(None, "org_id", "deal_id"),
        Index(None, "org_id", "rep_id"),
        Index(None, "org_id", "changed_run_id"),
    )

    deal_id: Mapped[str | None] = mapped_column(SF_ID)
    rep_id: Mapped[str | None] = mapped_column(SF_ID)


class CanonicalTeamMember(_Canonical, Base):
    """An OpportunityTeamMember mapped to a calc TeamMember."""

    __tablename__ = "canonical_team_members"
    __table_args__ = (
        Index(None, "org_id", "deal_id"),
        Index(None, "org_id", "rep_id"),
        Index(None, "org_id", "changed_run_id"),
    )

    deal_id: Mapped[str | None] = mapped_column(SF_ID)
    rep_id: Mapped[str | None] = mapped_column(SF_ID)


CANONICAL_TABLES: dict[str, type[_Canonical]] = {
    "rep": CanonicalRep,
    "deal": CanonicalDeal,
    "split": CanonicalSplit,
    "team_member": CanonicalTeamMember,
}
# The key columns copied out of the payload, per kind.
KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "rep": ("manager_id",),
    "deal": ("owner_id", "close_date"),
    "split": ("deal_id", "rep_id"),
    "team_member": ("deal_id", "rep_id"),
}
