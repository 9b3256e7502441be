"""Opening and moving disputes: validate, store the change, its audit event and the Salesforce
Tasks it owes, all in the caller's transaction (nothing is half-written: the caller commits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from calc.adjustments import REASON_LIMIT
from connector.disputes.workflow import (
    KINDS,
    TASK_ASKS,
    Actor,
    Inputs,
    Snapshot,
    TransitionRefused,
    decide,
    first_state,
    waiting_on,
)
from connector.store.adjustments import AdjustmentError
from connector.store.disputes import Dispute, DisputeEvent
from connector.store.unit import OrgUnit

DESCRIPTION_LIMIT = 4000
MAX_AMOUNT = Decimal("1000000000")  # a dispute above a billion is a typing error
TASK_DUE_DAYS = 3
_PERIOD = re.compile(r"^\d{4}(?:-Q[1-4]|-(?:0[1-9]|1[0-2]))?$")


class DisputeInvalid(ValueError):
    """A dispute request we cannot store; the message names the field."""


@dataclass(frozen=True, slots=True)
class DisputeRequest:
    """What a rep asks: about which line, deal or period, why, and what they expect."""

    kind: str
    period: str
    reason_code: str
    description: str
    expected_amount: Decimal | None = None
    deal_id: str | None = None
    component: str | None = None
    credit_type: str | None = None
    shown_amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class RepRef:
    """The disputing rep as the store knows them."""

    id: str
    name: str
    manager_id: str | None


def parse_amount(text: str | None, *, field: str) -> Decimal | None:
    """A money amount typed by a person (up to two decimals), None when empty."""
    raw = (text or "").strip().replace(",", "")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise DisputeInvalid(f"{field}: {raw[:40]!r} is not an amount") from None
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        raise DisputeInvalid(f"{field}: {raw[:40]!r} is not an amount")
    if value != value.quantize(Decimal("0.01")):
        raise DisputeInvalid(f"{field}: at most two decimals, got {raw[:40]!r}")
    return value.quantize(Decimal("0.01"))


def check_request(unit: OrgUnit, *, req: DisputeRequest) -> str:
    """The reason's label if the request can be stored; DisputeInvalid naming the field if not."""
    if req.kind not in KINDS:
        raise DisputeInvalid(f"kind: must be one of {', '.join(KINDS)}")
    if not _PERIOD.match(req.period):
        raise DisputeInvalid(f"period: {req.period[:20]!r} is not a period like 2026-Q1")
    if req.kind == "deal" and not req.deal_id:
        raise DisputeInvalid("deal_id: a deal dispute names its deal")
    if req.kind == "line" and not req.component:
        raise DisputeInvalid("component: a line dispute names its component")
    description = req.description.strip()
    if not description:
        raise DisputeInvalid("description: say what looks wrong")
    if len(description) > DESCRIPTION_LIMIT:
        raise DisputeInvalid(f"description: at most {DESCRIPTION_LIMIT} characters")
    labels = {r.code: r.label for r in unit.disputes.reasons(active_only=True)}
    if req.reason_code not in labels:
        raise DisputeInvalid(f"reason: {req.reason_code[:40]!r} is not one of the org's reasons")
    return labels[req.reason_code]


def open_dispute(unit: OrgUnit, *, rep: RepRef, req: DisputeRequest, now: datetime) -> Dispute:
    """Store a new dispute for `rep` (who opens it themself), its event and its Task."""
    label = check_request(unit, req=req)
    settings = unit.disputes.settings()
    state = first_state(manager_step=settings.manager_step, has_manager=bool(rep.manager_id))
    dispute = Dispute(
        org_id=unit.org_id,
        rep_id=rep.id,
        rep_name=rep.name,
        manager_id=rep.manager_id,
        kind=req.kind,
        period=req.period,
        deal_id=req.deal_id,
        component=req.component,
        credit_type=req.credit_type,
        shown_amount=None if req.shown_amount is None else str(req.shown_amount),
        expected_amount=None if req.expected_amount is None else str(req.expected_amount),
        reason_code=req.reason_code,
        reason_label=label,
        description=req.description.strip(),
        state=state,
        created_at=now,
        updated_at=now,
    )
    unit.disputes.add(dispute)
    fields = ("kind", "period", "deal_id", "component", "expected_amount", "reason_label")
    changes = {name: getattr(dispute, name) for name in fields if getattr(dispute, name)}
    _event(unit, dispute, "open", None, actor=Actor(rep.id, rep.name, frozenset()), now=now,
           changes=changes, note=None)  # fmt: skip
    _owe_task(unit, dispute, now=now)
    return dispute


