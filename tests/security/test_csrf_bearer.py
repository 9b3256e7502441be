"""The CSRF check is skipped only for a session that came from a valid Bearer header.

Replays issue 13 item 8: a form post carrying the session token in the form and an empty
`Authorization: Bearer ` header used to skip the CSRF check, so any page able to make the
browser add that header could post the admin's forms.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask, url_for

from connector.store.periods import locked_periods
from tests.store_kit import unit_of_work
from tests.webapp.conftest import Web

EMPTY_BEARERS = ["Bearer ", "Bearer    ", "bearer ", "BEARER \t"]
ROUTE_ARGS = {"version": 1, "run_id": 1, "dispute_id": 1, "assignment_id": 1}
# Forms only a rep or manager may post (an admin is refused for the role before CSRF).
REP_FORMS = {"disputes.create", "close.accept_plan"}


@pytest.fixture(scope="module")
def app(web: Web, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return web.fresh(tmp_path_factory.mktemp("csrf"))


def _state_changing_forms(app: Flask) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        methods = rule.methods or set()
        # /connect carries no Quotaflow session: its forms are bound to the connect cookie
        # and checked by their own token (tests/orgs/test_connect.py).
        if "GET" in methods or rule.endpoint.startswith(("api.", "static", "canvas.", "connect.")):
            continue
        if rule.endpoint == "admin.mapping_validate":  # POST only for its body; stores nothing
            continue
        with app.test_request_context():
            args = {k: ROUTE_ARGS[k] for k in rule.arguments}
            urls.append((url_for(rule.endpoint, **args), rule.endpoint))
    return sorted(urls)


@pytest.mark.parametrize("header", EMPTY_BEARERS)
def test_an_empty_bearer_header_does_not_skip_csrf(web: Web, app: Flask, header: str) -> None:
    admin, rep = web.admin_token(app=app), web.token(web.cast.rep_a, app=app)
    client = app.test_client()
    urls = _state_changing_forms(app)
    assert len(urls) >= 10, urls
    for url, endpoint in urls:
        token = rep if endpoint in REP_FORMS else admin
        response = client.post(
            url,
            data={"qf_token": token, "period": "2026-Q1", "mode": "full"},
            headers={"Authorization": header},
        )
        assert response.status_code == 403, (url, response.status_code, response.data[:200])
        assert b"CSRF" in response.data, url
    with app.app_context(), unit_of_work() as uow:
        assert locked_periods(uow.session, org_id=web.org_id) == []


def test_a_forged_bearer_beside_a_form_token_is_401(web: Web, app: Flask) -> None:
    token = web.admin_token(app=app)
    response = app.test_client().post(
        "/admin/periods/lock",
        data={"qf_token": token, "period": "2026-Q1"},
        headers={"Authorization": "Bearer not-a-session"},
    )
    assert response.status_code == 401


def test_a_valid_bearer_session_needs_no_csrf_token(web: Web, tmp_path: Path) -> None:
    app = web.fresh(tmp_path)
    token = web.ops_token(app=app)
    response = app.test_client().post(
        "/api/v1/sync/runs", headers={"Authorization": f"Bearer {token}"}, json={"mode": "full"}
    )
    assert response.status_code == 202, response.data
    # The same form post with the real session in the header is accepted without a CSRF
    # field: nothing cross-site can set that header.
    page = app.test_client().post(
        "/ops/runs/resync", data={"mode": "full"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert page.status_code == 200, page.data[:300]


def test_the_form_token_with_its_csrf_token_still_works(web: Web, app: Flask) -> None:
    viewer = web.viewer(web.cast.ops, app=app, permission_sets=("Quotaflow_Ops",))
    tokens = app.extensions["quotaflow.tokens"]
    response = app.test_client().post(
        "/ops/runs/resync",
        data={"qf_token": tokens.issue(viewer), "qf_csrf": tokens.csrf(viewer), "mode": "full"},
        headers={"Authorization": "Bearer "},
    )
    assert response.status_code == 200, response.data[:300]
