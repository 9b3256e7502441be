"""Bulk API 2.0 against the devorg over HTTPS: simple-salesforce's own `bulk2` client, and the
wire format (job info, CSV conventions, locators, ingest results) checked call by call."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.devorg.conftest import API, Api

WAIT = 0.05  # simple-salesforce's first sleep before it polls a job


def _job(api: Api, kind: str, job_id: str) -> dict[str, Any]:
    response = api.call("GET", f"{API}/jobs/{kind}/{job_id}")
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def _wait(api: Api, kind: str, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        info = _job(api, kind, job_id)
        if info["state"] in ("JobComplete", "Failed", "Aborted"):
            return info
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} did not finish")


@pytest.fixture
def paused(api: Api) -> Iterator[None]:
    """The job worker paused: jobs wait until `/__devorg/bulk/step` processes them."""
    api.control("POST", "/bulk", json={"auto": False}).raise_for_status()
    try:
        yield
    finally:
        api.control("POST", "/bulk", json={"auto": True}).raise_for_status()


@pytest.fixture(scope="module")
def deals(api: Api, create_records: Any) -> list[str]:
    """An account and 2,500 opportunities named Jobs-0000.. in it (some without Amount)."""
    [account] = create_records("Account", [{"Name": 'Bulk, "Quoted" Inc'}])
    rows = [
        {
            "Name": f"Jobs-{i:04d}",
            "StageName": "Prospecting",
            "CloseDate": "2026-03-01",
            "AccountId": account,
            **({"Amount": 1000 + i} if i % 10 else {}),
        }
        for i in range(2500)
    ]
    return create_records("Opportunity", rows)


def test_simple_salesforce_bulk2_query_pages_every_row(api: Api, deals: list[str]) -> None:
    sf = api.salesforce()
    soql = "SELECT Id, Name, Amount, Account.Name FROM Opportunity WHERE Name LIKE 'Jobs-%'"
    pages = list(sf.bulk2.Opportunity.query(soql, max_records=1000, wait=WAIT))
    assert len(pages) == 3  # 1000 + 1000 + 500, each with its own header row
    rows = [r for page in pages for r in csv.DictReader(io.StringIO(page))]
    assert sorted(r["Id"] for r in rows) == sorted(deals)
    assert list(rows[0]) == ["Id", "Name", "Amount", "Account.Name"]
    by_name = {r["Name"]: r for r in rows}
    assert by_name["Jobs-0000"]["Amount"] == ""  # null is an empty cell
    assert by_name["Jobs-0001"]["Amount"] == "1001.0"
    assert by_name["Jobs-0001"]["Account.Name"] == 'Bulk, "Quoted" Inc'


def test_simple_salesforce_bulk2_download_writes_csv_files(
    api: Api, deals: list[str], tmp_path: Path
) -> None:
    sf = api.salesforce()
    results = sf.bulk2.Opportunity.download(
        "SELECT Id FROM Opportunity WHERE Name LIKE 'Jobs-%'",
        str(tmp_path),
        max_records=2000,
        wait=WAIT,
    )
    assert [r["number_of_records"] for r in results] == [2000, 500]
    ids = [
        row["Id"]
        for r in results
        for row in csv.DictReader(io.StringIO(Path(r["file"]).read_text("utf-8")))
    ]
    assert sorted(ids) == sorted(deals)


def test_simple_salesforce_bulk2_update_and_insert_match_rest(api: Api, deals: list[str]) -> None:
    sf = api.salesforce()
    updates = [{"Id": rid, "Description": f"bulk {n}"} for n, rid in enumerate(deals[:300])]
    [result] = sf.bulk2.Opportunity.update(records=updates, wait=WAIT)
    assert result["numberRecordsProcessed"] == 300
    assert result["numberRecordsFailed"] == 0
    record = sf.Opportunity.get(deals[7])
    assert record["Description"] == "bulk 7"
    inserted = sf.bulk2.Account.insert(records=[{"Name": "Bulk Insert A"}], wait=WAIT)
    assert inserted[0]["numberRecordsProcessed"] == 1
    success = sf.bulk2.Account.get_successful_records(inserted[0]["job_id"])
    [row] = list(csv.DictReader(io.StringIO(success)))
    assert row["sf__Created"] == "true" and row["Name"] == "Bulk Insert A"
    assert sf.Account.get(row["sf__Id"])["Name"] == "Bulk Insert A"


def test_failed_rows_carry_salesforces_error_and_others_are_written(
    api: Api, deals: list[str]
) -> None:
    sf = api.salesforce()
    rows = [
        {"Id": deals[0], "StageName": "Closed Won"},
        {"Id": deals[1], "Name": "x" * 1000},
        {"Id": deals[2], "Amount": "lots"},
    ]
    [result] = sf.bulk2.Opportunity.update(records=rows, wait=WAIT)
    assert result["numberRecordsProcessed"] == 3
    assert result["numberRecordsFailed"] == 2
    failed = list(
        csv.DictReader(io.StringIO(sf.bulk2.Opportunity.get_failed_records(result["job_id"])))
    )
    errors = {r["Id"]: r["sf__Error"] for r in failed}
    assert all(r["sf__Id"] == r["Id"] for r in failed)  # API 53.0+ names the failed record
    # The same message the REST API answers for the same value.
    rest = api.call("PATCH", f"{API}/sobjects/Opportunity/{deals[2]}", json={"Amount": "lots"})
    assert rest.status_code == 400
    code, message = rest.json()[0]["errorCode"], rest.json()[0]["message"]
    assert errors[deals[2]] == f"{code}:{message}:Amount --"
    assert errors[deals[1]].startswith("STRING_TOO_LONG:")
    assert sf.Opportunity.get(deals[0])["IsWon"] is True


def _ingest(
    api: Api,
    operation: str,
    obj: str,
    data: str,
    *,
    close: bool = True,
    **options: str,
) -> str:
    created = api.call(
        "POST", f"{API}/jobs/ingest", json={"object": obj, "operation": operation, **options}
    )
    assert created.status_code == 200, created.text
    job_id: str = created.json()["id"]
    uploaded = api.call(
        "PUT",
        f"{API}/jobs/ingest/{job_id}/batches",
        data=data.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 201, uploaded.text
    if close:
        closed = api.call("PATCH", f"{API}/jobs/ingest/{job_id}", json={"state": "UploadComplete"})
        assert closed.status_code == 200, closed.text
        assert closed.json()["state"] == "UploadComplete"
    return job_id


def test_query_job_states_and_wire_format(api: Api, deals: list[str], paused: None) -> None:
    body = {
        "operation": "query",
        "query": "SELECT Name, Amount FROM Opportunity WHERE Name IN ('Jobs-0001','Jobs-0010')"
        " ORDER BY Name",
        "columnDelimiter": "PIPE",
        "lineEnding": "CRLF",
    }
    created = api.call("POST", f"{API}/jobs/query", json=body)
    assert created.status_code == 200
    info = created.json()
    assert info["state"] == "UploadComplete" and info["object"] == "Opportunity"
    assert info["id"].startswith("750") and len(info["id"]) == 18
    assert info["apiVersion"] == 62.0 and info["contentType"] == "CSV"
    assert info["createdDate"].endswith("+0000")
    early = api.call("GET", f"{API}/jobs/query/{info['id']}/results")
    assert early.status_code == 412 and early.json()[0]["errorCode"] == "JOB_NOT_COMPLETE"
    step = api.control("POST", "/bulk/step").json()["job"]
    assert step["id"] == info["id"] and step["state"] == "JobComplete"
    assert step["numberRecordsProcessed"] == 2
    results = api.call("GET", f"{API}/jobs/query/{info['id']}/results")
    assert results.headers["Sforce-NumberOfRecords"] == "2"
    assert results.headers["Sforce-Locator"] == "null"
    assert results.headers["Content-Type"].startswith("text/csv")
    assert results.content == b'"Name"|"Amount"\r\n"Jobs-0001"|"1001.0"\r\n"Jobs-0010"|""\r\n'
    listed = api.call("GET", f"{API}/jobs/query").json()
    assert info["id"] in [j["id"] for j in listed["records"]] and listed["done"] is True
    assert api.call("DELETE", f"{API}/jobs/query/{info['id']}").status_code == 204
    assert api.call("GET", f"{API}/jobs/query/{info['id']}").status_code == 404


def test_locator_pages_and_can_be_reread(api: Api, deals: list[str]) -> None:
    created = api.call(
        "POST",
        f"{API}/jobs/query",
        json={
            "operation": "query",
            "query": "SELECT Id FROM Opportunity WHERE Name LIKE 'Jobs-%'",
        },
    ).json()
    _wait(api, "query", created["id"])
    url = f"{API}/jobs/query/{created['id']}/results"
    first = api.call("GET", url, params={"maxRecords": 1000})
    locator = first.headers["Sforce-Locator"]
    assert locator != "null"
    second = api.call("GET", url, params={"maxRecords": 1000, "locator": locator})
    again = api.call("GET", url, params={"maxRecords": 1000, "locator": locator})
    assert second.text == again.text
    assert second.headers["Sforce-NumberOfRecords"] == "1000"
    bad = api.call("GET", url, params={"locator": "not-a-locator"})
    assert bad.status_code == 400


@pytest.mark.parametrize(
    "soql",
    [
        "SELECT COUNT() FROM Opportunity",
        "SELECT StageName, COUNT(Id) FROM Opportunity GROUP BY StageName",
        "SELECT Id FROM Opportunity LIMIT 5 OFFSET 2",
        "SELECT Id, (SELECT Id FROM OpportunitySplits) FROM Opportunity",
        "SELECT Nope FROM Opportunity",
    ],
)
def test_queries_bulk_does_not_support_are_refused_at_creation(api: Api, soql: str) -> None:
    response = api.call("POST", f"{API}/jobs/query", json={"operation": "query", "query": soql})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"]


def test_query_all_includes_deleted_rows(api: Api, create_records: Any) -> None:
    [gone] = create_records(
        "Opportunity", [{"Name": "BulkGone", "StageName": "Prospecting", "CloseDate": "2026-01-01"}]
    )
    api.call("DELETE", f"{API}/sobjects/Opportunity/{gone}").raise_for_status()
    soql = "SELECT Id, IsDeleted FROM Opportunity WHERE Name = 'BulkGone'"
    texts = {}
    for operation in ("query", "queryAll"):
        job = api.call("POST", f"{API}/jobs/query", json={"operation": operation, "query": soql})
        _wait(api, "query", job.json()["id"])
        texts[operation] = api.call("GET", f"{API}/jobs/query/{job.json()['id']}/results").text
    assert texts["query"] == '"Id","IsDeleted"\n'
    assert texts["queryAll"] == f'"Id","IsDeleted"\n"{gone}","true"\n'


def test_ingest_states_results_and_unprocessed_rows(api: Api, paused: None) -> None:
    data = 'Name;Industry\r\nSemi One;a;b\r\nSemi Two;"x;y"\r\n'
    job = _ingest(api, "insert", "Account", data, columnDelimiter="SEMICOLON", lineEnding="CRLF")
    assert _job(api, "ingest", job)["state"] == "UploadComplete"
    early = api.call("GET", f"{API}/jobs/ingest/{job}/successfulResults")
    assert early.status_code == 409
    api.control("POST", "/bulk/step").raise_for_status()
    info = _job(api, "ingest", job)
    assert info["state"] == "JobComplete"
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (2, 1)
    ok = api.call("GET", f"{API}/jobs/ingest/{job}/successfulResults").text
    assert ok.startswith('"sf__Id";"sf__Created";"Name";"Industry"\r\n')
    assert '"true";"Semi Two";"x;y"\r\n' in ok
    failed = api.call("GET", f"{API}/jobs/ingest/{job}/failedResults").text
    assert '"sf__Id";"sf__Error";"Name";"Industry"\r\n' in failed
    assert "Semi One" in failed

    aborted = _ingest(api, "insert", "Account", "Name\nNever\n")
    response = api.call("PATCH", f"{API}/jobs/ingest/{aborted}", json={"state": "Aborted"})
    assert response.json()["state"] == "Aborted"
    unprocessed = api.call("GET", f"{API}/jobs/ingest/{aborted}/unprocessedrecords").text
    assert unprocessed == '"Name"\n"Never"\n'
    assert api.control("POST", "/bulk/step").json()["job"] is None  # nothing left queued


def test_unknown_column_fails_the_job(api: Api) -> None:
    job = _ingest(api, "insert", "Account", "Name,NoSuchField__c\nA,b\n")
    info = _wait(api, "ingest", job)
    assert info["state"] == "Failed"
    assert "NoSuchField__c" in info["errorMessage"]
    unprocessed = api.call("GET", f"{API}/jobs/ingest/{job}/unprocessedrecords").text
    assert unprocessed == '"Name","NoSuchField__c"\n"A","b"\n'


def test_line_ending_must_match_the_job(api: Api) -> None:
    job = _ingest(api, "insert", "Account", "Name\r\nCRLF data\r\n")
    info = _wait(api, "ingest", job)
    assert info["state"] == "Failed" and "LineEnding" in info["errorMessage"]


def test_upsert_delete_and_hard_delete(api: Api, create_records: Any) -> None:
    [a, b] = create_records("Account", [{"Name": "Up A"}, {"Name": "Up B"}])
    job = _ingest(
        api, "upsert", "Account", f"Id,Name\n{a},Up A2\n,Up New\n", externalIdFieldName="Id"
    )
    assert _wait(api, "ingest", job)["numberRecordsFailed"] == 0
    rows = list(
        csv.DictReader(
            io.StringIO(api.call("GET", f"{API}/jobs/ingest/{job}/successfulResults").text)
        )
    )
    assert {(r["Name"], r["sf__Created"]) for r in rows} == {("Up A2", "false"), ("Up New", "true")}
    assert api.call("GET", f"{API}/sobjects/Account/{a}").json()["Name"] == "Up A2"
    deleted = _ingest(api, "delete", "Account", f"Id\n{a}\n")
    assert _wait(api, "ingest", deleted)["numberRecordsFailed"] == 0
    assert api.call("GET", f"{API}/sobjects/Account/{a}").json()[0]["errorCode"] == (
        "ENTITY_IS_DELETED"
    )
    hard = _ingest(api, "hardDelete", "Account", f"Id\n{b}\n")
    assert _wait(api, "ingest", hard)["numberRecordsFailed"] == 0
    assert api.call("GET", f"{API}/sobjects/Account/{b}").status_code == 404


def test_second_upload_and_late_upload_are_refused(api: Api, paused: None) -> None:
    job = _ingest(api, "insert", "Account", "Name\nOnce\n", close=False)
    again = api.call(
        "PUT",
        f"{API}/jobs/ingest/{job}/batches",
        data=b"Name\nTwice\n",
        headers={"Content-Type": "text/csv"},
    )
    assert again.status_code == 409
    api.call("PATCH", f"{API}/jobs/ingest/{job}", json={"state": "UploadComplete"})
    late = api.call(
        "PUT",
        f"{API}/jobs/ingest/{job}/batches",
        data=b"Name\nLate\n",
        headers={"Content-Type": "text/csv"},
    )
    assert late.status_code == 409
    api.control("POST", "/bulk/step").raise_for_status()


def test_record_faults_apply_to_bulk_rows(api: Api, create_records: Any) -> None:
    [locked, fine] = create_records("Account", [{"Name": "Lock me"}, {"Name": "Fine"}])
    api.control("POST", "/faults", json={"lock_rows": {locked: 1}}).raise_for_status()
    job = _ingest(api, "update", "Account", f"Id,Name\n{locked},L2\n{fine},F2\n")
    info = _wait(api, "ingest", job)
    assert info["numberRecordsFailed"] == 1
    failed = api.call("GET", f"{API}/jobs/ingest/{job}/failedResults").text
    assert "UNABLE_TO_LOCK_ROW" in failed and locked in failed
    assert api.call("GET", f"{API}/sobjects/Account/{fine}").json()["Name"] == "F2"


def test_bulk_calls_are_counted_as_api_calls(api: Api) -> None:
    api.control("POST", "/stats/reset").raise_for_status()
    job = api.call(
        "POST", f"{API}/jobs/query", json={"operation": "query", "query": "SELECT Id FROM User"}
    ).json()
    _wait(api, "query", job["id"])
    api.call("GET", f"{API}/jobs/query/{job['id']}/results").raise_for_status()
    kinds = api.control("GET", "/stats").json()["by_kind"]
    assert kinds["bulk_query_create"] == 1 and kinds["bulk_query_results"] == 1
    assert kinds["bulk_query_info"] >= 1


def test_cells_by_type(api: Api, create_records: Any) -> None:
    [opp] = create_records(
        "Opportunity",
        [
            {
                "Name": 'Multi\nline "q"',
                "StageName": "Closed Won",
                "CloseDate": "2026-03-01",
                "Amount": 12.5,
            }
        ],
    )
    soql = (
        "SELECT Name, IsWon, CloseDate, Amount, CreatedDate, Account.Name "
        f"FROM Opportunity WHERE Id = '{opp}'"
    )
    job = api.call("POST", f"{API}/jobs/query", json={"operation": "query", "query": soql})
    _wait(api, "query", job.json()["id"])
    text = api.call("GET", f"{API}/jobs/query/{job.json()['id']}/results").text
    header, row = text.split("\n", 1)
    assert header == '"Name","IsWon","CloseDate","Amount","CreatedDate","Account.Name"'
    created = api.call("GET", f"{API}/sobjects/Opportunity/{opp}").json()["CreatedDate"]
    bulk_created = created.replace("+0000", "Z")
    assert row == f'"Multi\nline ""q""","true","2026-03-01","12.5","{bulk_created}",""\n'
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", job.json()["createdDate"])


