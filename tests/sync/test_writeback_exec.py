"""The write-back executor against `responses`: batching, lock retries, permanent errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import responses

from connector.salesforce.auth import Authenticator
from connector.salesforce.gateway import Gateway
from connector.salesforce.retry import RetryPolicy
from connector.salesforce.write_batches import BatchOutcome, WriteOptions, write_records
from connector.settings import Settings

LOGIN = "https://login.example.test"
INSTANCE = "https://org.example.test"
COMPOSITE = f"{INSTANCE}/services/data/v62.0/composite/sobjects"
NO_SLEEP = RetryPolicy(sleep=lambda _s: None)


def _gateway() -> Gateway:
    settings = Settings(
        sf_login_url=LOGIN,
        sf_auth="password",
        sf_client_id="cid",
        sf_client_secret="secret",
        sf_username="u@example.test",
        sf_password="pw",
    )
    session = requests.Session()
    auth = Authenticator(settings, session=session, retry=NO_SLEEP)
    return Gateway(auth, session=session, api_version="62.0", retry=NO_SLEEP)


def _token() -> None:
    responses.post(
        f"{LOGIN}/services/oauth2/token",
        json={
            "access_token": "tok",
            "instance_url": INSTANCE,
            "id": f"{LOGIN}/id/00D000000000001AAA/005000000000001AAA",
            "token_type": "Bearer",
            "issued_at": "1",
            "signature": "x",
        },
    )


class FakeOrg:
    """Answers composite PATCHes like Salesforce: per-record results, injected failures."""

    def __init__(self, *, locks: dict[str, int] | None = None, invalid: set[str] = frozenset()):
        self.locks = dict(locks or {})
        self.invalid = invalid
        self.bodies: list[dict[str, Any]] = []
        self.stored: dict[str, dict[str, Any]] = {}

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = json.loads(request.body)
        self.bodies.append(body)
        assert body["allOrNone"] is False
        out = []
        for record in body["records"]:
            rid = record["id"]
            if self.locks.get(rid, 0) > 0:
                self.locks[rid] -= 1
                error = {
                    "statusCode": "UNABLE_TO_LOCK_ROW",
                    "message": "unable to obtain exclusive access to this record",
                    "fields": [],
                }
                out.append({"id": rid, "success": False, "errors": [error]})
            elif rid in self.invalid:
                error = {
                    "statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                    "message": "Closed deals cannot change",
                    "fields": ["SPIFF_Status__c"],
                }
                out.append({"id": rid, "success": False, "errors": [error]})
            else:
                self.stored[rid] = {
                    k: v for k, v in record.items() if k not in {"attributes", "id"}
                }
                out.append({"id": rid, "success": True, "errors": []})
        return 200, {"Sforce-Limit-Info": "api-usage=10/15000"}, json.dumps(out)


def _records(n: int) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("Opportunity", f"006{i:015d}", {"Estimated_Commission__c": f"{i}.50"}) for i in range(n)
    ]


@responses.activate
def test_writes_in_calls_of_200_and_reports_each_batch() -> None:
    _token()
    org = FakeOrg()
    responses.add_callback(responses.PATCH, COMPOSITE, callback=org)
    seen: list[BatchOutcome] = []
    stats = write_records(_gateway(), _records(450), on_batch=seen.append)
    assert [len(b["records"]) for b in org.bodies] == [200, 200, 50]
    assert stats.calls == 3 and stats.written == 450 and stats.issues == []
    assert sum(len(b.written) for b in seen) == 450
    assert org.stored["006000000000000449"] == {"Estimated_Commission__c": "449.50"}


@responses.activate
def test_locked_rows_are_retried_until_written() -> None:
    _token()
    locked = {f"006{i:015d}": 2 for i in range(5)}
    org = FakeOrg(locks=locked)
    responses.add_callback(responses.PATCH, COMPOSITE, callback=org)
    waits: list[float] = []
    options = WriteOptions(retry=RetryPolicy(sleep=waits.append))
    stats = write_records(_gateway(), _records(20), options=options)
    assert stats.written == 20 and stats.issues == []
    # first call all 20, then the 5 locked ones twice more, with a backoff before each retry
    assert [len(b["records"]) for b in org.bodies] == [20, 5, 5]
    assert len(waits) == 2 and stats.retried == 10


@responses.activate
def test_a_row_locked_too_long_becomes_an_issue() -> None:
    _token()
    org = FakeOrg(locks={"006000000000000001": 99})
    responses.add_callback(responses.PATCH, COMPOSITE, callback=org)
    options = WriteOptions(lock_attempts=3, retry=NO_SLEEP)
    stats = write_records(_gateway(), _records(3), options=options)
    assert stats.written == 2 and stats.calls == 3
    [issue] = stats.issues
    assert issue.error_code == "UNABLE_TO_LOCK_ROW" and "3 attempts" in issue.message


@responses.activate
def test_validation_failure_is_an_issue_with_salesforces_message_and_not_retried() -> None:
    _token()
    org = FakeOrg(invalid={"006000000000000002"})
    responses.add_callback(responses.PATCH, COMPOSITE, callback=org)
    stats = write_records(_gateway(), _records(4), options=WriteOptions(retry=NO_SLEEP))
    assert stats.written == 3 and stats.calls == 1
    [issue] = stats.issues
    assert (issue.record_id, issue.error_code, issue.field) == (
        "006000000000000002",
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "SPIFF_Status__c",
    )
    assert issue.message == "Closed deals cannot change"


@responses.activate
def test_nothing_to_write_makes_no_call() -> None:
    stats = write_records(_gateway(), [])
    assert stats.calls == 0 and len(responses.calls) == 0


@responses.activate
def test_a_server_error_is_retried_by_the_gateway() -> None:
    _token()
    org = FakeOrg()
    responses.patch(
        COMPOSITE, status=503, json=[{"errorCode": "SERVER_UNAVAILABLE", "message": "x"}]
    )
    responses.add_callback(responses.PATCH, COMPOSITE, callback=org)
    stats = write_records(_gateway(), _records(2))
    assert stats.written == 2


def test_batch_size_cannot_exceed_salesforce_limit() -> None:
    from connector.salesforce.writes import update_collection

    with pytest.raises(ValueError):
        update_collection(_gateway(), _records(201))


@responses.activate
def test_each_call_carries_one_object_type() -> None:
    # The demo's write-back once cut 187 Opportunities and 13 Users into one call: a real
    # org refuses Users mixed with other types (MIXED_DML_OPERATION).
    _token()
    org = FakeOrg()
    responses.add_callback(responses.PATCH, COMPOSITE, callback=org)
    users = [("User", f"005{i:015d}", {"Quota__c": 1000}) for i in range(13)]
    mixed = _records(187)
    mixed[5:5] = users[:7]
    mixed += users[7:]
    stats = write_records(_gateway(), mixed)
    types = [sorted({r["attributes"]["type"] for r in b["records"]}) for b in org.bodies]
    assert types == [["Opportunity"], ["User"]]
    assert [len(b["records"]) for b in org.bodies] == [187, 13]
    assert stats.written == 200 and stats.calls == 2


def test_one_call_refuses_two_object_types() -> None:
    from connector.salesforce.writes import update_collection

    with pytest.raises(ValueError, match="one object type per call"):
        update_collection(_gateway(), [*_records(1), ("User", "005000000000000001", {})])


@responses.activate
def test_a_field_security_refusal_becomes_an_issue_with_salesforces_message() -> None:
    # A field the integration user lost edit access to since the mapping was validated.
    _token()
    message = (
        "Unable to create/update fields: Earnings_To_Date__c. Please check the security "
        "settings of this field and verify that it is read/write for your profile or "
        "permission set."
    )

    def refuse(request: Any) -> tuple[int, dict[str, str], str]:
        error = {
            "statusCode": "INVALID_FIELD_FOR_INSERT_UPDATE",
            "message": message,
            "fields": ["Earnings_To_Date__c"],
        }
        rid = json.loads(request.body)["records"][0]["id"]
        return 200, {}, json.dumps([{"id": rid, "success": False, "errors": [error]}])

    responses.add_callback(responses.PATCH, COMPOSITE, callback=refuse)
    record = ("User", "005000000000000001", {"Earnings_To_Date__c": 10})
    stats = write_records(_gateway(), [record], options=WriteOptions(retry=NO_SLEEP))
    assert stats.written == 0 and stats.calls == 1
    [issue] = stats.issues
    assert (issue.error_code, issue.field, issue.message) == (
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        "Earnings_To_Date__c",
        message,
    )


def test_no_module_calls_the_gateways_private_call() -> None:
    # Writes used to reach into `Gateway._call`; every call now goes through a public method
    # (`composite_update` for write-back), so the gateway's retries and accounting stay its own.
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "connector"
    offenders = [
        f"{path.relative_to(root.parent)}:{node.lineno}"
        for path in sorted(root.rglob("*.py"))
        if path.name != "gateway.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr == "_call"
    ]
    assert offenders == []
