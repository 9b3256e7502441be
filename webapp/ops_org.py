"""The org page of the ops console: the viewer's org in the registry, its last run, lag, API
usage and queue state; pause and resume (ops, admin) and disconnect (admin).

A viewer only ever sees and changes the org of their own session; the list of every org is
the operator's (`quotaflow orgs list`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, render_template

from connector.errors import ConfigError, ConnectorError
from connector.orgs.registry import disconnect, secret_box, set_paused
from connector.orgs.status import human_lag, lag_seconds, queue_state
from connector.salesforce.http import make_http_session
from connector.store.org_reads import OrgFacts, OrgFactsReader
from webapp.auth.guard import Refused, current_viewer, require
from webapp.auth.session import Viewer

bp = Blueprint("ops_org", __name__, url_prefix="/ops/org")
Notice = tuple[str, str]


def viewer_org_facts(viewer: Viewer) -> OrgFacts:
    """The facts of the viewer's org."""
    return OrgFactsReader(current_app.extensions["quotaflow.sessions"]).of(viewer.org_id)


def change_status(viewer: Viewer, action: str) -> str:
    """Pause, resume or disconnect the viewer's org; the new status. Refused(409) when the
    registry does not allow it (unregistered, disconnected, Salesforce unreachable)."""
    sessions = current_app.extensions["quotaflow.sessions"]
    settings = current_app.extensions["quotaflow.settings"]
    now = datetime.now(UTC)
    try:
        if action == "disconnect":
            box = secret_box(settings) if settings.encryption_keys else None
            http = make_http_session(settings.sf_ca_bundle)
            try:
                disconnect(sessions, viewer.org_id, http=http, box=box, now=now)
            finally:
                http.close()
            return "disconnected"
        return set_paused(sessions, viewer.org_id, paused=action == "pause", now=now).status
    except (ConnectorError, ConfigError) as exc:
        raise Refused(409, f"{exc}.") from None


def _page(viewer: Viewer, notice: Notice | None = None) -> Any:
    facts = viewer_org_facts(viewer)
    lag = lag_seconds(facts, now=datetime.now(UTC))
    return render_template(
        "ops/org.html",
        facts=facts,
        lag=human_lag(lag),
        queue=queue_state(facts),
        notice=notice,
        can_disconnect=viewer.has("admin"),
    )


@bp.route("", methods=["GET", "POST"])
@require("ops", "admin")
def org() -> Any:
    """The viewer's org: status, last run, lag, API usage, queue state."""
    return _page(current_viewer())


@bp.route("/pause", methods=["POST"])
@require("ops", "admin", csrf=True)
def pause() -> Any:
    """Stop starting syncs for the org (it stays connected)."""
    viewer = current_viewer()
    change_status(viewer, "pause")
    return _page(viewer, ("success", "Paused: no sync starts until you resume."))


@bp.route("/resume", methods=["POST"])
@require("ops", "admin", csrf=True)
def resume() -> Any:
    """Sync the org again."""
    viewer = current_viewer()
    change_status(viewer, "resume")
    return _page(viewer, ("success", "Resumed: the next scheduled sync runs."))


@bp.route("/disconnect", methods=["POST"])
@require("admin", csrf=True)
def disconnect_org() -> Any:
    """Revoke Quotaflow's access to the org and stop its syncs; its data stays."""
    viewer = current_viewer()
    change_status(viewer, "disconnect")
    return _page(viewer, ("success", "Disconnected: the token is revoked, no sync runs."))
