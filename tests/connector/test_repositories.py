"""Repositories and the page commit, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from connector.settings import Settings
from connector.store.engine import make_engine, make_session_factory
from connector.store.migrate import upgrade
from connector.store.pages import commit_page, mark_vanished, vanished_candidates
from connector.store.repositories import (
    CanonicalRow,
    IssueRow,
    PageWrite,
    RawRow,
    RunUsage,
    SessionFactory,
    WatermarkState,
    create_run,
    fail_interrupted_runs,
    finish_run,
    get_run,
    list_runs,
    load_canonical,
    load_watermarks,
    open_issues,
    start_run,
    stored_states,
)

ORG = "00D000000000001AAA"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def sessions(store_settings: Settings) -> Iterator[SessionFactory]:
    engine = make_engine(store_settings)
    upgrade(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _page(
    *ids: str,
    at: datetime,
    kind_deleted: bool = False,
    issues: tuple[IssueRow, ...] = (),
    mark: WatermarkState | None = None,
    exists: bool = False,
) -> PageWrite:
    raw = [RawRow(i, at, {"Id": i}, kind_deleted, f"h-{i}", exists) for i in ids]
    canonical = [
        CanonicalRow(i, None if kind_deleted else {"id": i}, kind_deleted, f"h-{i}",
                     {"owner_id": "005A", "close_date": None})
        for i in ids
    ]  # fmt: skip
    return PageWrite("Opportunity", "deal", raw, canonical, issues, list(ids), [], mark)


def test_run_lifecycle(sessions: SessionFactory) -> None:
    run_id = create_run(sessions, org_id=ORG, mode="incremental", now=NOW, requested_by="ops")
    assert get_run(sessions, run_id).status == "queued"  # type: ignore[union-attr]
    start_run(sessions, run_id, now=NOW)
    finish_run(sessions, run_id, status="succeeded", now=NOW + timedelta(seconds=3),
               counts={"User": {"fetched": 2}}, usage=RunUsage(7, 120, 5000))  # fmt: skip
    run = get_run(sessions, run_id)
    assert run is not None
    assert (run.status, run.api_calls, run.api_usage, run.api_limit, run.duration_ms) == (
        "succeeded", 7, 120, 5000, 3000,
    )  # fmt: skip
    assert run.counts == {"User": {"fetched": 2}}
    dead = create_run(sessions, org_id=ORG, mode="full", now=NOW + timedelta(minutes=1))
    start_run(sessions, dead, now=NOW)
    assert [r.id for r in list_runs(sessions, ORG)] == [dead, run_id]
    assert fail_interrupted_runs(sessions, ORG, now=NOW, keep=None) == 1
    assert get_run(sessions, dead).status == "failed"  # type: ignore[union-attr]


def test_commit_page_stores_everything_and_the_watermark_only_moves_forward(
    sessions: SessionFactory,
) -> None:
    run_id = create_run(sessions, org_id=ORG, mode="incremental", now=NOW)
    later = WatermarkState(NOW, "006B")
    issue = IssueRow("006X", "amount", "REQUIRED_VALUE_MISSING", "amount is required")
    usage = RunUsage(3, 10, 100)
    page = _page("006A", "006B", at=NOW, issues=(issue,), mark=later)
    commit_page(sessions, ORG, page, run_id=run_id, mapping_version_id=None, usage=usage, now=NOW)
    assert load_watermarks(sessions, ORG) == {"Opportunity": later}
    states = stored_states(sessions, ORG, "Opportunity", ["006A", "006B", "006Z"])
    assert set(states) == {"006A", "006B"} and states["006A"].input_hash == "h-006A"
    assert set(load_canonical(sessions, ORG, "deal")) == {"006A", "006B"}
    assert [i.record_id for i in open_issues(sessions, ORG)] == ["006X"]
    assert get_run(sessions, run_id).api_calls == 3  # type: ignore[union-attr]

    # A full pull re-reading an older page: rows update, the watermark stays.
    older = WatermarkState(NOW - timedelta(days=1), "006A")
    replay = _page("006A", at=NOW - timedelta(days=1), mark=older, exists=True)
    commit_page(sessions, ORG, replay, run_id=run_id, mapping_version_id=None, usage=usage, now=NOW)
    assert load_watermarks(sessions, ORG) == {"Opportunity": later}

    # The record that failed maps now: its issue resolves; then a delete keeps the payload.
    fixed = _page("006X", at=NOW, mark=later)
    commit_page(sessions, ORG, fixed, run_id=run_id, mapping_version_id=None, usage=usage, now=NOW)
    assert open_issues(sessions, ORG) == []
    gone = _page("006A", at=NOW + timedelta(seconds=1), kind_deleted=True, exists=True)
    commit_page(sessions, ORG, gone, run_id=run_id, mapping_version_id=None, usage=usage, now=NOW)
    every = load_canonical(sessions, ORG, "deal", include_deleted=True)
    assert every["006A"].deleted and every["006A"].payload == {"id": "006A"}
    assert "006A" not in load_canonical(sessions, ORG, "deal")


def test_a_failed_commit_leaves_nothing_behind(sessions: SessionFactory) -> None:
    run_id = create_run(sessions, org_id=ORG, mode="incremental", now=NOW)
    usage = RunUsage(1, None, None)
    first = _page("006A", at=NOW, mark=WatermarkState(NOW, "006A"))
    commit_page(sessions, ORG, first, run_id=run_id, mapping_version_id=None, usage=usage, now=NOW)
    # A page that claims 006A is new collides on the primary key: the whole page rolls back.
    bad = _page("006B", "006A", at=NOW + timedelta(1), mark=WatermarkState(NOW + timedelta(1), "x"))
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        commit_page(
            sessions, ORG, bad, run_id=run_id, mapping_version_id=None, usage=usage, now=NOW
        )
    assert load_watermarks(sessions, ORG)["Opportunity"].last_id == "006A"
    assert set(stored_states(sessions, ORG, "Opportunity", ["006A", "006B"])) == {"006A"}


def test_vanished_records_are_marked_deleted(sessions: SessionFactory) -> None:
    old_run = create_run(sessions, org_id=ORG, mode="incremental", now=NOW)
    usage = RunUsage(1, None, None)
    page = _page("006A", "006B", at=NOW)
    commit_page(sessions, ORG, page, run_id=old_run, mapping_version_id=None, usage=usage, now=NOW)
    full_run = create_run(sessions, org_id=ORG, mode="full", now=NOW)
    seen = PageWrite("Opportunity", "deal", [], [], [], [], ["006A"], None)
    commit_page(sessions, ORG, seen, run_id=full_run, mapping_version_id=None, usage=usage, now=NOW)
    before = NOW + timedelta(hours=1)
    assert vanished_candidates(sessions, ORG, "Opportunity", run_id=full_run, before=before) == [
        "006B"
    ]
    mark_vanished(sessions, ORG, object_name="Opportunity", kind="deal", ids=["006B"],
                  run_id=full_run, now=NOW)  # fmt: skip
    assert set(load_canonical(sessions, ORG, "deal")) == {"006A"}
    assert stored_states(sessions, ORG, "Opportunity", ["006B"])["006B"].is_deleted
