"""The Organization record, record types, price books, user types and the org's fiscal year
(`Organization.FiscalYearStartMonth` drives the FISCAL date literals)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from devorg.process import DevorgInfo, start_devorg

from .conftest import API, Api


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevorgInfo]:
    # Its own devorg: these tests change the org's settings.
    with start_devorg(tmp_path_factory.mktemp("organization"), seed="demo", timeout=120) as info:
        yield info


@pytest.fixture(scope="module")
def api(org: DevorgInfo) -> Api:
    return Api(org)


@pytest.fixture(autouse=True)
def _standard_fiscal_year(api: Api) -> Iterator[None]:
    yield
    api.control("POST", "/organization", json={"FiscalYearStartMonth": 1, "IsSandbox": False})


def _query(api: Api, soql: str) -> dict[str, Any]:
    response = api.call("GET", f"{API}/query/", params={"q": soql})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _count(api: Api, where: str) -> int:
    return int(_query(api, f"SELECT COUNT() FROM Opportunity WHERE {where}")["totalSize"])


def test_organization_is_one_record_whose_id_is_the_org_id(api: Api, org: DevorgInfo) -> None:
    body = _query(
        api,
        "SELECT Id, Name, IsSandbox, OrganizationType, InstanceName, FiscalYearStartMonth, "
        "UsesStartDateAsFiscalYearName, DefaultLocaleSidKey, TimeZoneSidKey FROM Organization",
    )
    assert body["totalSize"] == 1
    record = body["records"][0]
    identity = api.call("GET", "/services/oauth2/userinfo").json()
    assert record["Id"] == identity["organization_id"]
    assert record["IsSandbox"] is False
    assert record["FiscalYearStartMonth"] == 1
    assert record["UsesStartDateAsFiscalYearName"] is False
    assert record["OrganizationType"] == "Developer Edition"
    assert record["DefaultLocaleSidKey"] == "en_US"
    described = api.call("GET", f"{API}/sobjects/Organization/describe").json()
    assert described["createable"] is False and described["deletable"] is False
    assert described["keyPrefix"] == "00D"
    fields = {f["name"]: f for f in described["fields"]}
    assert fields["FiscalYearStartMonth"]["type"] == "int"
    assert fields["IsSandbox"]["updateable"] is False


def test_simple_salesforce_is_sandbox_reads_the_organization(api: Api) -> None:
    client = api.salesforce()
    assert client.is_sandbox() is False
    api.control("POST", "/organization", json={"IsSandbox": True})
    assert client.is_sandbox() is True


def test_the_api_cannot_change_the_organization(api: Api) -> None:
    org_id = _query(api, "SELECT Id FROM Organization")["records"][0]["Id"]
    response = api.call(
        "PATCH", f"{API}/sobjects/Organization/{org_id}", json={"FiscalYearStartMonth": 4}
    )
    assert response.status_code == 400, response.text
    assert (
        _query(api, "SELECT FiscalYearStartMonth FROM Organization")["records"][0][
            "FiscalYearStartMonth"
        ]
        == 1
    )


def test_control_plane_refuses_bad_settings(api: Api) -> None:
    for body in ({"FiscalYearStartMonth": 13}, {"FiscalYearStartMonth": "4"}, {"Id": "00D"},
                 {"IsSandbox": 1}, {"OrganizationType": "Galactic Edition"}):  # fmt: skip
        assert api.control("POST", "/organization", json=body).status_code == 400, body


def _fiscal_year(today: dt.date, start_month: int) -> tuple[dt.date, dt.date]:
    first = dt.date(today.year if today.month >= start_month else today.year - 1, start_month, 1)
    return first, dt.date(first.year + 1, start_month, 1)


def test_fiscal_literals_follow_the_org_fiscal_year_start(api: Api) -> None:
    today = dt.datetime.now(dt.UTC).date()
    api.control("POST", "/organization", json={"FiscalYearStartMonth": 4})
    start, end = _fiscal_year(today, 4)
    explicit = f"CloseDate >= {start.isoformat()} AND CloseDate < {end.isoformat()}"
    assert _count(api, "CloseDate = THIS_FISCAL_YEAR") == _count(api, explicit)
    last = f"CloseDate >= {start.replace(year=start.year - 1)} AND CloseDate < {start}"
    assert _count(api, "CloseDate = LAST_FISCAL_YEAR") == _count(api, last)
    # The fiscal quarter is three months counted from April, not January.
    q_start = start
    while not q_start <= today < (q_next := _add_months(q_start, 3)):
        q_start = q_next
    quarter = f"CloseDate >= {q_start} AND CloseDate < {_add_months(q_start, 3)}"
    assert _count(api, "CloseDate = THIS_FISCAL_QUARTER") == _count(api, quarter)
    # Calendar literals do not move with the fiscal year.
    calendar = f"CloseDate >= {today.year}-01-01 AND CloseDate < {today.year + 1}-01-01"
    assert _count(api, "CloseDate = THIS_YEAR") == _count(api, calendar)
    assert _count(api, "CloseDate = THIS_FISCAL_YEAR") != _count(api, "CloseDate = THIS_YEAR")
    api.control("POST", "/organization", json={"FiscalYearStartMonth": 1})
    assert _count(api, "CloseDate = THIS_FISCAL_YEAR") == _count(api, calendar)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def test_opportunity_carries_record_type_forecast_price_book_and_line_item_flag(
    api: Api,
) -> None:
    body = _query(
        api,
        "SELECT Id, Type, RecordTypeId, RecordType.DeveloperName, ForecastCategoryName, "
        "Pricebook2.Name, HasOpportunityLineItem, StageName FROM Opportunity "
        "WHERE HasOpportunityLineItem = true LIMIT 50",
    )
    assert body["records"]
    for record in body["records"]:
        expected = "Renewal" if record["Type"] == "Renewal" else "New_Business"
        assert record["RecordType"]["DeveloperName"] == expected
        assert record["Pricebook2"]["Name"] == "Standard Price Book"
        assert record["ForecastCategoryName"] in ("Pipeline", "Closed", "Omitted")
        assert record["HasOpportunityLineItem"] is True
    types = _query(api, "SELECT DeveloperName, SobjectType FROM RecordType ORDER BY Name")
    assert [r["DeveloperName"] for r in types["records"]] == ["New_Business", "Renewal"]


def test_a_new_stage_brings_its_forecast_category_and_line_items_set_the_flag(api: Api) -> None:
    account = _query(api, "SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    admin_opp = _query(
        api, "SELECT Id FROM Opportunity WHERE HasOpportunityLineItem = false LIMIT 1"
    )["records"][0]["Id"]
    assert account
    product = _query(api, "SELECT Id FROM Product2 LIMIT 1")["records"][0]["Id"]
    admin = _admin(api)
    created = admin.call(
        "POST",
        f"{API}/sobjects/OpportunityLineItem/",
        json={"OpportunityId": admin_opp, "Product2Id": product, "Quantity": 1, "UnitPrice": 10},
    )
    assert created.status_code == 201, created.text
    flag = f"SELECT HasOpportunityLineItem FROM Opportunity WHERE Id = '{admin_opp}'"
    assert _query(api, flag)["records"][0]["HasOpportunityLineItem"] is True
    admin.call("DELETE", f"{API}/sobjects/OpportunityLineItem/{created.json()['id']}")
    assert _query(api, flag)["records"][0]["HasOpportunityLineItem"] is False
    patched = admin.call(
        "PATCH", f"{API}/sobjects/Opportunity/{admin_opp}", json={"StageName": "Closed Lost"}
    )
    assert patched.status_code == 204, patched.text
    category = f"SELECT ForecastCategoryName FROM Opportunity WHERE Id = '{admin_opp}'"
    assert _query(api, category)["records"][0]["ForecastCategoryName"] == "Omitted"


def test_user_types_include_the_users_that_are_not_people(api: Api) -> None:
    body = _query(api, "SELECT UserType, COUNT(Id) n FROM User GROUP BY UserType")
    counts = {r["UserType"]: r["n"] for r in body["records"]}
    assert counts["AutomatedProcess"] == 1
    assert counts["CloudIntegrationUser"] == 1
    assert counts["Guest"] == 1
    assert counts["CsnOnly"] == 1
    assert counts["PowerPartner"] == 1
    assert counts["Standard"] > 60
    fields = {
        f["name"]: f for f in api.call("GET", f"{API}/sobjects/User/describe").json()["fields"]
    }
    assert fields["UserType"]["updateable"] is False
    assert "AutomatedProcess" in {v["value"] for v in fields["UserType"]["picklistValues"]}


def _admin(api: Api) -> Api:
    from devorg.credentials import ADMIN_USERNAME

    info = api.info
    token = api.session.post(
        info.login_url + "/services/oauth2/token",
        data={"grant_type": "password", "client_id": info.client_id,
              "client_secret": info.client_secret, "username": ADMIN_USERNAME,
              "password": info.password},
        timeout=30,
    ).json()["access_token"]  # fmt: skip
    admin = Api.__new__(Api)
    admin.info, admin.session, admin.token = info, api.session, token
    return admin


def test_a_user_created_through_the_api_is_a_standard_user(api: Api) -> None:
    """UserType follows the profile's license: a person added through the API is Standard
    (the mapping's default include rule keeps exactly those as reps)."""
    admin = _admin(api)
    profile = _query(api, "SELECT Id FROM Profile")["records"][0]
    created = admin.call(
        "POST",
        f"{API}/sobjects/User",
        json={
            "Username": "new.person@example.test",
            "LastName": "Person",
            "Email": "new.person@example.test",
            "ProfileId": profile["Id"],
            "TimeZoneSidKey": "America/New_York",
        },
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    [row] = _query(api, f"SELECT UserType FROM User WHERE Id = '{user_id}'")["records"]
    assert row["UserType"] == "Standard"
