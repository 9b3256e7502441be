"""Period close pages: statements to approve (managers: their team's; admins: everyone), the
blockers of the close, locking with an override reason, and the payroll export."""

from __future__ import annotations

from flask import Response, render_template, request

from webapp.auth.guard import require
from webapp.close import bp
from webapp.close.period_core import (
    approve_from,
    checked_period,
    close_from,
    payroll,
    period_view,
)
from webapp.params import period_param

METHODS = ["GET", "POST"]


def _page(period: str | None, *, notice: str | None = None) -> str:
    return render_template("close/period.html", v=period_view(period), notice=notice)


@bp.route("/close", methods=METHODS)
@require("manager", "admin")
def statements() -> str:
    """A period's statements and where each approval stands (`?period=`, default the latest
    ended period); admins also see what blocks the close."""
    return _page(period_param())


@bp.route("/close/approve", methods=["POST"])
@require("manager", "admin", csrf=True)
def approve() -> str:
    """Approve one statement one step (the rep's manager, then an admin)."""
    period = checked_period(request.form.get("period"))
    rep_id = (request.form.get("rep_id") or "").strip()[:18]
    approve_from(period, rep_id)
    return _page(period, notice=f"Approved the statement of {rep_id}.")


@bp.route("/admin/close/lock", methods=["POST"])
@require("admin", csrf=True)
def lock() -> str:
    """Close (lock) the period; an override reason is needed while something blocks it."""
    period = checked_period(request.form.get("period"))
    row = close_from(period, request.form)
    extra = f" over: {row.override_reason}" if row.override_reason else ""
    return _page(period, notice=f"Closed {period}{extra}.")


def _download(body: bytes, *, mimetype: str, name: str, sha: str) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Checksum-SHA256": sha,
        },
    )


@bp.route("/admin/close/payroll.csv", methods=METHODS)
@require("admin")
def payroll_csv() -> Response:
    """The payroll export of a closed period as CSV (its SHA-256 in X-Checksum-SHA256)."""
    period = checked_period(request.values.get("period"))
    found = payroll(period)
    return _download(found.csv, mimetype="text/csv", name=f"payroll-{period}.csv",
                     sha=found.csv_sha256)  # fmt: skip


@bp.route("/admin/close/payroll.json", methods=METHODS)
@require("admin")
def payroll_json() -> Response:
    """The payroll export of a closed period as JSON (with the CSV's checksum inside)."""
    period = checked_period(request.values.get("period"))
    found = payroll(period)
    return _download(found.json, mimetype="application/json", name=f"payroll-{period}.json",
                     sha=found.json_sha256)  # fmt: skip
