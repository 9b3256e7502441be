"""The ops console: run history, live progress, resync, record issues and write-back retry.

The web app never runs a sync: a resync or a retry queues a SyncRun request in the database
and the clock process starts it (connector/clock.py); a burst of requests is one run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for

from connector.reports.runs import (
    counts_table,
    latest_usage,
    progress_view,
    run_json,
    run_row,
    stage_times,
    usage_points,
)
from connector.store.models import ISSUE_STAGES, ISSUE_STATUSES
from connector.store.run_reads import (
    IssueFilter,
)
from connector.sync.queue import MODES, request_sync
from webapp.auth.guard import bad_request, current_viewer, not_found, require
from webapp.auth.session import Viewer
from webapp.charts.usage import calls_chart, usage_meter
from webapp.db import org_unit, viewer_unit
from webapp.params import form_ints, query_int

bp = Blueprint("ops", __name__, url_prefix="/ops")

PAGE_SIZE = 50
HISTORY = 50
Notice = tuple[str, str]  # (alert kind: success | info | error, text)


def requested_by(viewer: Viewer) -> str:
    """Who asked for a run, as stored on it: name and Salesforce user id."""
    who = viewer.user_id if viewer.name == viewer.user_id else f"{viewer.name} ({viewer.user_id})"
    return who[:120]


def mode_error(mode: object) -> str:
    """The message for a resync mode we do not know."""
    return f"mode must be 'incremental' or 'full', got {mode!r}"


def queue_run(viewer: Viewer, mode: str) -> tuple[int, bool]:
    """Queue a run for the viewer's org; (run id, whether it joined a waiting request)."""
    with org_unit(viewer.org_id) as unit:
        waiting = unit.runs.queued_run_id()
    run_id = request_sync(
        current_app.extensions["quotaflow.sessions"],
        org_id=viewer.org_id,
        mode=mode,
        requested_by=requested_by(viewer),
        now=datetime.now(UTC),
    )
    return run_id, waiting == run_id


def _page_number() -> int:
    return query_int("page", default=1)


@bp.route("/runs", methods=["GET", "POST"])
@require("ops", "admin")
def runs() -> Any:
    """Run history, the active run's progress, resync buttons and the API-usage chart."""
    return _runs_page(current_viewer())


@bp.route("/runs/resync", methods=["POST"])
@require("ops", "admin", csrf=True)
def resync() -> Any:
    """Queue an incremental or full run for the clock to start."""
    mode = request.form.get("mode", "")
    if mode not in MODES:
        raise bad_request(mode_error(mode))
    viewer = current_viewer()
    run_id, joined = queue_run(viewer, mode)
    if joined:
        text = f"A run was already waiting (#{run_id}); your {mode} request joined it."
    else:
        text = f"{mode.capitalize()} run #{run_id} is queued; the clock starts it shortly."
    return _runs_page(viewer, notice=("success", text))


def _runs_page(viewer: Viewer, *, notice: Notice | None = None, status: int = 200) -> Any:
    now = datetime.now(UTC)
    with org_unit(viewer.org_id) as unit:
        history = unit.runs.recent_runs(limit=HISTORY)
        active = unit.runs.active_runs()
        failures = unit.issues.open_writeback_count()
    usage = latest_usage(history)
    points = usage_points(history)
    settings = current_app.extensions["quotaflow.settings"]
    page = render_template(
        "ops/runs.html",
        notice=notice,
        active=[(progress_view(r, now=now), run_json(r)) for r in active],
        rows=[run_row(r) for r in history],
        chart=calls_chart(points),
        chart_count=len(points),
        meter=usage_meter(*usage) if usage else None,
        usage=usage,
        failures=failures,
        interval=settings.sync_interval,
    )
    return page, status


