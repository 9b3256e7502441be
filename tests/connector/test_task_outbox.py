"""Dispute changes owe Salesforce Tasks; the outbox delivers each once, against the devorg.

A create whose answer is lost (the request reached Salesforce, the response did not come
back) is retried on the next pass without making a second Task; a refusal Salesforce will
repeat marks the row failed with its message.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from connector.deps import SyncDeps
from connector.disputes.service import DisputeRequest, RepRef, act, open_dispute
from connector.disputes.tasks import deliver_tasks, sf_subject
from connector.disputes.workflow import Actor, Inputs
from connector.store.unit import OrgUnit
from tests.connector.conftest import DevorgClient

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


class LoseFirstTaskAnswer(HTTPAdapter):
    """Sends every request through the gateway's own adapter; the first Task create's answer
    is replaced by a dropped connection."""

    def __init__(self, inner: Any) -> None:
        super().__init__()
        self.inner = inner
        self.lost = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        response: requests.Response = self.inner.send(request, **kwargs)
        creating = request.method == "POST" and str(request.url).endswith("/sobjects/Task")
        if creating and not self.lost:
            self.lost += 1
            raise requests.ConnectionError("connection reset after the request was sent")
        return response


def _people(org: DevorgClient) -> tuple[str, str, str, str]:
    rep, manager, admin = org.make_reps(3)
    org.update("User", [{"Id": rep, "ManagerId": manager}])
    (deal,) = org.make_deals([rep], 1)
    return rep, manager, admin, deal


def _open(deps: SyncDeps, org_id: str, rep: str, manager: str, admin: str, deal: str) -> int:
    with OrgUnit(deps.sessions, org_id) as unit:
        unit.disputes.save_settings(by="admin", now=NOW, manager_step=True, dispute_admin_id=admin)
        req = DisputeRequest(
            kind="line", period="2026-Q1", reason_code="wrong_split", description="split is 50/50",
            deal_id=deal, component="commission", credit_type="owner",
            shown_amount=Decimal("100.00"), expected_amount=Decimal("150.00"),
        )  # fmt: skip
        dispute = open_dispute(unit, rep=RepRef(rep, "Rep", manager), req=req, now=NOW)
        unit.commit()
        return dispute.id


def _tasks(org: DevorgClient, subject: str) -> list[dict[str, Any]]:
    soql = "SELECT Id, OwnerId, WhatId, Status, IsClosed, Subject FROM Task WHERE Subject = '{}'"
    return org.query(soql.format(subject.replace("'", "\\'")))


def test_each_waiting_person_gets_a_task_closed_when_they_act(
    org: DevorgClient, deps: SyncDeps
) -> None:
    org_id = deps.gateway.org_id()
    rep, manager, admin, deal = _people(org)
    dispute_id = _open(deps, org_id, rep, manager, admin, deal)
    first = deliver_tasks(deps.gateway, deps.sessions, org_id=org_id, now=NOW)
    assert first.created == 1
    with OrgUnit(deps.sessions, org_id) as unit:
        (row,) = unit.tasks.of(source="dispute", source_id=dispute_id)
        subject = sf_subject(row)
    (task,) = _tasks(org, subject)
    assert (task["OwnerId"], task["WhatId"], task["Status"]) == (manager, deal, "Not Started")
    assert "Review your team member's commission dispute" in task["Subject"]
    with OrgUnit(deps.sessions, org_id) as unit:
        mgr = Actor(manager, "Manager", frozenset({"manager"}), manages_rep=True)
        act(unit, dispute_id=dispute_id, action="endorse", actor=mgr,
            inputs=Inputs(), now=NOW)  # fmt: skip
        unit.commit()
    second = deliver_tasks(deps.gateway, deps.sessions, org_id=org_id, now=NOW)
    assert (second.completed, second.created) == (1, 1), second
    (task,) = _tasks(org, subject)
    assert task["Status"] == "Completed" and task["IsClosed"] is True
    with OrgUnit(deps.sessions, org_id) as unit:
        rows = unit.tasks.of(source="dispute", source_id=dispute_id)
        assert [(r.assignee_id, r.status, r.delivery) for r in rows] == [
            (manager, "done", "delivered"),
            (admin, "open", "delivered"),
        ]
    # Nothing is owed any more: another pass makes no call.
    calls = deps.gateway.calls
    assert deliver_tasks(deps.gateway, deps.sessions, org_id=org_id, now=NOW).created == 0
    assert deps.gateway.calls == calls


def test_a_lost_create_answer_is_retried_without_a_duplicate(
    org: DevorgClient, deps: SyncDeps
) -> None:
    org_id = deps.gateway.org_id()
    rep, manager, admin, deal = _people(org)
    dispute_id = _open(deps, org_id, rep, manager, admin, deal)
    adapter = LoseFirstTaskAnswer(deps.gateway.http.get_adapter("https://"))
    deps.gateway.http.mount("https://", adapter)
    failed = deliver_tasks(deps.gateway, deps.sessions, org_id=org_id, now=NOW)
    assert (failed.retry_later, adapter.lost) == (1, 1)
    with OrgUnit(deps.sessions, org_id) as unit:
        (row,) = unit.tasks.of(source="dispute", source_id=dispute_id)
        assert (row.delivery, row.sf_task_id, row.attempts) == ("pending", None, 1)
        assert "connection reset" in (row.last_error or "")
        subject = sf_subject(row)
    assert len(_tasks(org, subject)) == 1  # Salesforce did make it
    again = deliver_tasks(deps.gateway, deps.sessions, org_id=org_id, now=NOW)
    assert (again.found, again.created) == (1, 0)
    (task,) = _tasks(org, subject)
    with OrgUnit(deps.sessions, org_id) as unit:
        (row,) = unit.tasks.of(source="dispute", source_id=dispute_id)
        assert (row.delivery, row.sf_task_id) == ("delivered", task["Id"])


def test_a_refused_task_is_marked_failed_with_salesforces_message(
    org: DevorgClient, deps: SyncDeps
) -> None:
    org_id = deps.gateway.org_id()
    rep, manager, _, deal = _people(org)
    # The admin who should get new disputes is not a user id (a typo in the settings).
    dispute_id = _open(deps, org_id, rep, manager, "006000000000001AAA", deal)
    with OrgUnit(deps.sessions, org_id) as unit:
        mgr = Actor(manager, "Manager", frozenset({"manager"}), manages_rep=True)
        act(unit, dispute_id=dispute_id, action="endorse", actor=mgr,
            inputs=Inputs(), now=NOW)  # fmt: skip
        unit.commit()
    done = deliver_tasks(deps.gateway, deps.sessions, org_id=org_id, now=NOW)
    # The manager's Task was never delivered before it was done: no call is needed for it.
    assert (done.completed, done.failed) == (1, 1)
    with OrgUnit(deps.sessions, org_id) as unit:
        rows = unit.tasks.of(source="dispute", source_id=dispute_id)
        assert [r.delivery for r in rows] == ["delivered", "failed"]
        assert "FIELD_INTEGRITY_EXCEPTION" in (rows[1].last_error or "")
    assert deliver_tasks(deps.gateway, deps.sessions, org_id=org_id, now=NOW).failed == 0
