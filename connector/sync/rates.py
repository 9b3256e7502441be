"""The rates stage of a run: read the org's exchange rates when due, keep them in the store.

Rates change rarely (an admin enters next month's), so they are read on a full run, on the
org's first run, and otherwise at most once every `refresh` (an hour by default): two small
queries. When what Salesforce holds differs from what is stored, the next calculation
recomputes every rep (connector.sync.stages.baseline), since converted deals change.

Rates Salesforce refuses to give (the integration user may not read them) do not stop the
run: the last rates read stay in use and an open record issue says why, until a later read
succeeds.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from connector.deps import SyncDeps
from connector.pull.rates import fetch_rates
from connector.salesforce.errors import SalesforceApiError

log = logging.getLogger("quotaflow.sync")
REFRESH = timedelta(hours=1)
ISSUE_KEY = ("DatedConversionRate", "rates")


def refresh_rates(
    deps: SyncDeps,
    *,
    org_id: str,
    run_id: int,
    full: bool,
    now: datetime,
    refresh: timedelta = REFRESH,
) -> bool:
    """Read and store the org's rates if due; True when they were read."""
    with deps.unit(org_id) as unit:
        state = unit.rates.sync_state()
        fetched = state.fetched_at if state is not None else None
    if not full and fetched is not None and now - fetched < refresh:
        return False
    try:
        found = fetch_rates(deps.gateway)
    except SalesforceApiError as exc:
        reason = f"exchange rates not read ({exc}); the last rates read stay in use"
        log.warning("org %s: %s", org_id, reason)
        with deps.unit(org_id) as unit:
            if not any(
                (i.object_name, i.record_id) == ISSUE_KEY for i in unit.issues.open_issues()
            ):
                issue = (*ISSUE_KEY, None, exc.error_code, reason)
                unit.issues.add_issues(run_id=run_id, stage="pull", issues=[issue], now=now)
            unit.commit()
        return False
    for reason in found.skipped:
        log.warning("org %s: exchange rate not used: %s", org_id, reason)
    with deps.unit(org_id) as unit:
        unit.rates.save(source=found.source, rows=found.rows, now=now)
        unit.issues.resolve_issues(stage="pull", keys=[ISSUE_KEY], now=now)
        unit.commit()
    return True
