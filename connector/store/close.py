"""Plan acceptance, statement approval and period close: the sign-offs before payroll.

Each row says who signed off on what and when; `close_events` keeps every step, so a
statement sent back to draft or a close forced past its blockers stays on record.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from connector.store.base import Base, UtcDateTime
from connector.store.models import ORG_ID, SF_ID, RecordIssue
from connector.store.results import PeriodResult

AMOUNT = String(32)
WHO = String(121)


class PlanAcceptance(Base):
    """A rep accepted one version of their plan document (the text they were shown)."""

    __tablename__ = "plan_acceptances"
    __table_args__ = (Index(None, "org_id", "rep_id", "plan_version", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ORG_ID)
    rep_id: Mapped[str] = mapped_column(SF_ID)
    plan_id: Mapped[str] = mapped_column(String(80))
    plan_version: Mapped[int] = mapped_column(Integer)
    previous_version: Mapped[int | None] = mapped_column(Integer)  # the one accepted before
    document_sha256: Mapped[str] = mapped_column(String(64))
    accepted_by: Mapped[str] = mapped_column(WHO)
    accepted_at: Mapped[datetime] = mapped_column(UtcDateTime())


class StatementApproval(Base):
    """One rep's statement of one period: draft, manager_approved or approved, with the
    figures that were approved (so a later recalculation cannot change an approved number)."""

    __tablename__ = "statement_approvals"

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    rep_id: Mapped[str] = mapped_column(SF_ID, primary_key=True)
    state: Mapped[str] = mapped_column(String(24))
    currency: Mapped[str] = mapped_column(String(3))
    gross: Mapped[str] = mapped_column(AMOUNT)
    top_up: Mapped[str] = mapped_column(AMOUNT)
    recovered: Mapped[str] = mapped_column(AMOUNT)
    adjustments: Mapped[str] = mapped_column(AMOUNT)
    net: Mapped[str] = mapped_column(AMOUNT)
    result_digest: Mapped[str] = mapped_column(String(64))
    manager_approved_by: Mapped[str | None] = mapped_column(WHO)
    manager_approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    approved_by: Mapped[str | None] = mapped_column(WHO)
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PeriodClose(Base):
    """A period closed for payroll: who closed it, what still blocked it, and why anyway."""

    __tablename__ = "period_closes"

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    closed_by: Mapped[str] = mapped_column(WHO)
    closed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    override_reason: Mapped[str | None] = mapped_column(Text)
    blockers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CloseEvent(Base):
    """One step of acceptance, approval or close, for the audit trail."""

    __tablename__ = "close_events"
    __table_args__ = (Index(None, "org_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ORG_ID)
    period: Mapped[str | None] = mapped_column(String(16))
    rep_id: Mapped[str | None] = mapped_column(SF_ID)
    action: Mapped[str] = mapped_column(String(32))
    by: Mapped[str] = mapped_column(WHO)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    note: Mapped[str | None] = mapped_column(Text)


def acceptances_of(session: Session, *, org_id: str, rep_id: str) -> Sequence[PlanAcceptance]:
    """A rep's plan acceptances, newest version first."""
    return session.scalars(
        select(PlanAcceptance)
        .where(PlanAcceptance.org_id == org_id, PlanAcceptance.rep_id == rep_id)
        .order_by(PlanAcceptance.plan_version.desc())
    ).all()


def latest_acceptances(session: Session, *, org_id: str) -> dict[str, PlanAcceptance]:
    """Each rep's acceptance of the newest plan version they accepted, by rep id."""
    rows = session.scalars(
        select(PlanAcceptance)
        .where(PlanAcceptance.org_id == org_id)
        .order_by(PlanAcceptance.plan_version)
    ).all()
    return {row.rep_id: row for row in rows}


def record_acceptance(
    session: Session,
    *,
    org_id: str,
    rep_id: str,
    plan_id: str,
    plan_version: int,
    document_sha256: str,
    by: str,
    now: datetime,
) -> PlanAcceptance:
    """Store a rep's acceptance of a plan version (once: accepting again keeps the first),
    naming the version they had accepted before it."""
    earlier = acceptances_of(session, org_id=org_id, rep_id=rep_id)
    for row in earlier:
        if row.plan_version == plan_version:
            return row
    previous = next((r.plan_version for r in earlier if r.plan_version < plan_version), None)
    row = PlanAcceptance(
        org_id=org_id,
        rep_id=rep_id,
        plan_id=plan_id,
        plan_version=plan_version,
        previous_version=previous,
        document_sha256=document_sha256,
        accepted_by=by[:121],
        accepted_at=now,
    )
    session.add(row)
    note = f"plan {plan_id} version {plan_version}"
    session.add(
        CloseEvent(
            org_id=org_id, rep_id=rep_id, action="accept_plan", by=by[:121], at=now, note=note
        )
    )
    session.flush()
    return row


def results_of_period(
    session: Session, *, org_id: str, period: str
) -> list[tuple[str, dict[str, Any]]]:
    """(rep id, stored result) of every rep with a result in `period`, by rep id."""
    rows = session.execute(
        select(PeriodResult.rep_id, PeriodResult.result)
        .where(PeriodResult.org_id == org_id, PeriodResult.period == period)
        .order_by(PeriodResult.rep_id)
    ).all()
    return [(str(rep_id), dict(result)) for rep_id, result in rows]


def approvals_of_period(
    session: Session, *, org_id: str, period: str
) -> dict[str, StatementApproval]:
    """The stored statement approvals of a period, by rep id."""
    rows = session.scalars(
        select(StatementApproval).where(
            StatementApproval.org_id == org_id, StatementApproval.period == period
        )
    ).all()
    return {row.rep_id: row for row in rows}


def open_issue_count(session: Session, *, org_id: str) -> int:
    """Record issues of the org still open (any stage)."""
    found = session.scalar(
        select(func.count()).where(RecordIssue.org_id == org_id, RecordIssue.status == "open")
    )
    return int(found or 0)


def period_close(session: Session, *, org_id: str, period: str) -> PeriodClose | None:
    """The close of a period, if it was closed."""
    return session.get(PeriodClose, (org_id, period))


def result_periods(session: Session, *, org_id: str) -> list[tuple[str, date]]:
    """Every period holding a stored result, with its last day, oldest first."""
    rows = session.execute(
        select(PeriodResult.period, func.max(PeriodResult.period_end))
        .where(PeriodResult.org_id == org_id)
        .group_by(PeriodResult.period)
    ).all()
    return sorted(((str(p), end) for p, end in rows), key=lambda r: (r[1], r[0]))


def get_approval(
    session: Session, *, org_id: str, period: str, rep_id: str
) -> StatementApproval | None:
    """One statement approval, or None."""
    return session.get(StatementApproval, (org_id, period, rep_id))
