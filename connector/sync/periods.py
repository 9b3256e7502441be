"""Locking pay periods (by contract name: `2026-01`, `2026-Q1`, `2026`) once they are paid."""

from __future__ import annotations

import re
from datetime import date, datetime

from calc.periods import PeriodKind, period_of
from connector.store.periods import PeriodLock, lock_period
from connector.store.results import SessionFactory

_NAME = re.compile(r"^(\d{4})(?:-Q([1-4])|-(0[1-9]|1[0-2]))?$")


def period_bounds(name: str, *, fy_start_month: int = 1) -> tuple[date, date]:
    """First and last day of a named period; ValueError for a name that is not one."""
    match = _NAME.match(name)
    if match is None:
        raise ValueError(f"{name!r} is not a period name like 2026-01, 2026-Q1 or 2026")
    year, quarter, month = match.groups()
    kind: PeriodKind
    if quarter:
        kind = "quarter"
        month_index = fy_start_month - 1 + (int(quarter) - 1) * 3
        first = date(int(year) + month_index // 12, month_index % 12 + 1, 1)
    elif month:
        first, kind = date(int(year), int(month), 1), "month"
    else:
        first, kind = date(int(year), fy_start_month, 1), "year"
    period = period_of(first, kind, fy_start_month)
    return period.start, period.end


def lock(
    sessions: SessionFactory, *, org_id: str, name: str, by: str | None, now: datetime
) -> PeriodLock:
    """Lock a period: its results are frozen from the next run on (idempotent)."""
    start, end = period_bounds(name)
    with sessions() as session:
        row = lock_period(
            session, org_id=org_id, period=name, start=start, end=end, locked_by=by, now=now
        )
        session.commit()
        return row
