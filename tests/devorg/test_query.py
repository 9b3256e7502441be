"""query / queryAll over HTTPS through simple-salesforce: paging, locators, deletes, literals."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

API = "/services/data/v62.0"
BULK = 5000


@pytest.fixture(scope="module")
def bulk_ids(api: Any, create_records: Callable[..., list[str]]) -> list[str]:
    """5,000 opportunities named Bulk-00000.. in the shared devorg."""
    rows = [
        {
            "Name": f"Bulk-{i:05d}",
            "StageName": "Prospecting",
            "CloseDate": "2026-06-30",
            "Amount": 1000 + i,
        }
        for i in range(BULK)
    ]
    return create_records("Opportunity", rows)


def _stats(api: Any) -> dict[str, int]:
    by_kind: dict[str, int] = api.control("GET", "/stats").json()["by_kind"]
    return by_kind


def test_query_all_iter_pages_5000_records_by_200(api: Any, bulk_ids: list[str]) -> None:
    sf = api.salesforce()
    before = _stats(api)
    records = list(
        sf.query_all_iter(
            "SELECT Id, Name FROM Opportunity WHERE Name LIKE 'Bulk-%' ORDER BY Name",
            headers={"Sforce-Query-Options": "batchSize=200"},
        )
    )
    after = _stats(api)
    ids = [r["Id"] for r in records]
    assert len(ids) == BULK and set(ids) == set(bulk_ids)
    assert [r["Name"] for r in records] == sorted(r["Name"] for r in records)
    assert after.get("query", 0) - before.get("query", 0) == 1
    assert after.get("queryMore", 0) - before.get("queryMore", 0) == 24  # 25 pages in all


def test_first_page_shape_and_next_records_url(api: Any, bulk_ids: list[str]) -> None:
    response = api.call(
        "GET",
        f"{API}/query/",
        params={"q": "SELECT Id FROM Opportunity WHERE Name LIKE 'Bulk-%'"},
        headers={"Sforce-Query-Options": "batchSize=200"},
    )
    body = response.json()
    assert list(body) == ["totalSize", "done", "nextRecordsUrl", "records"]
    assert body["totalSize"] == BULK and body["done"] is False and len(body["records"]) == 200
    assert re.fullmatch(rf"{API}/query/01g[A-Z0-9]{{15}}-200", body["nextRecordsUrl"])
    record = body["records"][0]
    assert record["attributes"] == {
        "type": "Opportunity",
        "url": f"{API}/sobjects/Opportunity/{record['Id']}",
    }
    last = api.call("GET", body["nextRecordsUrl"].rsplit("-", 1)[0] + f"-{BULK - 200}").json()
    assert last["done"] is True and "nextRecordsUrl" not in last and len(last["records"]) == 200


@pytest.mark.parametrize(
    ("header", "size"),
    [
        (None, 2000),
        ("batchSize=50", 200),
        ("batchSize=5000", 2000),
        ("batchSize=700", 700),
        ("batchSize=abc", 2000),
    ],
)
def test_batch_size_is_clamped_like_salesforce(
    api: Any, bulk_ids: list[str], header: str | None, size: int
) -> None:
    headers = {"Sforce-Query-Options": header} if header else {}
    body = api.call(
        "GET",
        f"{API}/query/",
        params={"q": "SELECT Id FROM Opportunity WHERE Name LIKE 'Bulk-%'"},
        headers=headers,
    ).json()
    assert len(body["records"]) == size


def test_locator_is_a_snapshot_not_a_rerun(api: Any, create_records: Any) -> None:
    create_records(
        "Opportunity",
        [
            {"Name": f"Snap-{i:03d}", "StageName": "Prospecting", "CloseDate": "2026-01-31"}
            for i in range(450)
        ],
    )
    q = {"q": "SELECT Id, Name FROM Opportunity WHERE Name LIKE 'Snap-%' ORDER BY Name"}
    first = api.call(
        "GET", f"{API}/query/", params=q, headers={"Sforce-Query-Options": "batchSize=200"}
    ).json()
    # A record that sorts first arrives after the first page: it must not shift the pages.
    create_records(
        "Opportunity", [{"Name": "Snap-!", "StageName": "Prospecting", "CloseDate": "2026-01-31"}]
    )
    names = [r["Name"] for r in first["records"]]
    url = first["nextRecordsUrl"]
    while url:
        page = api.call("GET", url).json()
        names += [r["Name"] for r in page["records"]]
        url = page.get("nextRecordsUrl")
    assert names == [f"Snap-{i:03d}" for i in range(450)]


def test_unknown_locator_is_invalid_query_locator(api: Any) -> None:
    for cursor in ("01gAAAAAAAAAAAAAAA-2000", "nonsense"):
        response = api.call("GET", f"{API}/query/{cursor}")
        assert response.status_code == 400
        assert response.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_query_hides_deleted_rows_and_query_all_shows_them(api: Any, create_records: Any) -> None:
    ids = create_records(
        "Opportunity",
        [
            {"Name": f"Del-{i}", "StageName": "Prospecting", "CloseDate": "2026-02-01"}
            for i in range(3)
        ],
    )
    assert api.call("DELETE", f"{API}/sobjects/Opportunity/{ids[1]}").status_code == 204
    sf = api.salesforce()
    soql = "SELECT Id, IsDeleted FROM Opportunity WHERE Name LIKE 'Del-%'"
    live = sf.query_all(soql)["records"]
    every = sf.query_all(soql, include_deleted=True)["records"]
    assert {r["Id"] for r in live} == {ids[0], ids[2]}
    assert {r["Id"]: r["IsDeleted"] for r in every} == {ids[0]: False, ids[1]: True, ids[2]: False}


def test_datetime_literal_forms_select_the_same_rows(api: Any, create_records: Any) -> None:
    ids = create_records(
        "Opportunity",
        [
            {"Name": f"Stamp-{i}", "StageName": "Prospecting", "CloseDate": "2026-02-01"}
            for i in range(2)
        ],
    )
    # One record last changed 2025-12-31T23:30:00Z: before the cutoff in every form.
    age = time.time() - 1767223800
    late = api.control(
        "POST",
        "/late-commit",
        json={
            "object": "Opportunity",
            "id": ids[0],
            "fields": {"Description": "old"},
            "age_seconds": age,
        },
    )
    assert late.status_code == 200, late.text
    sf = api.salesforce()

    def select(literal: str) -> set[str]:
        soql = (
            f"SELECT Id FROM Opportunity WHERE Name LIKE 'Stamp-%' AND SystemModstamp >= {literal}"
        )
        return {r["Id"] for r in sf.query_all(soql)["records"]}

    zulu = select("2026-01-01T00:00:00Z")
    assert zulu == {ids[1]}
    assert select("2026-01-01T00:00:00.000+0000") == zulu
    assert select("2026-01-01T00:00:00+00:00") == zulu
    assert select("2026-01-01T01:00:00+01:00") == zulu
    assert select("2025-12-31T23:00:00-01:00") == zulu  # the same instant, written west of UTC
    assert select("2025-12-31T23:00:00Z") == set(ids)


def test_count_and_parent_fields(api: Any, create_records: Any) -> None:
    create_records(
        "Opportunity",
        [
            {"Name": f"Cnt-{i}", "StageName": "Closed Won", "CloseDate": "2026-02-01"}
            for i in range(7)
        ],
    )
    sf = api.salesforce()
    assert sf.query("SELECT COUNT() FROM Opportunity WHERE Name LIKE 'Cnt-%'")["totalSize"] == 7
    record = sf.query("SELECT Id, Owner.Name, IsWon FROM Opportunity WHERE Name = 'Cnt-1'")[
        "records"
    ][0]
    assert record["Owner"]["Name"] == "Quotaflow Integration" and record["IsWon"] is True


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELEC Id FROM Opportunity", "MALFORMED_QUERY"),
        ("SELECT Id FROM Opportunity WHERE", "MALFORMED_QUERY"),
        ("SELECT Nope__c FROM Opportunity", "INVALID_FIELD"),
        ("SELECT Id FROM Nope", "INVALID_TYPE"),
        ("SELECT IsDeleted FROM User", "INVALID_FIELD"),
    ],
)
def test_bad_soql_errors(api: Any, soql: str, code: str) -> None:
    response = api.call("GET", f"{API}/query/", params={"q": soql})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == code
    with pytest.raises(SalesforceMalformedRequest):
        api.salesforce().query(soql)


def test_missing_q_is_malformed(api: Any) -> None:
    response = api.call("GET", f"{API}/query/")
    assert response.status_code == 400 and response.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_offset_above_2000_is_refused(api: Any, bulk_ids: list[str]) -> None:
    base = "SELECT Id FROM Opportunity WHERE Name LIKE 'Bulk-%' ORDER BY Name LIMIT 5 OFFSET "
    ok = api.call("GET", f"{API}/query/", params={"q": base + "2000"})
    assert ok.status_code == 200 and ok.json()["totalSize"] == 5
    refused = api.call("GET", f"{API}/query/", params={"q": base + "2001"})
    assert refused.status_code == 400
    assert refused.json()[0]["errorCode"] == "NUMBER_OUTSIDE_VALID_RANGE"


def test_uri_over_16_kb_is_refused(api: Any, bulk_ids: list[str]) -> None:
    # URI and headers together may have 16,384 bytes (414 for the URI alone, else 431).
    def in_list(n: int) -> str:
        quoted = ",".join(f"'{i}'" for i in (bulk_ids * 3)[:n])
        return f"SELECT Id FROM Opportunity WHERE Id IN ({quoted})"

    fits = api.call("GET", f"{API}/query/", params={"q": in_list(500)})
    assert fits.status_code == 200, fits.text
    assert len(fits.request.url or "") < 16_384
    too_long = api.call("GET", f"{API}/query/", params={"q": in_list(900)})
    assert len(too_long.request.url or "") > 24_000
    assert too_long.status_code == 414
    big_header = {"X-Padding": "x" * 4000}
    near = api.call("GET", f"{API}/query/", params={"q": in_list(450)}, headers=big_header)
    assert near.status_code == 431


def test_eleventh_open_cursor_releases_the_oldest(api: Any, bulk_ids: list[str]) -> None:
    soql = "SELECT Id FROM Opportunity WHERE Name LIKE 'Bulk-%'"
    urls = []
    for _ in range(11):
        response = api.call(
            "GET",
            f"{API}/query/",
            params={"q": soql},
            headers={"Sforce-Query-Options": "batchSize=200"},
        )
        urls.append(response.json()["nextRecordsUrl"])
    oldest = api.call("GET", urls[0])
    assert oldest.status_code == 400
    assert oldest.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
    assert all(api.call("GET", url).status_code == 200 for url in urls[1:])


def test_columns_true_answers_column_metadata(api: Any, bulk_ids: list[str]) -> None:
    # `sf data query` asks `query?columns=true` after each non-empty result and reads
    # `columnMetadata` (a JSON array); a parent relationship is one column with joinColumns.
    soql = "SELECT Id, Name, Amount, Owner.Name FROM Opportunity WHERE Name LIKE 'Bulk-%'"
    body = api.call("GET", f"{API}/query/", params={"q": soql, "columns": "true"}).json()
    assert (body["entityName"], body["idSelected"], body["keyPrefix"]) == (
        "Opportunity",
        True,
        "006",
    )
    assert body["groupBy"] is False and "records" not in body
    columns = body["columnMetadata"]
    assert [c["columnName"] for c in columns] == ["Id", "Name", "Amount", "Owner"]
    assert columns[2]["apexType"] == "Decimal" and columns[2]["numberType"] is True
    assert columns[1]["textType"] is True and columns[1]["aggregate"] is False
    assert [j["columnName"] for j in columns[3]["joinColumns"]] == ["Name"]
    grouped = api.call(
        "GET",
        f"{API}/query/",
        params={"q": "SELECT StageName, COUNT(Id) FROM Opportunity GROUP BY StageName",
                "columns": "true"},
    ).json()  # fmt: skip
    assert grouped["groupBy"] is True
    count = grouped["columnMetadata"][1]
    assert (count["aggregate"], count["columnName"], count["displayName"]) == (
        True, "expr0", "COUNT(Id)"
    )  # fmt: skip


def test_aggregates_date_literals_and_fractional_seconds_over_http(
    api: Any, bulk_ids: list[str]
) -> None:
    sf = api.salesforce()
    counted = sf.query("SELECT COUNT(Id) n FROM Opportunity WHERE Name LIKE 'Bulk-%'")
    assert counted["records"] == [{"attributes": {"type": "AggregateResult"}, "n": BULK}]
    # What tap-salesforce sends on an incremental run: six fractional digits.
    recent = sf.query(
        "SELECT COUNT() FROM Opportunity WHERE Name LIKE 'Bulk-%' "
        "AND SystemModstamp >= 2020-01-01T00:00:00.000000Z AND CreatedDate = LAST_90_DAYS "
        "AND CloseDate < NEXT_N_FISCAL_YEARS:1"
    )
    assert recent["totalSize"] == BULK
    standard = sf.query(
        "SELECT FIELDS(STANDARD) FROM Opportunity WHERE Name LIKE 'Bulk-%' LIMIT 1"
    )["records"][0]
    assert "StageName" in standard and "Estimated_Commission__c" not in standard


def test_child_subquery_over_http(api: Any, create_records: Any) -> None:
    [account] = create_records("Account", [{"Name": "Parent of two"}])
    create_records(
        "Opportunity",
        [
            {"Name": f"Child {i}", "StageName": "Prospecting", "CloseDate": "2026-06-30",
             "AccountId": account}
            for i in range(2)
        ],
    )  # fmt: skip
    soql = (
        "SELECT Name, (SELECT Name FROM Opportunities ORDER BY Name) FROM Account "
        f"WHERE Id = '{account}'"
    )
    record = api.salesforce().query(soql)["records"][0]
    assert [r["Name"] for r in record["Opportunities"]["records"]] == ["Child 0", "Child 1"]
    columns = api.call("GET", f"{API}/query/", params={"q": soql, "columns": "true"}).json()
    child = columns["columnMetadata"][1]
    assert (child["columnName"], child["aggregate"]) == ("Opportunities", True)
    assert [c["columnName"] for c in child["joinColumns"]] == ["Name"]
