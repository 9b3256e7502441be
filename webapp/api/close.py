"""API: plan acceptance (the caller's plan document, accepting it, and the admins' list)."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from connector.reports.acceptance import acceptance_report
from webapp.api import bp, json_object_body
from webapp.auth.guard import require
from webapp.close.core import accept_from, acceptance_json, my_plan_or_404
from webapp.db import viewer_unit


def _plan_json() -> dict[str, Any]:
    found = my_plan_or_404()
    doc = found.document
    return {
        "plan_id": doc.plan_id,
        "version": doc.version,
        "document_sha256": doc.sha256,
        "title": doc.title,
        "sections": [{"heading": h, "paragraphs": list(p)} for h, p in doc.sections],
        "text": doc.text,
        "accepted": found.accepted,
        "acceptances": [acceptance_json(a) for a in found.acceptances],
    }


@bp.get("/me/plan")
@require("rep", "manager")
def my_plan() -> Any:
    """The caller's plan document at the version in force, and their acceptances."""
    return jsonify(_plan_json())


@bp.post("/me/plan/acceptance")
@require("rep", "manager", csrf=True)
def accept_plan() -> Any:
    """Accept the version read (`{"version", "document_sha256"}`): 201 with the acceptance."""
    row = accept_from(json_object_body())
    response = jsonify(acceptance_json(row))
    response.status_code = 201
    return response


@bp.get("/plan-acceptances")
@require("admin")
def plan_acceptances() -> Any:
    """Every rep on a plan and the newest version they accepted (admins)."""
    with viewer_unit() as unit:
        version, rows = acceptance_report(unit)
    listed = [
        {
            "rep_id": r.rep_id,
            "name": r.name,
            "plan_id": r.plan_id,
            "accepted_version": r.accepted_version,
            "accepted_at": r.accepted_at.isoformat().replace("+00:00", "Z")
            if r.accepted_at
            else None,
            "current": r.current,
        }
        for r in rows
    ]
    return jsonify(version=version, reps=listed)
