"""Period close on a synced demo org: statements approved by the manager, then an admin; a
period with an open dispute is not closed without an override reason; the payroll export of
the closed period repeats byte for byte and totals the approved statements to the cent."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from connector.store.results import PeriodResult
from tests.store_kit import unit_of_work
from tests.webapp.conftest import Web
from webapp.db import org_unit


@pytest.fixture
def app(web: Web, tmp_path: Path) -> Flask:
    return web.fresh(tmp_path)


def _h(web: Web, app: Flask, who: str) -> dict[str, str]:
    token = (
        web.admin_token(app=app) if who == "admin" else web.token(getattr(web.cast, who), app=app)
    )
    return {"Authorization": f"Bearer {token}"}


def _period(web: Web, app: Flask) -> str:
    page = app.test_client().post("/close", data={"qf_token": web.admin_token(app=app)})
    assert page.status_code == 200
    with app.app_context(), unit_of_work() as uow:
        periods = uow.session.scalars(
            select(PeriodResult.period).where(PeriodResult.rep_id == web.cast.rep_a)
        ).all()
    found = [p for p in periods if f"Statements {p}" in page.text]
    assert found, "the close page shows no period of rep_a"
    return found[0]


def _statements(web: Web, app: Flask, period: str, who: str = "admin") -> dict[str, Any]:
    response = app.test_client().get(
        f"/api/v1/periods/{period}/statements", headers=_h(web, app, who)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.get_json()
    return body


def _approve(web: Web, app: Flask, period: str, rep: str, who: str) -> Any:
    return app.test_client().post(
        f"/api/v1/periods/{period}/statements/{rep}/approval", headers=_h(web, app, who), json={}
    )


def _approve_all(web: Web, app: Flask, period: str) -> None:
    for s in _statements(web, app, period)["statements"]:
        if s["state"] == "draft" and s["rep_id"] != web.cast.vp:
            assert _approve(web, app, period, s["rep_id"], "vp").status_code == 200
        assert _approve(web, app, period, s["rep_id"], "admin").status_code == 200


def test_approval_steps_and_who_may_take_them(web: Web, app: Flask) -> None:
    period = _period(web, app)
    rep_a = web.cast.rep_a
    assert _approve(web, app, period, rep_a, "rep_a").status_code == 403  # no manager role
    assert _approve(web, app, period, rep_a, "manager_b").status_code == 404  # other team
    assert _approve(web, app, period, rep_a, "admin").status_code == 409  # manager first
    assert _approve(web, app, period, web.cast.manager_a, "manager_a").status_code == 404  # own
    assert _approve(web, app, period, rep_a, "manager_a").status_code == 200
    team = _statements(web, app, period, "manager_a")["statements"]
    assert {s["rep_id"] for s in team} >= {rep_a} and web.cast.rep_b not in {
        s["rep_id"] for s in team
    }
    assert next(s for s in team if s["rep_id"] == rep_a)["state"] == "manager_approved"
    assert _approve(web, app, period, rep_a, "admin").status_code == 200
    assert _approve(web, app, period, rep_a, "admin").status_code == 409  # approved already
    # A later change of the stored result voids the approval.
    with app.app_context(), unit_of_work() as uow:
        row = uow.session.get(PeriodResult, (web.org_id, rep_a, period))
        assert row is not None
        row.result = dict(row.result) | {"net": str(Decimal(row.result["net"]) + 1)}
        uow.commit()
    after = next(s for s in _statements(web, app, period)["statements"] if s["rep_id"] == rep_a)
    assert (after["state"], after["changed_since_approval"]) == ("draft", True)


def test_an_open_dispute_blocks_the_close_until_an_override_reason(web: Web, app: Flask) -> None:
    period = _period(web, app)
    client = app.test_client()
    body = {"kind": "period", "period": period, "reason": "other", "description": "My SPIFF?"}
    dispute = client.post("/api/v1/disputes", headers=_h(web, app, "rep_a"), json=body)
    assert dispute.status_code == 201, dispute.text
    assert (
        client.get(
            f"/api/v1/periods/{period}/payroll.json", headers=_h(web, app, "admin")
        ).status_code
        == 409
    )
    _approve_all(web, app, period)
    status = _statements(web, app, period)
    assert status["blockers"]["open_disputes"] == [dispute.get_json()["id"]]
    assert status["blockers"]["unapproved_statements"] == []
    refused = client.post(f"/api/v1/periods/{period}/close", headers=_h(web, app, "admin"), json={})
    assert refused.status_code == 409 and "1 open dispute" in refused.get_json()["error"]
    assert client.post(f"/api/v1/periods/{period}/close", headers=_h(web, app, "manager_a"),
                       json={"override_reason": "x"}).status_code == 403  # fmt: skip
    reason = {"override_reason": "Dispute #1 is about next quarter's SPIFF."}
    closed = client.post(
        f"/api/v1/periods/{period}/close", headers=_h(web, app, "admin"), json=reason
    )
    assert closed.status_code == 200 and closed.get_json()["closed"] is True
    assert closed.get_json()["override_reason"].startswith("Dispute #1")
    with app.app_context(), org_unit(web.org_id) as unit:
        assert period in [lock.period for lock in unit.periods.locked_periods()]
    again = client.post(f"/api/v1/periods/{period}/close", headers=_h(web, app, "admin"),
                        json={"override_reason": "again"})  # fmt: skip
    assert again.status_code == 409

    first = client.get(f"/api/v1/periods/{period}/payroll.json", headers=_h(web, app, "admin"))
    second = client.get(f"/api/v1/periods/{period}/payroll.json", headers=_h(web, app, "admin"))
    assert first.status_code == 200 and first.data == second.data
    assert first.headers["X-Checksum-SHA256"] == hashlib.sha256(first.data).hexdigest()
    doc = json.loads(first.data)
    statements = _statements(web, app, period)["statements"]
    approved_net = sum(
        (Decimal(s["net"]) for s in statements if s["state"] == "approved"), Decimal(0)
    )
    assert Decimal(doc["totals"]["net"]) == approved_net
    assert len(doc["rows"]) == len(statements)
    assert sum(Decimal(r["gross"]) for r in doc["rows"]) == Decimal(doc["totals"]["gross"])
    csv_body = client.get(f"/api/v1/periods/{period}/payroll.csv", headers=_h(web, app, "admin"))
    assert hashlib.sha256(csv_body.data).hexdigest() == doc["csv_sha256"]
    assert csv_body.data.startswith(b"salesforce_user_id,employee_number,period,currency,gross")
    page = client.post("/admin/close/payroll.csv", data={"qf_token": web.admin_token(app=app),
                       "period": period})  # fmt: skip
    assert page.data == csv_body.data


@pytest.mark.parametrize("bad", ["2026-13", "x", "2026-Q5"])
def test_bad_period_names_are_refused(web: Web, app: Flask, bad: str) -> None:
    response = app.test_client().get(
        f"/api/v1/periods/{bad}/statements", headers=_h(web, app, "admin")
    )
    assert response.status_code == 400 and "period:" in response.get_json()["error"]


def test_with_the_hold_on_a_rep_who_has_not_accepted_is_not_approved(web: Web, app: Flask) -> None:
    from datetime import UTC, datetime

    with app.app_context(), org_unit(web.org_id) as unit:
        unit.disputes.save_settings(by="admin", now=datetime.now(UTC), hold_unaccepted=True)
        unit.commit()
    period = _period(web, app)
    assert _approve(web, app, period, web.cast.rep_a, "manager_a").status_code == 409
    held = _approve(web, app, period, web.cast.rep_a, "manager_a").get_json()["error"]
    assert "has not accepted the plan" in held
    plan = app.test_client().get("/api/v1/me/plan", headers=_h(web, app, "rep_a")).get_json()
    accepted = app.test_client().post(
        "/api/v1/me/plan/acceptance", headers=_h(web, app, "rep_a"),
        json={"version": plan["version"], "document_sha256": plan["document_sha256"]},
    )  # fmt: skip
    assert accepted.status_code == 201
    assert _approve(web, app, period, web.cast.rep_a, "manager_a").status_code == 200
