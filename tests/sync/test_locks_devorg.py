"""Period locking against the devorg: a locked period is frozen, SPIFFs in it turn `Paid`,
and a later change to one of its deals is paid as adjustment lines in the open period, so
earnings to date still equal an independent calculation — and are adjusted only once."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from connector.store.results import PeriodResult
from connector.sync import run_sync
from connector.sync.period_locks import lock

from .conftest import (  # type: ignore[import-not-found]
    Org,
    crm_values,
    expected_values,
    export_org,
    money,
    next_second,
    run_calc,
    running_org,
)


def _stored(org: Org, rep_id: str) -> dict[str, dict]:  # type: ignore[type-arg]
    with org.deps.sessions() as session:
        rows = session.scalars(select(PeriodResult).where(PeriodResult.rep_id == rep_id)).all()
    return {r.period: dict(r.result) for r in rows}


@pytest.mark.slow
def test_locked_period_freezes_and_changes_become_adjustments(tmp_path: Path) -> None:
    with running_org(tmp_path) as org:
        assert run_sync(org.deps, mode="full").status == "succeeded"
        lock(org.deps.sessions, org_id=org.org_id, name="2026-Q1", by="ops", now=datetime.now(UTC))
        next_second()
        locked_run = run_sync(org.deps, mode="incremental")
        assert locked_run.reps_recomputed > 0  # a new lock re-evaluates everything
        paid = org.client.query(
            "SELECT Id, CloseDate FROM Opportunity WHERE SPIFF_Status__c = 'Paid'"
        )
        assert paid and all("2026-01-01" <= o["CloseDate"] <= "2026-03-31" for o in paid)

        splits = {
            s["OpportunityId"]
            for s in org.client.query("SELECT OpportunityId FROM OpportunitySplit")
        }
        deal = next(
            o
            for o in org.client.query(
                "SELECT Id, OwnerId, Amount, Owner.Comp_Plan__c FROM Opportunity "
                "WHERE IsWon = true AND CloseDate >= 2026-01-01 AND CloseDate <= 2026-03-31 "
                "ORDER BY CloseDate DESC"
            )
            if o["Owner"]["Comp_Plan__c"] == "ae" and o["Id"] not in splits
        )
        owner = deal["OwnerId"]
        frozen = _stored(org, owner)["2026-Q1"]
        org.client.patch("Opportunity", deal["Id"], {"Amount": deal["Amount"] + 50000})
        next_second()
        changed = run_sync(org.deps, mode="incremental")
        assert changed.status == "succeeded"

        stored = _stored(org, owner)
        assert stored["2026-Q1"] == frozen  # the paid period is never silently recomputed
        as_of = org.deps.clock().date()
        current = next(
            r for r in stored.values() if r["period_start"] <= as_of.isoformat() <= r["period_end"]
        )
        adjustments = [ln for ln in current["lines"] if ln["component"] == "adjustment"]
        assert adjustments and all(ln["adjusts"]["period"] == "2026-Q1" for ln in adjustments)
        assert deal["Id"] in {ln["deal_id"] for ln in adjustments}

        # What was paid plus the adjustments equals the fresh calculation of the new data.
        start, end = f"{as_of.year - 1}-01-01", f"{as_of.year}-12-31"
        exported = export_org(org.client, tmp_path / "ref")
        calc_out = run_calc(tmp_path / "ref", start=start, end=end)
        fresh_q1 = next(
            r for r in calc_out["results"] if r["rep_id"] == owner and r["period"] == "2026-Q1"
        )
        total = sum((Decimal(ln["amount"]) for ln in adjustments), Decimal(0))
        assert total == Decimal(fresh_q1["gross"]) - Decimal(frozen["gross"]) != 0
        expected = expected_values(
            calc_out, exported, as_of=as_of.isoformat(), window=(start, end), estimates={}
        )
        actual = crm_values(exported, [("User", owner), ("Opportunity", deal["Id"])])
        assert (
            actual[("User", owner)]["Earnings_To_Date__c"]
            == expected[("User", owner)]["Earnings_To_Date__c"]
        )
        assert actual[("Opportunity", deal["Id"])]["Estimated_Commission__c"] == money(
            expected[("Opportunity", deal["Id"])]["Estimated_Commission__c"]
        )

        next_second()
        again = run_sync(org.deps, mode="incremental")
        assert again.written == 0  # an adjustment is paid once
        assert _stored(org, owner)[current["period"]]["gross"] == current["gross"]
