"""The pull against the devorg over real HTTPS, on SQLite and PostgreSQL stores."""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
import requests
import responses

from connector.deps import PullOptions, SyncDeps
from connector.pull import PullOutcome
from tests.store_kit import committed

if TYPE_CHECKING:
    from conftest import DevorgClient

Pull = Callable[..., PullOutcome]


def _no_lookback(deps: SyncDeps) -> SyncDeps:
    return dataclasses.replace(deps, options=PullOptions(lookback=timedelta(0)))


def _live_deals(deps: SyncDeps, org_id: str) -> dict[str, Any]:
    return committed(deps.sessions, org_id).records.load_canonical(kind="deal")


@pytest.mark.slow
def test_user_is_pulled_without_isdeleted_and_echoes_are_not_changes(
    org: DevorgClient, deps: SyncDeps, pull: Pull
) -> None:
    org_id = org.info.org_id
    reps = org.make_reps(2)
    deal = org.make_deals(reps, 1)[0]
    first = pull(deps, org_id=org_id)
    assert first.result is not None
    fields = first.result.field_lists
    assert "IsDeleted" not in fields["User"]  # User has no IsDeleted: INVALID_FIELD
    assert "IsDeleted" in fields["Opportunity"]
    # Our own write-back bumps SystemModstamp but no mapped input: recognised as no change.
    org.update("Opportunity", [{"Id": deal, "Estimated_Commission__c": 123.45}])
    org.update("User", [{"Id": reps[0], "IsActive": False}])
    second = pull(deps, org_id=org_id)
    assert second.result is not None
    assert deal not in second.result.changed.get("deal", frozenset())
    assert second.result.objects["Opportunity"].unchanged >= 1
    assert second.result.changed["rep"] == frozenset({reps[0]})
    rep = committed(deps.sessions, org_id).records.load_canonical(kind="rep")[reps[0]]
    assert rep.payload["is_active"] is False


@pytest.mark.slow
def test_late_commit_inside_the_lookback_is_picked_up_and_older_by_full_reconcile(
    org: DevorgClient, deps: SyncDeps, pull: Pull
) -> None:
    org_id = org.info.org_id
    reps = org.make_reps(1)
    old = org.control(
        "POST",
        "late-commit",
        {"object": "Opportunity", "age_seconds": 1800, "fields": {
            "Name": "Old", "OwnerId": reps[0], "CloseDate": "2026-02-01",
            "StageName": "Closed Won", "Amount": 10.0}},
    )["id"]  # fmt: skip
    assert pull(deps, org_id=org_id).ok
    mark = committed(deps.sessions, org_id).records.load_watermarks()["Opportunity"].modstamp

    # A change committing late: its SystemModstamp is two minutes older than the watermark.
    org.control(
        "POST",
        "late-commit",
        {"object": "Opportunity", "id": old, "age_seconds": 120, "fields": {"Amount": 20.0}},
    )
    stamp = org.query(f"SELECT SystemModstamp FROM Opportunity WHERE Id = '{old}'")[0]
    assert datetime.fromisoformat(stamp["SystemModstamp"].replace("+0000", "+00:00")) < mark
    second = pull(deps, org_id=org_id)
    assert second.result is not None and old in second.result.changed["deal"]
    assert _live_deals(deps, org_id)[old].payload["amount"] == {"$decimal": "20.0"}

    # Older than the lookback: the incremental pull cannot see it, the full reconcile does.
    org.control(
        "POST",
        "late-commit",
        {"object": "Opportunity", "id": old, "age_seconds": 900, "fields": {"Amount": 30.0}},
    )
    third = pull(deps, org_id=org_id)
    assert third.result is not None and old not in third.result.changed.get("deal", ())
    full = pull(deps, org_id=org_id, mode="full")
    assert full.result is not None and old in full.result.changed["deal"]
    assert _live_deals(deps, org_id)[old].payload["amount"] == {"$decimal": "30.0"}
    # The full pull re-read everything, and the watermark did not move back.
    assert (
        committed(deps.sessions, org_id).records.load_watermarks()["Opportunity"].modstamp >= mark
    )


@pytest.mark.slow
def test_full_reconcile_marks_hard_deleted_records(
    org: DevorgClient, deps: SyncDeps, pull: Pull
) -> None:
    org_id = org.info.org_id
    reps = org.make_reps(1)
    soft, hard, kept = org.make_deals(reps, 3)
    assert pull(deps, org_id=org_id).ok
    org.delete([soft])
    # An emptied recycle bin: the row is gone from Salesforce altogether.
    with sqlite3.connect(Path(org.info.data_dir) / "devorg.db") as conn:
        conn.execute('DELETE FROM "Opportunity" WHERE Id = ?', (hard,))
    incremental = pull(deps, org_id=org_id)
    assert incremental.result is not None
    assert incremental.result.changed["deal"] == frozenset({soft})  # the hard delete is invisible
    full = pull(deps, org_id=org_id, mode="full")
    assert full.result is not None
    assert full.result.objects["Opportunity"].vanished == 1
    assert hard in full.result.changed["deal"]
    live = _live_deals(deps, org_id)
    assert soft not in live and hard not in live and kept in live


