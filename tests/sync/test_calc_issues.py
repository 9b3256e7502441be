"""Records the calculation cannot use become `calc` record issues ops can see, and resolve
themselves once the data is fixed: a rep on a plan the document lacks, a deal whose revenue
splits do not add up to 100."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from connector.store.models import RecordIssue
from connector.sync import run_sync

from .conftest import next_second, running_org  # type: ignore[import-not-found]


def _calc_issues(org) -> list[tuple[str, str | None, str, str]]:  # type: ignore[no-untyped-def]
    with org.deps.sessions() as session:
        rows = session.scalars(
            select(RecordIssue).where(RecordIssue.stage == "calc").order_by(RecordIssue.id)
        ).all()
        return [(i.object_name, i.record_id, i.status, i.reason) for i in rows]


@pytest.mark.slow
def test_unusable_records_become_issues_and_resolve_when_fixed(tmp_path: Path) -> None:
    with running_org(tmp_path) as org:
        rep = org.client.query("SELECT Id FROM User WHERE Comp_Plan__c = 'ae' ORDER BY Id LIMIT 1")
        rep_id = rep[0]["Id"]
        split = org.client.query(
            "SELECT Id, OpportunityId FROM OpportunitySplit "
            "WHERE SplitType.DeveloperName = 'Revenue' ORDER BY Id LIMIT 1"
        )[0]
        org.client.patch("User", rep_id, {"Comp_Plan__c": "enterprise"})
        org.client.patch("OpportunitySplit", split["Id"], {"SplitPercentage": 1})
        next_second()

        first = run_sync(org.deps, mode="full")
        assert first.status == "partial"
        issues = _calc_issues(org)
        assert ("User", rep_id, "open") in {i[:3] for i in issues}
        assert ("Opportunity", split["OpportunityId"], "open") in {i[:3] for i in issues}
        user_issue = next(i for i in issues if i[1] == rep_id)
        assert "plan 'enterprise' is not in the active plan document" in user_issue[3]

        # Nothing changed: the same problems are not reported twice.
        next_second()
        run_sync(org.deps, mode="full")
        assert _calc_issues(org) == issues

        # The admin fixes the rep's plan: that issue resolves, the split's stays open.
        org.client.patch("User", rep_id, {"Comp_Plan__c": "ae"})
        next_second()
        run_sync(org.deps, mode="incremental")
        now = {(obj, rid): status for obj, rid, status, _ in _calc_issues(org)}
        assert now[("User", rep_id)] == "resolved"
        assert now[("Opportunity", split["OpportunityId"])] == "open"
