"""Stored results for the rep views: one rep's periods and credits, one deal's participants.

Every query goes by indexed keys (PeriodResult and StoredCredit by their primary key prefix
org, rep, period; StoredCredit by org, deal; canonical records by org, id or org, owner), so a
page costs a handful of index lookups however large the org is. Rows leave as plain data.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, false, func, select
from sqlalchemy.orm import Session

from connector.store.canonical import (
    CanonicalDeal,
    CanonicalRep,
    CanonicalSplit,
    CanonicalTeamMember,
)
from connector.store.models import RawRecord
from connector.store.plans import PlanVersion, active_plan
from connector.store.repositories import chunks
from connector.store.results import CalcRun, PeriodResult, StoredCredit, WritebackValue


@dataclass(frozen=True, slots=True)
class CreditRow:
    """A stored credit in the `quotaflow calc` credits shape."""

    deal_id: str
    rep_id: str
    credit_type: str
    percent: str
    amount: str
    period: str

    def as_dict(self) -> dict[str, str]:
        """The contract's key order."""
        return {
            "deal_id": self.deal_id,
            "rep_id": self.rep_id,
            "credit_type": self.credit_type,
            "percent": self.percent,
            "amount": self.amount,
            "period": self.period,
        }


def rep_results(
    session: Session, *, org_id: str, rep_id: str, periods: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """A rep's stored period results (all, or of `periods`), by period start."""
    stmt = select(PeriodResult.result).where(
        PeriodResult.org_id == org_id, PeriodResult.rep_id == rep_id
    )
    if periods is not None:
        stmt = stmt.where(PeriodResult.period.in_(sorted(periods)))
    rows = [dict(r) for r in session.scalars(stmt)]
    return sorted(rows, key=lambda r: str(r["period_start"]))


def rep_figures(
    session: Session, *, org_id: str, rep_id: str, periods: Collection[str]
) -> list[dict[str, Any]]:
    """A rep's period, start, gross and components of these periods, without the lines.

    A manager's result holds a line per deal of their whole team: a year-to-date total
    must not parse them all.
    """
    if not periods:
        return []
    rows = session.execute(
        select(
            PeriodResult.period,
            PeriodResult.period_start,
            PeriodResult.gross,
            PeriodResult.result["components"],
        ).where(
            PeriodResult.org_id == org_id,
            PeriodResult.rep_id == rep_id,
            PeriodResult.period.in_(sorted(periods)),
        )
    )
    out = [
        {"period": p, "period_start": s.isoformat(), "gross": g, "components": dict(c or {})}
        for p, s, g, c in rows
    ]
    return sorted(out, key=lambda r: str(r["period_start"]))


def rep_periods(session: Session, *, org_id: str, rep_id: str) -> list[tuple[str, str, str]]:
    """(period, start, end) of every stored result of a rep, in order (no result bodies)."""
    rows = session.execute(
        select(PeriodResult.period, PeriodResult.period_start, PeriodResult.period_end).where(
            PeriodResult.org_id == org_id, PeriodResult.rep_id == rep_id
        )
    )
    return sorted((p, s.isoformat(), e.isoformat()) for p, s, e in rows)


def _credit(row: StoredCredit) -> CreditRow:
    return CreditRow(row.deal_id, row.rep_id, row.credit_type, row.percent, row.amount, row.period)


def rep_credits(
    session: Session,
    *,
    org_id: str,
    rep_id: str,
    periods: Collection[str],
    credit_types: Collection[str] | None = None,
) -> list[CreditRow]:
    """A rep's stored credits in these periods (optionally of some credit types only)."""
    if not periods:
        return []
    stmt = select(StoredCredit).where(
        StoredCredit.org_id == org_id,
        StoredCredit.rep_id == rep_id,
        StoredCredit.period.in_(sorted(periods)),
    )
    if credit_types is not None:
        stmt = stmt.where(StoredCredit.credit_type.in_(sorted(credit_types)))
    rows = [_credit(r) for r in session.scalars(stmt)]
    return sorted(rows, key=lambda c: (c.period, c.deal_id, c.credit_type))


def deal_credits(session: Session, *, org_id: str, deal_id: str) -> list[CreditRow]:
    """Every stored credit of one deal (all reps and periods)."""
    stmt = select(StoredCredit).where(
        StoredCredit.org_id == org_id, StoredCredit.deal_id == deal_id
    )
    rows = [_credit(r) for r in session.scalars(stmt)]
    return sorted(rows, key=lambda c: (c.rep_id, c.period, c.credit_type))


def _payloads_by_id(
    session: Session,
    model: type[CanonicalDeal] | type[CanonicalRep],
    *,
    org_id: str,
    ids: Iterable[str],
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for chunk in chunks(sorted(set(ids))):
        rows = session.execute(
            select(model.id, model.payload).where(
                model.org_id == org_id, model.id.in_(chunk), model.deleted.is_(False)
            )
        )
        out.update({record_id: dict(payload) for record_id, payload in rows})
    return out


def deals_by_id(session: Session, *, org_id: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Live canonical deal payloads by id."""
    return _payloads_by_id(session, CanonicalDeal, org_id=org_id, ids=ids)


def reps_by_id(session: Session, *, org_id: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Live canonical rep payloads by id."""
    return _payloads_by_id(session, CanonicalRep, org_id=org_id, ids=ids)


def open_deal_filter(org_id: str, owner_id: str) -> list[ColumnElement[bool]]:
    """The conditions of a rep's live open deals."""
    # The payload's flags, read by the database: the rep's closed deals never leave it.
    payload = CanonicalDeal.payload
    return [
        CanonicalDeal.org_id == org_id,
        CanonicalDeal.owner_id == owner_id,
        CanonicalDeal.deleted.is_(False),
        func.coalesce(payload["is_closed"].as_boolean(), false()) == false(),
        func.coalesce(payload["is_won"].as_boolean(), false()) == false(),
    ]


def open_deals_of(
    session: Session, *, org_id: str, owner_id: str, limit: int | None = None
) -> list[dict[str, Any]]:
    """Live deals owned by a rep that are not closed, by close date (the first `limit`)."""
    stmt = (
        select(CanonicalDeal.payload)
        .where(*open_deal_filter(org_id, owner_id))
        .order_by(CanonicalDeal.close_date, CanonicalDeal.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [dict(p) for p in session.scalars(stmt)]


def count_open_deals(session: Session, *, org_id: str, owner_id: str) -> int:
    """How many live open deals a rep owns."""
    stmt = (
        select(func.count()).select_from(CanonicalDeal).where(*open_deal_filter(org_id, owner_id))
    )
    return int(session.scalar(stmt) or 0)


def page_version(session: Session, *, org_id: str) -> tuple[int | None, str | None]:
    """(the org's last committed calc run id, the active plan's checksum), in one query.

    Every sync run commits a calculation, so a page computed from the stored results is
    current for as long as both stay the same."""
    row = session.execute(select(*page_version_columns(org_id))).one()
    return row[0], row[1]


def page_version_columns(org_id: str) -> tuple[Any, Any]:
    """The two scalar subqueries of `page_version`, to select or compare in one statement."""
    calc = (
        select(func.max(CalcRun.id))
        .where(CalcRun.org_id == org_id, CalcRun.status == "committed")
        .scalar_subquery()
    )
    plan = (
        select(PlanVersion.checksum)
        .where(PlanVersion.org_id == org_id, PlanVersion.is_active.is_(True))
        .limit(1)
        .scalar_subquery()
    )
    return calc, plan


def _related(
    session: Session,
    model: type[CanonicalSplit] | type[CanonicalTeamMember],
    *,
    org_id: str,
    deal_ids: Sequence[str],
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for chunk in chunks(deal_ids):
        rows = session.scalars(
            select(model.payload).where(
                model.org_id == org_id, model.deal_id.in_(chunk), model.deleted.is_(False)
            )
        )
        out += [dict(p) for p in rows]
    return out


def deal_relations(
    session: Session, *, org_id: str, deal_ids: Iterable[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The live split and team member payloads of these deals."""
    wanted = sorted(set(deal_ids))
    return (
        _related(session, CanonicalSplit, org_id=org_id, deal_ids=wanted),
        _related(session, CanonicalTeamMember, org_id=org_id, deal_ids=wanted),
    )


def record_values(
    session: Session, *, org_id: str, object_name: str, record_id: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(the values Quotaflow wants on a record, the record as last pulled) — either may be None."""
    wanted = session.get(WritebackValue, (org_id, object_name, record_id))
    raw = session.get(RawRecord, (org_id, object_name, record_id))
    return (
        None if wanted is None else dict(wanted.fields),
        None if raw is None or raw.is_deleted else dict(raw.payload),
    )


def plan_checksum(session: Session, *, org_id: str) -> str | None:
    """The checksum of the org's active plan version (cheap: no document), if any."""
    return session.scalar(
        select(PlanVersion.checksum).where(
            PlanVersion.org_id == org_id, PlanVersion.is_active.is_(True)
        )
    )


def plan_document(session: Session, *, org_id: str) -> tuple[str, dict[str, Any]] | None:
    """(checksum, document) of the org's active plan version, if any."""
    row = active_plan(session, org_id=org_id)
    return None if row is None else (row.checksum, dict(row.document))


def stored_writeback_values(
    session: Session, *, org_id: str, object_name: str, record_ids: Sequence[str], as_of: date
) -> dict[str, dict[str, Any]]:
    """The wanted CRM values of these records, where a calculation as of `as_of` produced them."""
    found: dict[str, dict[str, Any]] = {}
    for chunk in chunks(list(record_ids)):
        rows = session.execute(
            select(WritebackValue.record_id, WritebackValue.fields)
            .join(CalcRun, CalcRun.id == WritebackValue.calc_run_id)
            .where(
                WritebackValue.org_id == org_id,
                WritebackValue.object_name == object_name,
                WritebackValue.record_id.in_(chunk),
                CalcRun.as_of == as_of,
            )
        )
        found.update({record_id: dict(fields) for record_id, fields in rows})
    return found
