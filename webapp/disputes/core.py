"""What the dispute pages and the dispute API share: who may see a dispute, opening one from
a request, and taking an action, with every refusal logged.

A rep sees their own disputes, a manager their team's (everyone below them in the
ManagerId hierarchy), an admin all; ops none. A dispute the viewer may not see is "not
found", like a rep or deal, and the attempt is logged on `quotaflow.audit`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from connector.disputes.service import (
    DisputeInvalid,
    DisputeRequest,
    RepRef,
    act,
    check_request,
    open_dispute,
    parse_amount,
)
from connector.disputes.workflow import Actor, Inputs, TransitionRefused
from connector.reports.earnings import RepSummary, rep_summary
from connector.store.disputes import Dispute
from webapp.access import get_deal_or_404, get_rep_or_404, team_of
from webapp.auth.guard import Refused, bad_request, current_viewer, not_found
from webapp.auth.session import Viewer
from webapp.db import viewer_unit

audit = logging.getLogger("quotaflow.audit")
VIEW_ROLES = ("rep", "manager", "admin")
OPEN_ROLES = ("rep", "manager")
TEXT_LIMIT = 4000


def now() -> datetime:
    """The time of this request (UTC)."""
    return datetime.now(UTC)


def refuse(viewer: Viewer, what: str, status: int, message: str) -> Refused:
    """Log a refused dispute request (who, what) and return the refusal to raise."""
    audit.warning(
        "dispute request refused: user=%s org=%s roles=%s %s -> %s %s",
        viewer.user_id,
        viewer.org_id,
        ",".join(sorted(viewer.roles)),
        what,
        status,
        message,
    )
    return Refused(status, message)


def may_see(viewer: Viewer, dispute: Dispute) -> bool:
    """Whether the viewer may see `dispute`."""
    if dispute.rep_id == viewer.user_id or viewer.has("admin"):
        return True
    return viewer.has("manager") and dispute.rep_id in team_of(viewer)


def get_dispute_or_404(dispute_id: int) -> Dispute:
    """A dispute the viewer may see (detached from its session), or 404 (logged)."""
    viewer = current_viewer()
    with viewer_unit() as unit:
        found = unit.disputes.get(dispute_id=dispute_id)
    if found is None or not may_see(viewer, found):
        message = f"Dispute {dispute_id} was not found, or you may not see it."
        raise refuse(viewer, f"view dispute {dispute_id}", 404, message)
    return found


def visible_disputes(viewer: Viewer, *, states: set[str] | None) -> list[Dispute]:
    """The disputes the viewer may see, newest first."""
    rep_ids: set[str] | None = None
    if not viewer.has("admin"):
        rep_ids = {viewer.user_id} | (set(team_of(viewer)) if viewer.has("manager") else set())
    with viewer_unit() as unit:
        rows = list(unit.disputes.find(rep_ids=rep_ids, states=states))
    return rows


def actor_for(viewer: Viewer, dispute: Dispute) -> Actor:
    """The viewer as the workflow sees them for this dispute."""
    manages = viewer.has("manager") and dispute.rep_id in team_of(viewer)
    return Actor(viewer.user_id, viewer.name, viewer.roles, manages_rep=manages)


def _text(values: Mapping[str, Any], name: str, *, limit: int = 80) -> str:
    raw = values.get(name)
    if raw is None:
        return ""
    if not isinstance(raw, str | int | float) or isinstance(raw, bool):
        raise bad_request(f"{name}: must be text")
    text = str(raw).strip()
    if len(text) > limit:
        raise bad_request(f"{name}: at most {limit} characters")
    return text


def statement_of(rep_id: str, *, period: str | None) -> RepSummary:
    """The rep's stored statement of `period` (the current one when None), every line."""
    with viewer_unit() as unit:
        return rep_summary(unit, rep_id=rep_id,
                           as_of=now().date(), period=period, deal_limit=None)  # fmt: skip


def _shown_amount(viewer: Viewer, req: DisputeRequest) -> Decimal | None:
    """What the rep's stored statement shows for the disputed line (never what they send)."""
    summary = statement_of(viewer.user_id, period=req.period)
    if summary.result is None:
        raise bad_request(f"period: you have no statement for {req.period}")
    if req.kind != "line":
        return None
    lines = [ln for d in summary.deals if d.deal_id == req.deal_id for ln in d.lines]
    if not req.deal_id:
        lines = list(summary.other_lines)
    matching = [
        ln
        for ln in lines
        if ln["component"] == req.component
        and (ln.get("credit_type") or "") == (req.credit_type or "")
    ]
    if not matching:
        raise bad_request("line: your statement has no such line in that period")
    return sum((Decimal(str(ln["amount"])) for ln in matching), Decimal(0))


def request_from(values: Mapping[str, Any]) -> DisputeRequest:
    """A dispute request from form or JSON values (400 naming the field when unusable)."""
    kind = _text(values, "kind", limit=16)
    deal_id = _text(values, "deal_id", limit=18) or None
    try:
        expected = parse_amount(_text(values, "expected_amount", limit=40), field="expected_amount")
    except DisputeInvalid as exc:
        raise bad_request(str(exc)) from None
    return DisputeRequest(
        kind=kind,
        period=_text(values, "period", limit=16),
        reason_code=_text(values, "reason", limit=40),
        description=_text(values, "description", limit=TEXT_LIMIT),
        expected_amount=expected,
        deal_id=deal_id,
        component=_text(values, "component") or None,
        credit_type=_text(values, "credit_type", limit=16) or None,
    )


def open_from(values: Mapping[str, Any]) -> Dispute:
    """Open a dispute on the viewer's own pay from request values; 400/404 when unusable."""
    viewer = current_viewer()
    person = get_rep_or_404(viewer.user_id)
    req = request_from(values)
    if req.deal_id:
        get_deal_or_404(req.deal_id)
    try:
        with viewer_unit() as unit:
            check_request(unit, req=req)
        req = replace(req, shown_amount=_shown_amount(viewer, req))
        with viewer_unit() as unit:
            rep = RepRef(person.id, person.name, person.manager_id)
            dispute = open_dispute(unit, rep=rep, req=req, now=now())
            unit.commit()
    except DisputeInvalid as exc:
        raise bad_request(str(exc)) from None
    return dispute


def act_from(dispute_id: int, values: Mapping[str, Any]) -> Dispute:
    """Take the action in `values` on a visible dispute; refusals are logged."""
    viewer = current_viewer()
    dispute = get_dispute_or_404(dispute_id)
    action = _text(values, "action", limit=24)
    try:
        amount = parse_amount(_text(values, "amount", limit=40), field="amount")
    except DisputeInvalid as exc:
        raise bad_request(str(exc)) from None
    inputs = Inputs(
        note=_text(values, "note", limit=TEXT_LIMIT) or None,
        resolution=_text(values, "resolution", limit=24) or None,
        amount=amount,
    )
    actor = actor_for(viewer, dispute)
    try:
        with viewer_unit() as unit:
            changed = act(unit, dispute_id=dispute_id,
                          action=action, actor=actor, inputs=inputs, now=now())  # fmt: skip
            unit.commit()
    except TransitionRefused as exc:
        raise refuse(viewer, f"{action or 'no action'} on dispute {dispute_id}", exc.status,
                     exc.message) from None  # fmt: skip
    return changed


def unknown(dispute_id: int) -> Refused:
    """The 404 for a dispute that vanished between the check and the read."""
    return not_found(f"Dispute {dispute_id}")
