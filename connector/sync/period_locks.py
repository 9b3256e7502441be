"""Locking pay periods (by contract name: `2026-01`, `2026-Q1`, `2026`) once they are paid.

The one place a period is named and locked, for the CLI (`quotaflow plans lock`) and the
admin page alike. The lock row is stored by connector.store.periods; what a lock does to
results (frozen, later changes paid as adjustments) is connector.sync.lock_adjustments.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date, datetime

from calc.periods import PeriodKind, period_of
from connector.store.periods import PeriodLock
from connector.store.results import SessionFactory
from connector.store.unit import OrgUnit

_NAME = re.compile(r"^(\d{4})(?:-Q([1-4])|-(0[1-9]|1[0-2]))?$")
PERIOD_KIND_NAMES = {"month": "2026-01", "quarter": "2026-Q1", "year": "2026"}


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


def period_kind(name: str) -> str:
    """`month`, `quarter` or `year`: the kind of a period name."""
    if "-Q" in name:
        return "quarter"
    return "month" if "-" in name else "year"


def check_period_name(name: str, kinds: Collection[str]) -> tuple[date, date]:
    """Bounds of a period name of one of `kinds` (any kind when empty); ValueError otherwise."""
    start, end = period_bounds(name)
    if kinds and period_kind(name) not in kinds:
        examples = " or ".join(f"{k} like {PERIOD_KIND_NAMES[k]}" for k in sorted(kinds))
        raise ValueError(f"the active plan pays by {examples}; {name} is a {period_kind(name)}")
    return start, end


def lock_in(
    unit: OrgUnit,
    *,
    name: str,
    by: str | None,
    now: datetime,
    kinds: Collection[str] = (),
) -> PeriodLock:
    """Lock a period in the unit (not committed); its results are frozen from the next run
    on (idempotent). `kinds`: the period kinds the active plan pays by, when it is checked."""
    name = name.strip()
    start, end = check_period_name(name, kinds)
    return unit.periods.lock_period(period=name, start=start, end=end, locked_by=by, now=now)


def lock(
    sessions: SessionFactory, *, org_id: str, name: str, by: str | None, now: datetime
) -> PeriodLock:
    """Lock a period in its own transaction (the CLI's form of `lock_in`)."""
    with OrgUnit(sessions, org_id) as unit:
        row = lock_in(unit, name=name, by=by, now=now)
        unit.commit()
        return row
