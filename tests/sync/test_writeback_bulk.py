"""Write-back through Bulk API 2.0 ingest jobs against the devorg over HTTPS: what is written is
what the run wanted, Salesforce's per-record failures become issues with its message, and a
job that fails part-way or is stuck past its deadline loses nothing and writes nothing twice."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from connector.deps import build_sync_deps
from connector.salesforce.bulk import BulkJobs
from connector.salesforce.bulk_csv import ingest_csv
from connector.salesforce.bulk_writes import send_records
from connector.store.models import RecordIssue
from connector.store.results import WritebackValue
from connector.sync import run_sync
from connector.sync.summary import SyncSummary
from connector.sync.writeback_stage import StoredJournal

from .conftest import API, Org, next_second, running_org  # type: ignore[import-not-found]


class Wire:
    """Every record id the connector sent: per sObject Collections call, per ingest upload."""

    def __init__(self) -> None:
        self.rest: list[str] = []
        self.objects: dict[str, str] = {}  # job id -> object
        self.uploads: dict[str, list[str]] = {}

    @property
    def jobs(self) -> dict[str, list[str]]:
        """The Opportunity jobs and the ids each uploaded."""
        return {j: ids for j, ids in self.uploads.items() if self.objects[j] == "Opportunity"}

    def __call__(self, response: requests.Response, *_a: Any, **_k: Any) -> None:
        request = response.request
        url = response.url
        if request.method == "PATCH" and url.endswith("/composite/sobjects"):
            body = json.loads(request.body or b"{}")
            self.rest += [r["id"] for r in body["records"] if r["id"].startswith("006")]
        elif request.method == "POST" and url.endswith("/jobs/ingest") and response.ok:
            self.objects[response.json()["id"]] = json.loads(request.body or b"{}")["object"]
        elif request.method == "PUT" and "/jobs/ingest/" in url:
            job = url.split("/jobs/ingest/")[1].split("/")[0]
            data = request.body if isinstance(request.body, bytes) else b""
            rows = list(csv.reader(io.StringIO(data.decode())))
            self.uploads[job] = [row[0] for row in rows[1:]]


@contextmanager
def bulk_org(tmp: Path, **bulk: Any) -> Iterator[tuple[Org, Wire]]:
    """The demo org, with the connector's Bulk thresholds set and its wire watched."""
    with running_org(tmp) as org:
        deps = build_sync_deps(org.settings.with_overrides(**bulk), engine=org.deps.engine)
        wire = Wire()
        deps.gateway.http.hooks["response"].append(wire)
        yield Org(org.info, org.client, deps, org.settings, org.org_id, org.tmp), wire


def _results(org: Org, job: str, which: str) -> list[dict[str, str]]:
    response = org.client.http.get(f"{org.info.instance_url}{API}/jobs/ingest/{job}/{which}")
    assert response.ok, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


def _now() -> datetime:
    return datetime.now(UTC)


def _crm_equals_wanted(org: Org) -> None:
    """Every value the run wanted on an Opportunity is what Salesforce now holds."""
    with org.deps.sessions() as session:
        wanted = {
            w.record_id: dict(w.fields)
            for w in session.scalars(
                select(WritebackValue).where(WritebackValue.object_name == "Opportunity")
            )
        }
    fields = sorted({f for values in wanted.values() for f in values})
    held = {
        o["Id"]: o for o in org.client.query(f"SELECT Id, {', '.join(fields)} FROM Opportunity")
    }
    for rid, values in wanted.items():
        for name, value in values.items():
            have = held[rid][name]
            if isinstance(value, (int, float, Decimal)) or isinstance(have, (int, float)):
                assert Decimal(str(have)) == Decimal(str(value)), (rid, name, have, value)
            else:
                assert have == value, (rid, name, have, value)


def _echo_writes_nothing(org: Org) -> SyncSummary:
    next_second()
    again = run_sync(org.deps, mode="incremental")
    assert again.status == "succeeded" and again.to_write == 0, again
    return again


@pytest.mark.slow
def test_a_bulk_write_back_writes_what_the_run_wants_and_failures_are_issues(
    tmp_path: Path,
) -> None:
    with bulk_org(tmp_path, bulk_write_threshold=1, bulk_threshold=1) as (org, wire):
        opps = org.client.query(
            "SELECT Id FROM Opportunity WHERE CloseDate >= 2026-01-01 ORDER BY Id LIMIT 4"
        )
        ids = [o["Id"] for o in opps]
        message = "Estimated commission is locked for closed quarters"
        # Locked twice: the job reports UNABLE_TO_LOCK_ROW, REST's first retry is locked
        # too, the second goes through. The validation failure is permanent.
        org.client.faults(
            {"lock_rows": {rid: 2 for rid in ids[:3]}, "validation": {ids[3]: message}}
        )
        summary = run_sync(org.deps, mode="full")
        assert summary.status == "partial", summary
        assert summary.issues == 1 and summary.written == summary.to_write - 1
        [job] = wire.jobs
        uploaded = [i for ids in wire.uploads.values() for i in ids]
        assert len(uploaded) == summary.to_write == len(set(uploaded))
        assert sorted(wire.rest) == sorted(ids[:3] * 2)  # two REST tries for the locked rows
        with org.deps.sessions() as session:
            issues = session.scalars(select(RecordIssue)).all()
        assert [(i.stage, i.record_id, i.error_code, i.reason) for i in issues] == [
            ("writeback", ids[3], "FIELD_CUSTOM_VALIDATION_EXCEPTION", message)
        ]
        org.client.http.delete(f"{org.info.instance_url}/__devorg/faults")
        failed = _results(org, job, "failedResults")
        assert {r["Id"] for r in failed} == set(ids)
        # The write-back settled: the values Salesforce holds are the ones wanted, except
        # the refused record's.
        with org.deps.sessions() as session:
            refused = session.get(WritebackValue, (org.org_id, "Opportunity", ids[3]))
            assert refused is not None
            session.delete(refused)
            session.commit()
        _crm_equals_wanted(org)
        assert _echo_writes_nothing(org).write_calls == 0


