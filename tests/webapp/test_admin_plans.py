"""Plans and periods: upload (errors by path, nothing stored), activate, lock and unlock."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from connector.store.periods import locked_periods
from connector.store.plans import active_plan, plan_versions
from tests.store_kit import unit_of_work

GOOD = """
plans:
  - id: ae
    period: quarter
    quota: {amount: 250000}
    components:
      - {id: commission, type: commission, rate: 0.1}
"""
BAD = """
plans:
  - id: ae
    period: fortnight
    components:
      - {id: commission, type: commission, rate: 0.1}
      - {id: bonus, type: bonus, min_attainment: 1.0, amount: lots}
"""


def _state(app: Flask, org_id: str) -> tuple[int, int | None, list[str]]:
    with app.app_context(), unit_of_work() as uow:
        active = active_plan(uow.session, org_id=org_id)
        return (
            len(plan_versions(uow.session, org_id=org_id)),
            active.version if active else None,
            [lock.period for lock in locked_periods(uow.session, org_id=org_id)],
        )


@pytest.fixture
def admin(web: Any, tmp_path: Path) -> tuple[Flask, dict[str, str]]:
    app = web.fresh(tmp_path)
    token = web.admin_token(app=app)
    page = app.test_client().post("/admin/plans", data={"qf_token": token}).text
    csrf = re.search(r'name="qf_csrf" value="([^"]+)"', page)
    assert csrf
    return app, {"qf_token": token, "qf_csrf": csrf.group(1)}


def test_the_page_shows_the_active_plan(web: Any) -> None:
    response = web.client().post("/admin/plans", data={"qf_token": web.admin_token()})
    assert response.status_code == 200
    assert "Active: plan version 1 (ae, manager, vp)" in response.text


def test_upload_errors_by_path_store_nothing(web: Any, admin: Any) -> None:
    app, form = admin
    before = _state(app, web.org_id)
    response = app.test_client().post("/admin/plans/upload", data={**form, "plan_text": BAD})
    assert response.status_code == 422
    assert "<code>plans[0].period</code>" in response.text
    assert "<code>plans[0].components[1].amount</code>" in response.text
    assert _state(app, web.org_id) == before


def test_upload_a_file_activates_then_reactivate_the_old_one(web: Any, admin: Any) -> None:
    app, form = admin
    client = app.test_client()
    from io import BytesIO

    data = {**form, "plan_file": (BytesIO(GOOD.encode()), "plan.yaml")}
    response = client.post("/admin/plans/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 200, response.text
    assert "activated as plan version 2" in response.text
    assert _state(app, web.org_id)[:2] == (2, 2)
    assert client.post("/admin/plans/1/activate", data=form).status_code == 200
    assert _state(app, web.org_id)[:2] == (2, 1)
    assert client.post("/admin/plans/9/activate", data=form).status_code == 404


def test_lock_and_unlock_a_period(web: Any, admin: Any) -> None:
    app, form = admin
    client = app.test_client()
    response = client.post("/admin/periods/lock", data={**form, "period": "2026-Q1"})
    assert response.status_code == 200
    assert _state(app, web.org_id)[2] == ["2026-Q1"]
    wrong = client.post("/admin/periods/lock", data={**form, "period": "2026-02"})
    assert wrong.status_code == 422
    assert 'data-field-path="period"' in wrong.text and "pays by quarter" in wrong.text
    junk = client.post("/admin/periods/lock", data={**form, "period": "Q1"})
    assert junk.status_code == 422 and "is not a period name" in junk.text
    response = client.post("/admin/periods/unlock", data={**form, "period": "2026-Q1"})
    assert response.status_code == 200
    assert _state(app, web.org_id)[2] == []
    assert (
        client.post("/admin/periods/unlock", data={**form, "period": "2026-Q1"}).status_code == 404
    )


def test_without_csrf_nothing_changes(web: Any, admin: Any) -> None:
    app, form = admin
    client = app.test_client()
    before = _state(app, web.org_id)
    token = {"qf_token": form["qf_token"]}
    assert client.post("/admin/plans/upload", data={**token, "plan_text": GOOD}).status_code == 403
    assert (
        client.post("/admin/periods/lock", data={**token, "period": "2026-Q1"}).status_code == 403
    )
    assert client.get("/admin/periods/lock").status_code == 405
    assert _state(app, web.org_id) == before
