"""Injected faults: expired sessions, limits, 503s, latency, row locks, validation, late commits."""

from __future__ import annotations

import time
from typing import Any

import pytest
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

API = "/services/data/v62.0"
OPP = f"{API}/sobjects/Opportunity"


def _opp(api: Any, name: str = "F") -> str:
    body = {"Name": name, "StageName": "Prospecting", "CloseDate": "2026-05-01", "Amount": 10}
    record_id: str = api.call("POST", f"{OPP}/", json=body).json()["id"]
    return record_id


def _fault(api: Any, doc: dict[str, Any]) -> dict[str, Any]:
    response = api.control("POST", "/faults", json=doc)
    assert response.status_code == 200, response.text
    snapshot: dict[str, Any] = response.json()
    return snapshot


def test_expired_sessions_raise_salesforce_expired_session(api: Any) -> None:
    sf = api.salesforce()
    assert sf.query("SELECT Id FROM User")["totalSize"] >= 1
    _fault(api, {"expire_sessions": True})
    with pytest.raises(SalesforceExpiredSession) as caught:
        sf.query("SELECT Id FROM User")
    assert caught.value.status == 401
    assert caught.value.content == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    api.relogin()  # a new session works at once
    assert api.salesforce().query("SELECT Id FROM User")["totalSize"] >= 1


def test_sessions_expire_every_n_seconds(api: Any) -> None:
    _fault(api, {"expire_sessions_every": 0.5})
    api.relogin()
    time.sleep(0.6)  # at least one expiry boundary has passed since the login
    assert api.call("GET", f"{API}/limits/").status_code == 401
    api.control("DELETE", "/faults")
    api.relogin()
    assert api.call("GET", f"{API}/limits/").status_code == 200


def test_request_limit_exceeded_for_next_calls(api: Any) -> None:
    _fault(api, {"request_limit_exceeded": {"calls": 2}})
    for _ in range(2):
        response = api.call("GET", f"{API}/limits/")
        assert response.status_code == 403
        assert response.json() == [
            {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
        ]
    assert api.call("GET", f"{API}/limits/").status_code == 200


def test_request_limit_window_and_simple_salesforce(api: Any) -> None:
    _fault(api, {"request_limit_exceeded": {"seconds": 30}})
    with pytest.raises(SalesforceRefusedRequest):
        api.salesforce().query("SELECT Id FROM User")
    api.control("DELETE", "/faults")
    assert api.salesforce().query("SELECT Id FROM User")["totalSize"] >= 1


def test_real_daily_limit(api: Any) -> None:
    api.control("POST", "/limits", json={"reset": True, "max": 3})
    statuses = [api.call("GET", f"{API}/limits/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 403]
    stats = api.control("GET", "/stats").json()
    assert stats["api_usage"] == {"used": 3, "max": 3}
    assert stats["rejected"]["REQUEST_LIMIT_EXCEEDED"] >= 1


def test_unavailable_burst(api: Any) -> None:
    _fault(api, {"unavailable": {"calls": 3}})
    statuses = [api.call("GET", f"{API}/limits/").status_code for _ in range(4)]
    assert statuses == [503, 503, 503, 200]
    _fault(api, {"unavailable": {"calls": 1}})
    with pytest.raises(SalesforceGeneralError) as caught:
        api.salesforce().query("SELECT Id FROM User")
    assert caught.value.status == 503
    assert caught.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"


def test_latency(api: Any) -> None:
    _fault(api, {"latency": {"ms": 300, "jitter_ms": 50}})
    started = time.monotonic()
    api.call("GET", f"{API}/limits/")
    assert time.monotonic() - started >= 0.25


def test_unable_to_lock_row_then_success(api: Any) -> None:
    record_id = _opp(api)
    _fault(api, {"lock_rows": {record_id: 2}})
    for _ in range(2):
        response = api.call("PATCH", f"{OPP}/{record_id}", json={"Amount": 5})
        assert response.status_code == 400
        assert response.json()[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    assert api.call("PATCH", f"{OPP}/{record_id}", json={"Amount": 5}).status_code == 204


def test_lock_and_validation_per_record_in_collections(api: Any) -> None:
    ids = [_opp(api, f"Coll-{i}") for i in range(3)]
    _fault(api, {"lock_rows": {ids[0]: 1}, "validation": {ids[2]: "Amount is frozen"}})
    records = [{"attributes": {"type": "Opportunity"}, "id": i, "Amount": 7} for i in ids]
    results = api.call(
        "PATCH", f"{API}/composite/sobjects", json={"allOrNone": False, "records": records}
    ).json()
    assert [r["success"] for r in results] == [False, True, False]
    assert results[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    assert results[2]["errors"][0] == {
        "statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "message": "Amount is frozen",
        "fields": [],
    }


def test_validation_rule_on_single_update(api: Any) -> None:
    record_id = _opp(api)
    _fault(api, {"validation": {record_id: "Closed deals are locked"}})
    with pytest.raises(SalesforceMalformedRequest) as caught:
        api.salesforce().Opportunity.update(record_id, {"Amount": 1})
    assert caught.value.content[0]["errorCode"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    _fault(api, {"validation": {record_id: None}})
    assert api.salesforce().Opportunity.update(record_id, {"Amount": 1}) == 204


def test_late_commit_goes_back_in_time(api: Any) -> None:
    record_id = _opp(api)
    served = api.call("GET", f"{OPP}/{record_id}").json()["SystemModstamp"]
    late = api.control(
        "POST",
        "/late-commit",
        json={
            "object": "Opportunity",
            "id": record_id,
            "fields": {"Amount": 99},
            "age_seconds": 120,
        },
    )
    assert late.status_code == 200
    record = api.call("GET", f"{OPP}/{record_id}").json()
    assert record["Amount"] == 99.0 and record["SystemModstamp"] < served
    created = api.control(
        "POST",
        "/late-commit",
        json={
            "object": "Opportunity",
            "age_seconds": 60,
            "fields": {"Name": "Late", "StageName": "Prospecting", "CloseDate": "2026-01-01"},
        },
    ).json()
    assert created["id"].startswith("006")
    deleted = api.control(
        "POST",
        "/late-commit",
        json={"object": "Opportunity", "id": created["id"], "delete": True, "age_seconds": 30},
    )
    assert deleted.status_code == 200
    gone = api.call("GET", f"{OPP}/{created['id']}")
    assert gone.status_code == 404 and gone.json()[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_bad_fault_documents(api: Any) -> None:
    for doc in ({"nope": 1}, {"unavailable": {"calls": -1}}, {"latency": 5}, []):
        response = api.control("POST", "/faults", json=doc)
        assert response.status_code == 400
        assert isinstance(response.json(), list)
    assert api.control("GET", "/faults").json()["unavailable"] == {"calls": 0}


def test_stats_count_by_kind_and_reset(api: Any) -> None:
    api.control("POST", "/stats/reset")
    record_id = _opp(api)
    api.call("GET", f"{OPP}/{record_id}")
    api.call("GET", f"{API}/query/", params={"q": "SELECT Id FROM User"})
    stats = api.control("GET", "/stats").json()
    assert stats["by_kind"] == {"query": 1, "sobject_create": 1, "sobject_get": 1}
    assert stats["api_calls"] == 3
