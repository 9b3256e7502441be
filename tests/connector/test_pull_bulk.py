"""The pull through Bulk API 2.0 query jobs against the devorg over real HTTPS: the same records
as the REST pull, and a job that fails, times out or cannot be read loses nothing and stores
nothing twice (own module: its own devorg)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
from sqlalchemy import select

from connector.deps import PullOptions, SyncDeps
from connector.pull import PullOutcome
from connector.store.models import RawRecord
from tests.connector.conftest import connector_settings, make_deps
from tests.store_kit import committed

if TYPE_CHECKING:
    from conftest import DevorgClient

Pull = Callable[..., PullOutcome]
DEALS = 650  # four pages of 200 through REST


@pytest.fixture(scope="module")
def arranged(devorg: DevorgClient) -> dict[str, list[str]]:
    """Reps and deals with values that test the CSV: decimals, nulls, quotes, commas, line
    breaks, a deleted deal, a rep outside the include rule."""
    reps = devorg.make_reps(3)
    rows: list[dict[str, Any]] = []
    for i in range(DEALS):
        row: dict[str, Any] = {
            "Name": f'Deal {i}, "quoted"\nsecond line' if i % 7 == 0 else f"Deal {i}",
            "OwnerId": reps[i % 3],
            "CloseDate": f"2026-0{1 + i % 9}-1{i % 10}",
            "StageName": "Closed Won" if i % 3 else "Prospecting",
        }
        if i % 11:
            row["Amount"] = round(1000 + i * 12.37, 2)
        rows.append(row)
    deals = devorg.create("Opportunity", rows)
    devorg.delete(deals[:5])
    return {"reps": reps, "deals": deals}


def _deps(org: DevorgClient, tmp_path: Path, name: str, **bulk: Any) -> SyncDeps:
    settings = connector_settings(org.info, f"sqlite:///{tmp_path / name}.db")
    built = make_deps(settings.with_overrides(**bulk), page_size=200)
    return dataclasses.replace(built, options=PullOptions(lookback=timedelta(0)))


@pytest.fixture
def rest(org: DevorgClient, tmp_path: Path) -> Iterator[SyncDeps]:
    """A store pulled through REST only."""
    built = _deps(org, tmp_path, "rest", bulk_threshold=0)
    yield built
    built.engine.dispose()


@pytest.fixture
def paused(org: DevorgClient) -> Iterator[None]:
    """The devorg's job worker paused: a job stays queued until a test steps it."""
    org.control("POST", "bulk", {"auto": False})
    try:
        yield
    finally:
        org.control("POST", "bulk", {"auto": True})