@pytest.mark.slow
def test_a_job_failing_part_way_leaves_the_rest_to_rest_and_writes_each_record_once(
    tmp_path: Path,
) -> None:
    with bulk_org(tmp_path, bulk_write_threshold=1, bulk_threshold=0) as (org, wire):
        # Both jobs (Users, then Opportunities, or the other way round) fail after 40 rows.
        org.client.faults({"bulk_job_failure": {"jobs": 2, "after_rows": 40}})
        summary = run_sync(org.deps, mode="full")
        assert summary.status == "succeeded", summary
        [job] = wire.jobs
        written_by_job = {r["Id"] for r in _results(org, job, "successfulResults")}
        unprocessed = {r["Id"] for r in _results(org, job, "unprocessedrecords")}
        assert len(written_by_job) == 40 and unprocessed
        # The rows the job never processed went out through REST, once; none it wrote did.
        assert sorted(wire.rest) == sorted(unprocessed)
        assert written_by_job | unprocessed == set(wire.jobs[job])
        assert summary.written == summary.to_write
        _crm_equals_wanted(org)
        _echo_writes_nothing(org)


@pytest.mark.slow
def test_a_job_stuck_past_its_deadline_is_aborted_and_nothing_is_written_twice(
    tmp_path: Path,
) -> None:
    with bulk_org(tmp_path, bulk_write_threshold=1, bulk_threshold=0, bulk_timeout=1) as (
        org,
        wire,
    ):
        http = org.client.http
        base = f"{org.info.instance_url}/__devorg/bulk"
        assert http.post(base, json={"auto": False}).ok
        try:
            summary = run_sync(org.deps, mode="full")
        finally:
            assert http.post(base, json={"auto": True}).ok
        assert summary.status == "succeeded", summary
        [job] = wire.jobs
        info = http.get(f"{org.info.instance_url}{API}/jobs/ingest/{job}").json()
        assert info["state"] == "Aborted" and info["numberRecordsProcessed"] == 0
        assert sorted(wire.rest) == sorted(wire.jobs[job])
        assert summary.written == summary.to_write
        _crm_equals_wanted(org)
        _echo_writes_nothing(org)


@pytest.mark.slow
def test_a_job_left_running_by_a_killed_run_is_waited_for_and_not_written_again(
    tmp_path: Path,
) -> None:
    with bulk_org(tmp_path, bulk_write_threshold=1, bulk_threshold=0) as (org, wire):
        gateway = org.deps.gateway
        ids = [o["Id"] for o in org.client.query("SELECT Id FROM Opportunity ORDER BY Id LIMIT 30")]
        field = "Estimated_Commission__c"
        left_behind = [("Opportunity", rid, {field: 11.5}) for rid in ids[:20]]
        http = org.client.http
        control = f"{org.info.instance_url}/__devorg/bulk"
        assert http.post(control, json={"auto": False}).ok
        # A run uploads and closes a job, then its process is killed: the job stays queued.
        jobs = BulkJobs(gateway)
        journal = StoredJournal(org.deps.sessions, org_id=org.org_id, run_id=0, now=_now())
        earlier = jobs.create_ingest("Opportunity")
        journal.opened(earlier, "Opportunity")
        jobs.upload(earlier, ingest_csv(["Id", field], [[rid, "11.5"] for rid in ids[:20]]))
        jobs.close(earlier)
        # The org gets to the job a moment after the next run's write-back begins.
        resume = threading.Timer(1.5, lambda: http.post(control, json={"auto": True}))
        resume.start()
        try:
            wanted = [
                ("Opportunity", ids[0], {field: 99.0}),  # changed since: sent again
                *left_behind[1:],  # what the job writes: not sent again
                *(("Opportunity", rid, {field: 22.5}) for rid in ids[20:]),
            ]
            stats = send_records(gateway, wanted, journal=journal)
        finally:
            resume.join()
            assert http.post(control, json={"auto": True}).ok
        assert stats.written == 30 and not stats.issues
        assert journal.unsettled() == []  # both jobs applied
        [later] = [j for j in wire.jobs if j != earlier]
        assert sorted(wire.jobs[later]) == sorted([ids[0], *ids[20:]])
        assert wire.rest == []
        held = {
            o["Id"]: o[field]
            for o in org.client.query(f"SELECT Id, {field} FROM Opportunity ORDER BY Id LIMIT 30")
        }
        assert held == {
            ids[0]: 99.0,
            **dict.fromkeys(ids[1:20], 11.5),
            **dict.fromkeys(ids[20:], 22.5),
        }
