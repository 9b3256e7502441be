"""Every answer of the app except static files says `Cache-Control: no-store`.

Replays issue 13 item 9: pages and API answers carrying pay data, the statement CSV and
the /canvas answer carrying a session token were cacheable by the browser and any proxy.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, url_for
from sqlalchemy import select

from connector.store.canonical import CanonicalDeal
from tests.store_kit import unit_of_work
from tests.webapp.canvas_kit import set_canvas_url, signed_request
from tests.webapp.conftest import Web


@pytest.fixture(scope="module")
def app(web: Web, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return web.fresh(tmp_path_factory.mktemp("cache"))


def _args(web: Web, app: Flask) -> dict[str, Any]:
    with app.app_context(), unit_of_work() as uow:
        deal = uow.session.scalars(
            select(CanonicalDeal.id).where(CanonicalDeal.org_id == web.org_id).limit(1)
        ).one()
    return {
        "rep_id": web.cast.rep_a,
        "deal_id": deal,
        "version": 1,
        "run_id": 1,
        "dispute_id": 1,
        "assignment_id": 1,
        "period": "2026-Q1",
    }


def test_every_route_answers_no_store(web: Web, app: Flask) -> None:
    args = _args(web, app)
    viewer = web.viewer(web.cast.admin, app=app, profile=("System Administrator",))
    tokens = app.extensions["quotaflow.tokens"]
    form = {"qf_token": tokens.issue(viewer), "qf_csrf": tokens.csrf(viewer)}
    bearer = {"Authorization": f"Bearer {form['qf_token']}"}
    client = app.test_client()
    seen = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **{k: args[k] for k in rule.arguments})
        if "GET" in (rule.methods or ()):
            response = client.get(url, headers=bearer)
        else:
            response = client.post(url, data=form)
        assert response.headers.get("Cache-Control") == "no-store", (url, response.status_code)
        seen += 1
    assert seen >= 30


def test_pay_data_answers(web: Web, app: Flask) -> None:
    token = web.token(web.cast.rep_a, app=app)
    client = app.test_client()
    csv = client.post(f"/reps/{web.cast.rep_a}/statement.csv", data={"qf_token": token})
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert csv.headers["Cache-Control"] == "no-store"
    api = client.get("/api/v1/me/earnings", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and api.headers["Cache-Control"] == "no-store"
    refused = client.get("/api/v1/me/earnings")
    assert refused.status_code == 401 and refused.headers["Cache-Control"] == "no-store"


def test_the_canvas_answer_carrying_a_session_token(web: Web, app: Flask) -> None:
    set_canvas_url(web.info, "http://127.0.0.1:9/canvas")  # the page carries the request
    response = app.test_client().post(
        "/canvas",
        data={"signed_request": signed_request(web.info, web.cast.rep_a)},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200, response.data[:300]
    assert "token" in response.get_json()
    assert response.headers["Cache-Control"] == "no-store"


def test_static_files_stay_cacheable(app: Flask) -> None:
    response = app.test_client().get("/static/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
