"""API: sync runs. History, one run (the ops console polls it for live progress), resync."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from connector.reports.runs import run_json
from connector.sync.queue import MODES
from webapp.api import bp
from webapp.auth.guard import bad_request, current_viewer, not_found, require
from webapp.db import viewer_unit
from webapp.ops import mode_error, queue_run
from webapp.params import query_int

DEFAULT_LIMIT = 20
MAX_LIMIT = 200


@bp.get("/sync/runs")
@require("ops", "admin")
def list_sync_runs() -> Any:
    """The org's latest runs, newest first (`?limit=`, default 20)."""
    limit = query_int("limit", default=DEFAULT_LIMIT, high=MAX_LIMIT)
    with viewer_unit() as unit:
        runs = unit.runs.recent_runs(limit=limit)
    return jsonify(runs=[run_json(r) for r in runs])


@bp.get("/sync/runs/<int:run_id>")
@require("ops", "admin")
def get_sync_run(run_id: int) -> Any:
    """One run of the org, with its live progress while it runs."""
    with viewer_unit() as unit:
        found = unit.runs.run_by_id(run_id=run_id)
    if found is None:
        raise not_found(f"Sync run {run_id}")
    return jsonify(run_json(found))


@bp.post("/sync/runs")
@require("ops", "admin", csrf=True)
def request_sync_run() -> Any:
    """Queue a run (`{"mode": "incremental"|"full"}`, default incremental): 202 with its id."""
    try:
        body = request.get_json(silent=True) if request.data else {}
    except RecursionError:
        raise bad_request("the body is nested too deeply to read") from None
    if not isinstance(body, dict):
        raise bad_request('the body must be a JSON object like {"mode": "incremental"}')
    mode = body.get("mode", "incremental")
    if mode not in MODES:
        raise bad_request(mode_error(mode))
    run_id, _joined = queue_run(current_viewer(), mode)
    response = jsonify(id=run_id, status="queued")
    response.status_code = 202
    return response
