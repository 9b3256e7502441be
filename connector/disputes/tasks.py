"""Delivering the Task outbox to Salesforce: create each owed Task once, complete it once done.

Tasks go out through sObject Collections, up to 200 records a call (`allOrNone=false`, so one
refused Task never holds back the others): a full sync that owes every rep a plan-acceptance
Task makes a dozen calls, not two thousand.

Retry-safe and never duplicated: every Task's Subject ends with its row's random marker
(`[QF-<16 hex digits>]`). A row's attempt is counted and committed before its create is sent,
and a create is never retried blindly inside one call (the gateway does not repeat a POST), so
any later attempt first looks the markers up (`Subject` is filterable, the assignees narrow
it; one query for many rows): a create whose answer was lost, or whose process died before
storing it, is found rather than made again. Completing is an update of `Status`, harmless to
repeat. A transient failure (the whole call, or one record's `UNABLE_TO_LOCK_ROW`) leaves the
row pending for the next pass; a refusal Salesforce will repeat (an inactive assignee, a deleted
Opportunity) marks it failed with the message, shown to admins. A row whose state changed while
it was being delivered (done in the meantime) stays pending, so the next pass sends the change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from connector.errors import RetriableError
from connector.salesforce.errors import SalesforceApiError
from connector.salesforce.gateway import Gateway
from connector.salesforce.ids import InvalidId, normalize_id
from connector.salesforce.soql import tasks_by_subject_query
from connector.salesforce.write_batches import TRANSIENT_CODES
from connector.salesforce.writes import (
    MAX_COLLECTION,
    SaveResult,
    create_collection,
    update_collection,
)
from connector.store.sf_tasks import SUBJECT_LIMIT, SfTask
from connector.store.unit import OrgUnit, SessionFactory

DONE_STATUS = "Completed"  # the closed TaskStatus of a standard org
MAX_ATTEMPTS = 20  # transient failures in a row before a row is given up as failed
PASS_LIMIT = 2000  # rows one pass delivers (ten calls of 200); the rest wait for the next run
# Subjects per marker lookup, by length: SOQL statements are capped at 100,000 characters and
# a Subject may be 255 characters before quoting.
LOOKUP_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one pass did."""

    created: int = 0
    found: int = 0  # created by an earlier attempt whose answer was lost
    completed: int = 0
    failed: int = 0
    retry_later: int = 0


@dataclass(frozen=True, slots=True)
class _Claim:
    """A row as it was when this pass claimed it."""

    row_id: int
    status: str  # the state this pass delivers
    sf_task_id: str | None
    tried_before: bool  # an earlier attempt may have made the Task
    subject: str
    assignee_id: str
    fields: dict[str, object]


@dataclass(frozen=True, slots=True)
class _Outcome:
    kind: str  # a Delivery field
    sf_task_id: str | None = None
    error: str | None = None


def marker(row: SfTask) -> str:
    """The text that ends the Task's Subject and identifies its outbox row."""
    return f"[{row.ref}]"


def sf_subject(row: SfTask) -> str:
    """The Subject sent to Salesforce: the row's subject, cut to leave room for the marker."""
    tag = " " + marker(row)
    return row.subject[: SUBJECT_LIMIT - len(tag)] + tag


def deliver_tasks(
    gateway: Gateway,
    sessions: SessionFactory,
    *,
    org_id: str,
    now: datetime,
    limit: int = PASS_LIMIT,
) -> Delivery:
    """One pass over the org's pending Task rows, 200 at a time, each batch committed alone."""
    with OrgUnit(sessions, org_id) as unit:
        ids = [row.id for row in unit.tasks.pending(limit=limit)]
    counts: Counter[str] = Counter()
    for start in range(0, len(ids), MAX_COLLECTION):
        batch = ids[start : start + MAX_COLLECTION]
        claims = _claim(sessions, org_id, batch, now)
        outcomes = _deliver(gateway, claims)
        counts.update(_settle(sessions, org_id, claims, outcomes, now))
    return Delivery(**counts)


def _claim(
    sessions: SessionFactory, org_id: str, ids: Sequence[int], now: datetime
) -> list[_Claim]:
    # The attempt is stored before any call: should the process die after Salesforce made a
    # Task, the next pass sees an earlier attempt and looks the marker up instead of creating.
    with OrgUnit(sessions, org_id) as unit:
        rows = [row for row in unit.tasks.many(row_ids=ids) if row.delivery == "pending"]
        claims = []
        for row in rows:
            claims.append(
                _Claim(
                    row.id,
                    row.status,
                    row.sf_task_id,
                    row.attempts > 0,
                    sf_subject(row),
                    row.assignee_id,
                    _fields(row),
                )
            )
            row.attempts += 1
            row.updated_at = now
        unit.commit()
    return claims


