"""The sync keeps each rep's plan, manager and quota history: a change in Salesforce starts a
new assignment on the day it was seen, an admin's corrected date recomputes everything, and
the stored results equal `quotaflow calc` given the same history as effective-dated rows."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.store.assignments import correct_effective_from, history
from connector.store.result_reads import rep_results
from connector.sync import run_sync
from connector.sync.run import calc_window

from .conftest import export_org, next_second, run_calc, running_org  # type: ignore[import-not-found]

CHANGE = date(2026, 8, 15)


def _history(org: Any, rep_id: str) -> list[tuple[date | None, str | None, str | None]]:
    with org.deps.sessions() as session:
        rows = history(session, org_id=org.org_id).get(rep_id, [])
        return [(r.effective_from, r.plan_id, r.manager_id) for r in rows]


def _dated_reps(folder: Path, rep_id: str, before: dict[str, str]) -> None:
    """reps.csv with the rep's old values until the day before CHANGE, the new from it."""
    path = folder / "reps.csv"
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    header = [*rows[0].keys(), "effective_from", "effective_to"]
    out = []
    for row in rows:
        row = {**row, "effective_from": "", "effective_to": ""}
        if row["id"] == rep_id:
            old = {**row, **before, "effective_to": date(2026, 8, 14).isoformat()}
            out += [old, {**row, "effective_from": CHANGE.isoformat()}]
        else:
            out.append(row)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, header)
        writer.writeheader()
        writer.writerows(out)


@pytest.mark.slow
def test_a_plan_and_manager_change_is_kept_and_paid_by_date(tmp_path: Path) -> None:
    with running_org(tmp_path) as org:
        rep = org.client.query(
            "SELECT Id, ManagerId, Quota__c FROM User WHERE Comp_Plan__c = 'ae' "
            "AND ManagerId != null ORDER BY Id LIMIT 1"
        )[0]
        rep_id, old_manager = rep["Id"], rep["ManagerId"]
        other = org.client.query(
            "SELECT Id FROM User WHERE Comp_Plan__c = 'manager' ORDER BY Id LIMIT 2"
        )
        new_manager = next(u["Id"] for u in other if u["Id"] != old_manager)
        assert run_sync(org.deps, mode="full").status in ("succeeded", "partial")
        assert _history(org, rep_id) == [(None, "ae", old_manager)]

        # A promotion: a new plan, a new manager and a new quota, seen by the next sync.
        org.client.patch(
            "User",
            rep_id,
            {"Comp_Plan__c": "manager", "ManagerId": new_manager, "Quota__c": 900000},
        )
        next_second()
        run_sync(org.deps, mode="incremental")
        today = org.deps.clock().date()
        assert _history(org, rep_id) == [
            (None, "ae", old_manager),
            (today, "manager", new_manager),
        ]

        # The admin moves the change back to the day it took effect.
        with org.deps.sessions() as session:
            rows = history(session, org_id=org.org_id)[rep_id]
            correct_effective_from(
                session,
                org_id=org.org_id,
                assignment_id=rows[1].id,
                new_from=CHANGE,
                by="admin@example.com",
                now=datetime.now(UTC),
            )
            session.commit()
        next_second()
        run_sync(org.deps, mode="incremental")
        assert _history(org, rep_id)[1][0] == CHANGE

        folder = tmp_path / "reference"
        export_org(org.client, folder)
        quota = rep["Quota__c"]
        before = {"plan_id": "ae", "manager_id": old_manager, "quota": str(quota or "")}
        _dated_reps(folder, rep_id, before)
        start, end = (d.isoformat() for d in calc_window(today, 1))
        expected = run_calc(folder, start=start, end=end)
        by_rep: dict[str, list[dict[str, Any]]] = {}
        for result in expected["results"]:
            by_rep.setdefault(result["rep_id"], []).append(result)
        with org.deps.sessions() as session:
            for person in (rep_id, old_manager, new_manager):
                stored = rep_results(session, org_id=org.org_id, rep_id=person)
                assert stored == by_rep[person], person
        q3 = next(r for r in by_rep[rep_id] if r["period"] == "2026-Q3")
        assert q3["plan_id"] == "manager"
        assert {line["plan_id"] for line in q3["lines"]} <= {"ae", "manager"}
        q2 = next(r for r in by_rep[rep_id] if r["period"] == "2026-Q2")
        assert all(line["plan_id"] == "ae" for line in q2["lines"])
        assert Decimal(q3["quota"]) > 0
