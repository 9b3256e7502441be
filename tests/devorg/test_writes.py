"""Single-record writes: Salesforce's status codes, error codes and derived fields."""

from __future__ import annotations

import time
from typing import Any

import pytest

API = "/services/data/v62.0"
OPP = f"{API}/sobjects/Opportunity"


def _new_opp(api: Any, **fields: Any) -> str:
    body = {"Name": "W", "StageName": "Prospecting", "CloseDate": "2026-05-01", **fields}
    response = api.call("POST", f"{OPP}/", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["success"] is True and created["errors"] == []
    record_id: str = created["id"]
    return record_id


def _modstamp(api: Any, record_id: str) -> str:
    body = api.call("GET", f"{OPP}/{record_id}", params={"fields": "SystemModstamp"}).json()
    stamp: str = body["SystemModstamp"]
    return stamp


def test_create_get_update_delete(api: Any) -> None:
    record_id = _new_opp(api, Amount=1234.5)
    assert len(record_id) == 18 and record_id.startswith("006")
    record = api.call("GET", f"{OPP}/{record_id}").json()
    assert record["Amount"] == 1234.5 and record["IsClosed"] is False
    assert record["SystemModstamp"].endswith("+0000")
    before = _modstamp(api, record_id)
    time.sleep(0.01)
    patch = api.call("PATCH", f"{OPP}/{record_id}", json={"StageName": "Closed Won"})
    assert patch.status_code == 204 and patch.text == ""
    updated = api.call("GET", f"{OPP}/{record_id}", params={"fields": "StageName,IsWon,IsClosed"})
    assert updated.json() == {
        "attributes": {"type": "Opportunity", "url": f"{OPP}/{record_id}"},
        "StageName": "Closed Won",
        "IsWon": True,
        "IsClosed": True,
    }
    assert _modstamp(api, record_id) > before
    assert api.call("DELETE", f"{OPP}/{record_id}").status_code == 204
    gone = api.call("GET", f"{OPP}/{record_id}")
    assert gone.status_code == 404 and gone.json()[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_fifteen_char_id_is_accepted(api: Any) -> None:
    record_id = _new_opp(api)
    assert api.call("GET", f"{OPP}/{record_id[:15]}").json()["Id"] == record_id


def test_user_name_and_split_amount_are_derived(api: Any) -> None:
    me = api.call("GET", "/services/oauth2/userinfo").json()["user_id"]
    users = f"{API}/sobjects/User"
    assert api.call("PATCH", f"{users}/{me}", json={"FirstName": "Ada"}).status_code == 204
    assert api.call("GET", f"{users}/{me}").json()["Name"] == "Ada Integration"
    api.call("PATCH", f"{users}/{me}", json={"FirstName": "Quotaflow"})
    opp = _new_opp(api, Amount=1000)
    split_type = api.call(
        "POST",
        f"{API}/sobjects/OpportunitySplitType/",
        json={
            "DeveloperName": "Revenue",
            "MasterLabel": "Revenue",
            "IsTotalValidated": True,
            "IsActive": True,
        },
    ).json()["id"]
    split = api.call(
        "POST",
        f"{API}/sobjects/OpportunitySplit/",
        json={
            "OpportunityId": opp,
            "SplitOwnerId": me,
            "SplitPercentage": 40,
            "SplitTypeId": split_type,
        },
    )
    assert split.status_code == 201, split.text
    split_url = f"{API}/sobjects/OpportunitySplit/{split.json()['id']}"
    assert api.call("GET", split_url).json()["SplitAmount"] == 400.0
    api.call("PATCH", f"{OPP}/{opp}", json={"Amount": 2500})
    assert api.call("GET", split_url).json()["SplitAmount"] == 1000.0


def test_users_cannot_be_deleted(api: Any) -> None:
    me = api.call("GET", "/services/oauth2/userinfo").json()["user_id"]
    response = api.call("DELETE", f"{API}/sobjects/User/{me}")
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALID_TYPE_FOR_OPERATION"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"Nope__c": 1}, "INVALID_FIELD"),
        ({"IsWon": True}, "INVALID_FIELD_FOR_INSERT_UPDATE"),
        ({"Amount": "abc"}, "INVALID_TYPE_ON_FIELD_IN_RECORD"),
        ({"CloseDate": "31/12/2026"}, "INVALID_TYPE_ON_FIELD_IN_RECORD"),
        ({"Name": "x" * 121}, "STRING_TOO_LONG"),
        ({"SPIFF_Status__c": "Maybe"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"),
        ({"Name": None}, "REQUIRED_FIELD_MISSING"),
        ({"OwnerId": "001000000000000AAA"}, "FIELD_INTEGRITY_EXCEPTION"),
    ],
)
def test_bad_field_values(api: Any, body: dict[str, Any], code: str) -> None:
    record_id = _new_opp(api)
    response = api.call("PATCH", f"{OPP}/{record_id}", json=body)
    assert response.status_code == 400
    error = response.json()[0]
    assert error["errorCode"] == code and error["message"]
    if code in ("INVALID_FIELD", "STRING_TOO_LONG", "INVALID_TYPE_ON_FIELD_IN_RECORD"):
        assert error["fields"] == [next(iter(body))]


def test_missing_required_fields_on_create(api: Any) -> None:
    response = api.call("POST", f"{OPP}/", json={"Name": "no stage"})
    assert response.status_code == 400
    error = response.json()[0]
    assert error["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert set(error["fields"]) == {"CloseDate", "StageName"}


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"", b"\xff\xfe"])
def test_bad_json_body(api: Any, raw: bytes) -> None:
    record_id = _new_opp(api)
    response = api.call(
        "PATCH", f"{OPP}/{record_id}", data=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{API}/sobjects/Nope/describe"),
        ("GET", f"{API}/sobjects/Nope/006000000000000AAA"),
        ("POST", f"{API}/sobjects/Nope/"),
        ("GET", f"{OPP}/0065g000000ZZZZAAA"),
        ("PATCH", f"{OPP}/0065g000000ZZZZAAA"),
        ("DELETE", f"{OPP}/0065g000000ZZZZAAA"),
        ("GET", f"{OPP}/garbage"),
        ("GET", "/services/data/v99.0/sobjects/"),
        ("GET", f"{API}/no/such/route"),
    ],
)
def test_not_found(api: Any, method: str, path: str) -> None:
    response = api.call(method, path, json={"Name": "x"})
    assert response.status_code == 404
    assert response.json() == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]


