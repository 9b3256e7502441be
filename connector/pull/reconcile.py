"""Full reconcile: find records that vanished from Salesforce altogether.

`queryAll` returns soft-deleted rows (IsDeleted = true) while they sit in the recycle bin;
a hard delete, or an emptied recycle bin, leaves no trace at all. A full pull touches every
raw record it sees, so a live stored record the full pull did not see is a candidate. A
record updated during the pull moves past the run's start and would look vanished too, so
candidates are confirmed by asking Salesforce for their Ids before they are marked deleted.
"""

from __future__ import annotations

from datetime import datetime

from connector.deps import SyncDeps
from connector.pull.specs import ObjectSpec
from connector.salesforce.soql import ids_query

CONFIRM_BATCH = 200  # Ids per confirming query: keeps the GET URL well under its limit


def reconcile_object(
    deps: SyncDeps,
    *,
    org_id: str,
    spec: ObjectSpec,
    run_id: int,
    until: datetime,
) -> list[str]:
    """Mark records of `spec` gone from Salesforce as deleted; returns their Ids."""
    with deps.unit(org_id) as unit:
        candidates = unit.records.vanished_candidates(
            object_name=spec.name, run_id=run_id, before=until
        )
    still_there: set[str] = set()
    for start in range(0, len(candidates), CONFIRM_BATCH):
        batch = candidates[start : start + CONFIRM_BATCH]
        page = deps.gateway.query(ids_query(spec.name, batch), include_deleted=True)
        while True:
            still_there.update(str(r["Id"]) for r in page.records)
            if page.next_url is None:
                break
            page = deps.gateway.query_more(page.next_url)
    vanished = [i for i in candidates if i not in still_there]
    if vanished:
        with deps.unit(org_id) as unit:
            unit.records.mark_vanished(
                object_name=spec.name, kind=spec.kind, ids=vanished, run_id=run_id, now=deps.clock()
            )
            unit.commit()
    return vanished
