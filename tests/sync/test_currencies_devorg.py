"""Currencies against the devorg: the sync reads DatedConversionRate, a deal in EUR is credited
at the rate of its close date (shown on its lines), its Estimated_Commission__c is written in
EUR, and a changed rate recomputes the deal at the next refresh."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy import select

from calc.money import round_cents
from connector.store.currency_rates import CurrencyRateSync, stored_rates
from connector.store.results import PeriodResult, StoredCredit
from connector.sync import run_sync

from .conftest import next_second, running_org  # type: ignore[import-not-found]


def _credit(org: object, deal_id: str) -> StoredCredit:
    with org.deps.sessions() as session:  # type: ignore[attr-defined]
        return session.scalars(
            select(StoredCredit).where(
                StoredCredit.deal_id == deal_id, StoredCredit.credit_type == "owner"
            )
        ).one()


@pytest.mark.slow
def test_a_deal_in_euros_is_credited_at_its_dated_rate(tmp_path: Path) -> None:
    with running_org(tmp_path) as org:
        assert run_sync(org.deps, mode="full").status == "succeeded"
        with org.deps.sessions() as session:
            rates = stored_rates(session, org.org_id)
        assert rates is not None and rates.currencies == {"USD", "EUR", "GBP"}
        found = rates.in_force("EUR", date(2026, 5, 1))
        assert found is not None and found.rate == Decimal("0.9")

        splits = {
            s["OpportunityId"]
            for s in org.client.query("SELECT OpportunityId FROM OpportunitySplit")
        }
        team = {
            t["OpportunityId"]
            for t in org.client.query("SELECT OpportunityId FROM OpportunityTeamMember")
        }
        deal = next(
            o
            for o in org.client.query(
                "SELECT Id, Amount, CloseDate, Owner.Comp_Plan__c FROM Opportunity "
                "WHERE IsWon = true AND CloseDate >= 2026-04-01 AND CloseDate < 2026-07-01 "
                "AND Cancel_Date__c = null ORDER BY Amount DESC"
            )
            if o["Owner"]["Comp_Plan__c"] == "ae" and o["Id"] not in splits | team
        )
        amount = Decimal(str(deal["Amount"]))
        assert _credit(org, deal["Id"]).amount == str(round_cents(amount))
        org.client.patch("Opportunity", deal["Id"], {"CurrencyIsoCode": "EUR"})
        next_second()
        assert run_sync(org.deps, mode="incremental").status in ("succeeded", "partial")

        credit = _credit(org, deal["Id"])
        assert credit.amount == str(round_cents(Fraction(amount) / Fraction(Decimal("0.9"))))
        with org.deps.sessions() as session:
            result = session.scalars(
                select(PeriodResult).where(
                    PeriodResult.rep_id == credit.rep_id, PeriodResult.period == credit.period
                )
            ).one()
        lines = [ln for ln in result.result["lines"] if ln["deal_id"] == deal["Id"]]
        assert lines and all((ln["currency"], ln["fx_rate"]) == ("EUR", "0.90") for ln in lines)
        earned = sum((Decimal(ln["amount"]) for ln in lines), Decimal(0))
        (opp,) = org.client.query(
            f"SELECT Estimated_Commission__c FROM Opportunity WHERE Id = '{deal['Id']}'"
        )
        # written in the opportunity's own currency, at the rate the credit was converted at
        assert Decimal(str(opp["Estimated_Commission__c"])) == round_cents(earned * Decimal("0.9"))

        # An admin corrects the quarter's rate; the next refresh reads it and recomputes.
        (row,) = org.client.query(
            "SELECT Id FROM DatedConversionRate WHERE IsoCode = 'EUR' AND StartDate = 2026-04-01"
        )
        org.client.patch("DatedConversionRate", row["Id"], {"ConversionRate": 0.8})
        with org.deps.sessions() as session:
            state = session.get(CurrencyRateSync, org.org_id)
            assert state is not None
            state.fetched_at -= timedelta(hours=2)  # the hourly refresh is due
            session.commit()
        next_second()
        again = run_sync(org.deps, mode="incremental")
        assert again.status in ("succeeded", "partial") and again.reps_recomputed > 1
        assert _credit(org, deal["Id"]).amount == str(round_cents(Fraction(amount) * 5 / 4))
