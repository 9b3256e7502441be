"""Role grants: which Salesforce profiles, permission sets or users hold Quotaflow's admin and
ops roles. Rep and manager are not granted: they follow from the org's data (a mapped rep,
and the ManagerId hierarchy).

A grant names its holder by Salesforce id (users, profiles and permission sets all have one);
its name is only a display label. Ids compare by Salesforce's rules (15-character ids are
case-sensitive; the 18-character form of the same id is equal). The built-in defaults are
shipped before any org's ids are known, so until the first sync pins them to the ids the org
reports (`connector.sync.grant_ids`) they match the exact name of the standard System
Administrator profile (standard profile names cannot be changed) and the API names of the
permission sets force-app ships.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Index, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from connector.salesforce.ids import (
    PERMISSION_SET_PREFIX,
    PROFILE_PREFIX,
    USER_PREFIX,
    InvalidId,
    normalize_id,
    same_id,
)
from connector.store.base import Base, UtcDateTime
from connector.store.models import ORG_ID

GRANTED_ROLES = ("admin", "ops")
PRINCIPAL_KINDS = ("profile", "permission_set", "user")
MATCH_KINDS = ("id", "name")
ID_PREFIXES = {
    "user": USER_PREFIX,
    "profile": PROFILE_PREFIX,
    "permission_set": PERMISSION_SET_PREFIX,
}
MAX_LABEL = 120
# Until an admin edits the grants, these hold: the org's System Administrators and the
# permission sets that force-app ships (Quotaflow_Admin, Quotaflow_Ops), by exact name.
DEFAULT_GRANTS: tuple[tuple[str, str, str], ...] = (
    ("admin", "profile", "System Administrator"),
    ("admin", "permission_set", "Quotaflow_Admin"),
    ("ops", "profile", "System Administrator"),
    ("ops", "permission_set", "Quotaflow_Ops"),
)


class RoleGrant(Base):
    """One grant: `role` to the holders of a profile or permission set, or to one user."""

    __tablename__ = "role_grants"
    __table_args__ = (Index(None, "org_id", "role", "principal_kind", "principal", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ORG_ID)
    role: Mapped[str] = mapped_column(String(16))
    principal_kind: Mapped[str] = mapped_column(String(16))
    # `id`: `principal` is the 18-character id; `name`: the exact name (built-in defaults, and
    # grants stored by name before ids were required).
    match_kind: Mapped[str] = mapped_column(String(8), server_default="name")
    principal: Mapped[str] = mapped_column(String(120))
    label: Mapped[str | None] = mapped_column(String(MAX_LABEL))
    created_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


@dataclass(frozen=True, slots=True)
class Grant:
    """A grant as the web app sees it (defaults have no id)."""

    id: int | None
    role: str
    principal_kind: str
    match: str
    principal: str
    label: str | None
    created_by: str | None


@dataclass(frozen=True, slots=True)
class Holder:
    """Who asks for roles, as the org reported them: user, profile and permission sets."""

    user_id: str
    username: str = ""
    profile_id: str | None = None
    profile_name: str | None = None
    permission_sets: tuple[tuple[str, str], ...] = ()  # (id, API name)


class GrantError(ValueError):
    """A grant that cannot be stored; the message names the field."""


def default_grants() -> list[Grant]:
    """The built-in grants, which hold while an org has none stored."""
    return _defaults()


def _defaults() -> list[Grant]:
    return [Grant(None, r, k, "name", v, v, None) for r, k, v in DEFAULT_GRANTS]


def grants(session: Session, *, org_id: str) -> list[Grant]:
    """The org's grants: the stored ones, or the defaults while none are stored."""
    rows = session.scalars(
        select(RoleGrant)
        .where(RoleGrant.org_id == org_id)
        .order_by(
            RoleGrant.role, RoleGrant.principal_kind, RoleGrant.match_kind, RoleGrant.principal
        )
    ).all()
    if not rows:
        return _defaults()
    return [
        Grant(r.id, r.role, r.principal_kind, r.match_kind, r.principal, r.label, r.created_by)
        for r in rows
    ]


def materialize_defaults(session: Session, *, org_id: str, now: datetime) -> None:
    """Store the built-in defaults while none are stored, so each can be removed by id."""
    exists = session.scalars(select(RoleGrant.id).where(RoleGrant.org_id == org_id).limit(1))
    if exists.first() is None:
        for grant in _defaults():
            session.add(
                RoleGrant(
                    org_id=org_id,
                    role=grant.role,
                    principal_kind=grant.principal_kind,
                    match_kind=grant.match,
                    principal=grant.principal,
                    label=grant.label,
                    created_by="default",
                    created_at=now,
                )
            )
        session.flush()


