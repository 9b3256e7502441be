"""The mapping editor: the active version as a form (or raw YAML), validate against the org's
live describes, save as a new version, preview on sample records, activate, history, diff."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import render_template, request

from connector.reports.admin_mappings import (
    MappingCheck,
    activate,
    check_mapping_data,
    check_mapping_text,
    diff_versions,
    preview,
    save_version,
)
from connector.reports.admin_writeback import allow_list
from connector.store.mapping_versions import MappingVersion
from connector.store.unit import OrgUnit
from mappings.defaults import default_mapping
from mappings.errors import Problem
from mappings.loader import dump_mapping
from mappings.registry import TARGET_NAMES
from mappings.schema import MappingDocument
from webapp.admin import bp
from webapp.admin.mapping_form import Editor
from webapp.admin.org import org_describer
from webapp.auth.guard import current_viewer, not_found, require
from webapp.db import viewer_unit
from webapp.documents import reading
from webapp.params import optional_int

NO_ORG = "No Salesforce org is configured"
Page = tuple[str, int]


@dataclass
class Submission:
    """What the editor sent: the form or YAML text, and the result of checking it."""

    mode: str
    editor: Editor | None
    text: str
    check: MappingCheck
    form_problems: list[Problem] = field(default_factory=list)


def who() -> str:
    """The viewer's name for audit columns."""
    viewer = current_viewer()
    return (viewer.name or viewer.user_id)[:120]


def _active(unit: OrgUnit) -> tuple[MappingVersion | None, MappingDocument]:
    row = unit.mappings.active_version()
    return row, (row.load() if row is not None else default_mapping())


def _submission() -> Submission:
    describe = org_describer()
    with viewer_unit() as unit:
        allowed = unit.writeback_fields.allowed_fields()
    if request.form.get("mode") == "yaml":
        text = request.form.get("document", "")
        with reading("document"):
            check = check_mapping_text(text, describe=describe, allowed=allowed)
        return Submission("yaml", None, text, check)
    editor = Editor.from_form(request.form)
    data, problems = editor.to_data()
    if problems:
        return Submission("form", editor, "", MappingCheck(None, (), against_org=False), problems)
    with reading("document"):
        check = check_mapping_data(data, describe=describe, allowed=allowed)
    return Submission("form", editor, "", check)


def mapping_page(*, sub: Submission | None = None, status: int = 200, **extra: Any) -> Page:
    """The mapping page (editor, allow-list) with what the request did in `extra`."""
    with viewer_unit() as unit:
        row, doc = _active(unit)
        count = len(unit.mappings.list_versions())
        extra.setdefault("allowlist", allow_list(unit))
        return _render(row, doc, count, sub=sub, status=status, **extra)


def _render(
    row: MappingVersion | None,
    doc: MappingDocument,
    count: int,
    *,
    sub: Submission | None,
    status: int,
    **extra: Any,
) -> Page:
    mode = sub.mode if sub else request.values.get("mode", "form")
    editor = sub.editor if sub and sub.editor else Editor.from_document(doc)
    text = sub.text if sub and sub.mode == "yaml" else dump_mapping(doc)
    problems = [*sub.form_problems, *sub.check.problems] if sub else []
    placed, unplaced = editor.place(problems) if mode == "form" else ({}, problems)
    context = {
        "active": row,
        "version_count": count,
        "mode": "yaml" if mode == "yaml" else "form",
        "editor": editor,
        "text": text,
        "check": sub.check if sub else None,
        "problems": problems,
        "errors": placed,
        "unplaced": unplaced,
        "org_configured": org_describer() is not None,
        "targets": TARGET_NAMES,
        "target": request.values.get("target", "deal"),
    }
    context.update(extra)
    return render_template("admin/mappings.html", **context), status


@bp.route("/mappings", methods=["GET", "POST"])
@require("admin")
def mappings() -> Page:
    """The active mapping as an editable form (or raw YAML with `mode=yaml`)."""
    return mapping_page()


@bp.route("/mappings/validate", methods=["POST"])
@require("admin")
def mapping_validate() -> Page:
    """Check the edited document against the org's live describes; store nothing."""
    sub = _submission()
    return mapping_page(sub=sub, status=200 if sub.check.valid else 422, validated=True)


@bp.route("/mappings/save", methods=["POST"])
@require("admin", csrf=True)
def mapping_save() -> Page:
    """Store the edited document as a new version (not active); nothing if it is invalid."""
    sub = _submission()
    if not sub.check.valid or sub.check.document is None:
        return mapping_page(sub=sub, status=422, validated=True)
    with viewer_unit() as unit:
        row, created = save_version(unit, doc=sub.check.document, by=who(), now=datetime.now(UTC))
        unit.commit()
        saved = {"version": row.version, "created": created, "active": row.is_active}
    return mapping_page(sub=sub, saved=saved, validated=True)


@bp.route("/mappings/<int:version>/activate", methods=["POST"])
@require("admin", csrf=True)
def mapping_activate(version: int) -> Page:
    """Make a stored version the active one, after checking it against the org again."""
    with viewer_unit() as unit:
        row, check = activate(
            unit, version=version, by=who(), now=datetime.now(UTC), describe=org_describer()
        )
        if row is None and check is None:
            raise not_found(f"Mapping version {version}")
        if row is not None:
            unit.commit()
    if check is not None:
        return _history_page(refused=(version, check), status=422)
    return mapping_page(activated=version)


@bp.route("/mappings/preview", methods=["GET", "POST"])
@require("admin")
def mapping_preview() -> Page:
    """Five stored records of the org mapped with the edited (or active) document."""
    sub = _submission() if "mode" in request.form else None
    target = request.values.get("target", "deal")
    if target not in TARGET_NAMES:
        target = "deal"
    doc = sub.check.document if sub else None
    if sub is None:
        with viewer_unit() as unit:
            doc = _active(unit)[1]
    if doc is None or target not in doc.targets():
        return mapping_page(sub=sub, status=422 if doc is None else 200, preview_target=target)
    with viewer_unit() as unit:
        object_name, rows = preview(unit, doc=doc, target=target)
    return mapping_page(sub=sub, preview=rows, preview_object=object_name, preview_target=target)


def _history_page(*, status: int = 200, **extra: Any) -> Page:
    with viewer_unit() as unit:
        versions = list(reversed(unit.mappings.list_versions()))
        numbers = [v.version for v in versions]
        before = optional_int("a") or (numbers[1] if len(numbers) > 1 else None)
        after = optional_int("b") or (numbers[0] if numbers else None)
        changes = None
        if before is not None and after is not None:
            changes = diff_versions(unit, before=before, after=after)
        page = render_template(
            "admin/mapping_history.html",
            versions=versions,
            before=before,
            after=after,
            changes=changes,
            **extra,
        )
    return page, status


@bp.route("/mappings/history", methods=["GET", "POST"])
@require("admin")
def mapping_history() -> Page:
    """Every stored version (who, when, active) and the diff between two of them."""
    return _history_page()
