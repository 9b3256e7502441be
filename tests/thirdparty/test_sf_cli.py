"""The Salesforce CLI (`@salesforce/cli` from npm, under Node 22) against the devorg."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devorg.credentials import ADMIN_USERNAME
from devorg.process import DevorgInfo
from tests.thirdparty.conftest import API, AdminApi

pytestmark = [pytest.mark.thirdparty, pytest.mark.slow]

Sf = Callable[..., Any]


def test_login_access_token_reads_the_org_and_user(sf_login: Any, judged_org: DevorgInfo) -> None:
    assert sf_login["status"] == 0, sf_login
    result = sf_login["result"]
    assert result["username"] == ADMIN_USERNAME
    assert result["orgId"] == judged_org.org_id
    assert result["instanceUrl"].rstrip("/") == judged_org.instance_url
    assert result["instanceApiVersion"] == "62.0"
    # The CLI ran outside this repository (an sfdx project): no project config written here.
    root = Path(__file__).resolve().parents[2]
    assert not (root / ".sf").exists() and not (root / ".sfdx").exists()


def test_data_query_returns_the_rows_the_api_returns(sf: Sf, admin: AdminApi) -> None:
    soql = "SELECT Id, Name, Amount, StageName, CloseDate FROM Opportunity ORDER BY Id LIMIT 50"
    out = sf("data", "query", "--query", soql)
    assert out["status"] == 0, out
    expected = admin.query(soql)
    assert out["result"]["totalSize"] == len(expected) == 50
    got = [(r["Id"], r["Name"], r["Amount"], r["StageName"]) for r in out["result"]["records"]]
    assert got == [(r["Id"], r["Name"], r["Amount"], r["StageName"]) for r in expected]


def test_data_query_all_rows_includes_the_recycle_bin(sf: Sf, admin: AdminApi) -> None:
    victim = admin.query("SELECT Id FROM Opportunity ORDER BY Id DESC LIMIT 1")[0]["Id"]
    assert admin.call("DELETE", f"{API}/sobjects/Opportunity/{victim}").status_code == 204
    soql = f"SELECT Id, IsDeleted FROM Opportunity WHERE Id = '{victim}'"

    live = sf("data", "query", "--query", soql)
    everything = sf("data", "query", "--query", soql, "--all-rows")

    assert live["status"] == 0 and live["result"]["totalSize"] == 0, live
    assert everything["status"] == 0, everything
    assert [(r["Id"], r["IsDeleted"]) for r in everything["result"]["records"]] == [(victim, True)]


def test_sobject_describe_matches_the_rest_describe(sf: Sf, admin: AdminApi) -> None:
    out = sf("sobject", "describe", "--sobject", "Opportunity")
    assert out["status"] == 0, out
    rest = admin.call("GET", f"{API}/sobjects/Opportunity/describe").json()
    assert out["result"]["name"] == "Opportunity"
    fields = {f["name"]: f for f in out["result"]["fields"]}
    assert set(fields) == {f["name"] for f in rest["fields"]}
    assert fields["Amount"]["type"] == "currency" and fields["Id"]["type"] == "id"


def test_data_update_record_changes_the_record(sf: Sf, admin: AdminApi) -> None:
    record = admin.query("SELECT Id, Description FROM Opportunity ORDER BY Id LIMIT 1")[0]
    text = "judged by sf: " + record["Id"]
    out = sf(
        "data",
        "update",
        "record",
        "--sobject",
        "Opportunity",
        "--record-id",
        record["Id"],
        "--values",
        f"Description='{text}'",
    )
    assert out["status"] == 0, out
    assert out["result"]["success"] is True
    after = admin.query(f"SELECT Description FROM Opportunity WHERE Id = '{record['Id']}'")
    assert after[0]["Description"] == text


def test_data_update_record_reports_salesforce_errors(sf: Sf, admin: AdminApi) -> None:
    record = admin.query("SELECT Id FROM Opportunity ORDER BY Id LIMIT 1")[0]
    out = sf(
        "data",
        "update",
        "record",
        "--sobject",
        "Opportunity",
        "--record-id",
        record["Id"],
        "--values",
        "NoSuchField__c=1",
    )
    assert out["status"] == 1, out
    assert "NoSuchField__c" in out["message"]


def test_limits_api_display_shows_the_daily_limit(sf: Sf, admin: AdminApi) -> None:
    out = sf("limits", "api", "display")
    assert out["status"] == 0, out
    limits = {row["name"]: row for row in out["result"]}
    rest = admin.call("GET", f"{API}/limits").json()
    daily = limits["DailyApiRequests"]
    assert daily["max"] == rest["DailyApiRequests"]["Max"]
    # The CLI's own calls count: remaining only goes down between the two reads.
    assert rest["DailyApiRequests"]["Remaining"] <= daily["remaining"] < daily["max"]


def test_integration_user_sees_and_meets_field_level_security(
    sf_integration: Sf, admin: AdminApi
) -> None:
    # The Quotaflow_Integration permission set: Amount read-only, the write-back field editable.
    described = sf_integration("sobject", "describe", "--sobject", "Opportunity")
    assert described["status"] == 0, described
    fields = {f["name"]: f for f in described["result"]["fields"]}
    assert fields["Amount"]["updateable"] is False
    assert fields["Estimated_Commission__c"]["updateable"] is True
    record = admin.query("SELECT Id, Amount FROM Opportunity ORDER BY Id LIMIT 1")[0]

    refused = sf_integration(
        "data",
        "update",
        "record",
        "--sobject",
        "Opportunity",
        "--record-id",
        record["Id"],
        "--values",
        "Amount=1",
    )
    allowed = sf_integration(
        "data",
        "update",
        "record",
        "--sobject",
        "Opportunity",
        "--record-id",
        record["Id"],
        "--values",
        "Estimated_Commission__c=12.5",
    )

    assert refused["status"] == 1, refused
    assert "Unable to create/update fields: Amount" in refused["message"]
    assert allowed["status"] == 0, allowed
    after = admin.query(
        f"SELECT Amount, Estimated_Commission__c FROM Opportunity WHERE Id = '{record['Id']}'"
    )[0]
    assert after["Amount"] == record["Amount"] and after["Estimated_Commission__c"] == 12.5
