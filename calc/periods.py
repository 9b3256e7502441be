"""Pay periods: month, quarter or year, aligned to a fiscal year start month.

Names follow the `quotaflow calc` contract: `2026-01`, `2026-Q1`, `2026`. A month keeps its
calendar name; quarters and years are named after the calendar year in which the fiscal
year starts (a fiscal year starting in February 2026 is `2026`, its first quarter `2026-Q1`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal

PeriodKind = Literal["month", "quarter", "year"]
MONTHS_PER: dict[str, int] = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """One pay period: inclusive start and end dates and its contract name."""

    start: date
    end: date
    name: str
    kind: PeriodKind
    index: int  # position inside its fiscal year, 0-based
    year_start: date  # first day of its fiscal year

    @property
    def days(self) -> int:
        """Number of calendar days in the period."""
        return (self.end - self.start).days + 1


def add_months(day: date, months: int) -> date:
    """The first of the month `months` after the month of `day`."""
    total = day.year * 12 + day.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


def fiscal_year_start(day: date, fy_start_month: int) -> date:
    """First day of the fiscal year containing `day`."""
    year = day.year if day.month >= fy_start_month else day.year - 1
    return date(year, fy_start_month, 1)


@lru_cache(maxsize=65536)
def period_of(day: date, kind: PeriodKind, fy_start_month: int = 1) -> Period:
    """The period of `kind` that contains `day`."""
    fy = fiscal_year_start(day, fy_start_month)
    step = MONTHS_PER[kind]
    offset = (day.year * 12 + day.month) - (fy.year * 12 + fy.month)
    index = offset // step
    start = add_months(fy, index * step)
    end = add_months(start, step) - timedelta(days=1)
    if kind == "month":
        name = f"{start.year:04d}-{start.month:02d}"
    elif kind == "quarter":
        name = f"{fy.year:04d}-Q{index + 1}"
    else:
        name = f"{fy.year:04d}"
    return Period(start, end, name, kind, index, fy)


def periods_between(
    start: date, end: date, kind: PeriodKind, fy_start_month: int = 1
) -> list[Period]:
    """Every period of `kind` overlapping the inclusive range, in order."""
    out: list[Period] = []
    day = start
    while day <= end:
        period = period_of(day, kind, fy_start_month)
        out.append(period)
        day = period.end + timedelta(days=1)
    return out


def periods_per_year(kind: PeriodKind) -> int:
    """12, 4 or 1."""
    return 12 // MONTHS_PER[kind]
