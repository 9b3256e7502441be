"""The sync's assignment history: what changed since the last sighting, and the history as
calc's effective-dated assignments (rules: docs/plan-effective-dating.md).

Salesforce keeps only a User's current plan, manager, quota and target incentive. The first
sighting of a rep is stored as in force since ever; a later sighting with other values is
stored as a new assignment effective from the day it was seen (the run's as-of date). Every
calculation then pays the periods before that day under the old values.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from calc.assignments import with_assignments
from calc.model import Assignment, Rep
from connector.store.assignments import NewAssignment, RepAssignment
from connector.store.unit import OrgUnit

ONE_DAY = timedelta(days=1)
Values = tuple[str | None, str | None, Decimal | None, Decimal | None]


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _amount(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _values(rep: Rep) -> Values:
    return (rep.plan_id, rep.manager_id, rep.quota, rep.target_incentive)


def _stored(row: RepAssignment) -> Values:
    return (row.plan_id, row.manager_id, _amount(row.quota), _amount(row.target_incentive))


def _new(rep: Rep, start: date | None) -> NewAssignment:
    return NewAssignment(
        rep.id, start, rep.plan_id, rep.manager_id, _text(rep.quota), _text(rep.target_incentive)
    )


def observe(
    known: Mapping[str, Sequence[RepAssignment]],
    reps: Sequence[Rep],
    *,
    seen_on: date,
    plan_ids: Collection[str] | None = None,
) -> tuple[list[NewAssignment], list[tuple[RepAssignment, NewAssignment]]]:
    """Rows to add (first sightings and changes) and rows to overwrite (a second change
    seen the same day replaces the first: one assignment per rep and day).

    A row naming a plan the document does not define (`plan_ids`) was never paid: the rep
    was reported and left out. The change that mends it replaces that row from its own start
    instead of opening a new assignment, so the mistake leaves no history behind.
    """
    add: list[NewAssignment] = []
    overwrite: list[tuple[RepAssignment, NewAssignment]] = []
    for rep in reps:
        rows = known.get(rep.id, ())
        if not rows:
            add.append(_new(rep, None))
            continue
        last = rows[-1]
        if _stored(last) == _values(rep):
            continue
        if plan_ids is not None and last.plan_id is not None and last.plan_id not in plan_ids:
            overwrite.append((last, _new(rep, last.effective_from)))
            continue
        start = seen_on
        if last.effective_from is not None and last.effective_from >= seen_on:
            if last.effective_from == seen_on:
                overwrite.append((last, _new(rep, seen_on)))
                continue
            # An admin moved the last change to a later day: this one starts after it.
            start = last.effective_from + ONE_DAY
        add.append(_new(rep, start))
    return add, overwrite


def as_assignments(
    rows: Sequence[RepAssignment], *, territory: str | None = None
) -> tuple[Assignment, ...]:
    """A rep's stored history as calc assignments (empty for a rep never seen to change);
    the territory is today's on every row (the history does not track it)."""
    if len(rows) < 2:
        return ()
    out = []
    for i, row in enumerate(rows):
        nxt = rows[i + 1].effective_from if i + 1 < len(rows) else None
        out.append(
            Assignment(
                row.effective_from,
                None if nxt is None else nxt - ONE_DAY,
                row.plan_id,
                row.manager_id,
                _amount(row.quota),
                _amount(row.target_incentive),
                territory,
            )
        )
    return tuple(out)


def with_history(reps: Sequence[Rep], known: Mapping[str, Sequence[RepAssignment]]) -> list[Rep]:
    """The reps, each carrying its stored history as effective-dated assignments."""
    out = []
    for rep in reps:
        rows = as_assignments(known.get(rep.id, ()), territory=rep.territory)
        # The person's fields (name, dates) are today's; the latest assignment holds
        # today's plan, manager and quota.
        out.append(with_assignments(rep, rows) if rows else rep)
    return out


def keep_history(
    unit: OrgUnit,
    *,
    reps: Sequence[Rep],
    seen_on: date,
    run_id: int | None,
    now: datetime,
    plan_ids: Collection[str] | None = None,
) -> list[Rep]:
    """Store what changed since the last sighting (committed in the unit), then return the
    reps with their whole history as assignments, ready for the Book."""
    known = unit.assignments.history()
    add, overwrite = observe(known, reps, seen_on=seen_on, plan_ids=plan_ids)
    if add or overwrite:
        unit.assignments.record(
            rows=add, replace=overwrite, seen_on=seen_on, run_id=run_id, now=now
        )
        unit.commit()
        known = unit.assignments.history()
    return with_history(reps, known)