def test_injected_job_failure_keeps_what_was_written_and_lists_the_rest(
    api: Api, create_records: Any
) -> None:
    ids = create_records("Account", [{"Name": f"Fail {n}"} for n in range(1200)])
    api.control(
        "POST", "/faults", json={"bulk_job_failure": {"jobs": 1, "after_rows": 500}}
    ).raise_for_status()
    data = "Id,Name\n" + "".join(f"{rid},Done {n}\n" for n, rid in enumerate(ids))
    job = _ingest(api, "update", "Account", data)
    info = _wait(api, "ingest", job)
    assert info["state"] == "Failed" and "InternalServerError" in info["errorMessage"]
    assert info["numberRecordsProcessed"] == 500
    ok = list(
        csv.DictReader(
            io.StringIO(api.call("GET", f"{API}/jobs/ingest/{job}/successfulResults").text)
        )
    )
    rest = list(
        csv.DictReader(
            io.StringIO(api.call("GET", f"{API}/jobs/ingest/{job}/unprocessedrecords").text)
        )
    )
    assert len(ok) == 500 and len(rest) == 700
    assert {r["sf__Id"] for r in ok} | {r["Id"] for r in rest} == set(ids)
    assert (
        api.call("GET", f"{API}/sobjects/Account/{ok[0]['sf__Id']}")
        .json()["Name"]
        .startswith("Done")
    )
    assert (
        api.call("GET", f"{API}/sobjects/Account/{rest[0]['Id']}").json()["Name"].startswith("Fail")
    )
    # The fault was for one job: the next one completes.
    again = _ingest(api, "update", "Account", "Id,Name\n" + f"{rest[0]['Id']},Done late\n")
    assert _wait(api, "ingest", again)["state"] == "JobComplete"


