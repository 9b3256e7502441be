"""Pieces of the ops console without the web: run shaping, the usage chart, stored progress."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from connector.reports.runs import (
    duration_text,
    latest_usage,
    progress_text,
    progress_view,
    run_json,
    run_row,
    usage_points,
)
from connector.store.repositories import RunUsage, SessionFactory
from connector.store.run_reads import RunRecord, run_by_id
from connector.sync.progress_store import StoredProgress
from tests.store_kit import committed
from webapp.charts.usage import calls_chart, usage_meter

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ORG = "00D000000000001AAA"


def _record(**changes: object) -> RunRecord:
    base = RunRecord(
        id=7, mode="incremental", status="succeeded", dry_run=False, requested_by="ops",
        requested_at=T0, started_at=T0, heartbeat_at=T0 + timedelta(seconds=3),
        finished_at=T0 + timedelta(seconds=3), counts={"pulled": 12, "written": 3, "issues": 0},
        api_calls=9, api_usage=120, api_limit=15000, duration_ms=3210, error=None,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ms", "text"),
    [(None, "—"), (850, "850 ms"), (12_300, "12.3 s"), (245_000, "4 min 05 s"),
     (3_720_000, "1 h 02 min")],
)  # fmt: skip
def test_duration_text(ms: int | None, text: str) -> None:
    assert duration_text(ms) == text


def test_run_json_and_row() -> None:
    run = _record()
    data = run_json(run)
    assert data["started_at"] == "2026-03-02T09:00:00Z" and data["duration_ms"] == 3210
    row = run_row(run)
    assert (row.pulled, row.written, row.usage, row.duration) == (12, 3, "120 / 15,000", "3.2 s")
    assert run_row(_record(status="running")).pulled is None  # counts only when finished


@pytest.mark.parametrize(
    ("status", "stage", "step", "done", "total", "text"),
    [
        ("queued", "", 0, 0, 0, "Waiting for the clock to start it"),
        ("running", "", 0, 0, 0, "Starting"),
        ("running", "calculate", 2, 0, 0, "Step 2 of 4: calculate"),
        ("running", "write", 4, 200, 1450, "Step 4 of 4: write 200/1,450"),
        ("failed", "", 0, 0, 0, "Failed"),
    ],
)
def test_progress_text(
    status: str, stage: str, step: int, done: int, total: int, text: str
) -> None:
    assert progress_text(status, stage, step, done, total) == text


def test_progress_view_reads_stored_progress_and_flags_silence() -> None:
    progress = {"stage": "write", "done": 5, "total": 10}
    run = _record(status="running", counts={"progress": progress}, heartbeat_at=T0)
    view = progress_view(run, now=T0 + timedelta(seconds=30))
    assert (view.step, view.done, view.total, view.stale) == (4, 5, 10, False)
    assert progress_view(run, now=T0 + timedelta(minutes=5)).stale


def test_usage_points_and_latest_usage() -> None:
    runs = [
        _record(id=3, api_calls=30, finished_at=T0 + timedelta(hours=1), api_usage=300),
        _record(id=2, api_calls=20, heartbeat_at=T0 - timedelta(hours=1), api_usage=200),
        _record(id=4, status="queued", api_calls=0, finished_at=None, api_usage=None),
    ]
    assert usage_points(runs) == [(2, 20, "succeeded"), (3, 30, "succeeded")]
    assert latest_usage(runs) == (300, 15000)
    assert latest_usage([_record(api_usage=None)]) is None


def test_calls_chart_is_accessible_svg() -> None:
    svg = str(calls_chart([(1, 40, "succeeded"), (2, 7, "failed")]))
    assert svg.startswith('<svg class="qf-chart"') and 'role="img"' in svg
    assert "<title>" in svg and svg.count("<rect") == 2 and "#ba0517" in svg
    assert "No finished runs yet" in str(calls_chart([]))
    assert "92.0%" in str(usage_meter(920, 1000))


def test_stored_progress_persists_stage_and_counts(sessions: SessionFactory) -> None:
    run_id = committed(sessions, ORG).runs.create_run(mode="full", now=T0)
    committed(sessions, ORG).runs.start_run(run_id=run_id, now=T0)
    clock = iter(T0 + timedelta(seconds=s) for s in range(100))
    progress = StoredProgress(sessions, org_id=ORG, clock=lambda: next(clock), min_interval=60)
    progress.stage("write")
    progress.advance(1, 10)  # throttled: not stored yet
    with sessions() as session:
        stored = run_by_id(session, org_id=ORG, run_id=run_id)
    assert stored is not None and stored.counts["progress"]["stage"] == "write"
    assert stored.counts["progress"]["done"] == 0
    progress.advance(10, 10)  # the end of a stage is always stored
    with sessions() as session:
        stored = run_by_id(session, org_id=ORG, run_id=run_id)
    assert stored is not None and stored.counts["progress"] == {
        "stage": "write", "detail": "", "done": 10, "total": 10
    }  # fmt: skip
    assert stored.heartbeat_at is not None and stored.heartbeat_at > T0
    committed(sessions, ORG).runs.finish_run(
        run_id=run_id, status="succeeded", now=T0, counts={"pulled": 1}, usage=RunUsage(1, 2, 3)
    )
    progress.stage("late")  # the run is over: nothing to update, nothing raised
    with sessions() as session:
        stored = run_by_id(session, org_id=ORG, run_id=run_id)
    assert stored is not None and "progress" not in stored.counts
    with sessions() as session:
        assert run_by_id(session, org_id="00Dother", run_id=run_id) is None
