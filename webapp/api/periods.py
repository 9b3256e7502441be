"""API: period close. Statements of a period and their approval, the close and its blockers,
and the payroll export of a closed period (same checks as the pages)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from connector.close.statements import Statement
from webapp.api import bp, json_object_body
from webapp.auth.guard import require
from webapp.close.period_core import (
    approve_from,
    checked_period,
    close_from,
    payroll,
    period_view,
)


def _statement_json(s: Statement, name: str | None) -> dict[str, Any]:
    f = s.figures
    return {
        "rep_id": s.rep_id,
        "name": name,
        "state": s.state,
        "changed_since_approval": s.changed,
        "currency": f.currency,
        "gross": str(f.gross),
        "draw_top_up": str(f.top_up),
        "recovered": str(f.recovered),
        "adjustments": str(f.adjustments),
        "net": str(f.net),
    }


def _period_json(period: str) -> dict[str, Any]:
    view = period_view(checked_period(period))
    names = {rep: p.name for rep, p in view.people.items()}
    closed = view.closed
    return {
        "period": view.period,
        "statements": [_statement_json(s, names.get(s.rep_id)) for s in view.statements],
        "blockers": view.blockers.as_dict() if view.blockers is not None else None,
        "closed": closed is not None,
        "override_reason": closed.override_reason if closed is not None else None,
    }


@bp.get("/periods/<period>/statements")
@require("manager", "admin")
def period_statements(period: str) -> Any:
    """The period's statements the caller may approve (managers: their team; admins: all)."""
    return jsonify(_period_json(period))


@bp.post("/periods/<period>/statements/<rep_id>/approval")
@require("manager", "admin", csrf=True)
def approve_statement(period: str, rep_id: str) -> Any:
    """Approve one statement one step; the period's statements after it."""
    approve_from(checked_period(period), rep_id[:18])
    return jsonify(_period_json(period))


@bp.post("/periods/<period>/close")
@require("admin", csrf=True)
def close_period(period: str) -> Any:
    """Close (lock) the period (`{"override_reason"}` while anything blocks it)."""
    close_from(checked_period(period), json_object_body())
    return jsonify(_period_json(period))


@bp.get("/periods/<period>/payroll.csv")
@require("admin")
def payroll_csv(period: str) -> Response:
    """The payroll export of a closed period as CSV (its SHA-256 in X-Checksum-SHA256)."""
    found = payroll(checked_period(period))
    return Response(found.csv, mimetype="text/csv", headers={"X-Checksum-SHA256": found.csv_sha256})


@bp.get("/periods/<period>/payroll.json")
@require("admin")
def payroll_json(period: str) -> Response:
    """The payroll export of a closed period as JSON (the CSV's checksum inside)."""
    found = payroll(checked_period(period))
    return Response(
        found.json, mimetype="application/json", headers={"X-Checksum-SHA256": found.json_sha256}
    )
