"""API: the caller's org in the registry (status, last run, lag, API usage, queue state);
pause, resume (ops, admin), disconnect and a connect link for another org (admin)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import jsonify

from connector.orgs.status import org_json
from webapp.api import bp
from webapp.auth.guard import current_viewer, require
from webapp.connect import TICKET_SECONDS
from webapp.ops_org import change_status, connect_link, viewer_org_facts


def _answer() -> Any:
    return jsonify(org_json(viewer_org_facts(current_viewer()), now=datetime.now(UTC)))


@bp.get("/org")
@require("ops", "admin")
def get_org() -> Any:
    """The caller's org."""
    return _answer()


@bp.post("/org/pause")
@require("ops", "admin", csrf=True)
def pause_org() -> Any:
    """Stop starting syncs for the caller's org."""
    change_status(current_viewer(), "pause")
    return _answer()


@bp.post("/org/resume")
@require("ops", "admin", csrf=True)
def resume_org() -> Any:
    """Sync the caller's org again."""
    change_status(current_viewer(), "resume")
    return _answer()


@bp.post("/org/disconnect")
@require("admin", csrf=True)
def disconnect_org() -> Any:
    """Revoke the org's token and stop its syncs (its data stays)."""
    change_status(current_viewer(), "disconnect")
    return _answer()


@bp.post("/org/connect-link")
@require("admin", csrf=True)
def org_connect_link() -> Any:
    """A ten-minute link that opens `/connect` to connect another org from the caller's."""
    return jsonify({"url": connect_link(current_viewer()), "expires_in_seconds": TICKET_SECONDS})
