"""POST /canvas: where Salesforce opens Quotaflow. Verify, check the token, open a session.

With `Accept: application/json` the answer is the session token for API use; otherwise the
view for the record in context (an Opportunity, a User) or the viewer's home view.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request

from connector.errors import RetriableError
from connector.salesforce.identity import TokenRefused
from connector.store.mapping_versions import known_org_ids
from connector.store.plans import plan_org_ids
from connector.store.roles import resolve_roles
from webapp.auth.canvas import CanvasRefused, CanvasRequest, verify_signed_request
from webapp.auth.guard import Refused, tokens
from webapp.auth.identity import IdentityCache
from webapp.auth.session import TOKEN_SECONDS, Viewer, new_viewer
from webapp.db import unit_of_work

bp = Blueprint("canvas", __name__)


def _verified() -> CanvasRequest:
    secret = current_app.extensions["quotaflow.settings"].sf_canvas_secret
    if not secret:
        raise Refused(403, "Quotaflow is not set up for Canvas yet (SF_CANVAS_SECRET is not set).")
    raw = request.form.get("signed_request", "")
    try:
        return verify_signed_request(raw, secret=secret)
    except CanvasRefused as exc:
        raise Refused(403, f"Salesforce's signed request was refused: {exc}.") from None


def _open_session(canvas: CanvasRequest) -> Viewer:
    cache: IdentityCache = current_app.extensions["quotaflow.identity"]
    try:
        identity = cache.identify(canvas)
    except TokenRefused as exc:
        raise Refused(403, f"Salesforce's signed request was refused: {exc}.") from None
    except RetriableError as exc:
        raise Refused(503, f"Could not check your Salesforce session ({exc}); try again.") from None
    with unit_of_work() as uow:
        session = uow.session
        orgs = set(known_org_ids(session)) | set(plan_org_ids(session))
        if orgs and canvas.org_id[:15] not in {o[:15] for o in orgs}:
            raise Refused(403, "This Quotaflow serves another Salesforce org.")
        org_id = next((o for o in orgs if o[:15] == canvas.org_id[:15]), canvas.org_id)
        user_id, roles = resolve_roles(
            session,
            org_id=org_id,
            user_id=identity.user_id,
            username=identity.username,
            profile=(identity.profile_name, identity.profile_id or canvas.profile_id),
            permission_sets=identity.permission_sets,
        )
    if not roles:
        raise Refused(
            403,
            "Your Salesforce user has no Quotaflow access: you are not a mapped rep and hold no "
            "admin or ops grant. Ask your Quotaflow admin.",
        )
    name = identity.name or canvas.full_name or canvas.user_name
    return new_viewer(user_id=user_id, org_id=org_id, name=name, roles=roles)


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
