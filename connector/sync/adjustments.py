"""Importing an adjustments file for an org: checked against its reps and active plan, stored
all or none (`quotaflow adjustments import`); the next sync pays what is stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from calc.adjustments import Adjustment, book_check, parse_adjustments
from calc.model import Rep
from connector.pull.codec import decode
from connector.store.adjustments import StoredAdjustment
from connector.store.results import SessionFactory
from connector.store.unit import OrgUnit
from connector.sync.plans import load_active_plan


class NoPlan(ValueError):
    """The org has no active plan to check (and pay) adjustments under."""


def check_file(
    sessions: SessionFactory, *, org_id: str, text: str, source: str
) -> list[Adjustment]:
    """The file's adjustments, each payable by its rep's plan; InputError naming the row."""
    plan = load_active_plan(sessions, org_id=org_id)
    if plan is None:
        raise NoPlan(f"org {org_id} has no active plan; import one with `quotaflow plans import`")
    with OrgUnit(sessions, org_id) as unit:
        stored = unit.records.load_canonical(kind="rep")
    reps = {rep_id: cast(Rep, decode("rep", row.payload)) for rep_id, row in stored.items()}
    return parse_adjustments(text, source=source, check=book_check(reps, plan.doc))


def import_file(
    sessions: SessionFactory,
    *,
    org_id: str,
    text: str,
    source: str,
    by: str,
    now: datetime,
) -> Sequence[StoredAdjustment]:
    """Check and store a file's adjustments in one transaction (nothing stored on an error)."""
    adjustments = check_file(sessions, org_id=org_id, text=text, source=source)
    with OrgUnit(sessions, org_id) as unit:
        rows = unit.adjustments.add_all(adjustments, entered_by=by, now=now, source="file")
        unit.commit()
        return rows


def listed(
    sessions: SessionFactory,
    *,
    org_id: str,
    rep_id: str | None = None,
    period: str | None = None,
) -> Sequence[StoredAdjustment]:
    """The org's adjustments (of one rep, one period), oldest first, readable after the unit."""
    with OrgUnit(sessions, org_id) as unit:
        return unit.adjustments.listed(rep_ids=None if rep_id is None else [rep_id], period=period)
