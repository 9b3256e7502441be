"""The rep page reads open-deal estimates the sync stored; they equal the live estimate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connector.reports.open_deals import open_deal_estimates, stored_commissions
from tests.webapp.conftest import Web
from webapp.db import org_unit


def test_stored_and_live_estimates_agree(web: Web) -> None:
    compared = 0
    with web.app.app_context(), org_unit(web.org_id) as unit:
        run = unit.results.last_committed_calc()
        assert run is not None
        as_of = run.as_of
        reps = [p.id for p in unit.people.all_people() if p.plan_id == "ae"]
        for rep_id in reps[:15]:
            live = open_deal_estimates(unit, rep_id=rep_id, as_of=as_of)
            read = open_deal_estimates(unit, rep_id=rep_id, as_of=as_of, use_stored=True)
            assert [(d.deal.id, d.amount) for d in read.deals] == [
                (d.deal.id, d.amount) for d in live.deals
            ]
            compared += len(live.deals)
    assert compared > 20


def test_values_of_another_day_are_not_used(web: Web) -> None:
    with web.app.app_context(), org_unit(web.org_id) as unit:
        run = unit.results.last_committed_calc()
        assert run is not None
        rep = next(p.id for p in unit.people.all_people() if p.plan_id == "ae")
        deals = [d.deal.id for d in open_deal_estimates(unit, rep_id=rep, as_of=run.as_of).deals]
        today = stored_commissions(unit, deal_ids=deals, as_of=run.as_of)
        assert today and all(isinstance(v, Decimal) for v in today.values())
        other = stored_commissions(unit, deal_ids=deals, as_of=date(2000, 1, 1))
        assert other == {}
