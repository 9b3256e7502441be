"""sObject Collections: per-record results in order, allOrNone rollback, limits."""

from __future__ import annotations

from typing import Any

API = "/services/data/v62.0"
COLLECTIONS = f"{API}/composite/sobjects"
ROLLED_BACK = "ALL_OR_NONE_OPERATION_ROLLED_BACK"


def _opps(create_records: Any, n: int, tag: str) -> list[str]:
    ids: list[str] = create_records(
        "Opportunity",
        [
            {
                "Name": f"{tag}-{i}",
                "StageName": "Prospecting",
                "CloseDate": "2026-04-01",
                "Amount": 100,
            }
            for i in range(n)
        ],
    )
    return ids


def _patch(api: Any, records: list[dict[str, Any]], *, all_or_none: bool) -> Any:
    body = {
        "allOrNone": all_or_none,
        "records": [{"attributes": {"type": "Opportunity"}, **r} for r in records],
    }
    return api.call("PATCH", COLLECTIONS, json=body)


def _amounts(api: Any, ids: list[str]) -> list[float]:
    quoted = ",".join(f"'{i}'" for i in ids)
    rows = api.salesforce().query(f"SELECT Id, Amount FROM Opportunity WHERE Id IN ({quoted})")
    by_id = {r["Id"]: r["Amount"] for r in rows["records"]}
    return [by_id[i] for i in ids]


def test_partial_success_keeps_request_order(api: Any, create_records: Any) -> None:
    ids = _opps(create_records, 3, "Part")
    response = _patch(
        api,
        [
            {"id": ids[0], "Amount": 1},
            {"id": ids[1], "Amount": "lots"},
            {"id": ids[2], "Amount": 3},
        ],
        all_or_none=False,
    )
    assert response.status_code == 200
    results = response.json()
    assert [r.get("id") for r in results] == ids
    assert [r["success"] for r in results] == [True, False, True]
    assert results[0]["errors"] == []
    error = results[1]["errors"][0]
    assert error["statusCode"] == "INVALID_TYPE_ON_FIELD_IN_RECORD"
    assert error["fields"] == ["Amount"] and error["message"]
    assert _amounts(api, ids) == [1.0, 100.0, 3.0]


def test_all_or_none_rolls_back_everything(api: Any, create_records: Any) -> None:
    ids = _opps(create_records, 3, "Atomic")
    response = _patch(
        api,
        [
            {"id": ids[0], "Amount": 1},
            {"id": ids[1], "Name": "x" * 500},
            {"id": ids[2], "Amount": 3},
        ],
        all_or_none=True,
    )
    assert response.status_code == 200
    codes = [[e["statusCode"] for e in r["errors"]] for r in response.json()]
    assert codes == [[ROLLED_BACK], ["STRING_TOO_LONG"], [ROLLED_BACK]]
    assert not any(r["success"] for r in response.json())
    assert _amounts(api, ids) == [100.0, 100.0, 100.0]


def test_record_level_problems(api: Any, create_records: Any) -> None:
    ids = _opps(create_records, 1, "Odd")
    response = _patch(
        api,
        [
            {"Amount": 1},
            {"id": "garbage", "Amount": 1},
            {"id": "0065g000000ZZZZAAA", "Amount": 1},
            {"id": ids[0], "IsWon": True},
        ],
        all_or_none=False,
    )
    codes = [r["errors"][0]["statusCode"] for r in response.json()]
    assert codes == [
        "MISSING_ARGUMENT",
        "MALFORMED_ID",
        "INVALID_CROSS_REFERENCE_KEY",
        "INVALID_FIELD_FOR_INSERT_UPDATE",
    ]


def test_create_and_delete_collections(api: Any) -> None:
    created = api.call(
        "POST",
        COLLECTIONS,
        json={
            "allOrNone": False,
            "records": [
                {
                    "attributes": {"type": "Opportunity"},
                    "Name": "C1",
                    "StageName": "Prospecting",
                    "CloseDate": "2026-01-01",
                },
                {"attributes": {"type": "Opportunity"}, "Name": "C2"},
            ],
        },
    ).json()
    assert created[0]["success"] is True and created[0]["id"].startswith("006")
    assert created[1] == {"success": False, "errors": [created[1]["errors"][0]]}
    assert created[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    deleted = api.call("DELETE", COLLECTIONS, params={"ids": created[0]["id"]}).json()
    assert deleted == [{"id": created[0]["id"], "success": True, "errors": []}]


def test_more_than_200_records_is_refused(api: Any) -> None:
    response = _patch(api, [{"id": "0065g000000ZZZZAAA"}] * 201, all_or_none=False)
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_missing_type_attribute(api: Any) -> None:
    response = api.call("PATCH", COLLECTIONS, json={"records": [{"id": "0065g000000ZZZZAAA"}]})
    assert response.status_code == 200
    assert response.json()[0]["errors"][0]["statusCode"] == "INVALID_TYPE"


def test_setup_object_mixed_with_another_type_is_refused(api: Any, create_records: Any) -> None:
    # sObject Collections: "You can't update records for multiple object types in one call
    # when one of those types is related to a feature in the Salesforce Setup area."
    ids = _opps(create_records, 2, "Mixed")
    users = api.salesforce().query("SELECT Id FROM User LIMIT 1")["records"]
    body = {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "Opportunity"}, "id": ids[0], "Amount": 7},
            {"attributes": {"type": "User"}, "id": users[0]["Id"], "Title": "Mixed"},
            {"attributes": {"type": "Opportunity"}, "id": ids[1], "Amount": 8},
        ],
    }
    response = api.call("PATCH", COLLECTIONS, json=body)
    assert response.status_code == 200
    results = response.json()
    assert [r["success"] for r in results] == [False, False, False]
    assert {r["errors"][0]["statusCode"] for r in results} == {"MIXED_DML_OPERATION"}
    assert "setup object" in results[0]["errors"][0]["message"]
    assert _amounts(api, ids) == [100.0, 100.0]


def test_more_than_ten_type_chunks_are_refused(api: Any, create_records: Any) -> None:
    opps = _opps(create_records, 6, "Chunks")
    accounts = create_records("Account", [{"Name": f"Chunk {i}"} for i in range(6)])
    interleaved: list[dict[str, Any]] = []
    for opp, account in zip(opps, accounts, strict=True):
        interleaved.append({"attributes": {"type": "Opportunity"}, "id": opp, "Amount": 5})
        interleaved.append({"attributes": {"type": "Account"}, "id": account, "Industry": "Energy"})
    too_many = api.call("PATCH", COLLECTIONS, json={"allOrNone": False, "records": interleaved})
    assert {r["errors"][0]["statusCode"] for r in too_many.json()} == {"LIMIT_EXCEEDED"}
    assert _amounts(api, opps) == [100.0] * 6
    ten = api.call("PATCH", COLLECTIONS, json={"allOrNone": False, "records": interleaved[:10]})
    assert all(r["success"] for r in ten.json())
    assert _amounts(api, opps[:5]) == [5.0] * 5
