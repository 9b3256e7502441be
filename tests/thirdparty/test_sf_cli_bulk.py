"""The Salesforce CLI's Bulk API 2.0 commands against the devorg."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.thirdparty.conftest import AdminApi

pytestmark = [pytest.mark.thirdparty, pytest.mark.slow]

Sf = Callable[..., Any]


def test_data_export_bulk_writes_every_row(sf: Sf, admin: AdminApi, tmp_path: Path) -> None:
    soql = "SELECT Id, Name, Amount, Account.Name FROM Opportunity"
    out_file = tmp_path / "opps.csv"
    out = sf(
        "data", "export", "bulk", "--query", soql, "--output-file", str(out_file),
        "--result-format", "csv", "--wait", "2",
    )  # fmt: skip
    assert out["status"] == 0, out
    rows = list(csv.DictReader(out_file.open(encoding="utf-8", newline="")))
    expected = admin.query(soql)
    assert sorted(r["Id"] for r in rows) == sorted(r["Id"] for r in expected)
    assert list(rows[0]) == ["Id", "Name", "Amount", "Account.Name"]


def test_data_update_bulk_writes_and_reports(sf: Sf, admin: AdminApi, tmp_path: Path) -> None:
    records = admin.query("SELECT Id FROM Opportunity ORDER BY Id LIMIT 30")
    data = tmp_path / "update.csv"
    data.write_text(
        "Id,Description\n" + "".join(f"{r['Id']},bulk cli {n}\n" for n, r in enumerate(records))
    )
    out = sf("data", "update", "bulk", "--sobject", "Opportunity", "--file", str(data),
             "--wait", "2")  # fmt: skip
    assert out["status"] == 0, out
    assert out["result"]["processedRecords"] == out["result"]["successfulRecords"] == 30
    after = admin.query(f"SELECT Description FROM Opportunity WHERE Id = '{records[3]['Id']}'")
    assert after[0]["Description"] == "bulk cli 3"


def test_data_update_bulk_reports_failed_rows(
    sf: Sf, admin: AdminApi, tmp_path: Path, sf_env: dict[str, str]
) -> None:
    # `sf data bulk results` writes its CSV files into its working directory (sf's HOME).
    records = admin.query("SELECT Id FROM Opportunity ORDER BY Id LIMIT 2")
    data = tmp_path / "bad.csv"
    data.write_text(f"Id,Amount\n{records[0]['Id']},12\n{records[1]['Id']},lots\n")
    out = sf("data", "update", "bulk", "--sobject", "Opportunity", "--file", str(data),
             "--wait", "2")  # fmt: skip
    assert out["status"] == 1 and out["code"] == "FailedRecordDetailsError", out
    assert out["data"]["state"] == "JobComplete"
    results = sf("data", "bulk", "results", "--job-id", out["data"]["jobId"])
    assert results["status"] == 0, results
    summary = results["result"]
    assert (summary["processedRecords"], summary["failedRecords"]) == (2, 1)
    failed = list(
        csv.DictReader((Path(sf_env["HOME"]) / summary["failedFilePath"]).open(newline=""))
    )
    assert [(r["sf__Id"], r["sf__Error"]) for r in failed] == [
        (
            records[1]["Id"],
            "INVALID_TYPE_ON_FIELD_IN_RECORD:Amount: value not of required type: lots:Amount --",
        )
    ]
    done = list(
        csv.DictReader((Path(sf_env["HOME"]) / summary["successFilePath"]).open(newline=""))
    )
    assert [(r["sf__Id"], r["sf__Created"]) for r in done] == [(records[0]["Id"], "false")]


def test_data_import_bulk_inserts_accounts(sf: Sf, admin: AdminApi, tmp_path: Path) -> None:
    data = tmp_path / "accounts.csv"
    data.write_text('Name,Industry\nCLI Bulk One,Energy\n"CLI Bulk, Two",\n')
    out = sf("data", "import", "bulk", "--sobject", "Account", "--file", str(data),
             "--wait", "2")  # fmt: skip
    assert out["status"] == 0, out
    assert out["result"]["successfulRecords"] == 2
    found = admin.query(
        "SELECT Name, Industry FROM Account WHERE Name LIKE 'CLI Bulk%' ORDER BY Name"
    )
    assert [(r["Name"], r["Industry"]) for r in found] == [
        ("CLI Bulk One", "Energy"),
        ("CLI Bulk, Two", None),
    ]
