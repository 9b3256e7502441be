"""Statement approval for a period: draft → manager_approved → approved, on the stored figures.

The figures approved are stored with the approval, with a digest of the stored result they
came from. If a later sync changes that result, the approval no longer holds: the statement
is `draft` again (`changed` says why) and must be approved anew. A rep whose manager must
approve first cannot be approved by an admin directly; nobody approves their own statement;
with the org's hold setting on, a rep who has not accepted the plan in force is not approved.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from connector.disputes.workflow import Actor
from connector.store.close import CloseEvent, StatementApproval
from connector.store.unit import OrgUnit

STATES = ("draft", "manager_approved", "approved")
ADJUSTMENT_COMPONENT = "adjustment"


class ApprovalRefused(Exception):
    """An approval this actor may not give now; `status` is the HTTP answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Figures:
    """What a statement pays (money as Decimal, in the plan currency)."""

    currency: str
    gross: Decimal
    top_up: Decimal
    recovered: Decimal
    adjustments: Decimal
    net: Decimal


@dataclass(frozen=True, slots=True)
class Statement:
    """One rep's statement of the period and where its approval stands."""

    rep_id: str
    state: str
    figures: Figures
    digest: str
    changed: bool  # approved once, but the result changed since
    approval: StatementApproval | None


def digest(result: dict[str, Any]) -> str:
    """A stable digest of a stored result (key order does not matter)."""
    text = json.dumps(result, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def is_adjustment(line: dict[str, Any]) -> bool:
    """Whether a result line is a manual adjustment (a resolved dispute pays one)."""
    return line.get("component") == ADJUSTMENT_COMPONENT or bool(line.get("adjustment"))


def figures(result: dict[str, Any], currency: str) -> Figures:
    """The statement figures of a stored result."""
    draw = result.get("draw") or {}
    adjustments = sum(
        (Decimal(str(ln["amount"])) for ln in result.get("lines", []) if is_adjustment(ln)),
        Decimal(0),
    )
    return Figures(
        currency=currency,
        gross=Decimal(str(result.get("gross", "0"))),
        top_up=Decimal(str(draw.get("top_up", "0"))),
        recovered=Decimal(str(draw.get("recovered", "0"))),
        adjustments=adjustments,
        net=Decimal(str(result.get("net", "0"))),
    )


def statements(
    unit: OrgUnit, *, period: str, currency_of: dict[str, str], default: str
) -> list[Statement]:
    """Every rep's statement of `period`, by rep id (`currency_of`: plan id -> currency)."""
    approvals = unit.close.approvals_of_period(period=period)
    out = []
    for rep_id, result in unit.close.results_of_period(period=period):
        currency = currency_of.get(str(result.get("plan_id")), default)
        found = approvals.get(rep_id)
        key = digest(result)
        changed = found is not None and found.result_digest != key
        state = "draft" if found is None or changed else found.state
        out.append(Statement(rep_id, state, figures(result, currency), key, changed, found))
    return out


def approve(
    unit: OrgUnit,
    *,
    period: str,
    statement: Statement,
    actor: Actor,
    has_manager: bool,
    held: bool,
    now: datetime,
) -> StatementApproval:
    """Move a statement one step (a manager: draft → manager_approved; an admin: →
    approved). ApprovalRefused (nothing stored) when the actor may not."""
    if actor.user_id == statement.rep_id:
        raise ApprovalRefused(403, "Nobody approves their own statement.")
    as_manager = actor.manages_rep and "manager" in actor.roles
    if statement.state == "approved":
        raise ApprovalRefused(409, "This statement is approved already.")
    if held:
        raise ApprovalRefused(409, "Payout held: the rep has not accepted the plan in force.")
    if "admin" in actor.roles and (statement.state == "manager_approved" or not has_manager):
        target = "approved"
    elif as_manager and statement.state == "draft":
        target = "manager_approved"
    elif "admin" in actor.roles:
        raise ApprovalRefused(409, "The rep's manager approves this statement first.")
    else:
        raise ApprovalRefused(403, "You may not approve this statement.")
    org_id = unit.org_id
    row = unit.close.approval(period=period, rep_id=statement.rep_id)
    if row is None:
        row = StatementApproval(org_id=org_id, period=period, rep_id=statement.rep_id)
    f = statement.figures
    row.state, row.currency, row.result_digest, row.updated_at = (
        target,
        f.currency,
        statement.digest,
        now,
    )
    row.gross, row.top_up, row.recovered = str(f.gross), str(f.top_up), str(f.recovered)
    row.adjustments, row.net = str(f.adjustments), str(f.net)
    if target == "manager_approved" or statement.changed:
        row.approved_by, row.approved_at = None, None
    if target == "manager_approved":
        row.manager_approved_by, row.manager_approved_at = actor.name[:121], now
    else:
        row.approved_by, row.approved_at = actor.name[:121], now
    note = f"net {f.net} {f.currency}"
    unit.close.add(row)
    unit.close.add(CloseEvent(org_id=org_id, period=period, rep_id=statement.rep_id,
                              action=target, by=actor.name[:121], at=now, note=note))  # fmt: skip
    return row
