"""Admin pages of the dispute workflow: the reason list, the manager step, who gets new
disputes' Tasks, and the Tasks Salesforce refused."""

from __future__ import annotations

import re

from flask import render_template, request

from webapp.auth.guard import bad_request, current_viewer, require
from webapp.db import viewer_unit
from webapp.disputes import bp
from webapp.disputes.core import now

_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_USER_ID = re.compile(r"005[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?")
FAILED_SHOWN = 50


def _page() -> str:
    with viewer_unit() as unit:
        settings = unit.disputes.settings()
        listed = [(r.code, r.label, r.active) for r in unit.disputes.reasons()]
        failed = unit.tasks.failed(limit=FAILED_SHOWN)
        failed_rows = [(t.source_id, t.assignee_id, t.subject, t.last_error) for t in failed]
        shown = (settings.manager_step, settings.dispute_admin_id or "", settings.hold_unaccepted)
    return render_template(
        "disputes/admin.html", settings=shown, reasons=listed, failed=failed_rows
    )


@bp.route("/admin/disputes", methods=["GET", "POST"])
@require("admin")
def admin_settings() -> str:
    """The dispute workflow's settings and reason list."""
    return _page()


@bp.route("/admin/disputes/settings", methods=["POST"])
@require("admin", csrf=True)
def settings_save() -> str:
    """Save the manager step and the user who gets new disputes' Tasks."""
    viewer = current_viewer()
    admin_id = (request.form.get("dispute_admin_id") or "").strip()
    if admin_id and not _USER_ID.fullmatch(admin_id):
        raise bad_request("dispute_admin_id: must be a Salesforce User id (005…) or empty")
    with viewer_unit() as unit:
        unit.disputes.save_settings(
            by=viewer.name,
            now=now(),
            manager_step=request.form.get("manager_step") == "on",
            dispute_admin_id=admin_id or None,
            hold_unaccepted=request.form.get("hold_unaccepted") == "on",
        )
        unit.commit()
    return _page()


@bp.route("/admin/disputes/reasons", methods=["POST"])
@require("admin", csrf=True)
def reason_save() -> str:
    """Add a reason, rename one, or retire / restore it (disputes keep the label they had)."""
    code = (request.form.get("code") or "").strip()
    label = " ".join((request.form.get("label") or "").split())
    if not _CODE.fullmatch(code):
        raise bad_request(
            "code: lower-case letters, digits and _ (at most 40), starting with a letter"
        )
    if not label or len(label) > 80:
        raise bad_request("label: 1 to 80 characters")
    with viewer_unit() as unit:
        unit.disputes.save_reason(code=code, label=label,
                    active=request.form.get("active", "on") == "on")  # fmt: skip
        unit.commit()
    return _page()
