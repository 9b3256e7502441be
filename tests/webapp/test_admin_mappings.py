"""The mapping editor: validate against the org's describe, errors beside their field, save
(nothing stored when invalid), activate, preview on five records, history and diff."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from connector.store.mapping_versions import active_version, list_versions
from tests.store_kit import unit_of_work


class _Form(HTMLParser):
    """The fields of the mapping editor form, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == "mapping-form":
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a.get("name")
        elif (
            tag == "option"
            and self._select
            and ("selected" in a or self._select not in self.fields)
        ):
            self.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None


def editor_fields(html: str) -> dict[str, str]:
    """The editor form's fields in `html`."""
    parser = _Form()
    parser.feed(html)
    return parser.fields


def _versions(app: Flask, org_id: str) -> tuple[int, int | None]:
    with app.app_context(), unit_of_work() as uow:
        active = active_version(uow.session, org_id)
        return len(list_versions(uow.session, org_id)), active.version if active else None


def _wrapper(html: str, path: str) -> str:
    """The element carrying data-field-path=`path`, up to the next input wrapper."""
    start = html.index(f'data-field-path="{path}"')
    begin = html.rindex("<div", 0, start)
    end = html.find('data-field-path="', start + 20)
    return html[begin : end if end > 0 else None]


@pytest.fixture
def fresh(web: Any, tmp_path: Path) -> tuple[Flask, str]:
    app = web.fresh(tmp_path)
    return app, web.admin_token(app=app)


def test_the_editor_shows_the_active_version_as_rows(web: Any) -> None:
    response = web.client().post("/admin/mappings", data={"qf_token": web.admin_token()})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Active: version 1" in html
    fields = editor_fields(html)
    assert fields["deal.fields.amount.source"] == "Amount"
    assert fields["deal.fields.amount.transforms"] == "[to_decimal]"
    assert fields["deal.fields.amount.required"] == "when_won"
    assert fields["deal.fields.acv.source"] == "=amount * 12 / term_months"
    assert fields["writeback.spiff_status"] == "Opportunity.SPIFF_Status__c"


