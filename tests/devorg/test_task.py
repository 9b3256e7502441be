"""The devorg's Task: the standard fields a client sets (Subject, OwnerId, WhatId, WhoId,
Status, Priority, ActivityDate, Description), the ones Salesforce derives, and the Edit Tasks
permission that lets the integration user create and complete them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devorg import schema
from devorg.process import DevorgInfo, start_devorg

from .conftest import API, Api

BASE = "https://x.example"


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevorgInfo]:
    with start_devorg(
        tmp_path_factory.mktemp("task"), seed="demo", reps=4, deals=12, timeout=120
    ) as info:
        yield info


@pytest.fixture(scope="module")
def api(org: DevorgInfo) -> Api:
    return Api(org)


def _one(api: Api, soql: str) -> dict[str, Any]:
    records: list[dict[str, Any]] = api.salesforce().query(soql)["records"]
    assert records, soql
    return records[0]


def test_describe_lists_the_standard_task_fields() -> None:
    body = schema.describe_sobject("Task", base_url=BASE, api_version="62.0")
    assert body is not None and body["keyPrefix"] == "00T" and body["createable"] is True
    fields = {f["name"]: f for f in body["fields"]}
    for name in ("Subject", "OwnerId", "WhatId", "WhoId", "Status", "Priority", "ActivityDate"):
        assert fields[name]["createable"] and fields[name]["updateable"], name
    assert fields["Description"]["type"] == "textarea"
    assert fields["Subject"]["type"] == "combobox" and fields["Subject"]["length"] == 255
    status = [p["value"] for p in fields["Status"]["picklistValues"]]
    assert status[:3] == ["Not Started", "In Progress", "Completed"]
    assert [p["value"] for p in fields["Status"]["picklistValues"] if p["defaultValue"]] == [
        "Not Started"
    ]
    assert fields["WhatId"]["polymorphicForeignKey"] is True
    assert fields["WhatId"]["referenceTo"] == ["Account", "Opportunity"]
    assert fields["OwnerId"]["polymorphicForeignKey"] is False
    for derived in ("IsClosed", "IsHighPriority", "AccountId"):
        assert not fields[derived]["createable"] and not fields[derived]["updateable"]
    opp = schema.describe_sobject("Opportunity", base_url=BASE, api_version="62.0")
    assert opp is not None
    tasks = [r for r in opp["childRelationships"] if r["childSObject"] == "Task"]
    assert [(r["field"], r["relationshipName"]) for r in tasks] == [("WhatId", "Tasks")]


def test_integration_user_creates_queries_and_completes_a_task(api: Api) -> None:
    rep = _one(api, "SELECT Id FROM User WHERE Comp_Plan__c != null LIMIT 1")
    opp = _one(api, "SELECT Id, AccountId FROM Opportunity WHERE AccountId != null LIMIT 1")
    created = api.call(
        "POST",
        f"{API}/sobjects/Task",
        json={
            "Subject": "Review commission dispute #7",
            "OwnerId": rep["Id"],
            "WhatId": opp["Id"],
            "ActivityDate": "2026-12-10",
            "Priority": "High",
            "Description": "Wrong split on this deal",
        },
    )
    assert created.status_code == 201, created.text
    task_id = created.json()["id"]
    assert task_id.startswith("00T")
    soql = (
        "SELECT Subject, OwnerId, WhatId, WhoId, Status, Priority, IsHighPriority, IsClosed, "
        f"AccountId, ActivityDate, Description FROM Task WHERE Id = '{task_id}'"
    )
    row = _one(api, soql)
    assert row["Status"] == "Not Started" and row["IsClosed"] is False
    assert row["Priority"] == "High" and row["IsHighPriority"] is True
    assert (row["OwnerId"], row["WhatId"], row["WhoId"]) == (rep["Id"], opp["Id"], None)
    assert row["AccountId"] == opp["AccountId"] and row["ActivityDate"] == "2026-12-10"
    done = api.call("PATCH", f"{API}/sobjects/Task/{task_id}", json={"Status": "Completed"})
    assert done.status_code == 204, done.text
    row = _one(api, soql)
    assert row["Status"] == "Completed" and row["IsClosed"] is True
    children = _one(
        api, f"SELECT Id, (SELECT Id FROM Tasks) FROM Opportunity WHERE Id = '{opp['Id']}'"
    )
    assert task_id in [t["Id"] for t in children["Tasks"]["records"]]


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"Subject": "x"}, None, None),  # owner defaults to the running user: accepted
        ({"Subject": "x", "Status": None}, "REQUIRED_FIELD_MISSING", "Status"),
        ({"Subject": "x" * 256}, "STRING_TOO_LONG", "Subject"),
        ({"Subject": "x", "OwnerId": "006000000000001AAA"}, "FIELD_INTEGRITY_EXCEPTION", "OwnerId"),
        ({"Subject": "x", "WhoId": "005000000000001AAA"}, "FIELD_INTEGRITY_EXCEPTION", "WhoId"),
        ({"Subject": "x", "IsClosed": True}, "INVALID_FIELD_FOR_INSERT_UPDATE", "IsClosed"),
        ({"Subject": "x", "ActivityDate": "2026-02-30"}, "INVALID_TYPE_ON_FIELD_IN_RECORD", None),
    ],
)
def test_bad_task_bodies_fail_like_salesforce(
    api: Api, body: dict[str, Any], code: str | None, field: str | None
) -> None:
    response = api.call("POST", f"{API}/sobjects/Task", json=body)
    if code is None:
        assert response.status_code == 201, response.text
        return
    assert response.status_code == 400, response.text
    error = response.json()[0]
    assert error["errorCode"] == code, error
    if field is not None:
        assert error["fields"] == [field]


def test_polymorphic_what_cannot_be_traversed(api: Api) -> None:
    response = api.call("GET", f"{API}/query/", params={"q": "SELECT What.Name FROM Task"})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALID_FIELD"
    assert "What" in response.json()[0]["message"]


def test_tasks_need_the_edit_tasks_permission() -> None:
    from devorg.permissions import Access

    task = schema.OBJECTS["Task"]
    without = Access(True, {"Opportunity": {"edit"}}, {}, frozenset({"ApiEnabled"}))
    with_it = Access(True, {}, {}, frozenset({"EditTask"}))
    assert not any(without.can(task, op) for op in ("create", "edit", "delete"))
    assert all(with_it.can(task, op) for op in ("create", "edit", "delete"))
    assert not with_it.can(schema.OBJECTS["Opportunity"], "edit")


def test_subject_is_filtered_like_any_text(api: Api) -> None:
    created = api.call("POST", f"{API}/sobjects/Task", json={"Subject": "Quotaflow dispute #9: x"})
    assert created.status_code == 201
    like = "SELECT Id FROM Task WHERE Subject LIKE 'Quotaflow dispute #9:%'"
    assert [r["Id"] for r in api.salesforce().query(like)["records"]] == [created.json()["id"]]
    bad = api.call("GET", f"{API}/query/", params={"q": "SELECT Id FROM Task WHERE Subject = 9"})
    assert bad.status_code == 400 and "enclosed in quotes" in bad.json()[0]["message"]
