"""5,000 changes pulled incrementally at 200 a page (own module: its own devorg)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from connector.deps import PullOptions, SyncDeps
from connector.pull import PullOutcome
from tests.store_kit import committed

if TYPE_CHECKING:
    from conftest import DevorgClient

Pull = Callable[..., PullOutcome]


@pytest.mark.slow
def test_incremental_pull_sees_5000_creates_updates_and_deletes_exactly_once(
    org: DevorgClient, deps: SyncDeps, pull: Pull
) -> None:
    org_id = org.info.org_id
    deps = dataclasses.replace(deps, options=PullOptions(lookback=timedelta(0)))
    reps = org.make_reps(5)
    existing = org.make_deals(reps, 3000)
    first = pull(deps, org_id=org_id)
    assert first.ok, first.error
    assert existing[0] in committed(deps.sessions, org_id).records.load_canonical(kind="deal")

    created = org.make_deals(reps, 2000, amount=2000.0)
    updated = existing[:2000]
    org.update("Opportunity", [{"Id": i, "Amount": 5555.5} for i in updated])
    deleted = existing[2000:3000]
    org.delete(deleted)
    calls_before = org.api_calls()
    second = pull(deps, org_id=org_id)
    assert second.ok, second.error
    assert second.result is not None
    result = second.result
    opp = result.objects["Opportunity"]
    assert result.changed["deal"] == frozenset(created + updated + deleted)
    assert (opp.changed, opp.deleted, opp.duplicates) == (5000, 1000, 0)
    assert opp.pages == 25  # 5,000 changes at 200 a page
    # Calls: 4 queries + 24 nextRecordsUrl pages + describes (5 objects incl. the split type).
    assert org.api_calls() - calls_before == result.api_calls
    assert result.api_calls <= 25 + 3 + 5

    live = committed(deps.sessions, org_id).records.load_canonical(kind="deal")
    everything = committed(deps.sessions, org_id).records.load_canonical(
        kind="deal", include_deleted=True
    )
    assert all(live[i].payload["amount"] == {"$decimal": "5555.5"} for i in updated)
    assert all(everything[i].deleted and i not in live for i in deleted)
    assert all(live[i].payload["amount"] == {"$decimal": "2000.0"} for i in created)
    assert all(live[i].changed_run_id == second.run_id for i in created + updated)

    run = committed(deps.sessions, org_id).runs.get_run(run_id=second.run_id)
    assert run is not None and run.status == "succeeded"
    assert run.counts["Opportunity"]["changed"] == 5000
    assert run.api_calls == result.api_calls and run.api_limit == 1_000_000
    assert run.duration_ms is not None

    third = pull(deps, org_id=org_id)  # nothing changed since: nothing arrives twice
    assert third.result is not None and third.result.changed_kinds == frozenset()
