"""What a sync stores of a rep's plan, manager and quota history, and what calc gets from it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from calc.model import Assignment, Rep
from connector.store.assignments import NewAssignment, RepAssignment
from connector.sync.assignments import as_assignments, observe, with_history

SEEN = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 8, tzinfo=UTC)


def _row(start: date | None, plan: str, quota: str | None = None, row_id: int = 1) -> RepAssignment:
    return RepAssignment(
        id=row_id,
        org_id="00D",
        rep_id="R1",
        effective_from=start,
        plan_id=plan,
        manager_id="M1",
        quota=quota,
        target_incentive=None,
        seen_on=start or date(2026, 1, 1),
        seen_at=NOW,
    )


def test_a_first_sighting_is_in_force_since_ever() -> None:
    add, overwrite = observe({}, [Rep("R1", plan_id="ae", manager_id="M1")], seen_on=SEEN)
    assert add == [NewAssignment("R1", None, "ae", "M1", None, None)] and overwrite == []


def test_the_same_values_add_nothing_whatever_the_decimal_form() -> None:
    known = {"R1": [_row(None, "ae", "250000.00")]}
    rep = Rep("R1", plan_id="ae", manager_id="M1", quota=Decimal("250000"))
    assert observe(known, [rep], seen_on=SEEN) == ([], [])


def test_a_change_starts_on_the_day_it_was_seen() -> None:
    known = {"R1": [_row(None, "ae")]}
    rep = Rep("R1", plan_id="sae", manager_id="M2", quota=Decimal("450000"))
    add, _ = observe(known, [rep], seen_on=SEEN)
    assert add == [NewAssignment("R1", SEEN, "sae", "M2", "450000", None)]


def test_a_second_change_the_same_day_overwrites_the_first() -> None:
    today = _row(SEEN, "sae", row_id=2)
    known = {"R1": [_row(None, "ae"), today]}
    add, overwrite = observe(known, [Rep("R1", plan_id="vp", manager_id="M1")], seen_on=SEEN)
    assert add == [] and overwrite == [(today, NewAssignment("R1", SEEN, "vp", "M1", None, None))]


def test_after_a_change_an_admin_moved_later_the_next_starts_after_it() -> None:
    known = {"R1": [_row(None, "ae"), _row(date(2026, 7, 1), "sae", row_id=2)]}
    add, _ = observe(known, [Rep("R1", plan_id="vp", manager_id="M1")], seen_on=SEEN)
    assert [a.effective_from for a in add] == [date(2026, 7, 2)]


def test_the_history_becomes_contiguous_assignments() -> None:
    rows = [_row(None, "ae", "1000"), _row(SEEN, "sae", row_id=2)]
    assert as_assignments(rows[:1]) == ()
    assert as_assignments(rows, territory="West") == (
        Assignment(None, date(2026, 6, 14), "ae", "M1", Decimal(1000), None, "West"),
        Assignment(SEEN, None, "sae", "M1", None, None, "West"),
    )
    (rep,) = with_history([Rep("R1", plan_id="sae", manager_id="M1")], {"R1": rows})
    assert rep.plan_id == "sae" and len(rep.assignments) == 2


def test_an_earlier_plan_missing_from_the_document_is_a_calc_issue() -> None:
    from calc.book import Book
    from calc.plan import parse_plan_doc
    from connector.sync.compute import unknown_plans

    doc = parse_plan_doc({"plans": [{"id": "sae"}]})
    rows = [_row(None, "ae"), _row(SEEN, "sae", row_id=2)]
    (rep,) = with_history([Rep("R1", plan_id="sae", manager_id="M1")], {"R1": rows})
    (issue,) = unknown_plans(Book(doc, [rep], []), ["R1"])
    assert issue[:2] == ("User", "R1")
    assert "plan 'ae' (assigned from the start to 2026-06-14)" in issue[2]


def test_mending_a_plan_the_document_lacks_leaves_no_history() -> None:
    # The rep was first seen on a plan the document does not define: never paid under it,
    # so the fix replaces that row from its own start rather than opening a new assignment.
    wrong = _row(None, "enterprise")
    known = {"R1": [wrong]}
    rep = Rep("R1", plan_id="ae", manager_id="M1")
    add, overwrite = observe(known, [rep], seen_on=SEEN, plan_ids={"ae", "vp"})
    assert add == [] and overwrite == [(wrong, NewAssignment("R1", None, "ae", "M1", None, None))]
    # A change away from a plan the document defines still starts on the day it was seen.
    add, overwrite = observe({"R1": [_row(None, "vp")]}, [rep], seen_on=SEEN, plan_ids={"ae", "vp"})
    assert [a.effective_from for a in add] == [SEEN] and overwrite == []
