"""Dispute changes owe Salesforce Tasks; the outbox delivers each once, against the devorg.

A create whose answer is lost (the request reached Salesforce, the response did not come
back) is retried on the next pass without making a second Task; a refusal Salesforce will
repeat marks the row failed with its message.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from connector.deps import SyncDeps
from connector.disputes import tasks as tasks_module
from connector.disputes.service import DisputeRequest, RepRef, act, open_dispute
from connector.disputes.tasks import deliver_tasks, sf_subject
from connector.disputes.workflow import Actor, Inputs
from connector.salesforce.writes import SaveError, SaveResult
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
        creating = request.method == "POST" and str(request.url).endswith("/composite/sobjects")
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


def _owe(deps: SyncDeps, org_id: str, assignees: list[str], *, subject: str) -> list[int]:
    """Owe plan Tasks with a subject of the test's own (the devorg outlives one test)."""
    with OrgUnit(deps.sessions, org_id) as unit:
        ids = [
            unit.tasks.add_task(
                source="plan", source_id=None, assignee_id=who, what_id=None,
                subject=subject, description="Open Quotaflow",
                due_date=NOW.date(), now=NOW,
            ).id
            for who in assignees
        ]  # fmt: skip
        unit.commit()
    return ids


def test_a_backlog_goes_out_two_hundred_tasks_a_call_and_a_refusal_holds_back_no_other(
    org: DevorgClient, deps: SyncDeps
) -> None:
    org_id = deps.gateway.org_id()
    reps = org.make_reps(3)
    # 450 Tasks, one of them for an assignee that is not a user (refused by Salesforce alone).
    assignees = [reps[i % 3] for i in range(449)] + ["006000000000001AAA"]
    subject = f"Accept your plan {secrets.token_hex(4)}"
    ids = _owe(deps, org_id, assignees, subject=subject)
    calls = deps.gateway.calls
    first = deliver_tasks(deps.gateway, deps.sessions, org_id=org_id, now=NOW)
    assert (first.created, first.failed, first.retry_later) == (449, 1, 0)
    assert deps.gateway.calls - calls == 3  # 200 + 200 + 50, sObject Collections
    tasks = org.query(f"SELECT Id, Subject, OwnerId FROM Task WHERE Subject LIKE '{subject}%'")
    assert len(tasks) == 449 and len({t["Subject"] for t in tasks}) == 449
    with OrgUnit(deps.sessions, org_id) as unit:
        rows = unit.tasks.many(row_ids=ids)
        by_subject = {t["Subject"]: t for t in tasks}
        for row in rows[:449]:
            task = by_subject[sf_subject(row)]
            assert (row.delivery, row.sf_task_id, task["OwnerId"]) == (
                "delivered", task["Id"], row.assignee_id,
            )  # fmt: skip
        assert rows[449].delivery == "failed" and rows[449].sf_task_id is None
        assert "FIELD_INTEGRITY_EXCEPTION" in (rows[449].last_error or "")
        for row in rows[:449]:
            row.status, row.delivery = "done", "pending"
        unit.commit()
    calls = deps.gateway.calls
    done = deliver_tasks(deps.gateway, deps.sessions, org_id=org_id, now=NOW)
    assert (done.completed, done.failed, deps.gateway.calls - calls) == (449, 0, 3)
    closed = org.query(f"SELECT Id FROM Task WHERE Subject LIKE '{subject}%' AND IsClosed = true")
    assert len(closed) == 449


def test_a_pass_that_dies_after_salesforce_made_the_tasks_never_makes_them_twice(
    org: DevorgClient, deps: SyncDeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    org_id = deps.gateway.org_id()
    reps = org.make_reps(2)
    subject = f"Accept your plan {secrets.token_hex(4)}"
    ids = _owe(deps, org_id, [reps[i % 2] for i in range(250)], subject=subject)

    def die(*_args: Any, **_kwargs: Any) -> None:
        raise SystemExit("the worker was killed before it stored the answers")

    monkeypatch.setattr(tasks_module, "_settle", die)
    with pytest.raises(SystemExit):
        deliver_tasks(deps.gateway, deps.sessions, org_id=org_id, now=NOW)
    monkeypatch.undo()
    made = org.query(f"SELECT Id, Subject FROM Task WHERE Subject LIKE '{subject}%'")
    assert len(made) == 200  # the first call reached Salesforce, its answer was never stored
    again = deliver_tasks(deps.gateway, deps.sessions, org_id=org_id, now=NOW)
    assert (again.found, again.created, again.failed) == (200, 50, 0)
    tasks = org.query(f"SELECT Id, Subject FROM Task WHERE Subject LIKE '{subject}%'")
    assert len(tasks) == 250
    by_subject = {t["Subject"]: t["Id"] for t in tasks}
    with OrgUnit(deps.sessions, org_id) as unit:
        rows = unit.tasks.many(row_ids=ids)
        assert all(r.delivery == "delivered" for r in rows)
        assert {r.sf_task_id for r in rows} == set(by_subject.values())
        assert all(by_subject[sf_subject(r)] == r.sf_task_id for r in rows)


def test_a_task_done_while_its_create_was_in_flight_is_completed_by_the_next_pass(
    org: DevorgClient, deps: SyncDeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    org_id = deps.gateway.org_id()
    (rep,) = org.make_reps(1)
    (row_id,) = _owe(deps, org_id, [rep], subject=f"Accept your plan {secrets.token_hex(4)}")
    send = tasks_module._deliver

    def act_meanwhile(gateway: Any, claims: Any) -> Any:
        out = send(gateway, claims)
        with OrgUnit(deps.sessions, org_id) as unit:
            unit.tasks.complete_for(source="plan", assignee_id=rep, now=NOW)
            unit.commit()
        return out

    monkeypatch.setattr(tasks_module, "_deliver", act_meanwhile)
    assert deliver_tasks(deps.gateway, deps.sessions, org_id=org_id, now=NOW).created == 1
    monkeypatch.undo()
    with OrgUnit(deps.sessions, org_id) as unit:
        (row,) = unit.tasks.many(row_ids=[row_id])
        assert (row.status, row.delivery, row.sf_task_id is not None) == ("done", "pending", True)
    assert deliver_tasks(deps.gateway, deps.sessions, org_id=org_id, now=NOW).completed == 1
    (task,) = org.query(f"SELECT Status FROM Task WHERE Id = '{row.sf_task_id}'")
    assert task["Status"] == "Completed"


def test_a_locked_row_waits_and_any_other_refusal_fails_for_good() -> None:
    locked = SaveResult("", False, (SaveError("UNABLE_TO_LOCK_ROW", "unable to obtain lock"),))
    refused = SaveResult("", False, (SaveError("INVALID_CROSS_REFERENCE_KEY", "bad owner"),))
    lost = SaveResult("", False, (SaveError("NO_RESULT", "no result"),))
    assert tasks_module._refusal(locked).kind == "retry_later"
    assert tasks_module._refusal(refused).kind == "failed"
    assert tasks_module._refusal(refused).error == "INVALID_CROSS_REFERENCE_KEY: bad owner"
    assert tasks_module._refusal(lost).kind == "failed"
    assert tasks_module._refusal(lost, transient=("NO_RESULT",)).kind == "retry_later"
