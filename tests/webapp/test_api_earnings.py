"""The earnings and estimate API: the `quotaflow calc` shape, and the HTML views' access."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from connector.store.canonical import CanonicalDeal
from connector.store.results import PeriodResult, WritebackValue
from tests.store_kit import unit_of_work

from .conftest import Web

RESULT_KEYS = [
    "rep_id",
    "plan_id",
    "period",
    "period_start",
    "period_end",
    "quota",
    "credit",
    "attainment",
    "attainment_ytd",
    "components",
    "gross",
    "draw",
    "net",
    "lines",
]


def _get(web: Web, url: str, user: str | None = None, *, token: str | None = None) -> Any:
    bearer = token or web.token(user or "")
    return web.client().get(url, headers={"Authorization": f"Bearer {bearer}"})


def _stored(web: Web, rep_id: str) -> dict[str, dict[str, Any]]:
    with web.app.app_context(), unit_of_work() as uow:
        rows = uow.session.scalars(
            select(PeriodResult).where(
                PeriodResult.org_id == web.org_id, PeriodResult.rep_id == rep_id
            )
        )
        return {r.period: dict(r.result) for r in rows}


def test_my_earnings_is_the_calc_result_shape(web: Web) -> None:
    response = _get(web, "/api/v1/me/earnings?period=2026-Q1", web.cast.rep_a)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"currency", "results", "credits", "unresolved"}
    assert body["currency"] == "USD"
    [result] = body["results"]
    assert sorted(result) == sorted(RESULT_KEYS)
    assert result == _stored(web, web.cast.rep_a)["2026-Q1"]
    assert body["credits"] and all(
        c["rep_id"] == web.cast.rep_a and c["period"] == "2026-Q1" for c in body["credits"]
    )
    assert sorted(body["credits"][0]) == sorted(
        ["deal_id", "rep_id", "credit_type", "percent", "amount", "period"]
    )
    credited = sum(
        (Decimal(c["amount"]) for c in body["credits"] if c["credit_type"] != "rollup"), Decimal(0)
    )
    assert credited == Decimal(result["credit"])


def test_without_a_period_every_period_of_the_current_year(web: Web) -> None:
    body = _get(web, "/api/v1/me/earnings", web.cast.rep_a).get_json()
    stored = _stored(web, web.cast.rep_a)
    periods = [r["period"] for r in body["results"]]
    year = periods[0][:4]
    assert periods == sorted(p for p in stored if p.startswith(year))
    assert year == str(max(int(p[:4]) for p in stored))


@pytest.mark.parametrize("bad", ["2026-Q5", "Q1", "2026-13", "'; drop", "2026-Q1x"])
def test_bad_period_is_a_400_naming_it(web: Web, bad: str) -> None:
    response = _get(web, f"/api/v1/me/earnings?period={bad}", web.cast.rep_a)
    assert response.status_code == 400
    assert "period" in response.get_json()["error"]


@pytest.mark.parametrize(
    ("viewer", "target", "status"),
    [
        ("rep_a", "rep_a", 200),
        ("rep_a", "rep_b", 404),
        ("manager_a", "rep_a", 200),
        ("manager_a", "rep_a2", 200),
        ("manager_b", "rep_a", 404),
        ("manager_b", "rep_b", 200),
    ],
)
def test_same_access_as_the_html_view(web: Web, viewer: str, target: str, status: int) -> None:
    cast = web.cast
    user, rep = getattr(cast, viewer), getattr(cast, target)
    api = _get(web, f"/api/v1/reps/{rep}/earnings?period=2026-Q1", user)
    html = web.client().post(f"/reps/{rep}?period=2026-Q1", data={"qf_token": web.token(user)})
    assert api.status_code == html.status_code == status
    if status == 404:
        assert api.get_json() == {"error": api.get_json()["error"], "status": 404}
        assert rep in api.get_json()["error"]


def test_admin_reads_any_rep(web: Web) -> None:
    body = _get(web, f"/api/v1/reps/{web.cast.rep_b}/earnings", token=web.admin_token()).get_json()
    assert body["results"] and {r["rep_id"] for r in body["results"]} == {web.cast.rep_b}


def test_no_token_is_a_401(web: Web) -> None:
    response = web.client().get("/api/v1/me/earnings")
    assert response.status_code == 401 and "error" in response.get_json()


def _open_deal_of(web: Web, owner: str) -> tuple[str, Decimal]:
    with web.app.app_context(), unit_of_work() as uow:
        deals = uow.session.scalars(
            select(CanonicalDeal).where(
                CanonicalDeal.org_id == web.org_id, CanonicalDeal.owner_id == owner
            )
        ).all()
        for deal in deals:
            if deal.payload["is_closed"]:
                continue
            written = uow.session.get(WritebackValue, (web.org_id, "Opportunity", deal.id))
            if written is not None:
                return deal.id, Decimal(written.fields["Estimated_Commission__c"])
    raise AssertionError(f"{owner} has an open deal")


def test_deal_estimate_is_the_written_estimate(web: Web) -> None:
    owner = web.cast.rep_a
    deal_id, written = _open_deal_of(web, owner)
    response = _get(web, f"/api/v1/deals/{deal_id}/estimate", owner)
    assert response.status_code == 200
    body = response.get_json()
    assert body["state"] == "open" and body["owner_id"] == owner
    assert Decimal(body["owner_amount"]) == written
    mine = next(p for p in body["participants"] if p["rep_id"] == owner)
    assert Decimal(mine["amount"]) == written
    assert sum((Decimal(ln["amount"]) for ln in mine["lines"]), Decimal(0)) == written
    assert body["spiff"]["status"] in {"Not Eligible", "Eligible"}


def test_deal_estimate_access_matches_the_deal_page(web: Web) -> None:
    cast = web.cast
    deal_id, _ = _open_deal_of(web, cast.rep_a)
    for user, status in ((cast.rep_a, 200), (cast.manager_a, 200), (cast.rep_b, 404)):
        api = _get(web, f"/api/v1/deals/{deal_id}/estimate", user)
        html = web.client().post(f"/deals/{deal_id}", data={"qf_token": web.token(user)})
        assert api.status_code == html.status_code
        if user != cast.rep_b or status == 404:
            assert api.status_code == status or cast.rep_b in api.get_data(as_text=True)
    missing = _get(web, "/api/v1/deals/006000000000000AAA/estimate", token=web.admin_token())
    assert missing.status_code == 404


def test_hidden_participants_are_counted_not_named(web: Web) -> None:
    from .test_rep import _split_deal

    deal_id, owner, others = _split_deal(web)
    body = _get(web, f"/api/v1/deals/{deal_id}/estimate", owner).get_json()
    assert body["hidden_participants"] == len(others)
    assert {p["rep_id"] for p in body["participants"]} == {owner}
    text = str(body)
    assert not any(other in text for other in others)
    full = _get(web, f"/api/v1/deals/{deal_id}/estimate", token=web.admin_token()).get_json()
    assert full["hidden_participants"] == 0
    assert {p["rep_id"] for p in full["participants"]} == {owner} | others
