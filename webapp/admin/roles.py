"""Access: which Salesforce profiles, permission sets or users hold Quotaflow's admin and ops
roles (rep and manager follow from the org's data)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import render_template, request

from connector.reports.admin_roles import grant_key, grants_by_role, remove_by_key
from connector.store.roles import GRANTED_ROLES, PRINCIPAL_KINDS, GrantError
from webapp.admin import bp
from webapp.auth.guard import current_viewer, require
from webapp.db import viewer_unit

Page = tuple[str, int]
# GrantError messages start with the field they are about (`principal: ...`).
_FIELDS = {"role": "role", "kind": "principal_kind", "principal": "principal", "label": "label"}


def _page(*, status: int = 200, **extra: Any) -> Page:
    with viewer_unit() as unit:
        context = {
            "by_role": grants_by_role(unit),
            "roles": GRANTED_ROLES,
            "kinds": PRINCIPAL_KINDS,
            "grant_key": grant_key,
            "errors": {},
            "values": {},
        }
        context.update(extra)
        page = render_template("admin/roles.html", **context)
    return page, status


@bp.route("/access", methods=["GET", "POST"])
@require("admin")
def roles() -> Page:
    """The grants table and the form to add one."""
    return _page()


def _field_of(message: str) -> tuple[str, str]:
    head, _, rest = message.partition(": ")
    return (_FIELDS[head], rest) if head in _FIELDS and rest else ("principal", message)


@bp.route("/access/add", methods=["POST"])
@require("admin", csrf=True)
def grant_add() -> Page:
    """Grant a role to a profile, permission set or user, named by Salesforce id."""
    values = {k: request.form.get(k, "") for k in ("role", "principal_kind", "principal", "label")}
    viewer = current_viewer()
    with viewer_unit() as unit:
        try:
            added = unit.roles.add_grant(
                created_by=(viewer.name or viewer.user_id)[:120], now=datetime.now(UTC), **values
            )
        except GrantError as exc:
            field, message = _field_of(str(exc))
            return _page(status=422, errors={field: [message]}, values=values)
        unit.commit()
    return _page(added=added)


@bp.route("/access/remove", methods=["POST"])
@require("admin", csrf=True)
def grant_remove() -> Page:
    """Remove a grant; the last admin grant stays (nobody could change access again)."""
    key = request.form.get("grant", "")
    with viewer_unit() as unit:
        try:
            removed = remove_by_key(unit, key=key, now=datetime.now(UTC))
        except GrantError as exc:
            return _page(status=422, errors={f"grant.{key}": [str(exc)]})
        unit.commit()
    return _page(removed=removed)
