"""API: disputes. List by role (`sort`, `show`), open one, read one with its history, act on it,
and the org's reason list: the same checks and the same refusals (logged) as the pages."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from connector.disputes.workflow import OPEN_STATES
from connector.reports.disputes import (
    SORTS,
    allowed_actions,
    dispute_json,
    event_json,
    sorted_queue,
)
from webapp.api import bp, json_object_body
from webapp.auth.guard import bad_request, current_viewer, require
from webapp.db import viewer_unit
from webapp.disputes.core import (
    OPEN_ROLES,
    VIEW_ROLES,
    act_from,
    actor_for,
    get_dispute_or_404,
    now,
    open_from,
    visible_disputes,
)

SHOW = ("open", "all")


def _one(dispute_id: int) -> dict[str, Any]:
    viewer = current_viewer()
    dispute = get_dispute_or_404(dispute_id)
    with viewer_unit() as unit:
        events = unit.disputes.events(dispute_id=dispute_id)
        history = [event_json(e) for e in events]
    return dispute_json(dispute, now=now()) | {
        "events": history,
        "actions": allowed_actions(dispute, actor_for(viewer, dispute)),
    }


@bp.get("/disputes")
@require(*VIEW_ROLES)
def list_disputes() -> Any:
    """The disputes the caller may see (`?sort=age|amount|rep|reason`, `?show=open|all`)."""
    viewer = current_viewer()
    sort = request.args.get("sort", "age")
    show = request.args.get("show", "open")
    if sort not in SORTS:
        raise bad_request(f"sort: must be one of {', '.join(SORTS)}")
    if show not in SHOW:
        raise bad_request(f"show: must be one of {', '.join(SHOW)}")
    states = None if show == "all" else set(OPEN_STATES) | {"resolved"}
    rows = sorted_queue(visible_disputes(viewer, states=states), sort)
    at = now()
    return jsonify(disputes=[dispute_json(d, now=at) for d in rows])


@bp.post("/disputes")
@require(*OPEN_ROLES, csrf=True)
def create_dispute() -> Any:
    """Open a dispute on the caller's own pay: 201 with the dispute."""
    dispute = open_from(json_object_body())
    response = jsonify(_one(dispute.id))
    response.status_code = 201
    return response


@bp.get("/disputes/<int:dispute_id>")
@require(*VIEW_ROLES)
def get_dispute(dispute_id: int) -> Any:
    """One dispute the caller may see, with its audit trail and the caller's actions."""
    return jsonify(_one(dispute_id))


@bp.post("/disputes/<int:dispute_id>/transitions")
@require(*VIEW_ROLES, csrf=True)
def transition_dispute(dispute_id: int) -> Any:
    """Take an action (`{"action", "note", "resolution", "amount"}`): the dispute after it."""
    act_from(dispute_id, json_object_body())
    return jsonify(_one(dispute_id))


@bp.get("/disputes/reasons")
@require(*VIEW_ROLES)
def dispute_reasons() -> Any:
    """The org's dispute reasons (the ones in use first; retired ones flagged)."""
    with viewer_unit() as unit:
        found = unit.disputes.reasons()
        listed = [{"code": r.code, "label": r.label, "active": r.active} for r in found]
    return jsonify(reasons=listed)
