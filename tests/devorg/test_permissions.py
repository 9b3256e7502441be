"""Object- and field-level security from the stored permission sets: the integration user
(Quotaflow_Integration) may edit only the write-back fields, as in a real org."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devorg.credentials import ADMIN_USERNAME
from devorg.process import DevorgInfo, start_devorg
from devorg.seed_permissions import INTEGRATION

from .conftest import API, Api, http_session

ROOT = Path(__file__).resolve().parents[2]
_NS = {"m": "http://soap.sforce.com/2006/04/metadata"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevorgInfo]:
    with start_devorg(tmp_path_factory.mktemp("perm"), seed="demo", timeout=120) as info:
        yield info


@pytest.fixture(scope="module")
def integration(demo: DevorgInfo) -> Api:
    return Api(demo)


@pytest.fixture(scope="module")
def admin(demo: DevorgInfo) -> Any:
    session = http_session(demo)
    token = session.post(
        demo.login_url + "/services/oauth2/token",
        data={"grant_type": "password", "client_id": demo.client_id,
              "client_secret": demo.client_secret, "username": ADMIN_USERNAME,
              "password": demo.password},
        timeout=30,
    ).json()["access_token"]  # fmt: skip
    api = Api.__new__(Api)
    api.info, api.session, api.token = demo, session, token
    return api


def _fields(api: Any, obj: str) -> dict[str, dict[str, Any]]:
    body = api.call("GET", f"{API}/sobjects/{obj}/describe").json()
    return {f["name"]: f | {"_object": body} for f in body["fields"]}


def test_describe_shows_what_the_integration_user_may_edit(integration: Api, admin: Any) -> None:
    opp = _fields(integration, "Opportunity")
    assert opp["Amount"]["updateable"] is False
    assert opp["Estimated_Commission__c"]["updateable"] is True
    assert opp["SPIFF_Status__c"]["updateable"] is True
    assert opp["Product_Family__c"]["updateable"] is False
    described = opp["Amount"]["_object"]
    assert (described["createable"], described["updateable"], described["deletable"]) == (
        False, True, False
    )  # fmt: skip
    user = _fields(integration, "User")
    assert user["Quota__c"]["updateable"] is False
    assert user["Quota_Attainment__c"]["updateable"] is True
    account = integration.call("GET", f"{API}/sobjects/Account/describe").json()
    assert account["createable"] is False and account["updateable"] is False
    assert _fields(admin, "Opportunity")["Amount"]["updateable"] is True


def test_writes_fail_per_record_with_salesforces_message(integration: Api, admin: Any) -> None:
    sf = integration.salesforce()
    opp = sf.query("SELECT Id FROM Opportunity WHERE IsDeleted = false LIMIT 1")["records"][0]
    rep = sf.query("SELECT Id FROM User WHERE Comp_Plan__c = 'ae' LIMIT 1")["records"][0]
    amount = integration.call(
        "PATCH", f"{API}/sobjects/Opportunity/{opp['Id']}", json={"Amount": 5}
    )
    assert amount.status_code == 400
    error = amount.json()[0]
    assert error["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE" and error["fields"] == ["Amount"]
    assert "Unable to create/update fields: Amount" in error["message"]
    body = {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "User"}, "id": rep["Id"], "Quota__c": 1},
            {"attributes": {"type": "User"}, "id": rep["Id"], "Quota_Attainment__c": 12.5},
        ],
    }
    results = integration.call("PATCH", f"{API}/composite/sobjects", json=body).json()
    assert [r["success"] for r in results] == [False, True]
    assert results[0]["errors"][0]["statusCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    created = integration.call("POST", f"{API}/sobjects/Account", json={"Name": "Not mine"})
    assert created.status_code == 400
    assert created.json()[0]["errorCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"
    deleted = integration.call("DELETE", f"{API}/sobjects/Opportunity/{opp['Id']}")
    assert deleted.json()[0]["errorCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"
    # A person with the System Administrator profile may do all of it.
    ok = admin.call("PATCH", f"{API}/sobjects/Opportunity/{opp['Id']}", json={"Amount": 5})
    assert ok.status_code == 204


def test_stored_grants_equal_force_apps_permission_set() -> None:
    path = "force-app/main/default/permissionsets/Quotaflow_Integration.permissionset-meta.xml"
    root = ET.parse(ROOT / path).getroot()

    def flag(element: ET.Element, name: str) -> bool:
        return (element.findtext(f"m:{name}", namespaces=_NS) or "") == "true"

    fields = {
        e.findtext("m:field", namespaces=_NS): (flag(e, "readable"), flag(e, "editable"))
        for e in root.findall("m:fieldPermissions", _NS)
    }
    objects = {
        e.findtext("m:object", namespaces=_NS): tuple(
            flag(e, k) for k in ("allowRead", "allowCreate", "allowEdit", "allowDelete")
        )
        for e in root.findall("m:objectPermissions", _NS)
    }
    users = sorted(
        e.findtext("m:name", namespaces=_NS) or ""
        for e in root.findall("m:userPermissions", _NS)
        if flag(e, "enabled")
    )
    assert fields == INTEGRATION.fields
    assert objects == INTEGRATION.objects
    assert users == sorted(INTEGRATION.user_permissions)


def test_bulk_ingest_enforces_field_level_security_like_rest(integration: Api) -> None:
    """A Bulk API 2.0 update goes through the same field-level security as REST: the row
    that sets a field the integration user cannot edit fails with REST's message."""
    import csv
    import io

    sf = integration.salesforce()
    opps = sf.query("SELECT Id FROM Opportunity WHERE IsDeleted = false LIMIT 2")["records"]
    rest = integration.call(
        "PATCH", f"{API}/sobjects/Opportunity/{opps[0]['Id']}", json={"Amount": 5}
    ).json()[0]
    rows = [
        {"Id": opps[0]["Id"], "Amount": "5"},
        {"Id": opps[1]["Id"], "Estimated_Commission__c": "12.5"},
    ]
    [result] = sf.bulk2.Opportunity.update(records=rows, wait=0.05)
    assert (result["numberRecordsProcessed"], result["numberRecordsFailed"]) == (2, 1)
    failed = list(
        csv.DictReader(io.StringIO(sf.bulk2.Opportunity.get_failed_records(result["job_id"])))
    )
    assert [r["sf__Error"] for r in failed] == [f"{rest['errorCode']}:{rest['message']}:Amount --"]
    assert sf.Opportunity.get(opps[1]["Id"])["Estimated_Commission__c"] == 12.5


