"""One declarative spec per pulled object: name, canonical kind, keys, and its quirks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    """How one Salesforce object is pulled incrementally."""

    name: str
    kind: str  # canonical kind: rep, deal, split, team_member
    has_is_deleted: bool = True
    replication_key: str = "SystemModstamp"
    primary_key: str = "Id"


# SystemModstamp, not LastModifiedDate: it also moves on system changes (roll-ups, owner
# cascades) that change what we read, and it is indexed for every object.
SPECS: Mapping[str, ObjectSpec] = {
    # User has no IsDeleted field (selecting it is INVALID_FIELD): users are deactivated,
    # never deleted, and IsActive is a mapped input like any other.
    "User": ObjectSpec("User", "rep", has_is_deleted=False),
    "Opportunity": ObjectSpec("Opportunity", "deal"),
    "OpportunitySplit": ObjectSpec("OpportunitySplit", "split"),
    "OpportunityTeamMember": ObjectSpec("OpportunityTeamMember", "team_member"),
    # Pulled only when a mapping reads it (the current mapping schema has no line-item kind).
    "OpportunityLineItem": ObjectSpec("OpportunityLineItem", "line_item"),
}


def spec_for(object_name: str, kind: str, describe: Mapping[str, Any]) -> ObjectSpec:
    """The spec of a mapped object; an object we do not know learns IsDeleted from describe."""
    known = SPECS.get(object_name)
    if known is not None and known.kind == kind:
        return known
    names = {str(f.get("name")) for f in describe.get("fields") or []}
    return ObjectSpec(object_name, kind, has_is_deleted="IsDeleted" in names)


def select_fields(
    wanted: tuple[str, ...], describe: Mapping[str, Any], *, spec: ObjectSpec
) -> tuple[str, ...]:
    """The mapping's fields intersected with describe (its spelling), plus IsDeleted if any.

    Parent paths (`SplitType.DeveloperName`) were checked by the mapping validation against
    the parent's describe, so they pass through.
    """
    by_name = {str(f.get("name")).casefold(): str(f.get("name")) for f in describe["fields"]}
    chosen: list[str] = []
    for name in wanted:
        if "." in name:
            chosen.append(name)
        elif name.casefold() in by_name:
            chosen.append(by_name[name.casefold()])
    for required in (spec.primary_key, spec.replication_key):
        if required not in chosen:
            chosen.insert(0, required)
    if spec.has_is_deleted and "isdeleted" in by_name and "IsDeleted" not in chosen:
        chosen.append("IsDeleted")
    return tuple(dict.fromkeys(chosen))
