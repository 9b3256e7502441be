"""Stored adjustments: amounts paid to (or taken back from) a rep's period, with who entered them.

An adjustment is never edited or deleted once stored (it may already be paid and written
back): a wrong one is corrected by another adjustment. A `reference` is unique per org and
source, so importing the same file twice, or approving the same dispute twice, cannot pay
twice. The sync feeds every stored adjustment to calc (calc/adjustments.py has the rules).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Index, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from calc.adjustments import (
    ADJUSTMENT,
    REASON_LIMIT,
    REFERENCE_LIMIT,
    Adjustment,
    problem,
)
from connector.store.base import Base, UtcDateTime
from connector.store.models import ORG_ID, SF_ID

SOURCES = ("file", "dispute", "admin")
AMOUNT = String(32)  # a Decimal as text: exact on SQLite and PostgreSQL alike


class StoredAdjustment(Base):
    """One adjustment of one org: rep, period, amount, component, why, and who entered it."""

    __tablename__ = "adjustments"
    __table_args__ = (
        Index(None, "org_id", "rep_id", "period"),
        # NULL references never collide: only adjustments that name one are deduplicated.
        Index(None, "org_id", "source", "reference", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ORG_ID)
    rep_id: Mapped[str] = mapped_column(SF_ID)
    period: Mapped[str] = mapped_column(String(16))
    amount: Mapped[str] = mapped_column(AMOUNT)
    component: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(String(REASON_LIMIT))
    reference: Mapped[str | None] = mapped_column(String(REFERENCE_LIMIT))
    source: Mapped[str] = mapped_column(String(16))
    entered_by: Mapped[str] = mapped_column(String(120))
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime())

    def to_calc(self) -> Adjustment:
        """The adjustment as calc pays it."""
        return Adjustment(
            rep_id=self.rep_id,
            period=self.period,
            amount=Decimal(self.amount),
            component=self.component,
            reason=self.reason,
            reference=self.reference,
            source=self.source,
            entered_by=self.entered_by,
        )


class AdjustmentError(ValueError):
    """An adjustment the store refuses; the message names the field and says why."""


def _refusal(adj: Adjustment, source: str) -> str | None:
    if source not in SOURCES:
        return f"source: must be one of {', '.join(SOURCES)}, not {source!r}"
    if len(adj.rep_id) > 18:
        return f"rep_id: {adj.rep_id[:40]!r} is not a Salesforce user id"
    found = problem(adj)
    return None if found is None else f"{found[0]}: {found[1]}"


def add_adjustment(
    session: Session,
    org_id: str,
    *,
    rep_id: str,
    period: str,
    amount: Decimal,
    reason: str,
    entered_by: str,
    now: datetime,
    component: str = ADJUSTMENT,
    reference: str | None = None,
    source: str = "admin",
) -> StoredAdjustment:
    """Store one adjustment (flushed, not committed); AdjustmentError if it is refused."""
    adj = Adjustment(rep_id, period, amount, component, reason, reference, source, entered_by)
    return add_adjustments(session, org_id, [adj], entered_by=entered_by, now=now, source=source)[0]


def add_adjustments(
    session: Session,
    org_id: str,
    adjs: Sequence[Adjustment],
    *,
    entered_by: str,
    now: datetime,
    source: str = "file",
) -> list[StoredAdjustment]:
    """Store several adjustments, all or none: AdjustmentError (naming the row) before any."""
    seen: set[str] = set()
    for i, adj in enumerate(adjs, start=1):
        reason = _refusal(adj, source)
        if reason is None and adj.reference is not None:
            if adj.reference in seen or _exists(session, org_id, source, adj.reference):
                reason = f"reference: {adj.reference!r} is already stored (it would pay twice)"
            seen.add(adj.reference)
        if reason is not None:
            where = f"adjustment {i}: " if len(adjs) > 1 else ""
            raise AdjustmentError(where + reason)
    rows = [
        StoredAdjustment(
            org_id=org_id,
            rep_id=adj.rep_id,
            period=adj.period,
            amount=str(adj.amount),
            component=adj.component,
            reason=adj.reason,
            reference=adj.reference,
            source=source,
            entered_by=entered_by,
            entered_at=now,
        )
        for adj in adjs
    ]
    session.add_all(rows)
    session.flush()
    return rows


def _exists(session: Session, org_id: str, source: str, reference: str) -> bool:
    query = select(StoredAdjustment.id).where(
        StoredAdjustment.org_id == org_id,
        StoredAdjustment.source == source,
        StoredAdjustment.reference == reference,
    )
    return session.scalars(query.limit(1)).first() is not None


def list_adjustments(
    session: Session,
    org_id: str,
    *,
    rep_ids: Iterable[str] | None = None,
    period: str | None = None,
) -> list[StoredAdjustment]:
    """The org's adjustments (optionally of some reps or one period), in entry order."""
    query = select(StoredAdjustment).where(StoredAdjustment.org_id == org_id)
    if rep_ids is not None:
        query = query.where(StoredAdjustment.rep_id.in_(sorted(set(rep_ids))))
    if period is not None:
        query = query.where(StoredAdjustment.period == period)
    return list(session.scalars(query.order_by(StoredAdjustment.id)))


def last_entered_at(session: Session, org_id: str) -> datetime | None:
    """When the org's newest adjustment was entered (an incremental sync recomputes after)."""
    query = select(func.max(StoredAdjustment.entered_at)).where(StoredAdjustment.org_id == org_id)
    found = session.scalar(query)
    if found is not None and found.tzinfo is None:
        found = found.replace(tzinfo=UTC)  # SQLite hands an aggregate back without its type
    return found


def calc_adjustments(session: Session, org_id: str) -> list[Adjustment]:
    """Every adjustment of the org as calc pays it (what the sync feeds the calculation)."""
    return [row.to_calc() for row in list_adjustments(session, org_id)]