def test_describe_hides_fields_the_integration_user_cannot_read(
    integration: Api, admin: Any
) -> None:
    # Gross_Margin__c is the customer's own field: Quotaflow_Integration does not grant it.
    assert "Gross_Margin__c" not in _fields(integration, "Opportunity")
    assert "Gross_Margin__c" in _fields(admin, "Opportunity")
    # What the permission set grants stays visible, read-only or not.
    visible = _fields(integration, "Opportunity")
    assert {"Amount", "Product_Family__c", "Estimated_Commission__c"} <= visible.keys()


@pytest.mark.parametrize(
    "soql",
    [
        "SELECT Id, Gross_Margin__c FROM Opportunity",
        "SELECT Id FROM Opportunity WHERE Gross_Margin__c > 0",
        "SELECT Id FROM Opportunity ORDER BY Gross_Margin__c",
        "SELECT SUM(Gross_Margin__c) FROM Opportunity",
        "SELECT Name, (SELECT Gross_Margin__c FROM Opportunities) FROM Account",
        "SELECT Id, Opportunity.Gross_Margin__c FROM OpportunitySplit",
    ],
)
def test_a_query_naming_a_hidden_field_is_invalid_field(
    integration: Api, admin: Any, soql: str
) -> None:
    response = integration.call("GET", f"{API}/query/", params={"q": soql})
    assert response.status_code == 400, response.text
    [error] = response.json()
    assert error["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Gross_Margin__c' on entity 'Opportunity'" in error["message"]
    assert admin.call("GET", f"{API}/query/", params={"q": soql}).status_code == 200


def test_fields_all_leaves_out_hidden_fields(integration: Api, admin: Any) -> None:
    soql = "SELECT FIELDS(ALL) FROM Opportunity LIMIT 1"
    mine = integration.call("GET", f"{API}/query/", params={"q": soql}).json()["records"][0]
    theirs = admin.call("GET", f"{API}/query/", params={"q": soql}).json()["records"][0]
    assert "Gross_Margin__c" not in mine
    assert "Gross_Margin__c" in theirs


def test_a_bulk_query_naming_a_hidden_field_is_refused(integration: Api, admin: Any) -> None:
    job = {"operation": "query", "query": "SELECT Id, Gross_Margin__c FROM Opportunity"}
    response = integration.call("POST", f"{API}/jobs/query", json=job)
    assert response.status_code == 400, response.text
    [error] = response.json()
    assert error["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Gross_Margin__c'" in error["message"]
    assert admin.call("POST", f"{API}/jobs/query", json=job).status_code == 200


def test_writing_a_hidden_field_is_no_such_column(integration: Api) -> None:
    deal = integration.call(
        "GET", f"{API}/query/", params={"q": "SELECT Id FROM Opportunity LIMIT 1"}
    ).json()["records"][0]["Id"]
    response = integration.call(
        "PATCH", f"{API}/sobjects/Opportunity/{deal}", json={"Gross_Margin__c": 10}
    )
    assert response.status_code == 400, response.text
    [error] = response.json()
    assert error["errorCode"] == "INVALID_FIELD"
    assert error["message"] == "No such column 'Gross_Margin__c' on sobject of type Opportunity"
