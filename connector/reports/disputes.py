"""Disputes as the pages and the API show them: JSON shapes, the queue's sort orders, the
actions a viewer may take. Pure shaping over stored rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from connector.disputes.workflow import ACTION_LABELS, ACTIONS, Actor, Snapshot, may_act
from connector.store.disputes import Dispute, DisputeEvent
from connector.store.sf_tasks import SfTask

SORTS = ("age", "amount", "rep", "reason")


def disputed_amount(d: Dispute) -> Decimal:
    """How much the dispute is about: expected minus shown, or the expected amount alone."""
    expected = Decimal(d.expected_amount) if d.expected_amount else Decimal(0)
    shown = Decimal(d.shown_amount) if d.shown_amount else Decimal(0)
    return expected - shown


_KEYS: dict[str, Callable[[Dispute], Any]] = {
    "age": lambda d: (d.created_at, d.id),  # oldest first: the longest waiting on top
    "amount": lambda d: (-abs(disputed_amount(d)), d.id),
    "rep": lambda d: (d.rep_name.casefold(), d.id),
    "reason": lambda d: (d.reason_label.casefold(), d.id),
}


def sorted_queue(rows: Sequence[Dispute], sort: str) -> list[Dispute]:
    """The disputes in the queue order `sort` (one of SORTS)."""
    if sort not in _KEYS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}")
    return sorted(rows, key=_KEYS[sort])


def _stamp(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def dispute_json(d: Dispute, *, now: datetime) -> dict[str, Any]:
    """One dispute's fields (money as strings)."""
    return {
        "id": d.id,
        "rep_id": d.rep_id,
        "rep_name": d.rep_name,
        "kind": d.kind,
        "period": d.period,
        "deal_id": d.deal_id,
        "component": d.component,
        "credit_type": d.credit_type,
        "shown_amount": d.shown_amount,
        "expected_amount": d.expected_amount,
        "disputed_amount": str(disputed_amount(d)),
        "reason": d.reason_code,
        "reason_label": d.reason_label,
        "description": d.description,
        "state": d.state,
        "resolution": d.resolution,
        "resolution_reason": d.resolution_reason,
        "resolved_amount": d.resolved_amount,
        "adjustment_id": d.adjustment_id,
        "created_at": _stamp(d.created_at),
        "updated_at": _stamp(d.updated_at),
        "age_days": max(0, (now - d.created_at).days),
    }


def event_json(e: DisputeEvent) -> dict[str, Any]:
    """One audit event: who, when, what changed."""
    return {
        "at": _stamp(e.at),
        "actor_id": e.actor_id,
        "actor_name": e.actor_name,
        "action": e.action,
        "label": ACTION_LABELS.get(e.action, e.action),
        "from_state": e.from_state,
        "to_state": e.to_state,
        "changes": dict(e.changes or {}),
        "note": e.note,
    }


def task_json(t: SfTask) -> dict[str, Any]:
    """One Salesforce Task the dispute asked for, and whether Salesforce holds it yet."""
    return {
        "assignee_id": t.assignee_id,
        "subject": t.subject,
        "status": t.status,
        "delivery": t.delivery,
        "sf_task_id": t.sf_task_id,
        "error": t.last_error if t.delivery == "failed" else None,
    }


def allowed_actions(d: Dispute, actor: Actor) -> list[str]:
    """The actions `actor` may take on `d` now (what the page offers as buttons)."""
    snap = Snapshot(d.state, d.rep_id, d.info_from, d.shown_amount is not None)
    return [
        a for a, (leaves, _) in ACTIONS.items() if d.state in leaves and may_act(a, snap, actor)
    ]
