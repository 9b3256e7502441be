"""Queued sync requests: coalescing, full winning over incremental, claiming once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from connector.settings import Settings
from connector.store.engine import make_engine, make_session_factory
from connector.store.migrate import upgrade
from connector.store.models import SyncRun
from connector.store.run_queue import queued_count
from connector.sync.queue import request_sync
from tests.store_kit import committed

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ORG = "00D000000000001AAA"


def test_requests_coalesce_and_are_claimed_once(store_settings: Settings) -> None:
    engine = make_engine(store_settings)
    upgrade(engine)
    sessions = make_session_factory(engine)
    first = request_sync(sessions, org_id=ORG, mode="incremental", requested_by="web", now=T0)
    again = request_sync(sessions, org_id=ORG, mode="incremental", requested_by="cli", now=T0)
    full = request_sync(sessions, org_id=ORG, mode="full", requested_by="cli", now=T0)
    other = request_sync(sessions, org_id="00Dother", mode="incremental", requested_by=None, now=T0)
    assert first == again == full != other
    with sessions() as session:
        assert queued_count(session, org_id=ORG) == 1
    assert committed(sessions, ORG).runs.claim_next(now=T0) == (first, "full")
    assert committed(sessions, ORG).runs.claim_next(now=T0) is None
    # a request made while a run is going waits for the next claim
    later = request_sync(sessions, org_id=ORG, mode="incremental", requested_by="web", now=T0)
    assert later != first
    assert committed(sessions, ORG).runs.claim_next(now=T0) == (later, "incremental")
    with sessions() as session:
        statuses = dict(session.execute(select(SyncRun.id, SyncRun.status)).all())
    assert statuses == {first: "running", other: "queued", later: "running"}
    engine.dispose()


def test_changes_after_a_baseline_go_by_start_time_not_id(store_settings: Settings) -> None:
    from datetime import timedelta

    from connector.store.results import runs_started_after

    engine = make_engine(store_settings)
    upgrade(engine)
    sessions = make_session_factory(engine)
    queued = request_sync(sessions, org_id=ORG, mode="full", requested_by="web", now=T0)
    baseline = committed(sessions, ORG).runs.create_run(mode="incremental", now=T0)
    committed(sessions, ORG).runs.start_run(run_id=baseline, now=T0 + timedelta(seconds=1))
    # the early request (smaller id) is claimed only after the baseline run finished
    assert committed(sessions, ORG).runs.claim_next(now=T0 + timedelta(seconds=5)) == (
        queued,
        "full",
    )
    later = committed(sessions, ORG).runs.create_run(mode="incremental", now=T0)
    committed(sessions, ORG).runs.start_run(run_id=later, now=T0 + timedelta(seconds=9))
    with sessions() as session:
        assert runs_started_after(session, org_id=ORG, run_id=baseline) == {queued, later}
        assert runs_started_after(session, org_id=ORG, run_id=later) == set()
    engine.dispose()


def test_a_run_notices_a_lost_lease_before_writing(sqlite_settings: Settings) -> None:
    from datetime import timedelta

    import pytest

    from connector.store.unit import OrgLease
    from connector.sync.inputs import LeaseLost, held_lease

    engine = make_engine(sqlite_settings)
    upgrade(engine)
    sessions = make_session_factory(engine)
    now = [T0]
    ttl = timedelta(seconds=30)
    with held_lease(
        sessions, org_id=ORG, holder="a", ttl=ttl, wait_seconds=0, clock=lambda: now[0]
    ) as lease:
        lease.confirm()  # still ours
        now[0] = T0 + timedelta(seconds=31)  # a long transaction outlived the lease...
        assert OrgLease(sessions, ORG).try_acquire(
            holder="b", now=now[0], ttl=ttl
        )  # ...and b took it
        with pytest.raises(LeaseLost):
            lease.confirm()
    engine.dispose()