def test_injected_query_failure_fails_the_client(api: Api, deals: list[str]) -> None:
    from simple_salesforce.exceptions import SalesforceOperationError

    api.control("POST", "/faults", json={"bulk_job_failure": {"jobs": 1}}).raise_for_status()
    sf = api.salesforce()
    with pytest.raises(SalesforceOperationError, match="InternalServerError"):
        list(sf.bulk2.Opportunity.query("SELECT Id FROM Opportunity", wait=WAIT))


def test_insert_with_an_id_fails_like_the_rest_create(api: Api, create_records: Any) -> None:
    [existing] = create_records("Account", [{"Name": "Has an Id"}])
    rest = api.call("POST", f"{API}/sobjects/Account", json={"Id": existing, "Name": "X"})
    assert rest.status_code == 400
    job = _ingest(api, "insert", "Account", f"Id,Name\n{existing},X\n")
    assert _wait(api, "ingest", job)["numberRecordsFailed"] == 1
    failed = list(
        csv.DictReader(io.StringIO(api.call("GET", f"{API}/jobs/ingest/{job}/failedResults").text))
    )
    error = rest.json()[0]
    assert failed[0]["sf__Error"] == f"{error['errorCode']}:{error['message']}:Id --"


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        (
            "query",
            {"operation": "query", "query": "SELECT Id FROM Account", "lineEnding": ["LF"]},
            400,
        ),
        ("query", {"operation": "query", "query": ["SELECT Id FROM Account"]}, 400),
        ("query", {"operation": "insert", "query": "SELECT Id FROM Account"}, 400),
        (
            "query",
            {"operation": "query", "query": "SELECT Id FROM Account", "columnDelimiter": {"x": 1}},
            400,
        ),
        ("ingest", {"operation": "insert", "object": "NoSuchObject"}, 404),
        ("ingest", {"operation": "upsert", "object": "Account"}, 400),
        (
            "ingest",
            {"operation": "upsert", "object": "Account", "externalIdFieldName": "Name"},
            400,
        ),
        ("ingest", {"operation": "query", "object": "Account"}, 400),
        ("ingest", {"operation": "insert", "object": "Account", "contentType": "JSON"}, 400),
    ],
)
def test_bad_job_requests_are_refused(
    api: Api, path: str, body: dict[str, Any], status: int
) -> None:
    response = api.call("POST", f"{API}/jobs/{path}", json=body)
    assert response.status_code == status, response.text
    assert response.json()[0]["errorCode"]


