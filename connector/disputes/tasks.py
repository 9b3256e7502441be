"""Delivering the Task outbox to Salesforce: create each owed Task once, complete it once done.

Retry-safe and never duplicated: every Task's Subject ends with its row's random marker
(`[QF-<16 hex digits>]`). A create is never retried blindly inside one call (the gateway does
not repeat a POST), and any later attempt first looks the marker up (`Subject` is filterable, the
assignee narrows it), so a create whose answer was lost is found rather than made again.
Completing is a PATCH of `Status`, harmless to repeat. A transient failure leaves the row
pending for the next pass; a refusal Salesforce will repeat (an inactive assignee, a deleted
Opportunity) marks it failed with the message, shown to admins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from connector.errors import RetriableError
from connector.salesforce.errors import SalesforceApiError
from connector.salesforce.gateway import Gateway
from connector.salesforce.soql import task_by_subject_query
from connector.store.sf_tasks import SUBJECT_LIMIT, SfTask
from connector.store.unit import OrgUnit, SessionFactory

DONE_STATUS = "Completed"  # the closed TaskStatus of a standard org
MAX_ATTEMPTS = 20  # transient failures in a row before a row is given up as failed


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one pass did."""

    created: int = 0
    found: int = 0  # created by an earlier attempt whose answer was lost
    completed: int = 0
    failed: int = 0
    retry_later: int = 0


def marker(row: SfTask) -> str:
    """The text that ends the Task's Subject and identifies its outbox row."""
    return f"[{row.ref}]"


def sf_subject(row: SfTask) -> str:
    """The Subject sent to Salesforce: the row's subject, cut to leave room for the marker."""
    tag = " " + marker(row)
    return row.subject[: SUBJECT_LIMIT - len(tag)] + tag


def deliver_tasks(
    gateway: Gateway, sessions: SessionFactory, *, org_id: str, now: datetime
) -> Delivery:
    """One pass over the org's pending Task rows; each row is committed on its own."""
    with OrgUnit(sessions, org_id) as unit:
        ids = [row.id for row in unit.tasks.pending()]
    counts = {"created": 0, "found": 0, "completed": 0, "failed": 0, "retry_later": 0}
    for row_id in ids:
        with OrgUnit(sessions, org_id) as unit:
            row = unit.tasks.get(row_id=row_id)
            if row is None or row.delivery != "pending":
                continue
            outcome = _deliver(gateway, row)
            row.attempts += 1
            row.updated_at = now
            if outcome == "retry_later" and row.attempts >= MAX_ATTEMPTS:
                outcome = "failed"
            if outcome == "failed":
                row.delivery = "failed"
            elif outcome != "retry_later":
                row.delivery, row.last_error = "delivered", None
            unit.commit()
        counts[outcome] += 1
    return Delivery(**counts)


def _deliver(gateway: Gateway, row: SfTask) -> str:
    try:
        return _send(gateway, row)
    except RetriableError as exc:
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        return "retry_later"
    except SalesforceApiError as exc:
        row.last_error = str(exc)[:2000]
        return "failed"


def _send(gateway: Gateway, row: SfTask) -> str:
    found = _existing(gateway, row) if row.sf_task_id is None and row.attempts else None
    if found is not None:
        row.sf_task_id = found
    if row.sf_task_id is None and row.status == "done":
        # Done before Salesforce ever held it (and no earlier attempt made it): nothing to do.
        return "completed"
    if row.sf_task_id is None:
        row.sf_task_id = gateway.create_record("Task", _fields(row))
        return "created"
    if row.status == "done":
        gateway.update_record("Task", row.sf_task_id, {"Status": DONE_STATUS})
        return "completed"
    return "found"


def _existing(gateway: Gateway, row: SfTask) -> str | None:
    soql = task_by_subject_query(sf_subject(row), row.assignee_id)
    records = gateway.query(soql, include_deleted=False).records
    return str(records[0]["Id"]) if records else None


def _fields(row: SfTask) -> dict[str, object]:
    fields: dict[str, object] = {
        "Subject": sf_subject(row),
        "OwnerId": row.assignee_id,
        "ActivityDate": row.due_date.isoformat(),
        "Status": "Not Started",
        "Priority": "Normal",
        "Description": row.description,
    }
    if row.what_id:
        fields["WhatId"] = row.what_id
    return fields
