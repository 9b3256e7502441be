"""Salesforce Tasks that ask reps to accept their plan: one per rep and plan version, owed
while they have not accepted it, done once they have (or once a newer version replaces it)."""

from __future__ import annotations

from datetime import datetime, timedelta

from connector.reports.acceptance import acceptance_report
from connector.store.unit import OrgUnit

SOURCE = "plan"
DUE_DAYS = 7


def owe_plan_tasks(unit: OrgUnit, *, now: datetime) -> int:
    """Owe a Task to each rep who has not accepted the version in force (once per version);
    finish the ones a newer version or an acceptance made moot. How many were added."""
    version, rows = acceptance_report(unit)
    if version is None:
        return 0
    added = 0
    by_person = unit.tasks.by_person(source=SOURCE)
    for row in rows:
        owed = by_person.get(row.rep_id, [])
        for task in owed:
            if task.status == "open" and (row.current or task.source_id != version):
                task.status, task.delivery, task.updated_at = "done", "pending", now
        if row.current or any(t.source_id == version for t in owed):
            continue
        unit.tasks.add_task(
            source=SOURCE,
            source_id=version,
            assignee_id=row.rep_id,
            what_id=None,
            subject=f"Quotaflow: read and accept your compensation plan (version {version})",
            description=(
                f"Your compensation plan changed (version {version}). Open Quotaflow from "
                "Salesforce (My plan), read it and accept it; this task closes when you do."
            ),
            due_date=(now + timedelta(days=DUE_DAYS)).date(),
            now=now,
        )
        added += 1
    return added
