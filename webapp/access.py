"""Get-or-404 helpers that also check the viewer may see what they ask for.

A rep sees themself; a manager themself and everyone below them in the ManagerId
hierarchy; an admin everyone. A deal is visible to whoever may see one of the people it
involves (owner, split or team member, credited rep). Anything else is "not found", so an
outsider cannot even learn that a rep or deal exists.
"""

from __future__ import annotations

from typing import Any

from flask import g

from connector.store.people import Person
from webapp.auth.guard import current_viewer, not_found
from webapp.auth.session import Viewer
from webapp.db import org_unit, viewer_unit


def team_of(viewer: Viewer) -> dict[str, Person]:
    """Everyone below the viewer in the hierarchy (empty for non-managers); memoized per request."""
    cached: dict[str, Person] | None = g.get("team_below")
    if cached is None:
        cached = {}
        if viewer.has("manager"):
            with org_unit(viewer.org_id) as unit:
                cached = unit.people.team_below(manager_id=viewer.user_id)
        g.team_below = cached
    return cached


def may_see_rep(viewer: Viewer, rep_id: str) -> bool:
    """Whether the viewer may see `rep_id`'s earnings."""
    return rep_id == viewer.user_id or viewer.has("admin") or rep_id in team_of(viewer)


def get_rep_or_404(rep_id: str) -> Person:
    """A rep the viewer may see, or 404."""
    viewer = current_viewer()
    if not may_see_rep(viewer, rep_id):
        raise not_found(f"Rep {rep_id}")
    with viewer_unit() as unit:
        found = unit.people.person(rep_id=rep_id)
    if found is None:
        raise not_found(f"Rep {rep_id}")
    return found


def get_deal_or_404(deal_id: str) -> tuple[dict[str, Any], set[str]]:
    """A deal the viewer may see (its payload and the people it involves), or 404."""
    viewer = current_viewer()
    with viewer_unit() as unit:
        payload = unit.records.deal_payload(deal_id=deal_id)
        people = unit.records.deal_people(deal_id=deal_id)
    if payload is None:
        raise not_found(f"Opportunity {deal_id}")
    if not viewer.has("admin") and not any(may_see_rep(viewer, rep) for rep in people):
        raise not_found(f"Opportunity {deal_id}")
    return payload, people


def visible_people(viewer: Viewer, people: set[str]) -> set[str]:
    """The subset of `people` the viewer may see."""
    return {rep for rep in people if may_see_rep(viewer, rep)}
