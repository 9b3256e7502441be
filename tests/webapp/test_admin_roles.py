"""Access: the grants table, adding and removing grants, the last-admin guard."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from connector.store.roles import grants
from tests.store_kit import unit_of_work


def _grants(app: Flask, org_id: str) -> set[tuple[str, str, str]]:
    with app.app_context(), unit_of_work() as uow:
        return {(g.role, g.principal_kind, g.principal) for g in grants(uow.session, org_id=org_id)}


def _grant_id(page: str, principal: str) -> str:
    found = re.search(
        rf'data-field-path="grant\.(\d+)">\s*<td>[^<]*</td><td><strong>{principal}<', page
    )
    assert found, principal
    return found.group(1)


@pytest.fixture
def admin(web: Any, tmp_path: Path) -> tuple[Flask, dict[str, str]]:
    app = web.fresh(tmp_path)
    token = web.admin_token(app=app)
    page = app.test_client().post("/admin/access", data={"qf_token": token}).text
    csrf = re.search(r'name="qf_csrf" value="([^"]+)"', page)
    assert csrf
    return app, {"qf_token": token, "qf_csrf": csrf.group(1)}


def test_the_table_shows_the_default_grants(web: Any) -> None:
    response = web.client().post("/admin/access", data={"qf_token": web.admin_token()})
    assert response.status_code == 200
    assert "Quotaflow_Admin" in response.text and "Quotaflow_Ops" in response.text
    assert "built-in default" in response.text


def test_the_first_sync_pinned_the_default_grants_to_the_orgs_ids(web: Any) -> None:
    with web.app.app_context(), unit_of_work() as uow:
        stored = grants(uow.session, org_id=web.org_id)
    pinned = {(g.role, g.principal_kind, g.match, g.principal, g.label) for g in stored}
    sysadmin = web.setup_ids["System Administrator"]
    assert pinned == {
        ("admin", "profile", "id", sysadmin, "System Administrator"),
        ("ops", "profile", "id", sysadmin, "System Administrator"),
        ("admin", "permission_set", "id", web.setup_ids["Quotaflow_Admin"], "Quotaflow_Admin"),
        ("ops", "permission_set", "id", web.setup_ids["Quotaflow_Ops"], "Quotaflow_Ops"),
    }
    # The holder of the real profile is admin; a profile of another id is not, whatever
    # its name.
    assert web.viewer(web.cast.rep_b, profile=("System Administrator",)).has("admin")
    impostor = web.token(web.cast.rep_b, profile=("System Administrator (Read Only)",))
    assert web.client().post("/admin/access", data={"qf_token": impostor}).status_code == 403


def test_add_and_remove_a_grant(web: Any, admin: Any) -> None:
    app, form = admin
    client = app.test_client()
    grant = {
        "role": "ops",
        "principal_kind": "permission_set",
        "principal": "0PS5g000000000Z",
        "label": "Sales Ops",
    }
    response = client.post("/admin/access/add", data={**form, **grant})
    assert response.status_code == 200
    # Stored by its 18-character id; the label is only shown.
    stored = ("ops", "permission_set", "0PS5g000000000ZGAQ")
    assert stored in _grants(app, web.org_id)
    row = _grant_id(client.post("/admin/access", data=form).text, "Sales Ops")
    response = client.post("/admin/access/remove", data={**form, "grant": row})
    assert response.status_code == 200
    assert stored not in _grants(app, web.org_id)


def test_a_grant_by_name_is_refused(web: Any, admin: Any) -> None:
    app, form = admin
    before = _grants(app, web.org_id)
    grant = {"role": "ops", "principal_kind": "permission_set", "principal": "Sales_Ops"}
    response = app.test_client().post("/admin/access/add", data={**form, **grant})
    assert response.status_code == 422
    assert "Salesforce id (it starts with 0PS)" in response.text
    assert _grants(app, web.org_id) == before


def test_a_bad_grant_shows_its_error_beside_the_field(web: Any, admin: Any) -> None:
    app, form = admin
    before = _grants(app, web.org_id)
    bad = {"role": "admin", "principal_kind": "user", "principal": "  "}
    response = app.test_client().post("/admin/access/add", data={**form, **bad})
    assert response.status_code == 422
    wrapper = response.text.split('data-field-path="principal"', 1)[1].split("</div>", 2)
    assert "qf-field-error" in "".join(wrapper[:2])
    assert _grants(app, web.org_id) == before


def test_the_last_admin_grant_cannot_be_removed(web: Any, admin: Any) -> None:
    app, form = admin
    client = app.test_client()
    sysadmin = _grant_id(client.post("/admin/access", data=form).text, "System Administrator")
    first = client.post("/admin/access/remove", data={**form, "grant": sysadmin})
    assert first.status_code == 200
    admin_id = _grant_id(client.post("/admin/access", data=form).text, "Quotaflow_Admin")
    last = client.post("/admin/access/remove", data={**form, "grant": admin_id})
    assert last.status_code == 422
    assert "the last admin grant cannot be removed" in last.text
    kept = ("admin", "permission_set", web.setup_ids["Quotaflow_Admin"])
    assert kept in _grants(app, web.org_id)


def test_without_csrf_nothing_changes(web: Any, admin: Any) -> None:
    app, form = admin
    before = _grants(app, web.org_id)
    data = {
        "qf_token": form["qf_token"],
        "role": "admin",
        "principal_kind": "user",
        "principal": "x",
    }
    assert app.test_client().post("/admin/access/add", data=data).status_code == 403
    assert _grants(app, web.org_id) == before