def act(
    unit: OrgUnit,
    *,
    dispute_id: int,
    action: str,
    actor: Actor,
    inputs: Inputs,
    now: datetime,
) -> Dispute:
    """Take `action` on a dispute: TransitionRefused (nothing stored) when not allowed."""
    dispute = unit.disputes.get(dispute_id=dispute_id)
    if dispute is None:
        raise TransitionRefused(404, f"Dispute {dispute_id} was not found, or you may not see it.")
    snap = Snapshot(
        state=dispute.state,
        rep_id=dispute.rep_id,
        info_from=dispute.info_from,
        has_amounts=dispute.shown_amount is not None and dispute.expected_amount is not None,
    )
    outcome = decide(action, snap, actor, inputs)
    changes = dict(outcome.changes)
    if changes.get("resolved_amount") == "claim":
        claim = Decimal(dispute.expected_amount or "0") - Decimal(dispute.shown_amount or "0")
        if claim == 0:
            raise TransitionRefused(400, "amount: the claim pays nothing; give the amount")
        changes["resolved_amount"] = claim
    before = dispute.state
    diff: dict[str, object] = {}
    for name, value in changes.items():
        stored = None if value is None else str(value)
        if getattr(dispute, name) != stored:
            diff[name] = stored
            setattr(dispute, name, stored)
    dispute.state, dispute.updated_at = outcome.state, now
    if action == "resolve" and dispute.resolved_amount is not None:
        diff["adjustment_id"] = _pay(unit, dispute, actor=actor, now=now)
    _event(unit, dispute, action, before, actor=actor, now=now, changes=diff,
           note=inputs.note.strip() if inputs.note else None)  # fmt: skip
    unit.tasks.complete(source="dispute", source_id=dispute.id, now=now)
    _owe_task(unit, dispute, now=now)
    return dispute


def _pay(unit: OrgUnit, dispute: Dispute, *, actor: Actor, now: datetime) -> int:
    """The adjustment an approved or partly approved dispute pays (in the dispute's period,
    under the `adjustment` component, referenced by the dispute so it can never pay twice)."""
    reason = f"Dispute #{dispute.id} ({dispute.reason_label}): {dispute.resolution_reason}"
    try:
        adjustment = unit.adjustments.add(
            rep_id=dispute.rep_id,
            period=dispute.period,
            amount=Decimal(dispute.resolved_amount or "0"),
            reason=reason[:REASON_LIMIT],
            entered_by=actor.name,
            now=now,
            reference=f"dispute-{dispute.id}",
            source="dispute",
        )
    except AdjustmentError as exc:
        raise TransitionRefused(400, f"amount: the adjustment cannot be paid: {exc}") from None
    dispute.adjustment_id = adjustment.id
    return adjustment.id


def _event(
    unit: OrgUnit,
    dispute: Dispute,
    action: str,
    before: str | None,
    *,
    actor: Actor,
    now: datetime,
    changes: dict[str, object],
    note: str | None,
) -> None:
    unit.disputes.add(
        DisputeEvent(
            org_id=dispute.org_id,
            dispute_id=dispute.id,
            at=now,
            actor_id=actor.user_id or None,
            actor_name=actor.name[:121],
            action=action,
            from_state=before,
            to_state=dispute.state,
            changes=changes,
            note=note,
        )
    )


def _owe_task(unit: OrgUnit, dispute: Dispute, *, now: datetime) -> None:
    settings = unit.disputes.settings()
    who = waiting_on(
        dispute.state,
        rep_id=dispute.rep_id,
        manager_id=dispute.manager_id,
        reviewer_id=dispute.reviewer_id,
        dispute_admin_id=settings.dispute_admin_id,
    )
    if who is None:
        return
    ask = TASK_ASKS[dispute.state]
    amount = f", expected {dispute.expected_amount}" if dispute.expected_amount else ""
    description = (
        f"{ask}.\n\nDispute #{dispute.id} by {dispute.rep_name}: {dispute.reason_label} "
        f"({dispute.kind}, {dispute.period}{amount}).\n{dispute.description}\n\n"
        "Open Quotaflow from Salesforce to act on it; this task closes when you do."
    )
    unit.tasks.add_task(
        source="dispute",
        source_id=dispute.id,
        assignee_id=who,
        what_id=dispute.deal_id,
        subject=f"Quotaflow dispute #{dispute.id}: {ask}",
        description=description,
        due_date=_due(now),
        now=now,
    )


def _due(now: datetime) -> date:
    return (now + timedelta(days=TASK_DUE_DAYS)).date()