def test_unknown_and_wrong_kind_job_ids_are_not_found(api: Api) -> None:
    job = api.call(
        "POST", f"{API}/jobs/ingest", json={"operation": "insert", "object": "Account"}
    ).json()
    assert api.call("GET", f"{API}/jobs/query/{job['id']}").status_code == 404
    assert api.call("GET", f"{API}/jobs/ingest/750DV9999999999AAA").status_code == 404
    assert api.call("GET", f"{API}/jobs/ingest/'; DROP TABLE x").status_code == 404
    bad_state = api.call("PATCH", f"{API}/jobs/ingest/{job['id']}", json={"state": "JobComplete"})
    assert bad_state.status_code == 400
    assert api.call("PATCH", f"{API}/jobs/ingest/{job['id']}", json={"state": "Aborted"}).ok


def test_lf_data_in_a_crlf_job_fails_the_job(api: Api) -> None:
    job = _ingest(api, "insert", "Account", "Name\nLF data\nmore\n", lineEnding="CRLF")
    info = _wait(api, "ingest", job)
    assert info["state"] == "Failed" and "CRLF" in info["errorMessage"]


def test_simple_salesforce_bulk2_upsert_by_id(api: Api, create_records: Any) -> None:
    [kept] = create_records("Account", [{"Name": "Upsert kept"}])
    sf = api.salesforce()
    [result] = sf.bulk2.Account.upsert(
        records=[{"Id": kept, "Name": "Upsert changed"}, {"Id": "", "Name": "Upsert new"}],
        external_id_field="Id",
        wait=WAIT,
    )
    assert (result["numberRecordsProcessed"], result["numberRecordsFailed"]) == (2, 0)
    assert sf.Account.get(kept)["Name"] == "Upsert changed"
    found = sf.query("SELECT Id FROM Account WHERE Name = 'Upsert new'")
    assert found["totalSize"] == 1


