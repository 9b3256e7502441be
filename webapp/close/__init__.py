"""Plan acceptance and period close inside Salesforce: a rep reads and accepts their plan;
admins see who has not accepted, approve statements and close periods for payroll."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from connector.reports.acceptance import acceptance_report
from webapp.auth.guard import require
from webapp.close.core import accept_from, my_plan_or_404
from webapp.db import viewer_unit

bp = Blueprint("close", __name__)
METHODS = ["GET", "POST"]


@bp.route("/plan", methods=METHODS)
@require("rep", "manager")
def my_plan() -> str:
    """The viewer's plan document at the version in force, and whether they accepted it."""
    return render_template("close/plan.html", p=my_plan_or_404(), just_accepted=False)


@bp.route("/plan/accept", methods=["POST"])
@require("rep", "manager", csrf=True)
def accept_plan() -> str:
    """Accept the plan version shown (its version and checksum come with the form)."""
    accept_from(request.form)
    return render_template("close/plan.html", p=my_plan_or_404(), just_accepted=True)


@bp.route("/admin/acceptance", methods=METHODS)
@require("admin")
def acceptance() -> str:
    """Who has accepted the plan version in force, and who has not."""
    with viewer_unit() as unit:
        version, rows = acceptance_report(unit)
    return render_template("close/acceptance.html", version=version, rows=rows)


from webapp.close import period_views  # noqa: E402,F401  (adds the close routes to `bp`)
