"""Get-or-404 helpers that also check the viewer may see what they ask for.

A rep sees themself; a manager themself and everyone below them in the ManagerId
hierarchy; an admin everyone. A deal is visible to whoever may see one of the people it
involves (owner, split or team member, credited rep). Anything else is "not found", so an
outsider cannot even learn that a rep or deal exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import g

from connector.store.access_reads import AccessFacts
from connector.store.people import Person
from connector.store.rep_pages import PageVersion
from webapp.auth.guard import adopt, check_roles, current_viewer, not_found, session_viewer
from webapp.auth.session import Viewer
from webapp.db import org_unit, read_once, viewer_unit


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
    """A rep the viewer may see, or 404 (one statement: the rep and their chain of managers)."""
    viewer = current_viewer()
    with viewer_unit() as unit:
        facts = unit.access.facts(
            holder_id=viewer.holder.user_id, viewer_id=viewer.user_id, rep_id=rep_id
        )
    return _visible_rep(viewer, rep_id, facts)


def _visible_rep(viewer: Viewer, rep_id: str, facts: AccessFacts) -> Person:
    # `may_see_rep`, with the hierarchy walked up from the rep in SQL instead of down the
    # viewer's whole team.
    seen = rep_id == viewer.user_id or viewer.has("admin")
    seen = seen or (viewer.has("manager") and facts.below)
    if not seen or facts.target is None:
        raise not_found(f"Rep {rep_id}")
    return facts.target


@dataclass(frozen=True, slots=True)
class StoredRepPage:
    """A rep page request that passed the access check, and the stored page it read."""

    viewer: Viewer
    rep: Person
    body: str | None  # the stored page data (JSON) while current, else None
    version: PageVersion


def stored_rep_page(rep_id: str | None, *, roles: tuple[str, ...], as_of: date) -> StoredRepPage:
    """`require(*roles)` and `get_rep_or_404(rep_id)` (None: the viewer) together with the
    read of the rep's stored page, all in one statement; Refused like them.

    The viewer's roles are resolved again from the grants and synced users read in that
    statement, exactly as `current_viewer` resolves them, so nothing is kept between requests.
    """
    viewer: Viewer | None = g.get("viewer")
    now, stale = 0.0, False
    if viewer is None:
        viewer, now, stale = session_viewer()
    rep = rep_id or viewer.user_id
    holder_id, viewer_id = viewer.holder.user_id, viewer.user_id
    body, version, facts = read_once(
        viewer.org_id,
        lambda unit: unit.rep_pages.stored_page_access(
            rep_id=rep, as_of=as_of, holder_id=holder_id, viewer_id=viewer_id
        ),
    )
    if stale:
        viewer = adopt(viewer, facts, now=now)
    g.viewer = viewer
    check_roles(viewer, roles)
    return StoredRepPage(viewer, _visible_rep(viewer, rep, facts), body, version)


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
