"""Hostile numbers, documents and envelopes get a 4xx naming the field, never a 500.

Each case replays an attack from issue 13: Unicode digits where a number is read, ids too
large for the database, YAML whose scalars break their constructors, nesting deep enough
to exhaust the parser's recursion, and Canvas envelopes that do the same or carry a token
that cannot go into an HTTP header.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import logging
import re
from typing import Any

import pytest
from flask import Flask

from connector.settings import Settings
from connector.store.engine import make_engine
from connector.store.migrate import upgrade
from connector.store.roles import Holder
from tests.webapp.canvas_kit import sign
from tests.webapp.conftest import Web
from webapp import create_app
from webapp.auth.session import new_viewer
from webapp.params import MAX_INT

HUGE = "9" * 30
DEEP = "[" * 20000


@pytest.fixture(scope="module")
def app(web: Web, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return web.fresh(tmp_path_factory.mktemp("no500"))


@pytest.fixture(scope="module")
def admin(web: Web, app: Flask) -> dict[str, str]:
    token = web.admin_token(app=app)
    page = app.test_client().post("/admin/plans", data={"qf_token": token}).text
    csrf = re.search(r'name="qf_csrf" value="([^"]+)"', page)
    assert csrf
    return {"qf_token": token, "qf_csrf": csrf.group(1)}


def _api(web: Web, app: Flask) -> dict[str, str]:
    return {"Authorization": f"Bearer {web.admin_token(app=app)}"}


def _refused(response: Any, statuses: tuple[int, ...], field: str) -> None:
    assert response.status_code in statuses, (response.status_code, response.data[:300])
    text = response.get_data(as_text=True)
    assert re.search(field, text), text[:500]
    assert "Traceback" not in text


@pytest.mark.parametrize("value", ["²", "٣", "1²", HUGE, "2147483648", "0", "-1", " 5"])
def test_api_limit(web: Web, app: Flask, value: str) -> None:
    response = app.test_client().get(
        "/api/v1/sync/runs", query_string={"limit": value}, headers=_api(web, app)
    )
    _refused(response, (400,), "limit")


@pytest.mark.parametrize("value", ["²", HUGE, "2147483648", "0"])
def test_path_ids(web: Web, app: Flask, admin: dict[str, str], value: str) -> None:
    client = app.test_client()
    _refused(client.get(f"/api/v1/sync/runs/{value}", headers=_api(web, app)), (404,), "run_id")
    _refused(client.post(f"/ops/runs/{value}", data=admin), (404,), "run_id")
    for path in (f"/admin/mappings/{value}/activate", f"/admin/plans/{value}/activate"):
        _refused(client.post(path, data=admin), (404,), "version")


def test_the_largest_id_is_looked_up_not_overflowed(web: Web, app: Flask) -> None:
    response = app.test_client().get("/api/v1/sync/runs/2147483647", headers=_api(web, app))
    assert response.status_code == 404
    assert "Sync run 2147483647" in response.get_json()["error"]


@pytest.mark.parametrize("value", ["²", HUGE, "0"])
@pytest.mark.parametrize("page", ["/ops/issues"])
def test_page_numbers(app: Flask, admin: dict[str, str], page: str, value: str) -> None:
    response = app.test_client().post(f"{page}?page={value}", data=admin)
    _refused(response, (400,), "page")


def test_a_far_page_is_empty_not_an_overflow(app: Flask, admin: dict[str, str]) -> None:
    response = app.test_client().post("/ops/issues?page=2147483647", data=admin)
    assert response.status_code == 200


@pytest.mark.parametrize("value", ["²", HUGE])
def test_form_ids(app: Flask, admin: dict[str, str], value: str) -> None:
    client = app.test_client()
    _refused(client.post("/ops/issues/retry", data={**admin, "issue": value}), (400,), "issue")
    for name in ("a", "b"):
        response = client.post("/admin/mappings/history", data={**admin, name: value})
        _refused(response, (400,), name)


BAD_YAML = {
    "impossible date": "format: 1\nrep: {object: User}\nwhen: 2026-02-30\n",
    "hex int without digits": "format: !!int 0x\n",
    "deep nesting": DEEP,
    "deep mapping nesting": "{a: " * 20000,
}


@pytest.mark.parametrize("text", BAD_YAML.values(), ids=BAD_YAML.keys())
def test_api_mapping_documents(web: Web, app: Flask, text: str) -> None:
    client, headers = app.test_client(), _api(web, app)
    raw = client.post("/api/v1/mappings/validate", headers=headers, data=text)
    assert raw.status_code in (400, 422), raw.data[:300]
    assert "body" in raw.get_json()["error"] or "document" in raw.get_json()["error"]
    wrapped = client.post("/api/v1/mappings/validate", headers=headers, json={"document": text})
    assert wrapped.status_code in (200, 400, 422), wrapped.data[:300]
    if wrapped.status_code == 200:
        assert wrapped.get_json()["valid"] is False


@pytest.mark.parametrize("text", BAD_YAML.values(), ids=BAD_YAML.keys())
def test_admin_documents(app: Flask, admin: dict[str, str], text: str) -> None:
    client = app.test_client()
    for path in ("/admin/mappings/validate", "/admin/mappings/save"):
        response = client.post(path, data={**admin, "mode": "yaml", "document": text})
        assert response.status_code in (400, 422), (path, response.data[:300])
    plan = client.post("/admin/plans/upload", data={**admin, "plan_text": text})
    assert plan.status_code in (400, 422), plan.data[:300]
    upload = (io.BytesIO(text.encode()), "plan.yaml")
    filed = client.post("/admin/plans/upload", data={**admin, "plan_file": upload})
    assert filed.status_code in (400, 422), filed.data[:300]
    assert "Traceback" not in filed.get_data(as_text=True)


def test_mapping_form_cells(app: Flask, admin: dict[str, str]) -> None:
    page = app.test_client().post("/admin/mappings", data=admin).text
    names = set(re.findall(r'name="([a-z_.0-9]+\.(?:transforms|default))"', page))
    assert names, "the mapping form has no transforms/default cells"
    cells = {name: BAD_YAML["impossible date"].split("when: ")[1] for name in names}
    cells |= dict.fromkeys(sorted(names)[:1], DEEP)
    response = app.test_client().post("/admin/mappings/validate", data={**admin, **cells})
    assert response.status_code in (200, 400, 422), response.data[:300]


def test_deep_json_bodies(web: Web, app: Flask) -> None:
    headers = {**_api(web, app), "Content-Type": "application/json"}
    response = app.test_client().post("/api/v1/sync/runs", headers=headers, data=DEEP)
    _refused(response, (400,), "body")


def _envelope(web: Web, **client: Any) -> dict[str, Any]:
    return {
        "algorithm": "HMACSHA256",
        "userId": web.cast.rep_a,
        "client": {"oauthToken": "00Dx!token", "instanceUrl": web.info.instance_url, **client},
        "context": {
            "user": {"userId": web.cast.rep_a, "userName": "rep@example.com"},
            "organization": {"organizationId": web.org_id},
        },
    }


def _signed_text(text: str, secret: str) -> str:
    encoded = base64.b64encode(text.encode()).decode()
    digest = hmac.new(secret.encode(), encoded.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode() + "." + encoded


def test_canvas_deep_envelope(web: Web, app: Flask) -> None:
    secret = web.settings.sf_canvas_secret
    assert secret
    deep = '{"algorithm": "HMACSHA256", "x": ' + "[" * 20000 + "]" * 20000 + "}"
    response = app.test_client().post(
        "/canvas",
        data={"signed_request": _signed_text(deep, secret)},
        headers={"Accept": "application/json"},
    )
    _refused(response, (403,), "envelope")


@pytest.mark.parametrize("token", ["00D!tök€n", "00D!\u2028", "00D!\r\nX-Evil: 1", "😀"])
def test_canvas_token_that_cannot_be_a_header(web: Web, app: Flask, token: str) -> None:
    secret = web.settings.sf_canvas_secret
    assert secret
    signed = sign(_envelope(web, oauthToken=token), secret)
    response = app.test_client().post(
        "/canvas", data={"signed_request": signed}, headers={"Accept": "application/json"}
    )
    _refused(response, (403,), "oauthToken")


def test_ids_at_the_bound_fit_each_database(store_settings: Settings) -> None:
    """2**31-1 is looked up (PostgreSQL INTEGER holds it); one more never reaches the driver."""
    settings = store_settings.with_overrides(secret_key="no-500-tests-session-key-of-40-chars!!")
    upgrade(make_engine(settings))
    app = create_app(settings)
    # Roles are resolved again from the store on each page: an admin by the default grant.
    admin = Holder(user_id="005x", profile_name="System Administrator")
    viewer = new_viewer(
        user_id="005x", org_id="00Dx", name="Admin", roles={"admin", "ops"}, holder=admin
    )
    tokens = app.extensions["quotaflow.tokens"]
    form = {"qf_token": tokens.issue(viewer), "qf_csrf": tokens.csrf(viewer)}
    bearer = {"Authorization": f"Bearer {form['qf_token']}"}
    client = app.test_client()
    top, over = str(MAX_INT), str(MAX_INT + 1)
    assert client.get(f"/api/v1/sync/runs/{top}", headers=bearer).status_code == 404
    _refused(client.get(f"/api/v1/sync/runs/{over}", headers=bearer), (404,), "run_id")
    for path in ("/admin/mappings/{}/activate", "/admin/plans/{}/activate", "/ops/runs/{}"):
        assert client.post(path.format(top), data=form).status_code == 404, path
        _refused(client.post(path.format(over), data=form), (404,), "version|run_id")
    assert client.post(f"/ops/issues?page={top}", data=form).status_code == 200
    retried = client.post("/ops/issues/retry", data={**form, "issue": top})
    assert retried.status_code == 400 and b"None of the chosen issues" in retried.data
    _refused(client.post("/ops/issues/retry", data={**form, "issue": over}), (400,), "issue")


def test_a_real_bug_is_a_plain_500_and_logged_with_its_traceback(
    sqlite_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = sqlite_settings.with_overrides(secret_key="no-500-tests-session-key-of-40-chars!!")
    app = create_app(settings)

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise KeyError("a bug, not bad input")

    @app.get("/api/v1/deep")
    def deep() -> None:
        raise RecursionError("maximum recursion depth exceeded")

    with caplog.at_level(logging.WARNING):
        crashed = app.test_client().get("/api/v1/boom")
        nested = app.test_client().get("/api/v1/deep")
    assert crashed.status_code == 500
    assert crashed.get_json() == {
        "error": "Quotaflow hit an unexpected error; it has been logged.",
        "status": 500,
    }
    assert nested.status_code == 422 and "nested too deeply" in nested.get_json()["error"]
    assert "unexpected error on GET /api/v1/boom" in caplog.text
    assert "KeyError: 'a bug, not bad input'" in caplog.text  # the traceback is in the log
    assert "input nested too deeply on /api/v1/deep" in caplog.text
    assert "Traceback" not in crashed.get_data(as_text=True) + nested.get_data(as_text=True)
