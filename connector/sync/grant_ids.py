"""Pinning role grants held by name to the ids the org reports for those names.

The built-in default grants (and grants stored by name before ids were required) name a
profile, permission set or user. Once the integration user can ask the org, each name with
exactly one holder of exactly that name becomes a grant by that holder's id, the name kept
as its label; a later rename or look-alike in the org changes nothing. Costs one query per
kind, and only while some grant is still held by name.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from connector.errors import ConnectorError
from connector.salesforce.gateway import Gateway
from connector.salesforce.soql import names_query
from connector.store.repositories import SessionFactory
from connector.store.unit import OrgUnit

log = logging.getLogger(__name__)
# Where each kind of holder lives, and the field that holds its (unique) name.
_SOURCES = {
    "profile": ("Profile", "Name"),
    "permission_set": ("PermissionSet", "Name"),
    "user": ("User", "Username"),
}


def _ids_for(gateway: Gateway, kind: str, names: list[str]) -> dict[tuple[str, str], str]:
    object_name, field = _SOURCES[kind]
    page = gateway.query(names_query(object_name, field, names), include_deleted=False)
    holders: dict[str, list[str]] = defaultdict(list)
    for record in page.records:
        name, record_id = record.get(field), record.get("Id")
        # SOQL matched without regard to case; only the exact name counts.
        if isinstance(name, str) and isinstance(record_id, str) and name in names:
            holders[name].append(record_id)
    # Two holders of one name (e.g. permission sets of two namespaces): keep the name grant.
    return {(kind, name): ids[0] for name, ids in holders.items() if len(ids) == 1}


def pin_grant_names(
    gateway: Gateway, sessions: SessionFactory, *, org_id: str, now: datetime
) -> int:
    """Turn the org's name grants into id grants where the org names one holder; how many."""
    with OrgUnit(sessions, org_id) as unit:
        pending: dict[str, set[str]] = defaultdict(set)
        for grant in unit.roles.grants():
            if grant.match == "name" and grant.principal_kind in _SOURCES:
                pending[grant.principal_kind].add(grant.principal)
    if not pending:
        return 0
    found: dict[tuple[str, str], str] = {}
    try:
        for kind, names in sorted(pending.items()):
            found.update(_ids_for(gateway, kind, sorted(names)))
    except ConnectorError as exc:
        # Grants keep matching by exact name; the next run tries again.
        log.warning("could not look up the ids of name grants: %s", exc)
        return 0
    if not found:
        return 0
    with OrgUnit(sessions, org_id) as unit:
        changed = unit.roles.bind_names(ids=found, now=now)
        unit.commit()
    return changed