def test_describe_and_sobjects(api: Any) -> None:
    sf = api.salesforce()
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert {"User", "Opportunity", "OpportunitySplit"} <= names
    fields = {f["name"]: f for f in sf.Opportunity.describe()["fields"]}
    assert fields["SPIFF_Status__c"]["restrictedPicklist"] is True
    info = api.call("GET", f"{OPP}/").json()
    assert info["objectDescribe"]["keyPrefix"] == "006" and info["recentItems"] == []


def test_versions_resources_limits(api: Any) -> None:
    versions = api.session.get(api.info.instance_url + "/services/data/", timeout=30).json()
    assert {"label": "v62.0", "url": "/services/data/v62.0", "version": "62.0"} in versions
    resources = api.call("GET", f"{API}/").json()
    assert resources["query"] == f"{API}/query"
    limits = api.call("GET", f"{API}/limits/")
    daily = limits.json()["DailyApiRequests"]
    used, max_ = limits.headers["Sforce-Limit-Info"].removeprefix("api-usage=").split("/")
    assert daily["Max"] == int(max_) == 100_000 and daily["Remaining"] == int(max_) - int(used)


def test_updated_and_deleted(api: Any) -> None:
    sf = api.salesforce()
    from datetime import UTC, datetime, timedelta

    # Both dates lose their seconds: the window spans whole minutes.
    start = datetime.now(UTC) - timedelta(minutes=2)
    kept, dropped = _new_opp(api), _new_opp(api)
    api.call("DELETE", f"{OPP}/{dropped}")
    end = datetime.now(UTC) + timedelta(minutes=2)
    changed = sf.Opportunity.updated(start, end)
    assert kept in changed["ids"] and dropped not in changed["ids"]
    removed = sf.Opportunity.deleted(start, end)
    deleted_ids = [r["id"] for r in removed["deletedRecords"]]
    assert dropped in deleted_ids and kept not in deleted_ids
    assert removed["latestDateCovered"].endswith("+0000")
    bad = api.call("GET", f"{OPP}/updated/", params={"start": "yesterday", "end": "now"})
    assert bad.status_code == 400


