"""Dispute pages inside Salesforce: a rep opens one from a statement line, a deal or a period;
reps, their managers and admins follow it; admins work the queue and keep the reason list.

Thin views over `webapp.disputes.core` (access, opening, actions) and
`connector.reports.disputes` (shapes, sort orders, the actions a viewer may take).
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from connector.disputes.workflow import OPEN_STATES, RESOLUTIONS
from connector.reports.disputes import (
    SORTS,
    allowed_actions,
    dispute_json,
    event_json,
    sorted_queue,
    task_json,
)
from webapp.access import get_rep_or_404
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
    statement_of,
    visible_disputes,
)
from webapp.params import period_param

bp = Blueprint("disputes", __name__)
METHODS = ["GET", "POST"]
KIND_LABELS = {"line": "Statement line", "deal": "Deal", "period": "Whole period"}


def _sort() -> str:
    sort = (request.values.get("sort") or "age").strip()
    if sort not in SORTS:
        raise bad_request(f"sort: must be one of {', '.join(SORTS)}")
    return sort


@bp.route("/disputes", methods=METHODS)
@require(*VIEW_ROLES)
def index() -> str:
    """The disputes the viewer may see: their own, their team's, or (admins) the queue."""
    viewer = current_viewer()
    sort = _sort()
    show_all = request.values.get("show") == "all"
    rows = visible_disputes(viewer, states=None if show_all else set(OPEN_STATES) | {"resolved"})
    at = now()
    shown = [dispute_json(d, now=at) for d in sorted_queue(rows, sort)]
    return render_template(
        "disputes/list.html",
        disputes=shown,
        sort=sort,
        sorts=SORTS,
        show_all=show_all,
        may_open=viewer.has(*OPEN_ROLES),
    )


@bp.route("/disputes/new", methods=METHODS)
@require(*OPEN_ROLES)
def new() -> str:
    """The form that opens a dispute, filled in from the line, deal or period it came from."""
    viewer = current_viewer()
    person = get_rep_or_404(viewer.user_id)
    summary = statement_of(person.id, period=period_param())
    with viewer_unit() as unit:
        choices = unit.disputes.reasons(active_only=True)
        options = [(r.code, r.label) for r in choices]
    about = {name: (request.values.get(name) or "")[:80] for name in
             ("kind", "deal_id", "component", "credit_type")}  # fmt: skip
    if about["kind"] not in KIND_LABELS:
        about["kind"] = "deal" if about["deal_id"] else "period"
    return render_template(
        "disputes/new.html",
        about=about,
        period=summary.period,
        periods=summary.periods,
        reasons=options,
        kind_labels=KIND_LABELS,
    )


@bp.route("/disputes/open", methods=["POST"])
@require(*OPEN_ROLES, csrf=True)
def create() -> str:
    """Open the dispute the form describes, then show it."""
    dispute = open_from(request.form)
    return _detail(dispute.id)


@bp.route("/disputes/<int:dispute_id>", methods=METHODS)
@require(*VIEW_ROLES)
def detail(dispute_id: int) -> str:
    """One dispute: what, why, where it stands, its audit trail and what the viewer may do."""
    return _detail(dispute_id)


@bp.route("/disputes/<int:dispute_id>/act", methods=["POST"])
@require(*VIEW_ROLES, csrf=True)
def act(dispute_id: int) -> str:
    """Take an action (review, ask for information, reply, resolve, close, withdraw)."""
    act_from(dispute_id, request.form)
    return _detail(dispute_id)


def _detail(dispute_id: int) -> str:
    viewer = current_viewer()
    dispute = get_dispute_or_404(dispute_id)
    with viewer_unit() as unit:
        events = [event_json(e) for e in unit.disputes.events(dispute_id=dispute_id)]
        rows = unit.tasks.of(source="dispute", source_id=dispute_id)
        tasks = [task_json(t) for t in rows]
    return render_template(
        "disputes/detail.html",
        d=dispute_json(dispute, now=now()),
        events=events,
        tasks=tasks if viewer.has("admin") else [],
        actions=allowed_actions(dispute, actor_for(viewer, dispute)),
        resolutions=RESOLUTIONS,
        kind_labels=KIND_LABELS,
    )


from webapp.disputes import admin  # noqa: E402,F401  (adds the admin routes to `bp`)
