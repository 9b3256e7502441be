"""The rep views on the synced demo org: access, what the pages show, and that the deal
estimate is the engine's own figure (the `Estimated_Commission__c` the sync wrote)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from connector.reports.earnings import rep_summary
from connector.reports.estimate import deal_report
from connector.reports.open_deals import open_deal_estimates
from connector.store.canonical import CanonicalDeal
from connector.store.results import CalcRun, PeriodResult, StoredCredit, WritebackValue
from tests.store_kit import unit_of_work
from webapp.charts.gauge import attainment_gauge
from webapp.db import org_unit
from webapp.rep import _cell

from .conftest import Web


def _post(web: Web, url: str, user: str | None = None, *, token: str | None = None) -> Any:
    return web.client().post(url, data={"qf_token": token or web.token(user or "")})


def _as_of(web: Web) -> date:
    with web.app.app_context(), unit_of_work() as uow:
        run = uow.session.scalars(select(CalcRun).order_by(CalcRun.id.desc()).limit(1)).one()
        return run.as_of


def _deals(web: Web, *, owner: str | None = None) -> list[CanonicalDeal]:
    with web.app.app_context(), unit_of_work() as uow:
        stmt = select(CanonicalDeal).where(
            CanonicalDeal.org_id == web.org_id, CanonicalDeal.deleted.is_(False)
        )
        if owner is not None:
            stmt = stmt.where(CanonicalDeal.owner_id == owner)
        rows = list(uow.session.scalars(stmt.order_by(CanonicalDeal.id)))
        uow.session.expunge_all()
        return rows


def _written(web: Web) -> dict[str, dict[str, Any]]:
    with web.app.app_context(), unit_of_work() as uow:
        rows = uow.session.execute(
            select(WritebackValue.record_id, WritebackValue.fields).where(
                WritebackValue.org_id == web.org_id, WritebackValue.object_name == "Opportunity"
            )
        )
        return {rid: dict(fields) for rid, fields in rows}


def _name(web: Web, rep_id: str) -> str:

    with web.app.app_context(), org_unit(web.org_id) as unit:
        found = unit.people.person(rep_id=rep_id)
    assert found is not None
    return found.name


# Access -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "target", "status"),
    [
        ("rep_a", "rep_a", 200),
        ("rep_a", "rep_b", 404),
        ("rep_a", "rep_a2", 404),
        ("manager_a", "rep_a", 200),
        ("manager_b", "rep_a", 404),
        ("manager_b", "rep_b", 200),
    ],
)
def test_who_may_see_a_rep(web: Web, viewer: str, target: str, status: int) -> None:
    cast = web.cast
    for path in ("", "/statement", "/statement.csv", "/estimate"):
        response = _post(web, f"/reps/{getattr(cast, target)}{path}", getattr(cast, viewer))
        assert response.status_code == status, (viewer, target, path)
        if status == 404:
            assert _name(web, getattr(cast, target)).encode() not in response.data


def test_admin_sees_every_rep(web: Web) -> None:
    token = web.admin_token()
    for rep in (web.cast.rep_a, web.cast.rep_b, web.cast.manager_a):
        assert _post(web, f"/reps/{rep}", token=token).status_code == 200


def test_no_session_is_refused(web: Web) -> None:
    assert web.client().get("/rep").status_code == 401
    assert web.client().get(f"/deals/{_deals(web)[0].id}").status_code == 401


def test_get_with_a_bearer_header_works(web: Web) -> None:
    token = web.token(web.cast.rep_a)
    response = web.client().get("/rep", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_deal_access(web: Web) -> None:
    cast = web.cast
    mine = next(
        d.id
        for d in _deals(web, owner=cast.rep_a)
        if cast.rep_b not in _people(web, d.id) and cast.manager_b not in _people(web, d.id)
    )
    assert _post(web, f"/deals/{mine}", cast.rep_a).status_code == 200
    assert _post(web, f"/deals/{mine}", cast.manager_a).status_code == 200
    assert _post(web, f"/deals/{mine}", token=web.admin_token()).status_code == 200
    assert _post(web, f"/deals/{mine}", cast.rep_b).status_code == 404
    assert _post(web, f"/deals/{mine}", cast.manager_b).status_code == 404
    # a deal of rep_b's that does not involve rep_a
    theirs = next(
        d.id for d in _deals(web, owner=cast.rep_b) if cast.rep_a not in _people(web, d.id)
    )
    assert _post(web, f"/deals/{theirs}", cast.rep_a).status_code == 404


def _people(web: Web, deal_id: str) -> set[str]:

    with web.app.app_context(), org_unit(web.org_id) as unit:
        return unit.records.deal_people(deal_id=deal_id)


def _managers(web: Web) -> set[str]:

    with web.app.app_context(), org_unit(web.org_id) as unit:
        everyone = unit.people.all_people()
    return {p.manager_id for p in everyone if p.manager_id} - {web.cast.rep_a}


def test_bad_period_is_a_400(web: Web) -> None:
    response = _post(web, "/rep?period=2026-Q7", web.cast.rep_a)
    assert response.status_code == 400
    assert b"period" in response.data


# The rep page --------------------------------------------------------------------------------


def test_rep_page_shows_the_current_period(web: Web) -> None:
    response = _post(web, "/rep", web.cast.rep_a)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    with web.app.app_context(), org_unit(web.org_id) as unit:
        summary = rep_summary(unit, rep_id=web.cast.rep_a, as_of=_as_of(web))
    assert summary.is_current and summary.result is not None
    result = summary.result
    assert "My earnings" in html and summary.period in html
    assert 'role="img"' in html and "<title>Attainment" in html
    assert f"${Decimal(result['gross']):,.2f}" in html
    assert f"${summary.gross_ytd:,.2f}" in html
    # every component of the period, and the lines of each deal with their explanations
    assert sum((c.period for c in summary.components), Decimal(0)) == Decimal(result["gross"])
    for deal in summary.deals[:5]:
        assert deal.name in html
        for line in deal.lines:
            assert line["explain"] in html
    # links carry the session in a POST body, never in a URL
    assert not re.search(r'(href|action)="[^"]*qf_token', html)
    assert ' style="' not in html


def test_year_to_date_sums_the_year(web: Web) -> None:
    with web.app.app_context(), unit_of_work() as uow, org_unit(web.org_id) as unit:
        summary = rep_summary(unit, rep_id=web.cast.rep_a, as_of=_as_of(web))
        rows = uow.session.execute(
            select(PeriodResult.period, PeriodResult.gross, PeriodResult.period_start).where(
                PeriodResult.org_id == web.org_id, PeriodResult.rep_id == web.cast.rep_a
            )
        ).all()
    assert summary.result is not None
    year = summary.period[:4] if summary.period else ""
    upto = summary.result["period_start"]
    expected = sum(
        (Decimal(g) for p, g, start in rows if p.startswith(year) and start.isoformat() <= upto),
        Decimal(0),
    )
    assert summary.gross_ytd == expected


def test_period_picker_shows_another_period(web: Web) -> None:
    response = _post(web, f"/reps/{web.cast.rep_a}?period=2026-Q1", web.cast.rep_a)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2026-01-01 to 2026-03-31" in html
    assert "current period</span>" not in html


def test_spiff_progress_counts_the_payouts(web: Web) -> None:
    with web.app.app_context(), unit_of_work() as uow, org_unit(web.org_id) as unit:
        rows = uow.session.scalars(
            select(PeriodResult).where(
                PeriodResult.org_id == web.org_id, PeriodResult.plan_id == "ae"
            )
        ).all()
        paid: dict[str, set[str]] = {}
        for row in rows:
            if row.period.startswith("2026"):
                for line in row.result["lines"]:
                    if line["component"] == "spiff-analytics" and Decimal(line["amount"]) > 0:
                        paid.setdefault(row.rep_id, set()).add(line["deal_id"])
        rep_id = max(paid, key=lambda r: len(paid[r]))
        summary = rep_summary(unit, rep_id=rep_id, as_of=_as_of(web))
    spiff = summary.spiffs[0]
    assert spiff.rule.id == "spiff-analytics" and spiff.rule.max_payouts == 8
    assert spiff.paid == len(paid[rep_id])


def test_statement_and_csv(web: Web) -> None:
    rep = web.cast.rep_a
    html = _post(web, f"/reps/{rep}/statement?period=2026-Q1", rep).get_data(as_text=True)
    assert "Commission statement" in html and "2026-Q1" in html
    response = _post(web, f"/reps/{rep}/statement.csv?period=2026-Q1", rep)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    with web.app.app_context(), unit_of_work() as uow:
        stored = uow.session.get(PeriodResult, (web.org_id, rep, "2026-Q1"))
        assert stored is not None
        gross = Decimal(stored.gross)
        line_count = len(stored.result["lines"])
    assert len(rows) == line_count
    assert sum((Decimal(r["amount"]) for r in rows), Decimal(0)) == gross
    assert f"${gross:,.2f}" in html


def test_csv_cells_cannot_be_formulas() -> None:
    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert _cell("@SUM") == "'@SUM"
    assert _cell("Acme - Renewal") == "Acme - Renewal"
    assert _cell(None) == ""


# The deal view and the estimate --------------------------------------------------------------


@pytest.mark.slow
def test_open_deal_estimates_equal_what_the_sync_wrote(web: Web) -> None:
    written = _written(web)
    as_of = _as_of(web)
    open_ids = [d.id for d in _deals(web) if not d.payload["is_closed"] and d.id in written]
    assert len(open_ids) > 20
    with web.app.app_context(), org_unit(web.org_id) as unit:
        for deal_id in open_ids:
            report = deal_report(unit, deal_id=deal_id, as_of=as_of)
            assert report is not None and report.state == "open"
            want = Decimal(written[deal_id]["Estimated_Commission__c"])
            assert report.owner_amount() == want, deal_id


@pytest.mark.slow
def test_won_deals_pay_the_owners_stored_lines(web: Web) -> None:
    written = _written(web)
    won = [d for d in _deals(web) if d.payload["is_won"] and d.id in written]
    assert won
    as_of = _as_of(web)
    cancelled = 0
    with web.app.app_context(), unit_of_work() as uow, org_unit(web.org_id) as unit:
        # every period of the owner: a clawback lands in the period of the cancel date
        earned: dict[tuple[str, str], Decimal] = {}
        rows = uow.session.execute(
            select(PeriodResult.rep_id, PeriodResult.result).where(
                PeriodResult.org_id == web.org_id
            )
        )
        for rep_id, result in rows:
            for line in result["lines"]:
                if line.get("deal_id"):
                    key = (rep_id, line["deal_id"])
                    earned[key] = earned.get(key, Decimal(0)) + Decimal(line["amount"])
        for row in won:
            lines = earned.get((row.owner_id or "", row.id), Decimal(0))
            report = deal_report(unit, deal_id=row.id, as_of=as_of)
            assert report is not None and report.state == "won"
            assert report.owner_amount() == lines, row.id
            assert report.owner_amount() == Decimal(written[row.id]["Estimated_Commission__c"])
            cancelled += row.payload.get("cancel_date") is not None
    assert cancelled  # clawbacks are covered


def test_estimator_lists_the_open_deals_with_the_same_figures(web: Web) -> None:
    owners = {d.owner_id for d in _deals(web) if not d.payload["is_closed"] and d.owner_id}
    rep = sorted(owners)[0]
    as_of = _as_of(web)
    with web.app.app_context(), org_unit(web.org_id) as unit:
        found = open_deal_estimates(unit, rep_id=rep, as_of=as_of)
        assert found.count == len(found.deals) > 0
        for item in found.deals:
            report = deal_report(unit, deal_id=item.deal.id, as_of=as_of)
            assert report is not None and report.owner_amount() == item.amount
    html = _post(web, f"/reps/{rep}/estimate", token=web.admin_token()).get_data(as_text=True)
    assert found.deals[0].deal.name in html


def _split_deal(web: Web) -> tuple[str, str, set[str]]:
    """A deal with an owner who is a rep and at least one other non-rollup participant."""
    with web.app.app_context(), unit_of_work() as uow:
        rows = uow.session.execute(
            select(StoredCredit.deal_id, StoredCredit.rep_id).where(
                StoredCredit.org_id == web.org_id, StoredCredit.credit_type != "rollup"
            )
        ).all()
    people: dict[str, set[str]] = {}
    for deal_id, rep_id in rows:
        people.setdefault(deal_id, set()).add(rep_id)
    owners = {d.id: d.owner_id for d in _deals(web)}
    managers = _managers(web)
    for deal_id, reps in sorted(people.items()):
        owner = owners.get(deal_id)
        if owner in reps and len(reps) > 1 and owner not in managers:
            return deal_id, owner, reps - {owner}
    raise AssertionError("the demo org has split deals")


def test_deal_page_hides_participants_the_viewer_may_not_see(web: Web) -> None:
    deal_id, owner, others = _split_deal(web)
    response = _post(web, f"/deals/{deal_id}", owner)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert _name(web, owner) in html
    hidden = len(others)
    assert f"{hidden} other participant" in html and "you may not see" in html
    for other in others:
        assert _name(web, other) not in html
        assert other not in html
    admin = _post(web, f"/deals/{deal_id}", token=web.admin_token()).get_data(as_text=True)
    for other in others:
        assert _name(web, other) in admin
    assert "you may not see" not in admin


def test_deal_page_explains_the_lines_and_the_spiff(web: Web) -> None:
    analytics = [
        d
        for d in _deals(web)
        if d.payload.get("product_family") == "Analytics" and d.payload["is_won"]
    ]
    written = _written(web)
    qualified = [
        d for d in analytics if written.get(d.id, {}).get("SPIFF_Status__c") == "Qualified"
    ]
    assert qualified
    deal = qualified[0]
    html = _post(web, f"/deals/{deal.id}", token=web.admin_token()).get_data(as_text=True)
    assert "What this deal pays" in html and "Closed won" in html
    assert "Qualified" in html and "product_family = Analytics" in html
    assert "SPIFF Analytics SPIFF" in html  # the explain text of the SPIFF line
    other = next(d for d in _deals(web) if d.payload.get("product_family") == "Platform")
    html = _post(web, f"/deals/{other.id}", token=web.admin_token()).get_data(as_text=True)
    assert "Does not meet the criteria" in html and "the deal has Platform" in html


def test_open_deal_page_says_estimated(web: Web) -> None:
    deal = next(d for d in _deals(web) if not d.payload["is_closed"])
    html = _post(web, f"/deals/{deal.id}", token=web.admin_token()).get_data(as_text=True)
    assert "Estimated if won today" in html and "rollup credit" in html


# The gauge -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "figure"),
    [(None, "—"), (Decimal("0"), "0.0%"), (Decimal("0.4"), "40.0%"), (Decimal("2.1"), "210.0%")],
)
def test_gauge(value: Decimal | None, figure: str) -> None:
    svg = str(attainment_gauge(value))
    assert svg.startswith("<svg") and 'role="img"' in svg and "<title>" in svg
    assert figure in svg and "quota" in svg
    assert ("qf-gauge__value" in svg) == bool(value)
