"""Repositories and the page commit, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connector.store.repositories import (
    CanonicalRow,
    IssueRow,
    PageWrite,
    RawRow,
    RunUsage,
    SessionFactory,
    WatermarkState,
)
from tests.store_kit import committed

ORG = "00D000000000001AAA"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def store(sessions: SessionFactory) -> Any:
    """The org's repositories, each call committed on its own."""
    return committed(sessions, ORG)


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
    run_id = store(sessions).runs.create_run(mode="incremental", now=NOW, requested_by="ops")
    assert store(sessions).runs.get_run(run_id=run_id).status == "queued"  # type: ignore[union-attr]
    store(sessions).runs.start_run(run_id=run_id, now=NOW)
    store(sessions).runs.finish_run(
        run_id=run_id,
        status="succeeded",
        now=NOW + timedelta(seconds=3),
        counts={"User": {"fetched": 2}},
        usage=RunUsage(7, 120, 5000),
    )
    run = store(sessions).runs.get_run(run_id=run_id)
    assert run is not None
    assert (run.status, run.api_calls, run.api_usage, run.api_limit, run.duration_ms) == (
        "succeeded", 7, 120, 5000, 3000,
    )  # fmt: skip
    assert run.counts == {"User": {"fetched": 2}}
    dead = store(sessions).runs.create_run(mode="full", now=NOW + timedelta(minutes=1))
    store(sessions).runs.start_run(run_id=dead, now=NOW)
    assert [r.id for r in store(sessions).runs.list_runs()] == [dead, run_id]
    assert store(sessions).runs.fail_interrupted_runs(now=NOW, keep=None) == 1
    assert store(sessions).runs.get_run(run_id=dead).status == "failed"  # type: ignore[union-attr]


def test_commit_page_stores_everything_and_the_watermark_only_moves_forward(
    sessions: SessionFactory,
) -> None:
    run_id = store(sessions).runs.create_run(mode="incremental", now=NOW)
    later = WatermarkState(NOW, "006B")
    issue = IssueRow("006X", "amount", "REQUIRED_VALUE_MISSING", "amount is required")
    usage = RunUsage(3, 10, 100)
    page = _page("006A", "006B", at=NOW, issues=(issue,), mark=later)
    store(sessions).records.commit_page(
        page=page, run_id=run_id, mapping_version_id=None, usage=usage, now=NOW
    )
    assert store(sessions).records.load_watermarks() == {"Opportunity": later}
    states = store(sessions).records.stored_states(
        object_name="Opportunity", ids=["006A", "006B", "006Z"]
    )
    assert set(states) == {"006A", "006B"} and states["006A"].input_hash == "h-006A"
    assert set(store(sessions).records.load_canonical(kind="deal")) == {"006A", "006B"}
    assert [i.record_id for i in store(sessions).issues.open_issues()] == ["006X"]
    assert store(sessions).runs.get_run(run_id=run_id).api_calls == 3  # type: ignore[union-attr]

    # A full pull re-reading an older page: rows update, the watermark stays.
    older = WatermarkState(NOW - timedelta(days=1), "006A")
    replay = _page("006A", at=NOW - timedelta(days=1), mark=older, exists=True)
    store(sessions).records.commit_page(
        page=replay, run_id=run_id, mapping_version_id=None, usage=usage, now=NOW
    )
    assert store(sessions).records.load_watermarks() == {"Opportunity": later}

    # The record that failed maps now: its issue resolves; then a delete keeps the payload.
    fixed = _page("006X", at=NOW, mark=later)
    store(sessions).records.commit_page(
        page=fixed, run_id=run_id, mapping_version_id=None, usage=usage, now=NOW
    )
    assert store(sessions).issues.open_issues() == []
    gone = _page("006A", at=NOW + timedelta(seconds=1), kind_deleted=True, exists=True)
    store(sessions).records.commit_page(
        page=gone, run_id=run_id, mapping_version_id=None, usage=usage, now=NOW
    )
    every = store(sessions).records.load_canonical(kind="deal", include_deleted=True)
    assert every["006A"].deleted and every["006A"].payload == {"id": "006A"}
    assert "006A" not in store(sessions).records.load_canonical(kind="deal")


def test_a_failed_commit_leaves_nothing_behind(sessions: SessionFactory) -> None:
    run_id = store(sessions).runs.create_run(mode="incremental", now=NOW)
    usage = RunUsage(1, None, None)
    first = _page("006A", at=NOW, mark=WatermarkState(NOW, "006A"))
    store(sessions).records.commit_page(
        page=first, run_id=run_id, mapping_version_id=None, usage=usage, now=NOW
    )
    # A page that claims 006A is new collides on the primary key: the whole page rolls back.
    bad = _page("006B", "006A", at=NOW + timedelta(1), mark=WatermarkState(NOW + timedelta(1), "x"))
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        store(sessions).records.commit_page(
            page=bad, run_id=run_id, mapping_version_id=None, usage=usage, now=NOW
        )
    assert store(sessions).records.load_watermarks()["Opportunity"].last_id == "006A"
    assert set(
        store(sessions).records.stored_states(object_name="Opportunity", ids=["006A", "006B"])
    ) == {"006A"}


def test_vanished_records_are_marked_deleted(sessions: SessionFactory) -> None:
    old_run = store(sessions).runs.create_run(mode="incremental", now=NOW)
    usage = RunUsage(1, None, None)
    page = _page("006A", "006B", at=NOW)
    store(sessions).records.commit_page(
        page=page, run_id=old_run, mapping_version_id=None, usage=usage, now=NOW
    )
    full_run = store(sessions).runs.create_run(mode="full", now=NOW)
    seen = PageWrite("Opportunity", "deal", [], [], [], [], ["006A"], None)
    store(sessions).records.commit_page(
        page=seen, run_id=full_run, mapping_version_id=None, usage=usage, now=NOW
    )
    before = NOW + timedelta(hours=1)
    assert store(sessions).records.vanished_candidates(
        object_name="Opportunity", run_id=full_run, before=before
    ) == ["006B"]
    store(sessions).records.mark_vanished(
        object_name="Opportunity", kind="deal", ids=["006B"], run_id=full_run, now=NOW
    )
    assert set(store(sessions).records.load_canonical(kind="deal")) == {"006A"}
    assert (
        store(sessions)
        .records.stored_states(object_name="Opportunity", ids=["006B"])["006B"]
        .is_deleted
    )