def test_wrong_field_error_beside_it_and_nothing_changes(web: Any, fresh: Any) -> None:
    app, token = fresh
    before = _versions(app, web.org_id)
    client = app.test_client()
    fields = editor_fields(client.post("/admin/mappings", data={"qf_token": token}).text)
    fields["deal.fields.amount.source"] = "Amount_Typo__c"
    response = client.post("/admin/mappings/save", data=fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    beside = _wrapper(html, "deal.fields.amount.source")
    assert "qf-field--error" in beside
    assert re.search(r'class="qf-field-error"[^>]*>[^<]*Amount_Typo__c', beside)
    assert 'value="Amount_Typo__c"' in beside  # the edit is kept for fixing
    assert "Nothing was stored" in html
    assert _versions(app, web.org_id) == before


def test_validate_reports_without_storing(web: Any, fresh: Any) -> None:
    app, token = fresh
    client = app.test_client()
    fields = editor_fields(client.post("/admin/mappings", data={"qf_token": token}).text)
    response = client.post("/admin/mappings/validate", data=fields)
    assert response.status_code == 200
    assert "Valid against the org's live describe" in response.text
    fields["rep.fields.hire_date.transforms"] = "[to_decimal"
    response = client.post("/admin/mappings/validate", data=fields)
    assert response.status_code == 422
    assert "qf-field--error" in _wrapper(response.text, "rep.fields.hire_date.transforms")


def test_valid_edit_saves_a_new_version_then_activates(web: Any, fresh: Any) -> None:
    app, token = fresh
    count, active = _versions(app, web.org_id)
    client = app.test_client()
    fields = editor_fields(client.post("/admin/mappings", data={"qf_token": token}).text)
    fields["name"] = "with email"
    response = client.post("/admin/mappings/save", data=fields)
    assert response.status_code == 200, response.text
    assert f"Saved as version {count + 1} (not active yet)" in response.text
    assert _versions(app, web.org_id) == (count + 1, active)
    again = client.post("/admin/mappings/save", data=fields)
    assert f"this document is version {count + 1}" in again.text
    assert _versions(app, web.org_id) == (count + 1, active)
    csrf = fields["qf_csrf"]
    response = client.post(
        f"/admin/mappings/{count + 1}/activate", data={"qf_token": token, "qf_csrf": csrf}
    )
    assert response.status_code == 200
    assert _versions(app, web.org_id) == (count + 1, count + 1)
    history = client.post("/admin/mappings/history", data={"qf_token": token}).text
    assert "name" in history and "with email" in history and "changed" in history


def test_yaml_mode_lists_errors_by_path(web: Any, fresh: Any) -> None:
    app, token = fresh
    client = app.test_client()
    page = client.post("/admin/mappings?mode=yaml", data={"qf_token": token}).text
    assert "<textarea" in page and "standard-org" in page
    csrf = editor_csrf(page)
    bad = "format: 1\nrep: {object: User, fields: {id: Id}}\ndeal: {object: Opportunity}\n"
    response = client.post(
        "/admin/mappings/save",
        data={"qf_token": token, "qf_csrf": csrf, "mode": "yaml", "document": bad},
    )
    assert response.status_code == 422
    assert "<code>deal.fields</code>" in response.text
    assert _versions(app, web.org_id)[0] == 1


def editor_csrf(html: str) -> str:
    """The CSRF token in a page."""
    found = re.search(r'name="qf_csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_preview_maps_five_records(web: Any) -> None:
    client = web.client()
    token = web.admin_token()
    fields = editor_fields(client.post("/admin/mappings", data={"qf_token": token}).text)
    fields["target"] = "deal"
    response = client.post("/admin/mappings/preview", data=fields)
    assert response.status_code == 200
    assert response.text.count('<article class="qf-admin-sample') == 5
    assert "Preview: Opportunity" in response.text
    fields["deal.fields.close_date.source"] = "Name"  # not a date: every record fails
    response = client.post("/admin/mappings/preview", data=fields)
    assert response.text.count("qf-admin-sample--error") == 5


def test_csrf_missing_is_refused_and_nothing_changes(web: Any, fresh: Any) -> None:
    app, token = fresh
    before = _versions(app, web.org_id)
    client = app.test_client()
    fields = editor_fields(client.post("/admin/mappings", data={"qf_token": token}).text)
    fields["name"] = "sneaky"
    del fields["qf_csrf"]
    assert client.post("/admin/mappings/save", data=fields).status_code == 403
    assert client.post("/admin/mappings/1/activate", data={"qf_token": token}).status_code == 403
    assert client.get("/admin/mappings/save").status_code == 405
    assert _versions(app, web.org_id) == before


ADMIN_ROUTES = [
    ("POST", "/admin/mappings"),
    ("POST", "/admin/mappings/validate"),
    ("POST", "/admin/mappings/save"),
    ("POST", "/admin/mappings/1/activate"),
    ("POST", "/admin/mappings/preview"),
    ("POST", "/admin/mappings/history"),
    ("POST", "/admin/plans"),
    ("POST", "/admin/plans/upload"),
    ("POST", "/admin/plans/1/activate"),
    ("POST", "/admin/periods/lock"),
    ("POST", "/admin/periods/unlock"),
    ("POST", "/admin/access"),
    ("POST", "/admin/access/add"),
    ("POST", "/admin/access/remove"),
]


@pytest.mark.parametrize("who", ["rep_a", "manager_a", "vp", "ops"])
def test_non_admins_are_refused_everywhere(web: Any, who: str) -> None:
    token = web.ops_token() if who == "ops" else web.token(getattr(web.cast, who))
    client = web.client()
    for _method, url in ADMIN_ROUTES:
        response = client.post(url, data={"qf_token": token})
        assert response.status_code == 403, url
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/mappings/active", headers=headers).status_code == 403
    assert client.post("/api/v1/mappings/validate", headers=headers, json={}).status_code == 403


def test_no_session_is_refused(web: Any) -> None:
    assert web.client().post("/admin/mappings").status_code == 401
