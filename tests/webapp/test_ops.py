"""The ops console: run history, resync, record issues and the write-back retry."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from connector.store.models import RecordIssue
from connector.store.results import WritebackValue, add_issues
from connector.store.run_reads import RunRecord, recent_runs
from tests.store_kit import unit_of_work
from tests.webapp.conftest import Web

HTML_ROUTES = ("/ops/runs", "/ops/runs/1", "/ops/issues")
POST_ONLY = ("/ops/runs/resync", "/ops/issues/retry")


def _csrf(app: Flask, token: str) -> str:
    tokens = app.extensions["quotaflow.tokens"]
    return str(tokens.csrf(tokens.verify(token)))


def _form(app: Flask, token: str, **fields: str | list[str]) -> dict[str, str | list[str]]:
    return {"qf_token": token, "qf_csrf": _csrf(app, token), **fields}


def _runs(app: Flask, org_id: str) -> list[RunRecord]:
    with app.app_context(), unit_of_work() as uow:
        return sorted(recent_runs(uow.session, org_id=org_id, limit=1000), key=lambda r: r.id)


def test_runs_page_shows_history_chart_and_buttons(web: Web) -> None:
    response = web.client().post("/ops/runs", data={"qf_token": web.ops_token()})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Run history" in html and 'class="qf-badge qf-badge--succeeded"' in html
    assert '<svg class="qf-chart"' in html and "API calls per sync run" in html
    assert 'name="mode" value="incremental"' in html and 'name="mode" value="full"' in html
    assert 'name="qf_csrf"' in html
    assert "<script>" not in html and 'style="' not in html


def test_run_detail_and_unknown_run(web: Web) -> None:
    client, token = web.client(), web.ops_token()
    first = _runs(web.app, web.org_id)[0]
    html = client.post(f"/ops/runs/{first.id}", data={"qf_token": token}).get_data(as_text=True)
    assert f"Sync run #{first.id}" in html and "Records pulled" in html
    assert client.post("/ops/runs/99999", data={"qf_token": token}).status_code == 404


def test_issues_page_filters_and_rejects_bad_filters(web: Web) -> None:
    client, token = web.client(), web.admin_token()
    ok = client.post("/ops/issues", data={"qf_token": token, "stage": "map", "status": "any"})
    assert ok.status_code == 200
    assert '<option value="map" selected>' in ok.get_data(as_text=True)
    bad = client.post("/ops/issues", data={"qf_token": token, "stage": "nope"})
    assert bad.status_code == 400 and "nope" in bad.get_data(as_text=True)
    assert client.post("/ops/issues?page=0", data={"qf_token": token}).status_code == 400


@pytest.mark.parametrize("who", ["rep_a", "manager_a", "vp"])
def test_reps_and_managers_get_403_everywhere(web: Web, who: str) -> None:
    client, token = web.client(), web.token(getattr(web.cast, who))
    for url in (*HTML_ROUTES, *POST_ONLY):
        response = client.post(url, data=_form(web.app, token, mode="incremental"))
        assert response.status_code == 403, url
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/sync/runs", headers=bearer).status_code == 403
    assert client.get("/api/v1/sync/runs/1", headers=bearer).status_code == 403
    assert client.post("/api/v1/sync/runs", headers=bearer, json={}).status_code == 403


def test_admin_may_use_ops(web: Web) -> None:
    client, token = web.client(), web.admin_token()
    for url in HTML_ROUTES:
        assert client.post(url, data={"qf_token": token}).status_code == 200, url


def test_post_only_routes_refuse_get(web: Web) -> None:
    bearer = {"Authorization": f"Bearer {web.ops_token()}"}
    for url in POST_ONLY:
        assert web.client().get(url, headers=bearer).status_code == 405, url


def test_no_session_is_401(web: Web) -> None:
    assert web.client().post("/ops/runs").status_code == 401


def test_resync_queues_a_run_and_coalesces(web: Web, tmp_path: Path) -> None:
    app = web.fresh(tmp_path)
    token = web.ops_token(app=app)
    client = app.test_client()
    before = len(_runs(app, web.org_id))
    first = client.post("/ops/runs/resync", data=_form(app, token, mode="incremental"))
    assert first.status_code == 200
    assert re.search(r"Incremental run #\d+ is queued", first.get_data(as_text=True))
    runs = _runs(app, web.org_id)
    assert len(runs) == before + 1
    queued = runs[-1]
    assert queued.status == "queued" and queued.mode == "incremental"
    assert queued.requested_by == web.cast.ops
    second = client.post("/ops/runs/resync", data=_form(app, token, mode="full"))
    assert f"already waiting (#{queued.id})" in second.get_data(as_text=True)
    runs = _runs(app, web.org_id)
    assert len(runs) == before + 1 and runs[-1].mode == "full"
    page = client.post("/ops/runs", data={"qf_token": token}).get_data(as_text=True)
    assert "data-qf-progress" in page and "Waiting for the clock" in page
    assert f'data-url="/api/v1/sync/runs/{queued.id}"' in page


def test_resync_without_csrf_is_403_and_queues_nothing(web: Web, tmp_path: Path) -> None:
    app = web.fresh(tmp_path)
    token = web.ops_token(app=app)
    before = len(_runs(app, web.org_id))
    response = app.test_client().post("/ops/runs/resync", data={"qf_token": token, "mode": "full"})
    assert response.status_code == 403
    wrong = _form(app, token, mode="full") | {"qf_csrf": "forged"}
    assert app.test_client().post("/ops/runs/resync", data=wrong).status_code == 403
    assert len(_runs(app, web.org_id)) == before


def test_resync_bad_mode_is_400(web: Web, tmp_path: Path) -> None:
    app = web.fresh(tmp_path)
    token = web.ops_token(app=app)
    response = app.test_client().post("/ops/runs/resync", data=_form(app, token, mode="huge"))
    assert response.status_code == 400 and "huge" in response.get_data(as_text=True)


def _writeback_failure(app: Flask, org_id: str) -> tuple[int, tuple[str, str]]:
    """Record a write-back failure for a record with stored desired values (settled)."""
    now = datetime.now(UTC)
    with app.app_context(), unit_of_work() as uow:
        value = uow.session.scalars(
            select(WritebackValue).where(WritebackValue.org_id == org_id).limit(1)
        ).one()
        value.pending = False
        key = (value.object_name, value.record_id)
        run_id = _runs(app, org_id)[-1].id
        add_issues(
            uow.session,
            org_id=org_id,
            run_id=run_id,
            stage="writeback",
            issues=[(*key, "Amount", "FIELD_CUSTOM_VALIDATION_EXCEPTION", "blocked by a rule")],
            now=now,
        )
        uow.commit()
        issue_id = uow.session.scalars(
            select(RecordIssue.id).where(RecordIssue.stage == "writeback")
        ).one()
    return issue_id, key


def _pending(app: Flask, org_id: str, key: tuple[str, str]) -> bool:
    with app.app_context(), unit_of_work() as uow:
        return uow.session.get(WritebackValue, (org_id, *key)).pending  # type: ignore[union-attr]


def test_retry_repends_values_and_queues_a_run(web: Web, tmp_path: Path) -> None:
    app = web.fresh(tmp_path)
    issue_id, key = _writeback_failure(app, web.org_id)
    token = web.ops_token(app=app)
    client = app.test_client()
    listed = client.post("/ops/issues", data={"qf_token": token, "stage": "writeback"})
    assert f'name="issue" value="{issue_id}"' in listed.get_data(as_text=True)
    response = client.post("/ops/issues/retry", data=_form(app, token, issue=[str(issue_id)]))
    assert response.status_code == 200
    queued = _runs(app, web.org_id)[-1]
    assert queued.status == "queued" and queued.mode == "incremental"
    html = response.get_data(as_text=True)
    assert f"1 record will be written on the next run (#{queued.id})" in html
    assert _pending(app, web.org_id, key)


def test_retry_needs_a_choice_and_csrf(web: Web, tmp_path: Path) -> None:
    app = web.fresh(tmp_path)
    _issue_id, key = _writeback_failure(app, web.org_id)
    token = web.ops_token(app=app)
    client = app.test_client()
    before = len(_runs(app, web.org_id))
    none = client.post("/ops/issues/retry", data=_form(app, token))
    assert none.status_code == 400 and "Choose at least one" in none.get_data(as_text=True)
    forged = client.post("/ops/issues/retry", data={"qf_token": token, "scope": "all"})
    assert forged.status_code == 403
    assert len(_runs(app, web.org_id)) == before and not _pending(app, web.org_id, key)
    every = client.post("/ops/issues/retry", data=_form(app, token, scope="all"))
    assert "1 record will be written" in every.get_data(as_text=True)
    assert _pending(app, web.org_id, key)
