"""Plans and periods: the active plan and its history, uploading a plan document (validated,
errors by path, nothing stored on error), activating a version, locking and unlocking periods,
and correcting the effective date of a rep's plan, manager or quota change (audited)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import render_template, request

from connector.reports.admin_plans import (
    PlanProblem,
    assignment_rows,
    correct_assignment,
    lock,
    plan_period_kinds,
    upload_plan,
)
from webapp.admin import bp
from webapp.admin.mappings import who
from webapp.auth.guard import not_found, require
from webapp.db import viewer_unit
from webapp.documents import reading

Page = tuple[str, int]
MAX_PLAN_BYTES = 512 * 1024


def _page(*, status: int = 200, **extra: Any) -> Page:
    with viewer_unit() as unit:
        context: dict[str, Any] = {
            "active": unit.plans.active_plan(),
            "versions": list(unit.plans.plan_versions()),
            "locks": list(unit.periods.locked_periods()),
            "kinds": sorted(plan_period_kinds(unit)),
            "plan_problems": [],
            "plan_text": "",
            "errors": {},
            "assignments": assignment_rows(unit),
            "corrections": unit.assignments.correction_events(),
            "assignment_error": None,
        }
        context.update(extra)
        page = render_template("admin/plans.html", **context)
    return page, status


@bp.route("/plans", methods=["GET", "POST"])
@require("admin")
def plans() -> Page:
    """The active plan version, its history, and the locked periods."""
    return _page()


def _uploaded_text() -> tuple[str, list[PlanProblem]]:
    upload = request.files.get("plan_file")
    if upload is not None and upload.filename:
        raw = upload.read(MAX_PLAN_BYTES + 1)
        if len(raw) > MAX_PLAN_BYTES:
            return "", [PlanProblem("plan_file", "the file is larger than 512 KB")]
        try:
            return raw.decode("utf-8"), []
        except UnicodeDecodeError:
            return "", [PlanProblem("plan_file", "the file is not UTF-8 text (YAML or JSON)")]
    return request.form.get("plan_text", ""), []


@bp.route("/plans/upload", methods=["POST"])
@require("admin", csrf=True)
def plan_upload() -> Page:
    """Validate an uploaded plan document and activate it as a new version."""
    text, problems = _uploaded_text()
    if not problems:
        field = "plan_file" if request.files.get("plan_file") else "plan_text"
        with viewer_unit() as unit, reading(field):
            row, created, problems = upload_plan(unit, text=text, by=who(), now=datetime.now(UTC))
            if row is not None:
                unit.commit()
                return _page(uploaded={"version": row.version, "created": created})
    return _page(status=422, plan_problems=problems, plan_text=text)


@bp.route("/plans/<int:version>/activate", methods=["POST"])
@require("admin", csrf=True)
def plan_activate(version: int) -> Page:
    """Make an earlier plan version the active one again."""
    with viewer_unit() as unit:
        try:
            unit.plans.activate_plan_version(version=version, now=datetime.now(UTC))
        except KeyError:
            raise not_found(f"Plan version {version}") from None
        unit.commit()
    return _page(activated=version)


@bp.route("/periods/lock", methods=["POST"])
@require("admin", csrf=True)
def period_lock() -> Page:
    """Lock a paid period: its results freeze; later changes are paid as adjustments."""
    name = request.form.get("period", "").strip()
    with viewer_unit() as unit:
        try:
            row = lock(unit, name=name, by=who(), now=datetime.now(UTC))
        except ValueError as exc:
            return _page(status=422, errors={"period": [str(exc)]}, period_value=name)
        unit.commit()
        period = row.period
    return _page(locked=period)


@bp.route("/periods/unlock", methods=["POST"])
@require("admin", csrf=True)
def period_unlock() -> Page:
    """Unlock a period: the next run recomputes it like any open period."""
    name = request.form.get("period", "").strip()
    with viewer_unit() as unit:
        if not unit.periods.unlock_period(period=name):
            raise not_found(f"Locked period {name!r}")
        unit.commit()
    return _page(unlocked=name)


@bp.route("/assignments/<int:assignment_id>/effective-from", methods=["POST"])
@require("admin", csrf=True)
def assignment_correct(assignment_id: int) -> Page:
    """Correct the day a rep's plan, manager or quota change took effect; the next sync
    recomputes every period with the corrected date."""
    text = request.form.get("effective_from", "")
    with viewer_unit() as unit:
        try:
            row = correct_assignment(
                unit, assignment_id=assignment_id, text=text, by=who(), now=datetime.now(UTC)
            )
        except KeyError:
            raise not_found(f"Assignment {assignment_id}") from None
        except ValueError as exc:
            error = {"id": assignment_id, "message": str(exc), "value": text[:40]}
            return _page(status=422, assignment_error=error)
        unit.commit()
        corrected = {"rep_id": row.rep_id, "effective_from": row.effective_from}
    return _page(corrected=corrected)