@pytest.mark.slow
def test_session_expiring_mid_paging_reauthenticates_and_continues_from_the_same_page(
    org: DevorgClient, deps: SyncDeps, pull: Pull
) -> None:
    org_id = org.info.org_id
    org.make_deals(org.make_reps(1), 700)
    pages_seen: list[str] = []

    def expire_after_second_page(response: requests.Response, *_a: Any, **_k: Any) -> None:
        if re.search(r"/query(All)?/[^/]+$", urlsplit(response.url).path):
            pages_seen.append(response.url)
            if len(pages_seen) == 2 and response.status_code == 200:
                org.faults({"expire_sessions": True})

    deps.gateway.http.hooks["response"].append(expire_after_second_page)
    org.control("POST", "stats/reset")
    outcome = pull(deps, org_id=org_id)
    assert outcome.ok, outcome.error
    assert outcome.result is not None
    stats = org.control("GET", "stats")
    assert deps.gateway.logins == 2  # one re-authentication
    # The expired page was asked again with the new token: one 401, then the same URL.
    assert len(pages_seen) == len(set(pages_seen)) + 1
    assert stats["by_kind"]["queryAll"] == 4  # one query per object: paging not restarted
    assert stats["rejected"] == {"INVALID_SESSION_ID": 1}
    everything = committed(deps.sessions, org_id).records.load_canonical(
        kind="deal", include_deleted=True
    )
    devorg_ids = {r["Id"] for r in org.query("SELECT Id FROM Opportunity")}
    assert set(everything) == devorg_ids


@pytest.mark.slow
def test_503_burst_is_retried_and_the_run_succeeds(
    org: DevorgClient, deps: SyncDeps, pull: Pull
) -> None:
    org_id = org.info.org_id
    org.make_deals(org.make_reps(1), 5)
    org.faults({"unavailable": {"calls": 3}})
    outcome = pull(deps, org_id=org_id)
    assert outcome.ok, outcome.error
    assert org.control("GET", "faults")["unavailable"]["calls"] == 0


@pytest.mark.slow
def test_request_limit_exceeded_fails_cleanly_and_keeps_watermarks(
    org: DevorgClient, deps: SyncDeps, pull: Pull
) -> None:
    org_id = org.info.org_id
    reps = org.make_reps(1)
    org.make_deals(reps, 5)
    assert pull(deps, org_id=org_id).ok
    before = committed(deps.sessions, org_id).records.load_watermarks()
    org.make_deals(reps, 5)
    org.faults({"request_limit_exceeded": {"seconds": 60}})
    outcome = pull(deps, org_id=org_id, now=datetime.now(UTC))
    assert not outcome.ok
    assert outcome.error is not None and "REQUEST_LIMIT_EXCEEDED" in outcome.error
    assert committed(deps.sessions, org_id).records.load_watermarks() == before
    run = committed(deps.sessions, org_id).runs.get_run(run_id=outcome.run_id)
    assert run is not None and run.status == "failed" and "24-hour" in (run.error or "")


def test_the_run_stops_before_the_configured_share_of_the_daily_limit(
    org: DevorgClient, deps: SyncDeps, pull: Pull
) -> None:
    org_id = org.info.org_id
    used = org.api_calls()
    org.control("POST", "limits", {"max": used + 1})  # the first call reports 100% used
    outcome = pull(deps, org_id=org_id)
    assert not outcome.ok and outcome.error is not None
    assert "ApiBudgetExhausted" in outcome.error
    assert org.api_calls() - used <= 1


def test_an_invalid_mapping_fails_the_run_before_any_data_call(
    org: DevorgClient, deps: SyncDeps, pull: Pull
) -> None:
    from connector.deps import ActiveMapping
    from mappings.compile import compile_mapping
    from mappings.defaults import default_mapping_text
    from mappings.loader import load_mapping

    text = default_mapping_text()
    assert "source: Amount," in text
    broken = load_mapping(text.replace("source: Amount,", "source: Amount_Typo__c,"))
    active = ActiveMapping(None, broken, compile_mapping(broken))
    deps = dataclasses.replace(deps, mapping_source=lambda _org: active)
    org.control("POST", "stats/reset")
    outcome = pull(deps, org_id=org.info.org_id)
    assert not outcome.ok and outcome.error is not None
    assert "Amount_Typo__c" in outcome.error
    kinds = org.control("GET", "stats")["by_kind"]
    assert kinds.get("queryAll", 0) == 0 and kinds.get("query", 0) == 0
    assert kinds.get("describe", 0) >= 1


@pytest.mark.slow
def test_an_expired_query_locator_reruns_the_query_from_the_committed_watermark(
    org: DevorgClient, deps: SyncDeps, pull: Pull
) -> None:
    org_id = org.info.org_id
    org.make_deals(org.make_reps(1), 450)
    devorg_ids = {r["Id"] for r in org.query("SELECT Id FROM Opportunity")}
    gone = [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as wire:
        # Everything goes to the devorg, except that the first nextRecordsUrl has expired.
        wire.add_passthru(re.compile(r"https://127\.0\.0\.1"))

        def expired_once(_request: Any) -> tuple[int, dict[str, str], str]:
            wire.remove(locator)
            return 400, {}, json.dumps(gone)

        locator = wire.add_callback("GET", re.compile(r".*/queryAll/[^/?]+$"), expired_once)
        outcome = pull(deps, org_id=org_id)
    assert outcome.ok and outcome.result is not None, outcome.error
    counts = outcome.result.objects
    assert sum(c.restarts for c in counts.values()) == 1
    assert (
        set(
            committed(deps.sessions, org_id).records.load_canonical(
                kind="deal", include_deleted=True
            )
        )
        == devorg_ids
    )
    assert counts["Opportunity"].changed == len(devorg_ids)  # each record once
