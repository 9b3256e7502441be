"""Commission disputes: the dispute rows, their audit trail, the reason list and the settings.

A dispute is changed only through `connector.disputes.service`, which checks the transition
(`connector.disputes.workflow`), writes the new state, one audit event and the Salesforce
Task outbox rows in the same transaction. Events are never edited or deleted.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from connector.store.base import Base, UtcDateTime
from connector.store.models import ORG_ID, SF_ID

AMOUNT = String(32)  # a Decimal as text: exact on SQLite and PostgreSQL alike
STATE = String(24)
REASON_CODE = String(40)
REASON_LABEL = String(80)
# The reasons a new org starts with (admins may rename, retire or add to them).
DEFAULT_REASONS = (
    ("wrong_amount", "Wrong amount"),
    ("wrong_split", "Wrong split"),
    ("missing_deal", "Missing deal"),
    ("wrong_rate", "Wrong rate or tier"),
    ("spiff_not_applied", "SPIFF not applied"),
    ("other", "Other"),
)


class WorkflowSettings(Base):
    """Per-org choices of the dispute and close workflow."""

    __tablename__ = "workflow_settings"

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    # A dispute waits for the rep's manager before the admins review it.
    manager_step: Mapped[bool] = mapped_column(Boolean, default=False)
    # The Salesforce user who gets the Task for a dispute nobody has picked up yet.
    dispute_admin_id: Mapped[str | None] = mapped_column(SF_ID)
    # Payouts of a rep who has not accepted their current plan version are held.
    hold_unaccepted: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[str | None] = mapped_column(String(120))
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class DisputeReason(Base):
    """One entry of the org's admin-editable list of dispute reasons."""

    __tablename__ = "dispute_reasons"

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    code: Mapped[str] = mapped_column(REASON_CODE, primary_key=True)
    label: Mapped[str] = mapped_column(REASON_LABEL)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Dispute(Base):
    """A rep's question about their pay: what, why, how much they expect, and where it stands."""

    __tablename__ = "disputes"
    __table_args__ = (
        Index(None, "org_id", "state"),
        Index(None, "org_id", "rep_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ORG_ID)
    rep_id: Mapped[str] = mapped_column(SF_ID)
    rep_name: Mapped[str] = mapped_column(String(121))
    manager_id: Mapped[str | None] = mapped_column(SF_ID)
    kind: Mapped[str] = mapped_column(String(16))  # line, deal or period
    period: Mapped[str] = mapped_column(String(16))
    deal_id: Mapped[str | None] = mapped_column(SF_ID)
    component: Mapped[str | None] = mapped_column(String(80))
    credit_type: Mapped[str | None] = mapped_column(String(16))
    shown_amount: Mapped[str | None] = mapped_column(AMOUNT)  # what the line showed
    expected_amount: Mapped[str | None] = mapped_column(AMOUNT)
    reason_code: Mapped[str] = mapped_column(REASON_CODE)
    reason_label: Mapped[str] = mapped_column(REASON_LABEL)
    description: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(STATE)
    info_from: Mapped[str | None] = mapped_column(STATE)  # the state that asked for more
    reviewer_id: Mapped[str | None] = mapped_column(SF_ID)
    resolution: Mapped[str | None] = mapped_column(STATE)
    resolution_reason: Mapped[str | None] = mapped_column(Text)
    resolved_amount: Mapped[str | None] = mapped_column(AMOUNT)
    adjustment_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DisputeEvent(Base):
    """One audited change of a dispute: who, when, what it was and what it became."""

    __tablename__ = "dispute_events"
    __table_args__ = (Index(None, "org_id", "dispute_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ORG_ID)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor_id: Mapped[str | None] = mapped_column(SF_ID)
    actor_name: Mapped[str] = mapped_column(String(121))
    action: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str | None] = mapped_column(STATE)
    to_state: Mapped[str] = mapped_column(STATE)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text)


def workflow_settings(session: Session, *, org_id: str) -> WorkflowSettings:
    """The org's workflow settings (defaults when none are stored; not added to the session)."""
    found = session.get(WorkflowSettings, org_id)
    if found is not None:
        return found
    return WorkflowSettings(org_id=org_id, manager_step=False, hold_unaccepted=False)


def save_workflow_settings(
    session: Session, *, org_id: str, by: str, now: datetime, **changes: Any
) -> WorkflowSettings:
    """Store changed settings (only the known ones) with who changed them."""
    row = session.get(WorkflowSettings, org_id)
    if row is None:
        row = WorkflowSettings(org_id=org_id, manager_step=False, hold_unaccepted=False)
        session.add(row)
    for name in ("manager_step", "dispute_admin_id", "hold_unaccepted"):
        if name in changes:
            setattr(row, name, changes[name])
    row.updated_by, row.updated_at = by, now
    session.flush()
    return row


def reasons(session: Session, *, org_id: str, active_only: bool = False) -> list[DisputeReason]:
    """The org's reason list in display order (the defaults until an admin edits it)."""
    rows = list(
        session.scalars(
            select(DisputeReason)
            .where(DisputeReason.org_id == org_id)
            .order_by(DisputeReason.position, DisputeReason.code)
        )
    )
    if not rows:
        rows = [
            DisputeReason(org_id=org_id, code=code, label=label, active=True, position=i)
            for i, (code, label) in enumerate(DEFAULT_REASONS)
        ]
    return [r for r in rows if r.active or not active_only]


def save_reason(
    session: Session, *, org_id: str, code: str, label: str, active: bool
) -> DisputeReason:
    """Add or change one reason (the defaults are stored first, so editing keeps them)."""
    if session.scalars(select(DisputeReason).where(DisputeReason.org_id == org_id)).first() is None:
        session.add_all(reasons(session, org_id=org_id))
        session.flush()
    row = session.get(DisputeReason, (org_id, code))
    if row is None:
        last = [r.position for r in reasons(session, org_id=org_id)]
        row = DisputeReason(org_id=org_id, code=code, position=max(last, default=-1) + 1)
        session.add(row)
    row.label, row.active = label, active
    session.flush()
    return row


def get_dispute(session: Session, *, org_id: str, dispute_id: int) -> Dispute | None:
    """One dispute of the org, or None."""
    found = session.get(Dispute, dispute_id)
    return found if found is not None and found.org_id == org_id else None


def dispute_events(session: Session, *, org_id: str, dispute_id: int) -> Sequence[DisputeEvent]:
    """A dispute's audit trail, oldest first."""
    return session.scalars(
        select(DisputeEvent)
        .where(DisputeEvent.org_id == org_id, DisputeEvent.dispute_id == dispute_id)
        .order_by(DisputeEvent.at, DisputeEvent.id)
    ).all()


def find_disputes(
    session: Session,
    *,
    org_id: str,
    rep_ids: Collection[str] | None,
    states: Collection[str] | None = None,
    limit: int = 1000,
) -> Sequence[Dispute]:
    """The org's disputes of `rep_ids` (every rep when None) in `states`, newest first."""
    query = select(Dispute).where(Dispute.org_id == org_id)
    if rep_ids is not None:
        query = query.where(Dispute.rep_id.in_(list(rep_ids)))
    if states is not None:
        query = query.where(Dispute.state.in_(list(states)))
    return session.scalars(
        query.order_by(Dispute.created_at.desc(), Dispute.id.desc()).limit(limit)
    ).all()
