"""The write-back allow-list on the mapping page: add or remove a custom field (admin only,
CSRF protected); every change is audited with who and when."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import request

from connector.reports.admin_writeback import allow_field, disallow_field
from connector.store.writeback_fields import AllowListError
from webapp.admin import bp
from webapp.admin.mappings import Page, mapping_page, who
from webapp.auth.guard import require
from webapp.db import viewer_unit

FIELD = "allowlist.field"


@bp.route("/mappings/allowlist/add", methods=["POST"])
@require("admin", csrf=True)
def writeback_field_add() -> Page:
    """Add a custom field to the org's write-back allow-list."""
    text = request.form.get("field", "")
    with viewer_unit() as unit:
        try:
            key, created = allow_field(unit, text=text, by=who(), now=datetime.now(UTC))
        except AllowListError as exc:
            return mapping_page(status=422, allow_errors={FIELD: [str(exc)]}, allow_value=text)
        unit.commit()
    return mapping_page(allow_added=(f"{key[0]}.{key[1]}", created))


@bp.route("/mappings/allowlist/remove", methods=["POST"])
@require("admin", csrf=True)
def writeback_field_remove() -> Page:
    """Remove an admin-added field from the allow-list (force-app's fields stay)."""
    text = request.form.get("field", "")
    with viewer_unit() as unit:
        try:
            key = disallow_field(unit, text=text, by=who(), now=datetime.now(UTC))
        except AllowListError as exc:
            return mapping_page(status=422, allow_errors={FIELD: [str(exc)]})
        unit.commit()
    return mapping_page(allow_removed=f"{key[0]}.{key[1]}")
