"""What the plan-acceptance and close pages share with their API: accepting a plan version."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from connector.reports.acceptance import MyPlan, my_plan
from connector.store.close import PlanAcceptance
from webapp.auth.guard import Refused, bad_request, current_viewer, not_found
from webapp.db import viewer_unit
from webapp.disputes.core import now

_SHA = re.compile(r"[0-9a-f]{64}")
_VERSION = re.compile(r"[0-9]{1,9}")


def my_plan_or_404() -> MyPlan:
    """The viewer's plan document and acceptances, or 404 when they are on no plan."""
    viewer = current_viewer()
    with viewer_unit() as unit:
        found = my_plan(unit, rep_id=viewer.user_id)
    if found is None:
        raise not_found("Your compensation plan")
    return found


def accept_from(values: Mapping[str, Any]) -> PlanAcceptance:
    """Accept the plan version the viewer was shown: 409 if it is no longer the one in force
    or the document changed since it was shown."""
    viewer = current_viewer()
    version, sha = str(values.get("version") or ""), str(values.get("document_sha256") or "")
    if not _VERSION.fullmatch(version):
        raise bad_request("version: the plan version you read, a whole number")
    if not _SHA.fullmatch(sha):
        raise bad_request("document_sha256: the checksum of the document you read")
    current = my_plan_or_404()
    doc = current.document
    if int(version) != doc.version or sha != doc.sha256:
        raise Refused(409, f"Your plan changed since you opened it: read version {doc.version} "
                      "again and accept that one.")  # fmt: skip
    with viewer_unit() as unit:
        row = unit.close.record_acceptance(rep_id=viewer.user_id,
                                plan_id=doc.plan_id, plan_version=doc.version,
                                document_sha256=doc.sha256, by=viewer.name, now=now())  # fmt: skip
        unit.commit()
    return row


def acceptance_json(row: PlanAcceptance) -> dict[str, Any]:
    """One acceptance: who, when, which version, and the version accepted before it."""
    return {
        "rep_id": row.rep_id,
        "plan_id": row.plan_id,
        "plan_version": row.plan_version,
        "previous_version": row.previous_version,
        "document_sha256": row.document_sha256,
        "accepted_by": row.accepted_by,
        "accepted_at": row.accepted_at.isoformat().replace("+00:00", "Z"),
    }
