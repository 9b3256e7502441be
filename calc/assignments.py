"""Effective-dated assignments: which plan, manager, quota and territory a rep has on a date.

Rules (docs/plan-effective-dating.md has the worked example):
- A rep's assignments are in date order and contiguous: each starts the day after the
  previous one ends; only the first may have an open start and only the last an open end.
  Overlaps, gaps and ranges that end before they start are bad input.
- A deal credits a rep under the assignment in force on its credit date (the credit date
  as that assignment's plan reads it). On a date no assignment covers, the rep is on no plan
  and is not credited.
- Rollup credit goes to the managers in force on the credit date, up the chain as it stood
  on that date.
- A plan's `territory: match` pays a rep only on deals whose `territory` field equals the
  rep's territory in force on the credit date.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from calc.model import Assignment, Deal, Rep

ONE_DAY = timedelta(days=1)


def assignment_problem(rows: Sequence[Assignment]) -> tuple[int, str, str] | None:
    """The first problem in a rep's assignments as (row index, column, reason), or None.

    `rows` are in input order; they must already be in date order.
    """
    for i, row in enumerate(rows):
        start, end = row.effective_from, row.effective_to
        if start is not None and end is not None and end < start:
            return i, "effective_to", f"{end.isoformat()} is before effective_from {start}"
        if i > 0 and start is None:
            return i, "effective_from", "only the first assignment of a rep may omit it"
        if i < len(rows) - 1 and end is None:
            return i, "effective_to", "only the last assignment of a rep may omit it"
        if i == 0:
            continue
        before = rows[i - 1].effective_to
        assert start is not None and before is not None
        if start <= before:
            reason = f"{start} overlaps the previous assignment (until {before})"
            return i, "effective_from", reason
        if start != before + ONE_DAY:
            reason = f"{start} leaves a gap after the previous assignment (until {before})"
            return i, "effective_from", reason
    return None


def with_assignments(rep: Rep, rows: Sequence[Assignment]) -> Rep:
    """The rep carrying these assignments, its own fields those of the latest one."""
    last = rows[-1]
    return Rep(
        id=rep.id,
        name=rep.name,
        email=rep.email,
        manager_id=last.manager_id,
        is_active=rep.is_active,
        hire_date=rep.hire_date,
        end_date=rep.end_date,
        plan_id=last.plan_id,
        quota=last.quota,
        target_incentive=last.target_incentive,
        currency=rep.currency,
        attributes=rep.attributes,
        territory=last.territory,
        assignments=tuple(rows),
    )


def covers(row: Assignment, day: date) -> bool:
    """Whether the assignment is in force on `day`."""
    return (row.effective_from is None or row.effective_from <= day) and (
        row.effective_to is None or day <= row.effective_to
    )


def in_force(rep: Rep, day: date) -> Assignment | None:
    """The rep's assignment on `day` (a rep without assignments: its own fields, always)."""
    if not rep.assignments:
        return Assignment(
            None, None, rep.plan_id, rep.manager_id, rep.quota, rep.target_incentive, rep.territory
        )
    for row in rep.assignments:
        if covers(row, day):
            return row
    return None


def manager_on(reps: Mapping[str, Rep], rep_id: str, day: date) -> str | None:
    """The rep's manager in force on `day`."""
    rep = reps.get(rep_id)
    if rep is None:
        return None
    if not rep.assignments:
        return rep.manager_id
    row = in_force(rep, day)
    return None if row is None else row.manager_id


def all_managers(rep: Rep) -> set[str]:
    """Every manager the rep has had (for finding the deals rollup credit can reach)."""
    found = {a.manager_id for a in rep.assignments if a.manager_id is not None}
    if rep.manager_id is not None:
        found.add(rep.manager_id)
    return found


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of dates paid under one plan with one quota and target incentive.

    Consecutive assignments that differ only in manager or territory are one segment: a
    manager change moves rollup credit, it does not split the rep's own pay period.
    """

    first: date | None
    last: date | None
    plan_id: str | None
    rows: tuple[Assignment, ...]

    @property
    def head(self) -> Assignment:
        """The assignment whose quota and target incentive the segment pays with."""
        return self.rows[0]


def segments(rep: Rep) -> list[Segment]:
    """The rep's assignments merged into pay segments (see `Segment`)."""
    out: list[Segment] = []
    for row in rep.assignments:
        if out:
            prev = out[-1]
            same = (prev.head.plan_id, prev.head.quota, prev.head.target_incentive) == (
                row.plan_id,
                row.quota,
                row.target_incentive,
            )
            if same:
                out[-1] = Segment(prev.first, row.effective_to, prev.plan_id, (*prev.rows, row))
                continue
        out.append(Segment(row.effective_from, row.effective_to, row.plan_id, (row,)))
    return out


def territory_ok(rep: Rep, deal: Deal, day: date) -> bool:
    """A `territory: match` plan pays on a deal only in the rep's territory on its credit date."""
    row = in_force(rep, day)
    mine = row.territory if row is not None else None
    theirs = deal.attributes.get("territory")
    return mine is not None and theirs is not None and str(theirs) == mine
