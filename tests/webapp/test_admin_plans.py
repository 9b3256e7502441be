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


def _seen_change(app: Flask, org_id: str) -> tuple[str, int]:
    """A demo rep seen on `ae`, then on `manager` from 2026-09-01 (as a sync records it)."""
    from datetime import UTC, date, datetime

    from connector.store.assignments import NewAssignment, history, record

    with app.app_context(), unit_of_work() as uow:
        known = history(uow.session, org_id=org_id)
        rep_id = sorted(r for r, rows in known.items() if len(rows) == 1)[0]
        change = NewAssignment(rep_id, date(2026, 9, 1), "manager", None, "900000", None)
        now = datetime(2026, 9, 2, tzinfo=UTC)
        record(
            uow.session,
            org_id=org_id,
            rows=[change],
            seen_on=date(2026, 9, 1),
            run_id=None,
            now=now,
        )
        uow.commit()
        rows = history(uow.session, org_id=org_id)[rep_id]
        return rep_id, rows[-1].id


def _starts(app: Flask, org_id: str, rep_id: str) -> list[Any]:
    from connector.store.assignments import correction_events, history

    with app.app_context(), unit_of_work() as uow:
        rows = history(uow.session, org_id=org_id)[rep_id]
        events = correction_events(uow.session, org_id=org_id)
        return [[r.effective_from for r in rows], [(e.old_from, e.new_from, e.by) for e in events]]


def test_the_page_lists_changes_and_an_admin_corrects_the_date(web: Any, admin: Any) -> None:
    from datetime import date

    app, form = admin
    rep_id, row_id = _seen_change(app, web.org_id)
    client = app.test_client()
    page = client.post("/admin/plans", data={"qf_token": form["qf_token"]}).text
    assert f'data-assignment="{row_id}"' in page and "2026-09-01" in page
    # Once, in the page body: not also inside <title> or <head>.
    assert page.count('data-qf="assignments"') == 1
    assert "<title>Quotaflow: plans and periods</title>" in page
    url = f"/admin/assignments/{row_id}/effective-from"
    response = client.post(url, data={**form, "effective_from": "2026-08-15"})
    assert response.status_code == 200, response.text
    assert "now effective from 2026-08-15" in response.text
    starts, events = _starts(app, web.org_id, rep_id)
    assert starts == [None, date(2026, 8, 15)]
    assert len(events) == 1 and events[0][:2] == (date(2026, 9, 1), date(2026, 8, 15))
    assert events[0][2]  # who corrected it


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2026-02-30", "not a date (expected YYYY-MM-DD): &#39;2026-02-30&#39;"),
        ("15/08/2026", "not a date (expected YYYY-MM-DD)"),
        ("", "not a date (expected YYYY-MM-DD)"),
        ("0001-01-01", "0001-01-01 is outside 1990-2100"),
    ],
)
def test_a_bad_date_is_422_and_changes_nothing(
    web: Any, admin: Any, value: str, reason: str
) -> None:
    app, form = admin
    rep_id, row_id = _seen_change(app, web.org_id)
    before = _starts(app, web.org_id, rep_id)
    url = f"/admin/assignments/{row_id}/effective-from"
    response = app.test_client().post(url, data={**form, "effective_from": value})
    assert response.status_code == 422
    assert reason in response.text
    assert _starts(app, web.org_id, rep_id) == before


def test_a_date_out_of_order_is_422_and_an_unknown_change_404(web: Any, admin: Any) -> None:
    from datetime import UTC, date, datetime

    from connector.store.assignments import NewAssignment, record

    app, form = admin
    rep_id, row_id = _seen_change(app, web.org_id)
    with app.app_context(), unit_of_work() as uow:
        later = NewAssignment(rep_id, date(2026, 11, 1), "ae", None, None, None)
        now = datetime(2026, 11, 2, tzinfo=UTC)
        record(
            uow.session,
            org_id=web.org_id,
            rows=[later],
            seen_on=date(2026, 11, 1),
            run_id=None,
            now=now,
        )
        uow.commit()
    before = _starts(app, web.org_id, rep_id)
    client = app.test_client()
    url = f"/admin/assignments/{row_id}/effective-from"
    response = client.post(url, data={**form, "effective_from": "2026-11-01"})
    assert response.status_code == 422
    assert "not before the next assignment&#39;s start (2026-11-01)" in response.text
    assert _starts(app, web.org_id, rep_id) == before
    missing = client.post(
        "/admin/assignments/999999/effective-from", data={**form, "effective_from": "2026-08-01"}
    )
    assert missing.status_code == 404
    no_csrf = {"qf_token": form["qf_token"], "effective_from": "2026-08-01"}
    assert client.post(url, data=no_csrf).status_code == 403
    assert _starts(app, web.org_id, rep_id) == before
