"""A record hard-deleted in Salesforce (recycle bin emptied, or a hard delete) leaves no trace
in query, queryAll or getDeleted: only the full sync's reconcile finds it gone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from connector.store.models import RawRecord
from connector.sync import run_sync

from .conftest import API, next_second, running_org  # type: ignore[import-not-found]


def _stored_deleted(org, record_id: str) -> bool:  # type: ignore[no-untyped-def]
    with org.deps.sessions() as session:
        row = session.scalars(select(RawRecord).where(RawRecord.record_id == record_id)).one()
        return bool(row.is_deleted)


@pytest.mark.slow
def test_hard_deleted_deal_is_marked_gone_by_the_full_reconcile(tmp_path: Path) -> None:
    with running_org(tmp_path) as org:
        assert run_sync(org.deps, mode="full").status == "succeeded"
        deal = org.client.query("SELECT Id FROM Opportunity ORDER BY Id LIMIT 1")[0]["Id"]
        http, base = org.client.http, org.info.instance_url
        start = datetime.now(UTC) - timedelta(minutes=5)
        # In the recycle bin first (a soft delete), then purged from it.
        assert http.delete(f"{base}{API}/sobjects/Opportunity/{deal}").status_code == 204
        purged = http.post(f"{base}/__devorg/purge", json={"ids": [deal]})
        assert purged.status_code == 200 and purged.json()["purged"]["Opportunity"] >= 1

        everything = http.get(
            f"{base}{API}/queryAll/",
            params={"q": f"SELECT Id FROM Opportunity WHERE Id = '{deal}'"},
        ).json()
        assert everything["totalSize"] == 0
        end = datetime.now(UTC) + timedelta(minutes=2)
        window = {"start": start.isoformat(), "end": end.isoformat()}
        log = http.get(f"{base}{API}/sobjects/Opportunity/deleted/", params=window).json()
        assert deal not in {r["id"] for r in log["deletedRecords"]}
        assert log["earliestDateAvailable"] >= start.strftime("%Y-%m-%dT%H:%M")

        next_second()
        assert run_sync(org.deps, mode="incremental").status == "succeeded"
        assert not _stored_deleted(org, deal)  # an incremental pull cannot see it go
        next_second()
        assert run_sync(org.deps, mode="full").status == "succeeded"
        assert _stored_deleted(org, deal)


def test_confirming_query_stays_under_the_uri_limit() -> None:
    # Salesforce refuses a URI over 16,384 bytes (414): the reconcile's IN lists are cut so
    # that even the longest object name and a full batch of 18-char ids fit in a GET.
    from urllib.parse import urlencode

    from connector.pull.reconcile import CONFIRM_BATCH
    from connector.salesforce.soql import ids_query

    ids = [f"a0B{i:015d}" for i in range(CONFIRM_BATCH)]
    soql = ids_query("Very_Long_Custom_Object_Name_For_Limits__c", ids)
    uri = f"{API}/queryAll/?" + urlencode({"q": soql})
    assert len(uri.encode()) < 16_384 // 2
