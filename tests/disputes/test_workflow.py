"""The dispute state machine, table-driven: every action from every state by every kind of
actor, and the inputs each needs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connector.disputes.workflow import (
    ACTIONS,
    STATES,
    Actor,
    Inputs,
    Snapshot,
    TransitionRefused,
    decide,
    first_state,
    waiting_on,
)

REP = Actor("005REP", "Rep", frozenset({"rep"}))
OTHER_REP = Actor("005OTHER", "Other", frozenset({"rep"}))
MANAGER = Actor("005MGR", "Mgr", frozenset({"manager", "rep"}), manages_rep=True)
OTHER_MANAGER = Actor("005MGR2", "Mgr2", frozenset({"manager", "rep"}), manages_rep=False)
ADMIN = Actor("005ADM", "Admin", frozenset({"admin"}))
SELF_ADMIN = Actor("005REP", "Rep who is admin", frozenset({"admin", "rep"}))
OPS = Actor("005OPS", "Ops", frozenset({"ops"}))


def snap(state: str, *, info_from: str | None = None, amounts: bool = True) -> Snapshot:
    return Snapshot(state=state, rep_id="005REP", info_from=info_from, has_amounts=amounts)


NOTE = Inputs(note="because")
# (action, state, actor, inputs) -> new state
ALLOWED = [
    ("endorse", "manager_review", MANAGER, Inputs(), "submitted"),
    ("review", "submitted", ADMIN, Inputs(), "in_review"),
    ("ask_info", "in_review", ADMIN, NOTE, "needs_info"),
    ("ask_info", "manager_review", MANAGER, NOTE, "needs_info"),
    ("resolve", "in_review", ADMIN, Inputs("ok", "denied"), "resolved"),
    ("close", "resolved", REP, Inputs(), "closed"),
    ("close", "resolved", ADMIN, Inputs(), "closed"),
    ("withdraw", "in_review", REP, Inputs(), "closed"),
    ("withdraw", "needs_info", REP, Inputs(), "closed"),
]


@pytest.mark.parametrize(("action", "state", "actor", "inputs", "to"), ALLOWED)
def test_allowed_transitions(
    action: str, state: str, actor: Actor, inputs: Inputs, to: str
) -> None:
    assert decide(action, snap(state), actor, inputs).state == to


def test_reply_returns_to_whoever_asked() -> None:
    for asked in ("in_review", "manager_review"):
        outcome = decide("reply", snap("needs_info", info_from=asked), REP, NOTE)
        assert outcome.state == asked and outcome.changes == {"info_from": None}
    assert decide("ask_info", snap("in_review"), ADMIN, NOTE).changes == {"info_from": "in_review"}


@pytest.mark.parametrize(
    ("action", "state", "actor"),
    [
        ("resolve", "in_review", REP),  # a rep cannot resolve their own dispute
        ("resolve", "in_review", SELF_ADMIN),  # not even when they are an admin
        ("review", "submitted", SELF_ADMIN),
        ("resolve", "in_review", MANAGER),
        ("resolve", "in_review", OPS),
        ("endorse", "manager_review", OTHER_MANAGER),  # another team's manager
        ("endorse", "manager_review", ADMIN),
        ("reply", "needs_info", OTHER_REP),
        ("withdraw", "submitted", ADMIN),
        ("close", "resolved", OTHER_REP),
        ("close", "resolved", MANAGER),
        ("ask_info", "in_review", MANAGER),
    ],
)
def test_refused_actors(action: str, state: str, actor: Actor) -> None:
    with pytest.raises(TransitionRefused) as refused:
        decide(action, snap(state), actor, Inputs("n", "denied"))
    assert refused.value.status == 403


def test_every_action_from_a_wrong_state_is_a_conflict() -> None:
    actors = {"manager": MANAGER, "admin": ADMIN, "reviewer": ADMIN, "rep": REP}
    for action, (leaves, who) in ACTIONS.items():
        actor = actors.get(who, ADMIN)
        for state in set(STATES) - leaves:
            if who == "reviewer" and state == "manager_review":
                continue
            with pytest.raises(TransitionRefused) as refused:
                decide(action, snap(state), actor, Inputs("n", "denied"))
            assert refused.value.status == 409, (action, state)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (Inputs("why", "maybe"), "resolution:"),
        (Inputs("", "denied"), "note:"),
        (Inputs("why", "denied", Decimal("5")), "amount:"),
        (Inputs("why", "partially_approved"), "amount:"),
        (Inputs("why", "partially_approved", Decimal("0")), "amount:"),
        (Inputs("   ", "approved", Decimal("5")), "note:"),
    ],
)
def test_resolution_inputs_are_checked(inputs: Inputs, message: str) -> None:
    with pytest.raises(TransitionRefused) as refused:
        decide("resolve", snap("in_review"), ADMIN, inputs)
    assert refused.value.status == 400 and refused.value.message.startswith(message)


def test_resolutions_carry_reason_and_amount() -> None:
    partial = decide(
        "resolve", snap("in_review"), ADMIN, Inputs("half", "partially_approved", Decimal("120.50"))
    )
    assert partial.changes == {
        "resolution": "partially_approved",
        "resolution_reason": "half",
        "resolved_amount": Decimal("120.50"),
    }
    full = decide("resolve", snap("in_review"), ADMIN, Inputs("right", "approved"))
    assert full.changes["resolved_amount"] == "claim"  # the difference, filled by the service
    with pytest.raises(TransitionRefused):
        decide("resolve", snap("in_review", amounts=False), ADMIN, Inputs("right", "approved"))


def test_unknown_action_is_a_bad_request() -> None:
    with pytest.raises(TransitionRefused) as refused:
        decide("delete", snap("submitted"), ADMIN, Inputs())
    assert refused.value.status == 400


def test_first_state_and_who_must_act() -> None:
    assert first_state(manager_step=True, has_manager=True) == "manager_review"
    assert first_state(manager_step=True, has_manager=False) == "submitted"
    assert first_state(manager_step=False, has_manager=True) == "submitted"
    people = {"rep_id": "R", "manager_id": "M", "reviewer_id": "A", "dispute_admin_id": "Q"}
    assert [waiting_on(s, **people) for s in STATES] == ["M", "Q", "A", "R", "R", None]