def grant_principal(principal_kind: str, principal: str) -> str:
    """The stored form of a grant's holder: its 18-character id; GrantError naming the field."""
    if principal_kind not in PRINCIPAL_KINDS:
        raise GrantError(f"kind: expected one of {', '.join(PRINCIPAL_KINDS)}")
    prefix = ID_PREFIXES[principal_kind]
    what = principal_kind.replace("_", " ")
    try:
        return normalize_id(principal.strip(), prefix=prefix)
    except InvalidId:
        raise GrantError(
            f"principal: give the {what}'s 15- or 18-character Salesforce id (it starts with "
            f"{prefix}); a name goes in the label"
        ) from None


def add_grant(
    session: Session,
    *,
    org_id: str,
    role: str,
    principal_kind: str,
    principal: str,
    label: str = "",
    created_by: str | None,
    now: datetime,
) -> Grant:
    """Grant `role` to the holder of an id (idempotent); GrantError names a bad field."""
    if role not in GRANTED_ROLES:
        raise GrantError(f"role: expected one of {', '.join(GRANTED_ROLES)}, got {role!r}")
    stored = grant_principal(principal_kind, principal)
    label = label.strip()
    if len(label) > MAX_LABEL or any(ord(c) < 32 for c in label):
        raise GrantError(f"label: at most {MAX_LABEL} characters on one line")
    materialize_defaults(session, org_id=org_id, now=now)
    for grant in grants(session, org_id=org_id):
        if (grant.role, grant.principal_kind, grant.match, grant.principal) == (
            role,
            principal_kind,
            "id",
            stored,
        ):
            return grant
    row = RoleGrant(
        org_id=org_id,
        role=role,
        principal_kind=principal_kind,
        match_kind="id",
        principal=stored,
        label=label or None,
        created_by=created_by,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return Grant(row.id, role, principal_kind, "id", stored, row.label, created_by)


def remove_grant(session: Session, *, org_id: str, grant_id: int, now: datetime) -> None:
    """Remove a stored grant; the last admin grant cannot go (nobody could edit them again)."""
    materialize_defaults(session, org_id=org_id, now=now)
    row = session.get(RoleGrant, grant_id)
    if row is None or row.org_id != org_id:
        raise GrantError(f"grant {grant_id} does not exist")
    if row.role == "admin":
        admins = [g for g in grants(session, org_id=org_id) if g.role == "admin"]
        if len(admins) <= 1:
            raise GrantError("the last admin grant cannot be removed")
    session.delete(row)
    session.flush()


def bind_names(
    session: Session, *, org_id: str, ids: Mapping[tuple[str, str], str], now: datetime
) -> int:
    """Turn name grants into id grants where `ids` names the holder: (kind, exact name) to
    the id the org reported; the name stays as the label. Returns how many changed."""
    materialize_defaults(session, org_id=org_id, now=now)
    rows = session.scalars(
        select(RoleGrant).where(RoleGrant.org_id == org_id, RoleGrant.match_kind == "name")
    ).all()
    changed = 0
    for row in rows:
        found = ids.get((row.principal_kind, row.principal))
        if found is None:
            continue
        try:
            canonical = normalize_id(found, prefix=ID_PREFIXES[row.principal_kind])
        except (InvalidId, KeyError):
            continue
        twin = session.scalars(
            select(RoleGrant.id).where(
                RoleGrant.org_id == org_id,
                RoleGrant.role == row.role,
                RoleGrant.principal_kind == row.principal_kind,
                RoleGrant.principal == canonical,
            )
        ).first()
        if twin is not None:
            session.delete(row)
        else:
            row.label = row.label or row.principal
            row.match_kind = "id"
            row.principal = canonical
        changed += 1
    session.flush()
    return changed


def holds(grant: Grant, holder: Holder) -> bool:
    """Whether `holder` is who `grant` names: same id, or (name grants) exactly the name."""
    if grant.match == "id":
        if grant.principal_kind == "user":
            return same_id(grant.principal, holder.user_id)
        if grant.principal_kind == "profile":
            return same_id(grant.principal, holder.profile_id)
        return any(same_id(grant.principal, ps_id) for ps_id, _ in holder.permission_sets)
    if grant.match != "name":
        return False
    if grant.principal_kind == "user":
        return bool(holder.username) and grant.principal == holder.username
    if grant.principal_kind == "profile":
        return bool(holder.profile_name) and grant.principal == holder.profile_name
    return any(grant.principal == name for _, name in holder.permission_sets if name)


def granted_roles(all_grants: list[Grant], holder: Holder) -> set[str]:
    """The granted roles a user holds through their id, profile or permission sets."""
    return {grant.role for grant in all_grants if holds(grant, holder)}


def resolve_roles(session: Session, *, org_id: str, holder: Holder) -> tuple[str, set[str]]:
    """The user's id as stored and roles: granted (admin, ops) and from data (rep, manager).

    A user the last sync saw deactivated (User.IsActive = false) holds no role at all.
    """
    from connector.store.access_reads import access_facts, roles_of

    facts = access_facts(
        session, org_id=org_id, holder_id=holder.user_id, viewer_id=holder.user_id, rep_id=None
    )
    return roles_of(facts, holder)
