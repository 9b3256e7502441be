"""Stored adjustments against the devorg: `quotaflow adjustments import` stores a file, the next
incremental sync pays it (its own lines, gross, earnings to date written back) exactly as
`quotaflow calc --adjustments` pays it, and an adjustment no plan can pay is a record issue."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from calc.errors import InputError
from connector.store.adjustments import add_adjustment, list_adjustments
from connector.store.models import RecordIssue
from connector.store.results import PeriodResult
from connector.sync import run_sync
from connector.sync.adjustments import import_file

from .conftest import (  # type: ignore[import-not-found]
    crm_values,
    export_org,
    money,
    next_second,
    running_org,
)


@pytest.mark.slow
def test_an_imported_adjustment_is_paid_by_the_next_sync(tmp_path: Path) -> None:
    with running_org(tmp_path) as org:
        assert run_sync(org.deps, mode="full").status == "succeeded"
        users = org.client.query("SELECT Id, Comp_Plan__c FROM User WHERE Comp_Plan__c = 'ae'")
        rep = users[0]["Id"]
        as_of = org.deps.clock().date()
        period = f"{as_of.year}-Q{(as_of.month - 1) // 3 + 1}"
        text = (
            "rep_id,period,amount,component,reason,reference\n"
            f"{rep},{period},1234.56,,missed SPIFF on Globex,INC-1\n"
        )
        now = datetime.now(UTC)
        with pytest.raises(InputError, match="column period: '2026-04' is not a quarter"):
            import_file(
                org.deps.sessions,
                org_id=org.org_id,
                text=text.replace(period, "2026-04"),
                source="adj.csv",
                by="admin",
                now=now,
            )
        rows = import_file(
            org.deps.sessions, org_id=org.org_id, text=text, source="adj.csv", by="admin", now=now
        )
        assert [(r.rep_id, r.entered_by, r.source) for r in rows] == [(rep, "admin", "file")]
        before = crm_values(export_org(org.client, tmp_path / "before"), [("User", rep)])

        next_second()
        summary = run_sync(org.deps, mode="incremental")
        assert summary.status == "succeeded" and summary.reps_recomputed > 0
        with org.deps.sessions() as session:
            stored = session.scalars(
                select(PeriodResult).where(
                    PeriodResult.rep_id == rep, PeriodResult.period == period
                )
            ).one()
        lines = [ln for ln in stored.result["lines"] if ln["deal_id"] is None]
        assert [(ln["component"], ln["amount"]) for ln in lines] == [("adjustment", "1234.56")]
        assert stored.result["components"]["adjustment"] == "1234.56"
        after = crm_values(export_org(org.client, tmp_path / "after"), [("User", rep)])
        was, now_paid = (money(x[("User", rep)]["Earnings_To_Date__c"]) for x in (before, after))
        assert now_paid - was == Decimal("1234.56")

        # an adjustment the plan cannot pay (stored behind the file check) is reported
        with org.deps.sessions() as session:
            add_adjustment(
                session,
                org.org_id,
                rep_id=rep,
                period=period,
                amount=Decimal("5.00"),
                reason="typo in the component",
                component="comission",
                entered_by="admin",
                now=datetime.now(UTC),
            )
            session.commit()
        next_second()
        assert run_sync(org.deps, mode="incremental").status in ("succeeded", "partial")
        with org.deps.sessions() as session:
            issues = session.scalars(
                select(RecordIssue).where(RecordIssue.record_id == rep, RecordIssue.stage == "calc")
            ).all()
            assert [i.reason for i in issues] == [
                f"adjustment 5.00 for {period} is not paid: 'comission' is not one of "
                "adjustment, commission, spiff-analytics, quota-bonus (plan ae)"
            ]
            assert len(list_adjustments(session, org.org_id)) == 2


def test_adjustments_list_prints_who_entered_them(tmp_path: Path) -> None:
    # The list is CSV with who entered each and when (the CLI over the store).
    from connector.settings import Settings
    from connector.store.engine import make_engine, make_session_factory
    from connector.store.migrate import upgrade

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'qf.db'}", secret_key="k" * 40)
    engine = make_engine(settings)
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions() as session:
        add_adjustment(
            session,
            "00D000000000001AAA",
            rep_id="005000000000001AAA",
            period="2026-Q1",
            amount=Decimal("-10.00"),
            reason='said "no", then yes',
            entered_by="ops",
            now=datetime(2026, 12, 3, tzinfo=UTC),
        )
        session.commit()
    engine.dispose()
    import subprocess
    import sys

    env = {"QUOTAFLOW_DATABASE_URL": settings.database_url, "PATH": ""}
    done = subprocess.run(
        [sys.executable, "-m", "webapp.cli", "adjustments", "list", "--org", "00D000000000001AAA"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(done.stdout.splitlines()))
    assert [(r["amount"], r["reason"], r["entered_by"], r["entered_at"]) for r in rows] == [
        ("-10.00", 'said "no", then yes', "ops", "2026-12-03T00:00:00+00:00")
    ]
