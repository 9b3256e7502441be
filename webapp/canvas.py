"""POST /canvas: where Salesforce opens Quotaflow. Verify, check the token, open a session.

With `Accept: application/json` the answer is the session token for API use; otherwise the
view for the record in context (an Opportunity, a User) or the viewer's home view.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request

from connector.errors import RetriableError
from connector.orgs.registry import canvas_secrets, secret_box, serving_org_ids
from connector.salesforce.identity import TokenRefused
from connector.salesforce.ids import same_id
from connector.store.roles import Holder
from webapp.auth.canvas import (
    CanvasRefused,
    CanvasRequest,
    claimed_org_id,
    verify_signed_request,
)
from webapp.auth.guard import NO_ACCESS, Refused, tokens
from webapp.auth.identity import IdentityCache
from webapp.auth.session import TOKEN_SECONDS, Viewer, new_viewer
from webapp.db import org_directory, org_unit

bp = Blueprint("canvas", __name__)
log = logging.getLogger(__name__)
UNVERIFIED = (
    "Salesforce's signed request was refused: your session could not be verified with your "
    "Salesforce org. Reload the Salesforce page; if this persists, ask your Quotaflow admin."
)


def _secret_for(raw: str) -> str | None:
    """The consumer secret that must have signed this request: the claimed org's own Canvas
    app's, if it has one, else the shared SF_CANVAS_SECRET."""
    settings = current_app.extensions["quotaflow.settings"]
    claimed = claimed_org_id(raw)
    if claimed:
        sessions = current_app.extensions["quotaflow.sessions"]
        serving, _ = serving_org_ids(sessions)
        for org_id in sorted(serving):
            if same_id(org_id, claimed):
                box = secret_box(settings) if settings.encryption_keys else None
                own = canvas_secrets(sessions, org_id, box=box)
                if own is not None:
                    return own
    secret: str | None = settings.sf_canvas_secret
    return secret


def _verified() -> CanvasRequest:
    raw = request.form.get("signed_request", "")
    secret = _secret_for(raw)
    if not secret:
        raise Refused(403, "Quotaflow is not set up for Canvas yet (SF_CANVAS_SECRET is not set).")
    try:
        return verify_signed_request(raw, secret=secret)
    except CanvasRefused as exc:
        raise Refused(403, f"Salesforce's signed request was refused: {exc}.") from None


def _unverified(reason: str) -> Refused:
    # One answer for every way the check with the org can fail (a host that is not the org's,
    # a refused or someone else's token, no answer): differing answers would tell a caller
    # holding the consumer secret which hosts and ports exist behind Quotaflow.
    log.warning("canvas session refused: %s", reason)
    return Refused(403, UNVERIFIED)


def _org_of(canvas: CanvasRequest) -> tuple[str, set[str]]:
    """The stored org the request names and the origins its token may be sent to."""
    settings = current_app.extensions["quotaflow.settings"]
    serving, disconnected = serving_org_ids(current_app.extensions["quotaflow.sessions"])
    if any(same_id(o, canvas.org_id) for o in disconnected):
        raise _unverified("the request names a disconnected org")
    directory = org_directory()
    # Registered orgs, and orgs synced before the registry existed; never a disconnected one.
    orgs = (serving | set(directory.with_mapping()) | set(directory.with_plan())) - disconnected
    if (orgs or disconnected) and not any(same_id(o, canvas.org_id) for o in orgs):
        raise _unverified("the request names an org this Quotaflow does not serve")
    org_id = next((o for o in sorted(orgs) if same_id(o, canvas.org_id)), canvas.org_id)
    with org_unit(org_id) as unit:
        hosts = unit.hosts.org_hosts()
    return org_id, hosts | set(settings.sf_org_hosts)


def _open_session(canvas: CanvasRequest) -> Viewer:
    cache: IdentityCache = current_app.extensions["quotaflow.identity"]
    org_id, origins = _org_of(canvas)
    try:
        identity = cache.identify(canvas, allowed_origins=origins)
    except (TokenRefused, RetriableError) as exc:
        raise _unverified(f"{type(exc).__name__}: {exc}") from None
    holder = Holder(
        user_id=identity.user_id,
        username=identity.username,
        # Only the org's answer counts: the envelope's profileId is a claim of whoever
        # holds the consumer secret.
        profile_id=identity.profile_id,
        profile_name=identity.profile_name,
        permission_sets=identity.permission_sets,
    )
    with org_unit(org_id) as unit:
        user_id, roles = unit.roles.resolve_roles(holder=holder)
    if not roles:
        raise Refused(403, NO_ACCESS)
    name = identity.name or canvas.full_name or canvas.user_name
    now = tokens().clock()
    return new_viewer(
        user_id=user_id, org_id=org_id, name=name, roles=roles, holder=holder, now=now
    )


def landing(viewer: Viewer, canvas: CanvasRequest) -> tuple[str, dict[str, Any]]:
    """The view to show for the record in context (endpoint and its arguments)."""
    views = current_app.view_functions
    record_id = canvas.record_id or ""
    if record_id.startswith("006") and "rep.deal" in views:
        return "rep.deal", {"deal_id": record_id}
    if record_id.startswith("005") and "rep.person" in views:
        return "rep.person", {"rep_id": record_id}
    for endpoint, role in (
        ("rep.home", "rep"),
        ("manager.team", "manager"),
        ("admin.mappings", "admin"),
        ("ops.runs", "ops"),
    ):
        if viewer.has(role) and endpoint in views:
            return endpoint, {}
    raise Refused(404, "Quotaflow has no view for this page yet.")


@bp.post("/canvas")
def canvas() -> Any:
    """Open an embedded session from a Canvas signed request."""
    signed = _verified()
    viewer = _open_session(signed)
    g.viewer = viewer
    g.canvas = True
    if request.accept_mimetypes.best == "application/json":
        return jsonify(
            token=tokens().issue(viewer),
            expires_in=TOKEN_SECONDS,
            user={"id": viewer.user_id, "name": viewer.name, "roles": sorted(viewer.roles)},
        )
    endpoint, values = landing(viewer, signed)
    return current_app.view_functions[endpoint](**values)
