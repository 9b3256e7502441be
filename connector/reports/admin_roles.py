"""Role grants as the access page edits them: a grant is named by its id once stored, or by
its role, kind and principal while only the built-in defaults apply (they have no id yet)."""

from __future__ import annotations

from datetime import datetime

from connector.store.roles import (
    GRANTED_ROLES,
    Grant,
    GrantError,
)
from connector.store.unit import OrgUnit


def grant_key(grant: Grant) -> str:
    """A stable form value naming one grant: its id, or `role|kind|principal` for a default."""
    if grant.id is not None:
        return str(grant.id)
    return f"{grant.role}|{grant.principal_kind}|{grant.principal}"


def remove_by_key(unit: OrgUnit, *, key: str, now: datetime) -> Grant:
    """Remove the grant `key` names; GrantError if unknown or the last admin grant."""
    found = next((g for g in unit.roles.grants() if grant_key(g) == key), None)
    if found is None:
        raise GrantError("this grant no longer exists; reload the page")
    if found.id is None:
        # Store the defaults first, so the one to remove has an id.
        unit.roles.materialize_defaults(now=now)
        stored = unit.roles.grants()
        same = (found.role, found.principal_kind, found.match, found.principal)
        found = next(g for g in stored if (g.role, g.principal_kind, g.match, g.principal) == same)
    assert found.id is not None
    unit.roles.remove_grant(grant_id=found.id, now=now)
    return found


def grants_by_role(unit: OrgUnit) -> dict[str, list[Grant]]:
    """The org's grants grouped by role (admin, then ops)."""
    found = unit.roles.grants()
    return {role: [g for g in found if g.role == role] for role in GRANTED_ROLES}