def _deliver(gateway: Gateway, claims: Sequence[_Claim]) -> dict[int, _Outcome]:
    outcomes: dict[int, _Outcome] = {}
    known = {c.row_id: c.sf_task_id for c in claims}
    lookups = [c for c in claims if c.sf_task_id is None and c.tried_before]
    try:
        known.update(_existing(gateway, lookups))
    except (RetriableError, SalesforceApiError) as exc:
        # Without the lookup a create could duplicate a Task: these rows wait.
        for claim in lookups:
            outcomes[claim.row_id] = _failure(exc)
    to_create: list[_Claim] = []
    to_complete: list[tuple[_Claim, str]] = []
    for claim in claims:
        task_id = known[claim.row_id]
        if claim.row_id in outcomes:
            continue
        if task_id is None and claim.status == "done":
            # Done before Salesforce ever held it (and no earlier attempt made it): no call.
            outcomes[claim.row_id] = _Outcome("completed")
        elif task_id is None:
            to_create.append(claim)
        elif claim.status == "done":
            to_complete.append((claim, task_id))
        else:
            outcomes[claim.row_id] = _Outcome("found", task_id)
    if to_create:
        outcomes.update(_create(gateway, to_create))
    if to_complete:
        outcomes.update(_complete(gateway, to_complete))
    return outcomes


def _create(gateway: Gateway, claims: Sequence[_Claim]) -> dict[int, _Outcome]:
    try:
        results = create_collection(gateway, "Task", [c.fields for c in claims])
    except (RetriableError, SalesforceApiError) as exc:
        return {c.row_id: _failure(exc) for c in claims}
    out: dict[int, _Outcome] = {}
    for claim, result in zip(claims, results, strict=True):
        if result.success:
            out[claim.row_id] = _Outcome("created", result.record_id)
        else:
            # A record without a result may have been made: retried after a marker lookup.
            out[claim.row_id] = _refusal(result, transient=("NO_RESULT",))
    return out


def _complete(gateway: Gateway, pairs: Sequence[tuple[_Claim, str]]) -> dict[int, _Outcome]:
    records = [("Task", task_id, {"Status": DONE_STATUS}) for _claim, task_id in pairs]
    try:
        results = update_collection(gateway, records)
    except (RetriableError, SalesforceApiError) as exc:
        return {c.row_id: _failure(exc, task_id) for c, task_id in pairs}
    out: dict[int, _Outcome] = {}
    for (claim, task_id), result in zip(pairs, results, strict=True):
        if result.success:
            out[claim.row_id] = _Outcome("completed", task_id)
        else:
            out[claim.row_id] = _refusal(result, task_id=task_id)
    return out


def _failure(exc: Exception, task_id: str | None = None) -> _Outcome:
    if isinstance(exc, RetriableError):
        return _Outcome("retry_later", task_id, f"{type(exc).__name__}: {exc}"[:2000])
    return _Outcome("failed", task_id, str(exc)[:2000])


def _refusal(
    result: SaveResult, *, task_id: str | None = None, transient: tuple[str, ...] = ()
) -> _Outcome:
    codes = [e.code for e in result.errors] or ["UNKNOWN_ERROR"]
    message = "; ".join(f"{e.code}: {e.message}" for e in result.errors) or "UNKNOWN_ERROR"
    retry = all(code in TRANSIENT_CODES or code in transient for code in codes)
    return _Outcome("retry_later" if retry else "failed", task_id, message[:2000])


def _settle(
    sessions: SessionFactory,
    org_id: str,
    claims: Sequence[_Claim],
    outcomes: dict[int, _Outcome],
    now: datetime,
) -> Counter[str]:
    counts: Counter[str] = Counter()
    delivered_status = {c.row_id: c.status for c in claims}
    with OrgUnit(sessions, org_id) as unit:
        for row in unit.tasks.many(row_ids=list(outcomes)):
            outcome = outcomes[row.id]
            kind = outcome.kind
            if outcome.sf_task_id is not None:
                row.sf_task_id = outcome.sf_task_id
            row.updated_at = now
            if kind == "retry_later" and row.attempts >= MAX_ATTEMPTS:
                kind = "failed"
            if kind == "failed":
                row.delivery, row.last_error = "failed", outcome.error
            elif kind == "retry_later":
                row.last_error = outcome.error
            elif row.delivery == "pending" and row.status == delivered_status[row.id]:
                row.delivery, row.last_error = "delivered", None
            counts[kind] += 1
        unit.commit()
    return counts


def _existing(gateway: Gateway, claims: Sequence[_Claim]) -> dict[int, str]:
    """The Tasks earlier attempts made, by row: one query per batch of markers."""
    found: dict[int, str] = {}
    for batch in _by_length(claims):
        by_key = {(c.subject, _id_key(c.assignee_id)): c.row_id for c in batch}
        soql = tasks_by_subject_query([c.subject for c in batch], [c.assignee_id for c in batch])
        for record in gateway.query(soql, include_deleted=False).records:
            # SOQL compares Subject ignoring case: the marker must match exactly.
            key = (str(record.get("Subject")), _id_key(str(record.get("OwnerId"))))
            row_id = by_key.get(key)
            if row_id is not None and row_id not in found:
                found[row_id] = str(record["Id"])
    return found


def _id_key(text: str) -> str:
    """An id compared exactly: 15- and 18-character forms of one id are the same person."""
    try:
        return normalize_id(text)
    except InvalidId:
        return text


def _by_length(claims: Sequence[_Claim]) -> list[list[_Claim]]:
    batches: list[list[_Claim]] = []
    size = LOOKUP_CHARS
    for claim in claims:
        if size + len(claim.subject) > LOOKUP_CHARS:
            batches.append([])
            size = 0
        batches[-1].append(claim)
        size += len(claim.subject)
    return batches


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
