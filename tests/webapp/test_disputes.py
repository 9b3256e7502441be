"""Disputes through the pages and the API on a synced demo org: a rep opens one from a
statement line, managers see their team's, admins work the queue; every refusal is logged."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from connector.reports.earnings import rep_summary
from connector.store.disputes import DisputeEvent
from connector.store.sf_tasks import SfTask
from tests.store_kit import unit_of_work
from tests.webapp.conftest import Web
from webapp.db import org_unit


@pytest.fixture
def app(web: Web, tmp_path: Path) -> Flask:
    return web.fresh(tmp_path)


def _bearer(web: Web, app: Flask, who: str) -> dict[str, str]:
    if who == "admin":
        token = web.admin_token(app=app)
    elif who == "ops":
        token = web.ops_token(app=app)
    else:
        token = web.token(getattr(web.cast, who), app=app)
    return {"Authorization": f"Bearer {token}"}


def _line(web: Web, app: Flask, rep: str) -> dict[str, Any]:
    with app.app_context(), org_unit(web.org_id) as unit:
        s = rep_summary(unit, rep_id=rep,
                        as_of=datetime.now(UTC).date(), deal_limit=None)  # fmt: skip
        periods = list(s.periods)
        for period in reversed(periods):
            s = rep_summary(unit, rep_id=rep, period=period,
                            as_of=datetime.now(UTC).date(), deal_limit=None)  # fmt: skip
            for deal in s.deals:
                for ln in deal.lines:
                    if Decimal(str(ln["amount"])) > 0:
                        return {"period": period, "deal_id": deal.deal_id, **ln}
    raise AssertionError(f"{rep} has no paid deal line")


def _open(web: Web, app: Flask, who: str = "rep_a", **extra: Any) -> dict[str, Any]:
    line = _line(web, app, getattr(web.cast, who))
    body = {
        "kind": "line", "period": line["period"], "deal_id": line["deal_id"],
        "component": line["component"], "credit_type": line.get("credit_type") or "",
        "reason": "wrong_split", "expected_amount": "9999.99",
        "description": "My split on this deal should be 100%.",
    } | extra  # fmt: skip
    response = app.test_client().post("/api/v1/disputes", json=body, headers=_bearer(web, app, who))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.get_json()
    assert created["shown_amount"] == str(Decimal(str(line["amount"])).quantize(Decimal("0.01")))
    return created


def _act(web: Web, app: Flask, who: str, dispute_id: int, **body: Any) -> Any:
    return app.test_client().post(
        f"/api/v1/disputes/{dispute_id}/transitions", json=body, headers=_bearer(web, app, who)
    )


def test_rep_opens_admin_resolves_partially_and_everyone_sees_the_history(
    web: Web, app: Flask
) -> None:
    d = _open(web, app)
    assert d["state"] == "submitted" and d["actions"] == ["withdraw"]
    assert [e["action"] for e in d["events"]] == ["open"]
    assert _act(web, app, "admin", d["id"], action="review").status_code == 200
    asked = _act(web, app, "admin", d["id"], action="ask_info", note="Which split record?")
    assert asked.get_json()["state"] == "needs_info"
    replied = _act(web, app, "rep_a", d["id"], action="reply", note="The 50/50 one.")
    assert replied.get_json()["state"] == "in_review"
    done = _act(web, app, "admin", d["id"], action="resolve", resolution="partially_approved",
                amount="125.50", note="Half of the split was right.")  # fmt: skip
    body = done.get_json()
    assert (body["state"], body["resolution"], body["resolved_amount"]) == (
        "resolved", "partially_approved", "125.50"
    )  # fmt: skip
    # The resolution stored the adjustment the next sync pays, referenced by the dispute.
    with app.app_context(), org_unit(web.org_id) as unit:
        (adj,) = unit.adjustments.listed(rep_ids=[web.cast.rep_a])
        paid = (adj.id, adj.amount, adj.period, adj.reference, adj.source, adj.component)
    assert paid == (body["adjustment_id"], "125.50", d["period"], f"dispute-{d['id']}",
                    "dispute", "adjustment")  # fmt: skip
    # The rep sees every step, who took it and what changed.
    seen = app.test_client().get(f"/api/v1/disputes/{d['id']}", headers=_bearer(web, app, "rep_a"))
    events = seen.get_json()["events"]
    assert [e["action"] for e in events] == ["open", "review", "ask_info", "reply", "resolve"]
    assert events[-1]["changes"]["resolved_amount"] == "125.50"
    assert events[2]["note"] == "Which split record?"
    assert seen.get_json()["actions"] == ["close"]
    page = app.test_client().post(
        f"/disputes/{d['id']}", data={"qf_token": web.token(web.cast.rep_a, app=app)}
    )
    assert page.status_code == 200 and "Half of the split was right." in page.text
    assert "Taken for review" in page.text
    assert _act(web, app, "rep_a", d["id"], action="close").get_json()["state"] == "closed"
    with app.app_context(), unit_of_work() as uow:
        rows = uow.session.query(SfTask).filter_by(source_id=d["id"]).order_by(SfTask.id).all()
        tasks = [(t.assignee_id, t.status) for t in rows]
    # submitted (no dispute admin set: nobody), in_review (the admin), needs_info (rep),
    # back to in_review (admin), resolved (rep); all done once closed.
    assert [who for who, _ in tasks] == [
        web.cast.admin, web.cast.rep_a, web.cast.admin, web.cast.rep_a
    ]  # fmt: skip
    assert {status for _, status in tasks} == {"done"}


def test_a_rep_cannot_resolve_their_own_dispute_and_the_attempt_is_logged(
    web: Web, app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    d = _open(web, app)
    _act(web, app, "admin", d["id"], action="review")
    with caplog.at_level(logging.WARNING, logger="quotaflow.audit"):
        refused = _act(
            web, app, "rep_a", d["id"], action="resolve", resolution="approved", note="mine"
        )
    assert refused.status_code == 403
    assert f"resolve on dispute {d['id']} -> 403" in caplog.text and web.cast.rep_a in caplog.text
    with app.app_context(), unit_of_work() as uow:
        actions = [e.action for e in uow.session.query(DisputeEvent).filter_by(dispute_id=d["id"])]
    assert actions == ["open", "review"]  # nothing stored
    denied = _act(web, app, "admin", d["id"], action="resolve", resolution="denied", note="no")
    assert denied.get_json()["adjustment_id"] is None
    with app.app_context(), org_unit(web.org_id) as unit:
        assert unit.adjustments.listed(rep_ids=[web.cast.rep_a]) == []  # a denial pays nothing


def test_managers_see_their_teams_disputes_only(
    web: Web, app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    mine = _open(web, app, "rep_a")
    other = _open(web, app, "rep_b")
    client = app.test_client()
    listed = client.get("/api/v1/disputes", headers=_bearer(web, app, "manager_a")).get_json()
    ids = {d["id"] for d in listed["disputes"]}
    assert mine["id"] in ids and other["id"] not in ids
    with caplog.at_level(logging.WARNING, logger="quotaflow.audit"):
        hidden = client.get(
            f"/api/v1/disputes/{other['id']}", headers=_bearer(web, app, "manager_a")
        )
    assert hidden.status_code == 404 and f"view dispute {other['id']} -> 404" in caplog.text
    assert client.get("/api/v1/disputes", headers=_bearer(web, app, "ops")).status_code == 403
    everything = client.get(
        "/api/v1/disputes?sort=rep", headers=_bearer(web, app, "admin")
    ).get_json()
    assert {mine["id"], other["id"]} <= {d["id"] for d in everything["disputes"]}


def test_the_queue_sorts_by_age_amount_rep_and_reason(web: Web, app: Flask) -> None:
    a = _open(web, app, "rep_a", expected_amount="10.00", reason="other")
    b = _open(web, app, "rep_b", expected_amount="50000.00", reason="missing_deal")
    admin = _bearer(web, app, "admin")

    def order(sort: str) -> list[int]:
        rows = app.test_client().get(f"/api/v1/disputes?sort={sort}", headers=admin).get_json()
        return [d["id"] for d in rows["disputes"] if d["id"] in (a["id"], b["id"])]

    assert order("age") == [a["id"], b["id"]]
    by_size = sorted((a, b), key=lambda d: -abs(Decimal(d["disputed_amount"])))
    assert order("amount") == [d["id"] for d in by_size]
    assert order("reason") == [b["id"], a["id"]]  # Missing deal < Other
    assert app.test_client().get("/api/v1/disputes?sort=size", headers=admin).status_code == 400


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"expected_amount": "12.345"}, "expected_amount: at most two decimals"),
        ({"expected_amount": "NaN"}, "expected_amount:"),
        ({"expected_amount": "1e400"}, "expected_amount:"),
        ({"reason": "because"}, "reason:"),
        ({"period": "2026-13"}, "period:"),
        ({"description": " "}, "description:"),
        ({"description": "x" * 4001}, "description: at most"),
        ({"kind": "everything"}, "kind:"),
        ({"component": "no-such-component"}, "line: your statement has no such line"),
        ({"description": ["a"]}, "description: must be text"),
    ],
)
def test_bad_disputes_are_refused_naming_the_field(
    web: Web, app: Flask, change: dict[str, Any], message: str
) -> None:
    line = _line(web, app, web.cast.rep_a)
    body = {"kind": "line", "period": line["period"], "deal_id": line["deal_id"],
            "component": line["component"], "credit_type": line.get("credit_type") or "",
            "reason": "other", "description": "wrong"} | change  # fmt: skip
    response = app.test_client().post(
        "/api/v1/disputes", json=body, headers=_bearer(web, app, "rep_a")
    )
    assert response.status_code == 400, response.text
    assert message in response.get_json()["error"]


def test_another_reps_deal_cannot_be_disputed(web: Web, app: Flask) -> None:
    line = _line(web, app, web.cast.rep_b)
    body = {"kind": "deal", "period": line["period"], "deal_id": line["deal_id"],
            "reason": "other", "description": "mine"}  # fmt: skip
    response = app.test_client().post(
        "/api/v1/disputes", json=body, headers=_bearer(web, app, "rep_a")
    )
    assert response.status_code == 404


def _csrf_session(web: Web, app: Flask, who: str) -> dict[str, str]:
    token = (
        web.admin_token(app=app) if who == "admin" else web.token(getattr(web.cast, who), app=app)
    )
    page = "/admin/disputes" if who == "admin" else "/disputes/new"
    html = app.test_client().post(page, data={"qf_token": token}).text
    csrf = re.search(r'name="qf_csrf" value="([^"]+)"', html)
    assert csrf, html[:500]
    return {"qf_token": token, "qf_csrf": csrf.group(1)}


def test_manager_step_and_reasons_are_admin_settings(web: Web, app: Flask) -> None:
    admin = _csrf_session(web, app, "admin")
    client = app.test_client()
    saved = client.post("/admin/disputes/settings", data=admin | {"manager_step": "on",
                        "dispute_admin_id": web.cast.admin})  # fmt: skip
    assert saved.status_code == 200
    bad = client.post(
        "/admin/disputes/settings", data=admin | {"dispute_admin_id": "0065g0000000001AAA"}
    )
    assert bad.status_code == 400
    added = client.post("/admin/disputes/reasons", data=admin | {"code": "wrong_territory",
                        "label": "Wrong territory"})  # fmt: skip
    assert "Wrong territory" in added.text
    retire = {"code": "other", "label": "Other", "active": "off"}
    retired = client.post("/admin/disputes/reasons", data=admin | retire)
    assert retired.status_code == 200
    assert (
        client.post(
            "/admin/disputes/reasons", data=admin | {"code": "Bad Code", "label": "x"}
        ).status_code
        == 400
    )
    reasons = client.get("/api/v1/disputes/reasons", headers=_bearer(web, app, "rep_a")).get_json()
    by_code = {r["code"]: r["active"] for r in reasons["reasons"]}
    assert by_code["wrong_territory"] is True and by_code["other"] is False
    d = _open(web, app, "rep_a", reason="wrong_territory")
    assert d["state"] == "manager_review" and d["reason_label"] == "Wrong territory"
    assert _act(web, app, "manager_b", d["id"], action="endorse").status_code == 404
    assert _act(web, app, "admin", d["id"], action="review").status_code == 409
    sent = _act(web, app, "manager_a", d["id"], action="endorse")
    assert sent.status_code == 200 and sent.get_json()["state"] == "submitted"
    line = _line(web, app, web.cast.rep_a)
    body = {"kind": "period", "period": line["period"], "reason": "other", "description": "x"}
    retired_use = app.test_client().post(
        "/api/v1/disputes", headers=_bearer(web, app, "rep_a"), json=body
    )
    assert retired_use.status_code == 400


def test_a_rep_opens_a_dispute_from_the_statement_page(web: Web, app: Flask) -> None:
    session = _csrf_session(web, app, "rep_a")
    line = _line(web, app, web.cast.rep_a)
    client = app.test_client()
    statement = client.post(
        f"/reps/{web.cast.rep_a}/statement", data=session | {"period": line["period"]}
    )
    assert "qf-dispute-line" in statement.text
    form = client.post("/disputes/new", data=session | {"kind": "line", "period": line["period"],
                       "deal_id": line["deal_id"], "component": line["component"]})  # fmt: skip
    assert form.status_code == 200 and 'name="expected_amount"' in form.text
    opened = client.post("/disputes/open", data=session | {
        "kind": "line", "period": line["period"], "deal_id": line["deal_id"],
        "component": line["component"], "credit_type": line.get("credit_type") or "",
        "reason": "wrong_amount", "expected_amount": "1,000.00", "description": "Too low",
    })  # fmt: skip
    assert opened.status_code == 200, opened.text[:300]
    assert "Dispute #" in opened.text and 'data-action="withdraw"' in opened.text
    # A manager's statement of a team member offers no dispute buttons: only the rep disputes.
    manager = _csrf_session(web, app, "manager_a")
    theirs = client.post(
        f"/reps/{web.cast.rep_a}/statement", data=manager | {"period": line["period"]}
    )
    assert theirs.status_code == 200 and "qf-dispute-line" not in theirs.text
    no_csrf = client.post(
        "/disputes/open", data={"qf_token": session["qf_token"], "kind": "period"}
    )
    assert no_csrf.status_code == 403