@bp.route("/runs/<int:run_id>", methods=["GET", "POST"])
@require("ops", "admin")
def run(run_id: int) -> Any:
    """One run: its counts, timings, API usage, error and the issues it recorded."""
    page = _page_number()
    now = datetime.now(UTC)
    with viewer_unit() as unit:
        found = unit.runs.run_by_id(run_id=run_id)
        if found is None:
            raise not_found(f"Sync run {run_id}")
        issues, total = unit.issues.issue_page(
            filters=IssueFilter(run_id=run_id), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
    return render_template(
        "ops/run.html",
        run=found,
        row=run_row(found),
        progress=progress_view(found, now=now) if found.status in ("queued", "running") else None,
        run_api=run_json(found),
        counts=counts_table(found),
        stages=stage_times(found),
        issues=issues,
        pager=_pager(total, page, "ops.run", run_id=run_id),
    )


def _pager(total: int, page: int, endpoint: str, **params: Any) -> dict[str, Any]:
    pages = max(1, -(-total // PAGE_SIZE))
    return {
        "total": total,
        "page": page,
        "pages": pages,
        "first": (page - 1) * PAGE_SIZE + 1 if total else 0,
        "last": min(total, page * PAGE_SIZE),
        "newer": url_for(endpoint, page=page - 1, **params) if page > 1 else None,
        "older": url_for(endpoint, page=page + 1, **params) if page < pages else None,
    }


def _issue_filter() -> tuple[IssueFilter, dict[str, str]]:
    stage = request.values.get("stage", "")
    status = request.values.get("status", "open") or "open"
    object_name = request.values.get("object", "").strip()
    if stage and stage not in ISSUE_STAGES:
        raise bad_request(f"stage must be one of {', '.join(ISSUE_STAGES)}, got {stage!r}")
    if status != "any" and status not in ISSUE_STATUSES:
        raise bad_request(f"status must be open, resolved or any, got {status!r}")
    if len(object_name) > 80:
        raise bad_request("object must be an object name (at most 80 characters)")
    chosen = {"stage": stage, "status": status, "object": object_name}
    return (
        IssueFilter(
            stage=stage or None,
            status=None if status == "any" else status,
            object_name=object_name or None,
        ),
        chosen,
    )


@bp.route("/issues", methods=["GET", "POST"])
@require("ops", "admin")
def issues() -> Any:
    """Record issues, filtered by stage, status and object, 50 a page."""
    return _issues_page(current_viewer())


def _issues_page(viewer: Viewer, *, notice: Notice | None = None, status: int = 200) -> Any:
    filters, chosen = _issue_filter()
    page = _page_number()
    with org_unit(viewer.org_id) as unit:
        found, total = unit.issues.issue_page(
            filters=filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        objects = unit.issues.issue_objects()
        failures = unit.issues.open_writeback_count()
    body = render_template(
        "ops/issues.html",
        notice=notice,
        issues=found,
        chosen=chosen,
        stages=ISSUE_STAGES,
        objects=objects,
        failures=failures,
        pager=_pager(total, page, "ops.issues", **{k: v for k, v in chosen.items() if v}),
    )
    return body, status


def _chosen_issue_ids() -> list[int] | None:
    if request.form.get("scope") == "all":
        return None
    return form_ints("issue")


@bp.route("/issues/retry", methods=["POST"])
@require("ops", "admin", csrf=True)
def retry() -> Any:
    """Write the chosen write-back failures again on the next run (queued now)."""
    viewer = current_viewer()
    ids = _chosen_issue_ids()
    if ids is not None and not ids:
        notice = ("error", "Choose at least one write-back failure to retry.")
        return _issues_page(viewer, notice=notice, status=400)
    with viewer_unit() as unit:
        count = unit.issues.repend_writeback(issue_ids=ids)
        if count == 0:
            notice = ("error", "None of the chosen issues is an open write-back failure.")
            return _issues_page(viewer, notice=notice, status=400)
        queued = unit.runs.enqueue(
            mode="incremental", requested_by=requested_by(viewer), now=datetime.now(UTC)
        )
        run_id = queued.id
        unit.commit()
    records = "record" if count == 1 else "records"
    text = f"{count:,} {records} will be written on the next run (#{run_id})."
    return _runs_page(viewer, notice=("success", text))
