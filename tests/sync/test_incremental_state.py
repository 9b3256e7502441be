"""Incremental runs against the devorg: the calculation state kept between runs, and the
full run's check of the stored state against a full recompute (drift is an issue, corrected)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, delete, insert, select, text, update

from connector.store.models import RecordIssue
from connector.store.results import PeriodResult, StoredCredit, WritebackValue
from connector.sync import run_sync

from .conftest import Org, next_second, running_org  # type: ignore[import-not-found]

DRIFT = "differed from a full recalculation"
BOGUS = "006BOGUS0000000AAA"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def org(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    url = None
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_database_url")
        engine = create_engine(url)
        with engine.begin() as conn:  # a clean database for this module
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    with running_org(tmp_path_factory.mktemp("incr"), database_url=url) as running:
        yield running


def _wanted(org: Org) -> dict[tuple[str, str], Any]:
    """The desired CRM values (deal estimates included) of every record."""
    with org.deps.sessions() as session:
        return {
            (r.object_name, r.record_id): r.fields
            for r in session.execute(
                select(WritebackValue).where(WritebackValue.org_id == org.org_id)
            ).scalars()
        }


def _snapshot(org: Org) -> tuple[dict[Any, Any], dict[Any, Any]]:
    with org.deps.sessions() as session:
        credits = {
            (r.rep_id, r.period, r.deal_id, r.credit_type): (r.percent, r.amount)
            for r in session.execute(
                select(StoredCredit).where(StoredCredit.org_id == org.org_id)
            ).scalars()
        }
        results = {
            (r.rep_id, r.period): r.result
            for r in session.execute(
                select(PeriodResult).where(PeriodResult.org_id == org.org_id)
            ).scalars()
        }
    return credits, results


def _drift_issues(org: Org) -> list[tuple[str, str | None]]:
    with org.deps.sessions() as session:
        rows = session.execute(
            select(RecordIssue.object_name, RecordIssue.record_id, RecordIssue.reason).where(
                RecordIssue.org_id == org.org_id,
                RecordIssue.stage == "calc",
                RecordIssue.status == "open",
            )
        )
        return sorted((obj, rid) for obj, rid, reason in rows if DRIFT in reason)


def _run(org: Org, mode: str = "incremental") -> None:
    next_second()
    summary = run_sync(org.deps, mode=mode)
    assert summary.status in {"succeeded", "partial"}, summary.error


@pytest.mark.slow
def test_kept_state_follows_changes_and_equals_a_full_recompute(org: Org) -> None:
    _run(org, "full")
    state = org.deps.kept.by_org.get(org.org_id)
    assert state is not None  # the next incremental run reuses it
    users = org.client.query("SELECT Id, ManagerId, Comp_Plan__c FROM User WHERE IsActive = true")
    opps = org.client.query(
        "SELECT Id, Amount, OwnerId FROM Opportunity WHERE IsWon = true ORDER BY Id LIMIT 3"
    )
    # A deal's amount, a deal's owner, then a rep moving to another manager: each run
    # applies only the changed records to the kept state.
    org.client.patch("Opportunity", opps[0]["Id"], {"Amount": (opps[0]["Amount"] or 0) + 777})
    _run(org)
    assert org.deps.kept.by_org[org.org_id] is state
    ae = [u for u in users if u["Comp_Plan__c"] == "ae"]
    other = next(u for u in ae if u["Id"] != opps[1]["OwnerId"])
    org.client.patch("Opportunity", opps[1]["Id"], {"OwnerId": other["Id"]})
    _run(org)
    managers = sorted({u["ManagerId"] for u in ae if u["ManagerId"]})
    mover = next(u for u in ae if u["ManagerId"] and len(managers) > 1)
    new_manager = next(m for m in managers if m != mover["ManagerId"])
    org.client.patch("User", mover["Id"], {"ManagerId": new_manager})
    _run(org)
    url = f"{org.info.instance_url}/services/data/v62.0/sobjects/Opportunity/{opps[2]['Id']}"
    assert org.client.http.delete(url).status_code == 204
    _run(org)
    before, wanted = _snapshot(org), _wanted(org)
    # The nightly full run recomputes everything and finds nothing to correct.
    _run(org, "full")
    assert _drift_issues(org) == []
    assert _snapshot(org) == before
    assert _wanted(org) == wanted


@pytest.mark.slow
def test_incremental_runs_after_random_changes_equal_a_full_recompute(org: Org) -> None:
    # Won and open deals change amount and close date at random, a few per run; after the
    # runs the stored credits, results and desired values (open-deal estimates included)
    # are exactly what a full recompute gives.
    _run(org, "full")
    rng = random.Random(18)
    opps = org.client.query(
        "SELECT Id, Amount, CloseDate, IsWon, IsClosed FROM Opportunity ORDER BY Id"
    )
    won = [o for o in opps if o["IsWon"]]
    open_ = [o for o in opps if not o["IsClosed"]]
    assert won and open_
    for _ in range(3):
        for opp in rng.sample(won, min(4, len(won))) + rng.sample(open_, min(3, len(open_))):
            fields: dict[str, Any] = {"Amount": (opp["Amount"] or 0) + rng.randint(1, 90) * 500}
            if opp["IsWon"] and rng.random() < 0.5:
                fields["CloseDate"] = f"{opp['CloseDate'][:8]}{rng.randint(1, 28):02d}"
            org.client.patch("Opportunity", opp["Id"], fields)
        _run(org)
    before, wanted = _snapshot(org), _wanted(org)
    _run(org, "full")
    assert _drift_issues(org) == []
    assert _snapshot(org) == before
    assert _wanted(org) == wanted


@pytest.mark.slow
def test_a_full_run_reports_and_corrects_drifted_stored_state(org: Org) -> None:
    _run(org, "full")
    good = _snapshot(org)
    credits = sorted(good[0])
    changed, dropped = credits[0], credits[len(credits) // 2]
    result_key = sorted(good[1])[0]
    with org.deps.sessions() as session:
        session.execute(
            update(StoredCredit)
            .where(
                StoredCredit.org_id == org.org_id,
                StoredCredit.rep_id == changed[0],
                StoredCredit.period == changed[1],
                StoredCredit.deal_id == changed[2],
                StoredCredit.credit_type == changed[3],
            )
            .values(amount="0.01")
        )
        session.execute(
            delete(StoredCredit).where(
                StoredCredit.org_id == org.org_id,
                StoredCredit.rep_id == dropped[0],
                StoredCredit.period == dropped[1],
                StoredCredit.deal_id == dropped[2],
                StoredCredit.credit_type == dropped[3],
            )
        )
        session.execute(
            insert(StoredCredit).values(
                org_id=org.org_id, rep_id=changed[0], period=changed[1], deal_id=BOGUS,
                credit_type="owner", percent="100", amount="5.00", calc_run_id=0,
            )
        )  # fmt: skip
        session.execute(
            update(PeriodResult)
            .where(
                PeriodResult.org_id == org.org_id,
                PeriodResult.rep_id == result_key[0],
                PeriodResult.period == result_key[1],
            )
            .values(gross="999999.99", result={**good[1][result_key], "gross": "999999.99"})
        )
        session.commit()
    _run(org, "full")
    issues = _drift_issues(org)
    assert ("Opportunity", changed[2]) in issues
    assert ("Opportunity", dropped[2]) in issues
    assert ("Opportunity", BOGUS) in issues
    assert ("User", result_key[0]) in issues
    assert _snapshot(org) == good  # corrected
    # Corrected: the next full run finds nothing and resolves the issues.
    _run(org, "full")
    assert _drift_issues(org) == []
