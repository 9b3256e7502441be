"""Plan acceptance inside Salesforce: a rep reads their plan document and accepts it; a new
plan version asks again, and the new acceptance names both versions; admins see who has not."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from connector.sync.plans import demo_plan_text, import_plan
from tests.webapp.conftest import Web


@pytest.fixture
def app(web: Web, tmp_path: Path) -> Flask:
    return web.fresh(tmp_path)


def _headers(web: Web, app: Flask, who: str) -> dict[str, str]:
    token = (
        web.admin_token(app=app) if who == "admin" else web.token(getattr(web.cast, who), app=app)
    )
    return {"Authorization": f"Bearer {token}"}


def _plan(web: Web, app: Flask, who: str = "rep_a") -> dict[str, Any]:
    response = app.test_client().get("/api/v1/me/plan", headers=_headers(web, app, who))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.get_json()
    return body


def _accept(web: Web, app: Flask, version: int, sha: str) -> Any:
    return app.test_client().post(
        "/api/v1/me/plan/acceptance",
        json={"version": version, "document_sha256": sha},
        headers=_headers(web, app, "rep_a"),
    )


def _new_version(app: Flask, web: Web) -> int:
    text = demo_plan_text().replace("rate: 0.12", "rate: 0.13", 1)
    assert text != demo_plan_text()
    row, created = import_plan(app.extensions["quotaflow.sessions"], org_id=web.org_id, text=text,
                               source="v2.yaml", by="admin", now=datetime.now(UTC))  # fmt: skip
    assert created
    return row.version


def test_accepting_then_a_new_version_asks_again_and_names_both(web: Web, app: Flask) -> None:
    first = _plan(web, app)
    assert first["accepted"] is False and first["acceptances"] == []
    assert "Draw and clawback" in first["text"] and f"version {first['version']}" in first["text"]
    done = _accept(web, app, first["version"], first["document_sha256"])
    assert done.status_code == 201, done.text
    assert (done.get_json()["plan_version"], done.get_json()["previous_version"]) == (
        first["version"], None
    )  # fmt: skip
    assert _plan(web, app)["accepted"] is True
    again = _accept(web, app, first["version"], first["document_sha256"])
    assert again.status_code == 201 and again.get_json() == done.get_json()  # kept, not doubled

    version = _new_version(app, web)
    second = _plan(web, app)
    assert second["version"] == version > first["version"]
    assert second["accepted"] is False and second["document_sha256"] != first["document_sha256"]
    assert "13%" in second["text"]
    stale = _accept(web, app, first["version"], first["document_sha256"])
    assert stale.status_code == 409 and "read version" in stale.get_json()["error"]
    forged = _accept(web, app, second["version"], first["document_sha256"])
    assert forged.status_code == 409
    accepted = _accept(web, app, second["version"], second["document_sha256"])
    assert accepted.status_code == 201
    record = accepted.get_json()
    assert (record["plan_version"], record["previous_version"]) == (version, first["version"])
    assert [a["plan_version"] for a in _plan(web, app)["acceptances"]] == [
        version,
        first["version"],
    ]


def test_admins_see_who_has_not_accepted(web: Web, app: Flask) -> None:
    plan = _plan(web, app)
    assert _accept(web, app, plan["version"], plan["document_sha256"]).status_code == 201
    report = app.test_client().get("/api/v1/plan-acceptances", headers=_headers(web, app, "admin"))
    reps = {r["rep_id"]: r for r in report.get_json()["reps"]}
    assert reps[web.cast.rep_a]["current"] is True
    assert (
        reps[web.cast.rep_b]["current"] is False
        and reps[web.cast.rep_b]["accepted_version"] is None
    )
    first_current = [r["current"] for r in report.get_json()["reps"]].index(True)
    assert not any(r["current"] for r in report.get_json()["reps"][:first_current])  # not first
    page = app.test_client().post("/admin/acceptance", data={"qf_token": web.admin_token(app=app)})
    assert f'data-rep="{web.cast.rep_b}" data-current="no"' in page.text


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"version": "x", "document_sha256": "0" * 64}, 400),
        ({"version": 1, "document_sha256": "nothex"}, 400),
        ({"version": 999999, "document_sha256": "0" * 64}, 409),
    ],
)
def test_bad_acceptances_are_refused(
    web: Web, app: Flask, body: dict[str, Any], status: int
) -> None:
    response = app.test_client().post(
        "/api/v1/me/plan/acceptance", json=body, headers=_headers(web, app, "rep_a")
    )
    assert response.status_code == status, response.text
    assert _plan(web, app)["acceptances"] == []


def test_the_rep_accepts_on_the_embedded_page(web: Web, app: Flask) -> None:
    token = web.token(web.cast.rep_a, app=app)
    client = app.test_client()
    page = client.post("/plan", data={"qf_token": token}).text
    assert "data-needs-acceptance" in page and 'id="accept-plan"' in page
    fields = dict(re.findall(r'name="(qf_csrf|version|document_sha256)" value="([^"]+)"', page))
    done = client.post("/plan/accept", data={"qf_token": token, **fields})
    assert done.status_code == 200 and "You accepted version" in done.text
    assert 'id="accept-plan"' not in done.text