def test_undelete_restores_record(api: Any) -> None:
    record_id = _new_opp(api)
    api.call("DELETE", f"{OPP}/{record_id}")
    result = api.control("POST", "/undelete", json={"ids": [record_id, "bogus"]}).json()
    assert result[0] == {"id": record_id, "success": True, "errors": []}
    assert result[1]["success"] is False
    assert api.call("GET", f"{OPP}/{record_id}").json()["IsDeleted"] is False


def test_numbers_are_stored_as_sent(api: Any) -> None:
    # The API keeps decimals beyond the field's scale (Salesforce Help 000385689): a client
    # that forgets to round must see its unrounded value come back, as from a real org.
    record_id = _new_opp(api, Amount=1234.5678)
    record = api.call("GET", f"{OPP}/{record_id}", params={"fields": "Amount"}).json()
    assert record["Amount"] == 1234.5678
    api.call("PATCH", f"{OPP}/{record_id}", json={"Amount": "0.125"})
    rows = api.salesforce().query(f"SELECT Amount FROM Opportunity WHERE Id = '{record_id}'")
    assert rows["records"][0]["Amount"] == 0.125


def test_replication_window_rules(api: Any) -> None:
    # getUpdated/getDeleted: seconds are ignored, results go back no more than 30 days, and
    # the start must precede the end (after truncation).
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC).replace(microsecond=0)
    start, end = now - timedelta(minutes=3, seconds=17), now + timedelta(minutes=1, seconds=41)
    for kind in ("updated", "deleted"):
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        params = {"start": start.strftime(fmt), "end": end.strftime(fmt)}
        body = api.call("GET", f"{OPP}/{kind}/", params=params).json()
        assert body["latestDateCovered"] == end.strftime("%Y-%m-%dT%H:%M:00.000+0000")
        old = {"start": (now - timedelta(days=31)).strftime(fmt), "end": params["end"]}
        refused = api.call("GET", f"{OPP}/{kind}/", params=old)
        assert refused.status_code == 400
        assert refused.json()[0]["errorCode"] == "INVALID_REPLICATION_DATE"
        same_minute = {"start": now.strftime("%Y-%m-%dT%H:%M:01Z"),
                       "end": now.strftime("%Y-%m-%dT%H:%M:59Z")}  # fmt: skip
        refused = api.call("GET", f"{OPP}/{kind}/", params=same_minute)
        assert refused.json()[0]["errorCode"] == "INVALID_REPLICATION_DATE"
    thirty = {"start": (now - timedelta(days=29)).strftime(fmt), "end": params["end"]}
    assert api.call("GET", f"{OPP}/updated/", params=thirty).status_code == 200


def test_purge_empties_the_recycle_bin(api: Any) -> None:
    from datetime import UTC, datetime, timedelta

    binned, live = _new_opp(api), _new_opp(api)
    api.call("DELETE", f"{OPP}/{binned}")
    sf = api.salesforce()
    assert (
        sf.query_all(f"SELECT Id FROM Opportunity WHERE Id = '{binned}'", include_deleted=True)[
            "totalSize"
        ]
        == 1
    )
    purged = api.control("POST", "/purge", json={"recycle_bin": True, "object": "Opportunity"})
    assert purged.status_code == 200 and purged.json()["purged"]["Opportunity"] >= 1
    gone = sf.query_all(
        f"SELECT Id FROM Opportunity WHERE Id IN ('{binned}', '{live}')", include_deleted=True
    )
    assert [r["Id"] for r in gone["records"]] == [live]
    start, end = datetime.now(UTC) - timedelta(minutes=5), datetime.now(UTC) + timedelta(minutes=2)
    log = sf.Opportunity.deleted(start, end)
    assert binned not in {r["id"] for r in log["deletedRecords"]}
    assert log["earliestDateAvailable"] >= start.strftime("%Y-%m-%dT%H:%M")
    assert api.call("GET", f"{OPP}/{binned}").status_code == 404
    bad = api.control("POST", "/purge", json={"ids": ["bogus"]})
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "MALFORMED_ID"
