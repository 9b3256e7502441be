"""The dispute state machine: which action moves which state, who may take it, and who must act
next. Pure: the service (connector/disputes/service.py) loads, asks and stores.

States: `manager_review` (only when the org turned the manager step on) → `submitted` →
`in_review` ⇄ `needs_info` (back to the rep) → `resolved` (approved, partially_approved or
denied, each with a reason) → `closed`. A rep may withdraw a dispute that is not resolved.
Nobody acts on their own dispute except the rep's own steps (reply, withdraw, close): an
admin who disputes their own pay cannot review or resolve it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

STATES = ("manager_review", "submitted", "in_review", "needs_info", "resolved", "closed")
OPEN_STATES = frozenset({"manager_review", "submitted", "in_review", "needs_info"})
RESOLUTIONS = ("approved", "partially_approved", "denied")
KINDS = ("line", "deal", "period")
# action -> (states it leaves, the role that takes it)
ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "endorse": (frozenset({"manager_review"}), "manager"),
    "review": (frozenset({"submitted"}), "admin"),
    "ask_info": (frozenset({"manager_review", "in_review"}), "reviewer"),
    "reply": (frozenset({"needs_info"}), "rep"),
    "resolve": (frozenset({"in_review"}), "admin"),
    "close": (frozenset({"resolved"}), "rep_or_admin"),
    "withdraw": (OPEN_STATES, "rep"),
}
ACTION_LABELS = {
    "open": "Opened",
    "endorse": "Sent on by the manager",
    "review": "Taken for review",
    "ask_info": "Asked for more information",
    "reply": "Answered",
    "resolve": "Resolved",
    "close": "Closed",
    "withdraw": "Withdrawn",
}


class TransitionRefused(Exception):
    """An action this actor may not take on this dispute now; `status` is the HTTP answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: their Salesforce user id, name, roles, and whether the dispute's rep is on
    their team (below them in the ManagerId hierarchy)."""

    user_id: str
    name: str
    roles: frozenset[str]
    manages_rep: bool = False


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The facts of a dispute a transition depends on."""

    state: str
    rep_id: str
    info_from: str | None
    has_amounts: bool  # both the shown and the expected amount are known


@dataclass(frozen=True, slots=True)
class Inputs:
    """What the actor sent with the action."""

    note: str | None = None
    resolution: str | None = None
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The new state and the fields that change with it."""

    state: str
    changes: dict[str, object]


def first_state(*, manager_step: bool, has_manager: bool) -> str:
    """Where a new dispute starts: with the manager when the org asks for it and there is one."""
    return "manager_review" if manager_step and has_manager else "submitted"


def _may(actor: Actor, who: str, dispute: Snapshot) -> bool:
    own = actor.user_id == dispute.rep_id
    if who == "rep":
        return own
    if own:
        return False  # nobody reviews, endorses or resolves their own dispute
    if who == "manager":
        return actor.manages_rep and "manager" in actor.roles
    if who == "admin":
        return "admin" in actor.roles
    if who == "reviewer":
        role = "manager" if dispute.state == "manager_review" else "admin"
        return _may(actor, role, dispute)
    return "admin" in actor.roles  # rep_or_admin, not the rep


def may_act(action: str, dispute: Snapshot, actor: Actor) -> bool:
    """Whether `actor` is someone who may take `action` on `dispute` (whatever its state)."""
    _, who = ACTIONS[action]
    return _may(actor, who, dispute) or (who == "rep_or_admin" and actor.user_id == dispute.rep_id)


def decide(action: str, dispute: Snapshot, actor: Actor, inputs: Inputs) -> Outcome:
    """The outcome of `actor` taking `action`; TransitionRefused when they may not."""
    if action not in ACTIONS:
        raise TransitionRefused(400, f"action: {action[:40]!r} is not one of {', '.join(ACTIONS)}")
    leaves, _ = ACTIONS[action]
    if not may_act(action, dispute, actor):
        raise TransitionRefused(403, f"You may not {action.replace('_', ' ')} this dispute.")
    if dispute.state not in leaves:
        raise TransitionRefused(
            409, f"A dispute in state {dispute.state} cannot be {ACTION_LABELS[action].lower()}."
        )
    note = (inputs.note or "").strip() or None
    if action in ("ask_info", "reply", "resolve") and note is None:
        what = "the reason for the resolution" if action == "resolve" else "a note"
        raise TransitionRefused(400, f"note: {action.replace('_', ' ')} needs {what}")
    if action == "endorse":
        return Outcome("submitted", {})
    if action == "review":
        return Outcome("in_review", {"reviewer_id": actor.user_id})
    if action == "ask_info":
        return Outcome("needs_info", {"info_from": dispute.state})
    if action == "reply":
        return Outcome(dispute.info_from or "submitted", {"info_from": None})
    if action == "resolve":
        return Outcome("resolved", _resolution(dispute, inputs, note or ""))
    return Outcome("closed", {})


def _resolution(dispute: Snapshot, inputs: Inputs, reason: str) -> dict[str, object]:
    if inputs.resolution not in RESOLUTIONS:
        raise TransitionRefused(400, f"resolution: must be one of {', '.join(RESOLUTIONS)}")
    changes: dict[str, object] = {"resolution": inputs.resolution, "resolution_reason": reason}
    if inputs.resolution == "denied":
        if inputs.amount is not None:
            raise TransitionRefused(400, "amount: a denied dispute pays nothing; leave it empty")
        return changes | {"resolved_amount": None}
    if inputs.amount is None:
        if inputs.resolution == "approved" and dispute.has_amounts:
            return changes | {"resolved_amount": "claim"}  # the service fills in the difference
        raise TransitionRefused(400, "amount: give the amount the adjustment pays")
    if inputs.amount == 0:
        raise TransitionRefused(400, "amount: an adjustment of zero pays nothing; deny instead")
    return changes | {"resolved_amount": inputs.amount}


def waiting_on(state: str, *, rep_id: str, manager_id: str | None, reviewer_id: str | None,
               dispute_admin_id: str | None) -> str | None:  # fmt: skip
    """The Salesforce user who must act next on a dispute in `state` (None: nobody, or unknown)."""
    if state == "manager_review":
        return manager_id
    if state == "submitted":
        return dispute_admin_id
    if state == "in_review":
        return reviewer_id
    if state in ("needs_info", "resolved"):
        return rep_id
    return None


TASK_ASKS = {
    "manager_review": "Review your team member's commission dispute and send it on",
    "submitted": "Pick up a new commission dispute for review",
    "in_review": "Resolve the commission dispute you are reviewing",
    "needs_info": "Answer the question on your commission dispute",
    "resolved": "Read the resolution of your commission dispute and close it",
}