def test_limits_count_the_query_jobs_of_the_last_day(api: Api) -> None:
    before = api.call("GET", f"{API}/limits").json()["DailyBulkV2QueryJobs"]
    job = api.call(
        "POST", f"{API}/jobs/query", json={"operation": "query", "query": "SELECT Id FROM User"}
    )
    assert job.status_code == 200
    after = api.call("GET", f"{API}/limits").json()["DailyBulkV2QueryJobs"]
    assert after["Max"] == 10000 and after["Remaining"] == before["Remaining"] - 1


def test_update_rows_of_one_chunk_fail_and_succeed_as_rest_writes_do(
    api: Api, create_records: Any
) -> None:
    """An update job reads a chunk's records in one query: each row still fails with the
    REST API's message for the same write, a record named twice gets both writes, and a
    15-character id names its record."""
    [a, b, gone, c] = create_records(
        "Opportunity",
        [
            {"Name": f"Chunk {n}", "StageName": "Prospecting", "CloseDate": "2026-03-01"}
            for n in range(4)
        ],
    )
    assert api.call("DELETE", f"{API}/sobjects/Opportunity/{gone}").status_code == 204
    missing = a[:3] + "0" * 12 + a[15:]
    rows = [
        (a, "Chunk A2", "", ""),
        (gone, "Gone", "", ""),
        (missing, "Missing", "", ""),
        (b, "", "lots", ""),
        (c[:15], "Chunk C2", "", ""),
        (b, "", "", "true"),  # IsWon is not updateable
        (a, "", "12.5", ""),  # the same record again, after its first write
        (c, "", "", "false"),
    ]
    data = "Id,Name,Amount,IsWon\n" + "".join(",".join(r) + "\n" for r in rows)
    info = _wait(api, "ingest", _ingest(api, "update", "Opportunity", data))
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (8, 5)
    failed = list(
        csv.DictReader(
            io.StringIO(api.call("GET", f"{API}/jobs/ingest/{info['id']}/failedResults").text)
        )
    )
    got = [(r["Id"], r["sf__Error"]) for r in failed]
    expected = []
    for rid, name, amount, is_won in rows:
        body = {k: v for k, v in (("Name", name), ("Amount", amount), ("IsWon", is_won)) if v}
        if rid in (a, c[:15]) or (rid == b and not is_won and not amount):
            continue
        rest = api.call("PATCH", f"{API}/sobjects/Opportunity/{rid}", json=body)
        assert rest.status_code in (400, 404), rest.text
        error = rest.json()[0]
        fields = ",".join(error.get("fields") or [])
        expected.append((rid, f"{error['errorCode']}:{error['message']}:{fields} --"))
    assert got == expected
    assert [code.split(":")[0] for _r, code in got] == [
        "ENTITY_IS_DELETED",
        "NOT_FOUND",
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        "INVALID_FIELD_FOR_INSERT_UPDATE",
    ]
    first = api.call("GET", f"{API}/sobjects/Opportunity/{a}").json()
    assert (first["Name"], first["Amount"]) == ("Chunk A2", 12.5)
    assert api.call("GET", f"{API}/sobjects/Opportunity/{c}").json()["Name"] == "Chunk C2"
