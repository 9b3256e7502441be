"""The org page of the ops console: the viewer's org in the registry, its last run, lag, API
usage and queue state; pause and resume (ops, admin) and disconnect (admin); for admins,
"Connect another org" (a connect link for `/connect`, opened in a window of its own) and the
orgs connected that way from this org (subsidiaries, sandboxes beside production).

A viewer only ever changes the org of their own session; the list of every org is the
operator's (`quotaflow orgs list`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, redirect, render_template

from connector.errors import ConfigError, ConnectorError
from connector.orgs.connect import connect_app
from connector.orgs.registry import disconnect, secret_box, set_paused
from connector.orgs.status import human_lag, lag_seconds, queue_state
from connector.salesforce.http import make_http_session
from connector.store.org_reads import OrgFacts, OrgFactsReader, connected_from_label
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


def connect_problem() -> str | None:
    """Why `/connect` cannot be used here (a setting missing), or None when it can."""
    try:
        connect_app(current_app.extensions["quotaflow.settings"])
    except ConfigError as exc:
        return str(exc)
    return None


def _connected(viewer: Viewer, now: datetime) -> list[dict[str, Any]]:
    reader = OrgFactsReader(current_app.extensions["quotaflow.sessions"])
    mark = connected_from_label("", viewer.org_id)
    return [
        {
            "facts": f,
            "lag": human_lag(lag_seconds(f, now=now)),
            "queue": queue_state(f),
            "by": (f.connected_by or "").replace(mark, ""),
        }
        for f in reader.connected_from(viewer.org_id)
    ]


def _page(viewer: Viewer, notice: Notice | None = None) -> Any:
    facts = viewer_org_facts(viewer)
    now = datetime.now(UTC)
    admin = viewer.has("admin")
    return render_template(
        "ops/org.html",
        facts=facts,
        lag=human_lag(lag_seconds(facts, now=now)),
        queue=queue_state(facts),
        notice=notice,
        can_disconnect=admin,
        can_connect=admin,
        connect_problem=connect_problem() if admin else None,
        connected=_connected(viewer, now) if admin else [],
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


def connect_link(viewer: Viewer) -> str:
    """A ten-minute link that opens `/connect` for the viewer (an admin), naming their org so
    the org connected with it is listed on this page; Refused(409) naming the missing setting
    when connecting is not set up here."""
    from webapp.connect import connect_ticket

    problem = connect_problem()
    if problem is not None:
        raise Refused(409, f"Connecting orgs is not set up: {problem}.")
    by = connected_from_label(viewer.name, viewer.org_id)
    ticket = connect_ticket(current_app.config["SECRET_KEY"], by=by)
    # The public URL: the connect cookie and the OAuth callback must share one origin.
    public = current_app.extensions["quotaflow.settings"].public_url.rstrip("/")
    return f"{public}/connect?ticket={ticket}"


@bp.route("/connect", methods=["POST"])
@require("admin", csrf=True)
def connect_another() -> Any:
    """Start `/connect` for another org (this page's form opens it in a new window)."""
    return redirect(connect_link(current_viewer()), code=303)
