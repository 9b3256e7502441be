"""Role grants: which Salesforce profiles, permission sets or users hold Quotaflow's admin and
ops roles. Rep and manager are not granted: they follow from the org's data (a mapped rep,
and the ManagerId hierarchy)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Index, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from connector.store.base import Base, UtcDateTime
from connector.store.models import ORG_ID

GRANTED_ROLES = ("admin", "ops")
PRINCIPAL_KINDS = ("profile", "permission_set", "user")
# Until an admin edits the grants, these hold: the org's System Administrators and the
# permission sets that force-app ships (Quotaflow_Admin, Quotaflow_Ops).
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
    # A profile or permission set by its name (API name for permission sets) or 15/18-char
    # id; a user by id or username.
    principal: Mapped[str] = mapped_column(String(120))
    created_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


@dataclass(frozen=True, slots=True)
class Grant:
    """A grant as the web app sees it (defaults have no id)."""

    id: int | None
    role: str
    principal_kind: str
    principal: str
    created_by: str | None


class GrantError(ValueError):
    """A grant that cannot be stored; the message names the field."""


def grants(session: Session, *, org_id: str) -> list[Grant]:
    """The org's grants: the stored ones, or the defaults while none are stored."""
    rows = session.scalars(
        select(RoleGrant)
        .where(RoleGrant.org_id == org_id)
        .order_by(RoleGrant.role, RoleGrant.principal_kind, RoleGrant.principal)
    ).all()
    if not rows:
        return [Grant(None, role, kind, value, None) for role, kind, value in DEFAULT_GRANTS]
    return [Grant(r.id, r.role, r.principal_kind, r.principal, r.created_by) for r in rows]


def _materialize_defaults(session: Session, *, org_id: str, now: datetime) -> None:
    exists = session.scalars(select(RoleGrant.id).where(RoleGrant.org_id == org_id).limit(1))
    if exists.first() is None:
        for role, kind, value in DEFAULT_GRANTS:
            session.add(
                RoleGrant(
                    org_id=org_id,
                    role=role,
                    principal_kind=kind,
                    principal=value,
                    created_by="default",
                    created_at=now,
                )
            )
        session.flush()


def add_grant(
    session: Session,
    *,
    org_id: str,
    role: str,
    principal_kind: str,
    principal: str,
    created_by: str | None,
    now: datetime,
) -> None:
    """Grant `role` (idempotent); GrantError names a bad field."""
    if role not in GRANTED_ROLES:
        raise GrantError(f"role: expected one of {', '.join(GRANTED_ROLES)}, got {role!r}")
    if principal_kind not in PRINCIPAL_KINDS:
        raise GrantError(f"kind: expected one of {', '.join(PRINCIPAL_KINDS)}")
    principal = principal.strip()
    if not principal or len(principal) > 120:
        raise GrantError("principal: give a name or id of 1 to 120 characters")
    _materialize_defaults(session, org_id=org_id, now=now)
    for grant in grants(session, org_id=org_id):
        if (grant.role, grant.principal_kind, grant.principal) == (role, principal_kind, principal):
            return
    session.add(
        RoleGrant(
            org_id=org_id,
            role=role,
            principal_kind=principal_kind,
            principal=principal,
            created_by=created_by,
            created_at=now,
        )
    )
    session.flush()


def remove_grant(session: Session, *, org_id: str, grant_id: int, now: datetime) -> None:
    """Remove a stored grant; the last admin grant cannot go (nobody could edit them again)."""
    _materialize_defaults(session, org_id=org_id, now=now)
    row = session.get(RoleGrant, grant_id)
    if row is None or row.org_id != org_id:
        raise GrantError(f"grant {grant_id} does not exist")
    if row.role == "admin":
        admins = [g for g in grants(session, org_id=org_id) if g.role == "admin"]
        if len(admins) <= 1:
            raise GrantError("the last admin grant cannot be removed")
    session.delete(row)
    session.flush()


def _matches(value: str, candidates: Sequence[str | None]) -> bool:
    value = value.strip().lower()
    for candidate in candidates:
        if not candidate:
            continue
        c = candidate.lower()
        # Ids match on their first 15 characters (15- and 18-character forms of one id).
        if c == value or (len(c) >= 15 and len(value) >= 15 and c[:15] == value[:15]):
            return True
    return False


def granted_roles(
    all_grants: Sequence[Grant],
    *,
    user_id: str,
    username: str,
    profile: Sequence[str | None],
    permission_sets: Sequence[str],
) -> set[str]:
    """The granted roles a user holds through their id, profile or permission sets."""
    held: set[str] = set()
    for grant in all_grants:
        if grant.principal_kind == "user":
            candidates: Sequence[str | None] = (user_id, username)
        elif grant.principal_kind == "profile":
            candidates = profile
        else:
            candidates = permission_sets
        if _matches(grant.principal, candidates):
            held.add(grant.role)
    return held


def resolve_roles(
    session: Session,
    *,
    org_id: str,
    user_id: str,
    username: str,
    profile: Sequence[str | None],
    permission_sets: Sequence[str],
) -> tuple[str, set[str]]:
    """The user's id as stored and roles: granted (admin, ops) and from data (rep, manager)."""
    from connector.store.people import manages_anyone, person

    roles = granted_roles(
        grants(session, org_id=org_id),
        user_id=user_id,
        username=username,
        profile=profile,
        permission_sets=permission_sets,
    )
    me = person(session, org_id=org_id, rep_id=user_id)
    if me is None:
        return user_id, roles
    # Every User is mapped, but only one on a comp plan has earnings to show.
    if me.plan_id:
        roles.add("rep")
    if manages_anyone(session, org_id=org_id, rep_id=me.id):
        roles.add("manager")
    return me.id, roles
