"""Closing a period for payroll: what blocks it, locking it (with an override reason when
something still does), and the payroll export of a closed period.

Locking is the period lock the sync already honours (results frozen, later changes paid as
adjustments, SPIFFs of the period marked `Paid` on the next write-back). The export is built
only from the approved statements' stored figures, so exporting twice gives the same bytes and
its totals equal the approved statements to the cent.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from connector.close.statements import Statement
from connector.disputes.workflow import OPEN_STATES
from connector.store.close import CloseEvent, PeriodClose
from connector.store.unit import OrgUnit
from connector.sync.period_locks import lock_in

REASON_LIMIT = 2000
EXPORT_COLUMNS = (
    "salesforce_user_id", "employee_number", "period", "currency", "gross", "draw_top_up",
    "recovered", "adjustments", "net",
)  # fmt: skip


class CloseRefused(Exception):
    """A close or export we will not do; `status` is the HTTP answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Blockers:
    """What stands between a period and its close."""

    open_disputes: tuple[int, ...]
    unapproved: tuple[str, ...]  # rep ids whose statement is not approved (or changed since)
    open_issues: int

    @property
    def any(self) -> bool:
        """Whether anything blocks the close."""
        return bool(self.open_disputes or self.unapproved or self.open_issues)

    def as_dict(self) -> dict[str, Any]:
        """JSON form (stored with an overridden close)."""
        return {
            "open_disputes": list(self.open_disputes),
            "unapproved_statements": list(self.unapproved),
            "open_record_issues": self.open_issues,
        }


def blockers(unit: OrgUnit, *, period: str, rows: list[Statement]) -> Blockers:
    """Open disputes of the period, statements not approved, and open record issues."""
    disputes = unit.disputes.find(rep_ids=None, states=OPEN_STATES)
    return Blockers(
        open_disputes=tuple(sorted(d.id for d in disputes if d.period == period)),
        unapproved=tuple(s.rep_id for s in rows if s.state != "approved"),
        open_issues=unit.close.open_issue_count(),
    )


def close_period(
    unit: OrgUnit,
    *,
    period: str,
    found: Blockers,
    by: str,
    override_reason: str | None,
    kinds: tuple[str, ...],
    now: datetime,
) -> PeriodClose:
    """Lock `period` and record its close; CloseRefused when blocked and no reason is given."""
    org_id = unit.org_id
    if unit.close.period_close(period=period) is not None:
        raise CloseRefused(409, f"{period} is closed already.")
    reason = (override_reason or "").strip() or None
    if reason is not None and len(reason) > REASON_LIMIT:
        raise CloseRefused(400, f"override_reason: at most {REASON_LIMIT} characters")
    if found.any and reason is None:
        raise CloseRefused(409, f"{period} cannot be closed yet: {_summary(found)}. Resolve "
                           "them, or give an override reason.")  # fmt: skip
    try:
        lock_in(unit, name=period, by=by, now=now, kinds=kinds)
    except ValueError as exc:
        raise CloseRefused(400, f"period: {exc}") from None
    kept = reason if found.any else None
    row = PeriodClose(org_id=org_id, period=period, closed_by=by[:121], closed_at=now,
                      override_reason=kept, blockers=found.as_dict())  # fmt: skip
    unit.close.add(row)
    unit.close.add(CloseEvent(org_id=org_id, period=period, action="close", by=by[:121], at=now,
                              note=kept))  # fmt: skip
    return row


def _summary(found: Blockers) -> str:
    parts = []
    if found.open_disputes:
        parts.append(f"{len(found.open_disputes)} open dispute(s)")
    if found.unapproved:
        parts.append(f"{len(found.unapproved)} statement(s) not approved")
    if found.open_issues:
        parts.append(f"{found.open_issues} open record issue(s)")
    return ", ".join(parts)


def _cell(text: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet; employee numbers come from
    # the CRM.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@dataclass(frozen=True, slots=True)
class PayrollExport:
    """The payroll file of a closed period, as CSV and JSON bytes, with their checksums."""

    csv: bytes
    json: bytes
    csv_sha256: str
    json_sha256: str
    totals: dict[str, str]


def payroll_export(
    unit: OrgUnit, *, period: str, employee_numbers: dict[str, str]
) -> PayrollExport:
    """One row per approved statement of a closed period (CloseRefused otherwise)."""
    if unit.close.period_close(period=period) is None:
        raise CloseRefused(409, f"{period} is not closed: close it before exporting payroll.")
    approvals = unit.close.approvals_of_period(period=period)
    rows = [
        [rep_id, _cell(employee_numbers.get(rep_id, "")), period, a.currency, a.gross, a.top_up,
         a.recovered, a.adjustments, a.net]
        for rep_id, a in sorted(approvals.items())
        if a.state == "approved"
    ]  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(rows)
    csv_bytes = out.getvalue().encode()
    totals = {
        name: str(sum((Decimal(r[i]) for r in rows), Decimal("0.00")))
        for i, name in enumerate(EXPORT_COLUMNS)
        if i >= 4
    }
    doc = {
        "period": period,
        "columns": list(EXPORT_COLUMNS),
        "rows": [dict(zip(EXPORT_COLUMNS, r, strict=True)) for r in rows],
        "totals": totals,
        "csv_sha256": hashlib.sha256(csv_bytes).hexdigest(),
    }
    json_bytes = (json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n").encode()
    return PayrollExport(
        csv=csv_bytes,
        json=json_bytes,
        csv_sha256=hashlib.sha256(csv_bytes).hexdigest(),
        json_sha256=hashlib.sha256(json_bytes).hexdigest(),
        totals=totals,
    )
