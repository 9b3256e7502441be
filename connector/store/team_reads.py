"""Stored results for the manager views: many reps' figures of one period in a few queries.

A VP's team can hold ten thousand reps, so every read takes the rep ids in chunks of 500
(one indexed query per chunk, never one per rep) and leaves the bulky `lines` of a result in
the database: quota and credit are pulled out of the JSON by the database itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from connector.store.canonical import CanonicalRep
from connector.store.plans import active_plan
from connector.store.repositories import chunks
from connector.store.results import PeriodResult, StoredCredit

# Credit types that mean "this rep won the deal" (not an overlay, team or rollup share).
_WON_TYPES = ("owner", "split")


@dataclass(frozen=True, slots=True)
class ResultRow:
    """The headline figures of one stored period result (decimal strings, as stored)."""

    rep_id: str
    period: str
    period_start: date
    plan_id: str
    quota: str | None
    credit: str | None
    attainment: str
    gross: str


@dataclass(frozen=True, slots=True)
class StoredPeriod:
    """A pay period some stored result belongs to."""

    name: str
    start: date
    end: date


def _columns() -> tuple[Any, ...]:
    return (
        PeriodResult.rep_id,
        PeriodResult.period,
        PeriodResult.period_start,
        PeriodResult.plan_id,
        PeriodResult.result["quota"].as_string(),
        PeriodResult.result["credit"].as_string(),
        PeriodResult.attainment,
        PeriodResult.gross,
    )


def period_rows(
    session: Session, *, org_id: str, rep_ids: Iterable[str], period: str
) -> list[ResultRow]:
    """The results of these reps in one period (reps without one are left out)."""
    out: list[ResultRow] = []
    for chunk in chunks(sorted(set(rep_ids))):
        rows = session.execute(
            select(*_columns()).where(
                PeriodResult.org_id == org_id,
                PeriodResult.rep_id.in_(chunk),
                PeriodResult.period == period,
            )
        )
        out.extend(ResultRow(*row) for row in rows)
    return out


def year_rows(
    session: Session, *, org_id: str, rep_ids: Iterable[str], start: date, through: date
) -> list[ResultRow]:
    """The results of these reps whose period starts between `start` and `through`."""
    out: list[ResultRow] = []
    for chunk in chunks(sorted(set(rep_ids))):
        rows = session.execute(
            select(*_columns()).where(
                PeriodResult.org_id == org_id,
                PeriodResult.rep_id.in_(chunk),
                PeriodResult.period_start >= start,
                PeriodResult.period_start <= through,
            )
        )
        out.extend(ResultRow(*row) for row in rows)
    return out


def deals_won(
    session: Session, *, org_id: str, rep_ids: Iterable[str], period: str
) -> dict[str, int]:
    """Per rep, how many deals credited to them as owner or split in the period."""
    out: dict[str, int] = {}
    for chunk in chunks(sorted(set(rep_ids))):
        rows = session.execute(
            select(StoredCredit.rep_id, func.count(distinct(StoredCredit.deal_id)))
            .where(
                StoredCredit.org_id == org_id,
                StoredCredit.rep_id.in_(chunk),
                StoredCredit.period == period,
                StoredCredit.credit_type.in_(_WON_TYPES),
            )
            .group_by(StoredCredit.rep_id)
        )
        out.update((rep, int(count)) for rep, count in rows)
    return out


def stored_periods(session: Session, *, org_id: str) -> list[StoredPeriod]:
    """Every period the org has stored results for, oldest first."""
    rows = session.execute(
        select(PeriodResult.period, PeriodResult.period_start, PeriodResult.period_end)
        .where(PeriodResult.org_id == org_id)
        .distinct()
    )
    return sorted((StoredPeriod(*row) for row in rows), key=lambda p: (p.start, p.end, p.name))


def manager_ids(session: Session, *, org_id: str) -> set[str]:
    """Ids of the live reps someone live reports to."""
    rows = session.scalars(
        select(CanonicalRep.manager_id)
        .where(
            CanonicalRep.org_id == org_id,
            CanonicalRep.deleted.is_(False),
            CanonicalRep.manager_id.is_not(None),
        )
        .distinct()
    )
    return {row for row in rows if row}


def active_plan_document(session: Session, *, org_id: str) -> dict[str, Any] | None:
    """The org's active plan document, if any."""
    found = active_plan(session, org_id=org_id)
    return None if found is None else dict(found.document)