def _stored(deps: SyncDeps, org_id: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    """Every raw record: its payload (parents without their `attributes`), stamp, deleted
    flag and input hash; and every canonical record."""
    out: dict[tuple[str, str], tuple[Any, ...]] = {}
    with deps.sessions() as session:
        for row in session.scalars(select(RawRecord).where(RawRecord.org_id == org_id)):
            payload = {
                k: ({n: x for n, x in v.items() if n != "attributes"} if isinstance(v, dict) else v)
                for k, v in row.payload.items()
            }
            out[(row.object_name, row.record_id)] = (
                payload,
                row.system_modstamp,
                row.is_deleted,
                row.input_hash,
            )
    for kind in ("rep", "deal"):
        for rid, c in (
            committed(deps.sessions, org_id)
            .records.load_canonical(kind=kind, include_deleted=True)
            .items()
        ):
            out[(kind, rid)] = (c.payload, c.deleted)
    return out


@pytest.mark.slow
def test_a_bulk_pull_stores_what_the_rest_pull_stores_record_for_record(
    org: DevorgClient, arranged: dict[str, list[str]], rest: SyncDeps, tmp_path: Path, pull: Pull
) -> None:
    org_id = org.info.org_id
    bulk = _deps(org, tmp_path, "bulk", bulk_threshold=1)
    try:
        by_rest = pull(rest, org_id=org_id, mode="full")
        by_bulk = pull(bulk, org_id=org_id, mode="full")
        assert by_rest.ok and by_bulk.ok, (by_rest.error, by_bulk.error)
        assert by_rest.result is not None and by_bulk.result is not None
        opp = by_bulk.result.objects["Opportunity"]
        assert (opp.bulk_jobs, opp.bulk_fallbacks) == (1, 0)
        assert by_rest.result.objects["Opportunity"].bulk_jobs == 0
        stored = _stored(bulk, org_id)
        assert stored == _stored(rest, org_id)
        raw = [v for k, v in stored.items() if k[0] == "Opportunity"]
        assert (len(raw), sum(v[2] for v in raw)) == (DEALS, 5)  # 5 deleted
        assert any("\n" in v[0]["Name"] and '"' in v[0]["Name"] for v in raw)
        assert (
            committed(bulk.sessions, org_id).records.load_watermarks()
            == committed(rest.sessions, org_id).records.load_watermarks()
        )
        # Changed records only, from the watermark: a Bulk incremental pull sees each once.
        changed = arranged["deals"][100:400]
        org.update("Opportunity", [{"Id": i, "Amount": 7.5} for i in changed])
        again = pull(bulk, org_id=org_id)
        assert again.result is not None, again.error
        assert again.result.changed["deal"] == frozenset(changed)
        assert again.result.objects["Opportunity"].bulk_jobs == 1
        amounts = committed(bulk.sessions, org_id).records.load_canonical(kind="deal")
        assert {amounts[i].payload["amount"]["$decimal"] for i in changed} == {"7.5"}
    finally:
        bulk.engine.dispose()


@pytest.mark.slow
def test_a_failed_query_job_falls_back_to_rest_and_loses_nothing(
    org: DevorgClient, arranged: dict[str, list[str]], rest: SyncDeps, tmp_path: Path, pull: Pull
) -> None:
    org_id = org.info.org_id
    bulk = _deps(org, tmp_path, "failed", bulk_threshold=1)
    try:
        # Every query job processed fails part-way (the User and Opportunity jobs alike).
        org.faults({"bulk_job_failure": {"jobs": 10, "after_rows": 100}})
        outcome = pull(bulk, org_id=org_id, mode="full")
        assert outcome.result is not None, outcome.error
        opp = outcome.result.objects["Opportunity"]
        assert (opp.bulk_jobs, opp.bulk_fallbacks) == (1, 1)
        # Each deal stored once; rows read again at the stamp REST resumed from are dropped.
        assert opp.stored == DEALS
        org.control("DELETE", "faults")
        assert pull(rest, org_id=org_id, mode="full").ok
        assert _stored(bulk, org_id) == _stored(rest, org_id)
    finally:
        bulk.engine.dispose()


@pytest.mark.slow
def test_a_job_stuck_past_the_deadline_is_aborted_and_rest_reads_the_rest(
    org: DevorgClient,
    arranged: dict[str, list[str]],
    rest: SyncDeps,
    tmp_path: Path,
    pull: Pull,
    paused: None,
) -> None:
    org_id = org.info.org_id
    bulk = _deps(org, tmp_path, "stuck", bulk_threshold=1, bulk_timeout=1)
    try:
        outcome = pull(bulk, org_id=org_id, mode="full")
        assert outcome.result is not None, outcome.error
        assert outcome.result.objects["Opportunity"].bulk_fallbacks == 1
        jobs = org.control("GET", "bulk")
        assert jobs["queued"] == []  # aborted, not left to run later
        assert pull(rest, org_id=org_id, mode="full").ok
        assert _stored(bulk, org_id) == _stored(rest, org_id)
    finally:
        bulk.engine.dispose()


@pytest.mark.slow
def test_a_stuck_job_and_a_refused_fallback_fail_the_run_at_the_committed_page(
    org: DevorgClient,
    arranged: dict[str, list[str]],
    rest: SyncDeps,
    tmp_path: Path,
    pull: Pull,
    paused: None,
) -> None:
    org_id = org.info.org_id
    bulk = _deps(org, tmp_path, "refused", bulk_threshold=1, bulk_timeout=1)

    def refuse_after_abort(response: requests.Response, *_a: Any, **_k: Any) -> None:
        # The moment the connector aborts the stuck Opportunity job, the org refuses calls.
        if response.request.method == "PATCH" and "/jobs/query/" in response.url:
            org.faults({"request_limit_exceeded": {"calls": 50}})

    try:
        bulk.gateway.http.hooks["response"].append(refuse_after_abort)
        failed = pull(bulk, org_id=org_id, mode="full")
        assert not failed.ok and "REQUEST_LIMIT_EXCEEDED" in (failed.error or "")
        run = committed(bulk.sessions, org_id).runs.get_run(run_id=failed.run_id)
        assert run is not None and run.status == "failed"
        # Only the first REST page (200 deals) is stored, and the watermark is its last row.
        raw = [v for k, v in _stored(bulk, org_id).items() if k[0] == "Opportunity"]
        assert len(raw) == 200
        mark = committed(bulk.sessions, org_id).records.load_watermarks()["Opportunity"]
        assert mark.modstamp == max(v[1] for v in raw)
        bulk.gateway.http.hooks["response"].remove(refuse_after_abort)
        org.control("DELETE", "faults")
        org.control("POST", "bulk", {"auto": True})
        assert pull(bulk, org_id=org_id).ok
        assert pull(rest, org_id=org_id, mode="full").ok
        assert _stored(bulk, org_id) == _stored(rest, org_id)
    finally:
        bulk.engine.dispose()


@pytest.mark.slow
def test_a_job_gone_between_result_sets_keeps_the_sets_stored_and_rest_reads_the_rest(
    org: DevorgClient, arranged: dict[str, list[str]], rest: SyncDeps, tmp_path: Path, pull: Pull
) -> None:
    org_id = org.info.org_id
    bulk = _deps(org, tmp_path, "gone", bulk_threshold=1)
    options = bulk.gateway.options
    assert options.bulk is not None
    # Result sets of 150 rows: the 450 deals after the first REST page come in three.
    bulk.gateway.options = dataclasses.replace(
        options, bulk=dataclasses.replace(options.bulk, result_rows=150)
    )
    sets: list[str] = []

    def delete_after_first_set(response: requests.Response, *_a: Any, **_k: Any) -> None:
        # Salesforce deletes jobs after seven days (or an admin does): the next set is a 404.
        if response.request.method == "GET" and response.url.split("?")[0].endswith("/results"):
            sets.append(response.url)
            if len(sets) == 1:
                job = response.url.split("/jobs/query/")[1].split("/")[0]
                org.http.delete(f"{org.base}/services/data/v62.0/jobs/query/{job}")

    bulk.gateway.http.hooks["response"].append(delete_after_first_set)
    try:
        outcome = pull(bulk, org_id=org_id, mode="full")
        assert outcome.result is not None, outcome.error
        opp = outcome.result.objects["Opportunity"]
        assert (opp.bulk_jobs, opp.bulk_fallbacks, opp.stored) == (1, 1, DEALS)
        assert len(sets) == 2  # the first set stored, the second refused (404)
        assert pull(rest, org_id=org_id, mode="full").ok
        assert _stored(bulk, org_id) == _stored(rest, org_id)
    finally:
        bulk.engine.dispose()
