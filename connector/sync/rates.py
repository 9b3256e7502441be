"""The rates stage of a run: read the org's exchange rates when due, keep them in the store.

Rates change rarely (an admin enters next month's), so they are read on a full run, on the
org's first run, and otherwise at most once every `refresh` (an hour by default): two small
queries. When what Salesforce holds differs from what is stored, the next calculation
recomputes every rep (connector.sync.stages.baseline), since converted deals change.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from connector.deps import SyncDeps
from connector.pull.rates import fetch_rates

log = logging.getLogger("quotaflow.sync")
REFRESH = timedelta(hours=1)


def refresh_rates(
    deps: SyncDeps, *, org_id: str, full: bool, now: datetime, refresh: timedelta = REFRESH
) -> bool:
    """Read and store the org's rates if due; True when they were read."""
    with deps.unit(org_id) as unit:
        state = unit.rates.sync_state()
        fetched = state.fetched_at if state is not None else None
    if not full and fetched is not None and now - fetched < refresh:
        return False
    found = fetch_rates(deps.gateway)
    for reason in found.skipped:
        log.warning("org %s: exchange rate not used: %s", org_id, reason)
    with deps.unit(org_id) as unit:
        unit.rates.save(source=found.source, rows=found.rows, now=now)
        unit.commit()
    return True
