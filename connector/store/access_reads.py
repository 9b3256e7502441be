"""What a viewer's access follows from, read in one statement.

A viewer's roles follow from the org's grants (admin, ops) and from the synced users (rep:
mapped with a plan; manager: someone live reports to them; none while deactivated); a rep
is visible to themself, to an admin and to anyone above them in the ManagerId hierarchy.
`access_columns` reads all of it as scalar subqueries, so a page can read it in the same
statement as its own data (the stored rep page: `rep_pages.stored_page_access`) and every
request decides from the store's current state: a revoked grant, a changed manager or a
deactivated user counts on the very next request, in every process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, String, bindparam, exists, func, literal, select
from sqlalchemy.orm import Session, aliased

from connector.store.canonical import CanonicalRep
from connector.store.people import MAX_DEPTH, Person, person_of
from connector.store.roles import Grant, Holder, RoleGrant, default_grants, granted_roles

ACCESS_COLUMNS = 7  # how many columns `access_columns` adds to a statement
PARAMS = ("org_id", "holder_id", "viewer_id", "rep_id")


@dataclass(frozen=True, slots=True)
class AccessFacts:
    """The grants, the viewer's own rep row, and one rep asked for, as the store holds them."""

    grants: tuple[Grant, ...]  # the stored grants, or the defaults while none are stored
    me: Person | None  # the viewer's live rep row
    manages: bool  # someone live reports to the viewer
    target: Person | None  # the live rep asked for (None: none asked, or none live)
    below: bool  # the rep asked for is below the viewer in the ManagerId hierarchy


def roles_of(facts: AccessFacts, holder: Holder) -> tuple[str, set[str]]:
    """The user's id as stored and roles: granted (admin, ops) and from data (rep, manager).

    A user the last sync saw deactivated (User.IsActive = false) holds no role at all.
    """
    roles = granted_roles(list(facts.grants), holder)
    me = facts.me
    if me is None:
        return holder.user_id, roles
    if not me.is_active:
        return me.id, set()
    # Every User is mapped, but only one on a comp plan has earnings to show.
    if me.plan_id:
        roles.add("rep")
    if facts.manages:
        roles.add("manager")
    return me.id, roles


def access_params() -> dict[str, Any]:
    """The bind parameters `access_columns` takes in a statement built once per dialect (a
    request then sends only their values: no statement is built or cache-keyed per request)."""
    return {name: bindparam(name, type_=String) for name in PARAMS}


def access_columns(
    dialect: str, *, org_id: Any, holder_id: Any, viewer_id: Any, rep_id: Any | None
) -> list[ColumnElement[Any]]:
    """The ACCESS_COLUMNS scalar subqueries `facts_of` reads, to select in any statement;
    each value is given or a bind parameter of `access_params`."""
    grant = (RoleGrant.id, RoleGrant.role, RoleGrant.principal_kind, RoleGrant.match_kind,
             RoleGrant.principal, RoleGrant.label, RoleGrant.created_by)  # fmt: skip
    if dialect == "postgresql":
        agg: Any = func.json_agg(func.json_build_array(*grant))
    else:
        agg = func.json_group_array(func.json_array(*grant))
    grants = select(agg).where(RoleGrant.org_id == org_id).scalar_subquery()
    manages = exists(
        select(CanonicalRep.id).where(
            CanonicalRep.org_id == org_id,
            CanonicalRep.manager_id == holder_id,
            CanonicalRep.deleted.is_(False),
        )
    )
    me = [_rep_column(CanonicalRep.payload, org_id, holder_id),
          _rep_column(CanonicalRep.manager_id, org_id, holder_id)]  # fmt: skip
    if rep_id is None:
        return [grants, *me, manages, literal(None), literal(None), literal(False)]
    target = [_rep_column(CanonicalRep.payload, org_id, rep_id),
              _rep_column(CanonicalRep.manager_id, org_id, rep_id)]  # fmt: skip
    below = _below(org_id, manager_id=viewer_id, rep_id=rep_id)
    return [grants, *me, manages, *target, below]


def _rep_column(column: Any, org_id: Any, rep_id: Any) -> ColumnElement[Any]:
    """One column of a live rep's row (NULL when there is none)."""
    return (
        select(column)
        .where(
            CanonicalRep.org_id == org_id,
            CanonicalRep.id == rep_id,
            CanonicalRep.deleted.is_(False),
        )
        .scalar_subquery()
    )


def _below(org_id: Any, *, manager_id: Any, rep_id: Any) -> ColumnElement[bool]:
    """Whether `rep_id` is below `manager_id`: the rep's chain of live managers, walked up at
    most MAX_DEPTH steps (what `people.team_below` walks down), reaches the manager."""
    chain = (
        select(CanonicalRep.id, CanonicalRep.manager_id, literal(1).label("depth"))
        .where(
            CanonicalRep.org_id == org_id,
            CanonicalRep.id == rep_id,
            CanonicalRep.id != manager_id,  # nobody is below themself
            CanonicalRep.deleted.is_(False),
        )
        .cte("chain_up", recursive=True)
    )
    parent = aliased(CanonicalRep, name="parent")
    chain = chain.union_all(
        select(parent.id, parent.manager_id, chain.c.depth + 1).where(
            parent.org_id == org_id,
            parent.id == chain.c.manager_id,
            parent.deleted.is_(False),
            chain.c.manager_id != manager_id,
            chain.c.depth < MAX_DEPTH,
        )
    )
    return exists(select(chain.c.id).where(chain.c.manager_id == manager_id))


def facts_of(values: Sequence[Any], *, rep_id: str | None, holder_id: str) -> AccessFacts:
    """The facts from the values of `access_columns`, in order."""
    grants_json, me, my_manager, manages, target, target_manager, below = values
    if isinstance(grants_json, str | bytes):
        grants_json = orjson.loads(grants_json)
    rows = sorted(
        (tuple(r) for r in grants_json or ()),
        key=lambda r: (r[1], r[2], r[3], r[4]),
    )
    grants = tuple(Grant(*r) for r in rows) or tuple(default_grants())
    return AccessFacts(
        grants=grants,
        me=None if me is None else person_of(holder_id, my_manager, _json(me)),
        manages=bool(manages),
        target=None
        if target is None or rep_id is None
        else person_of(rep_id, target_manager, _json(target)),
        below=bool(below),
    )


def _json(value: Any) -> dict[str, Any]:
    found = orjson.loads(value) if isinstance(value, str | bytes) else value
    return dict(found)


def access_facts(
    session: Session, *, org_id: str, holder_id: str, viewer_id: str, rep_id: str | None
) -> AccessFacts:
    """The access facts of a viewer (and of their view of `rep_id`), one statement."""
    statement = _facts_statement(session.get_bind().dialect.name, with_rep=rep_id is not None)
    values = {"org_id": org_id, "holder_id": holder_id, "viewer_id": viewer_id, "rep_id": rep_id}
    row = session.execute(statement, values).one()
    return facts_of(tuple(row), rep_id=rep_id, holder_id=holder_id)


@cache
def _facts_statement(dialect: str, *, with_rep: bool) -> Select[Any]:
    p = access_params()
    return select(
        *access_columns(
            dialect, org_id=p["org_id"], holder_id=p["holder_id"], viewer_id=p["viewer_id"],
            rep_id=p["rep_id"] if with_rep else None,
        )
    )  # fmt: skip


class AccessRepository:
    """What the viewers of one org may do (`unit.access`)."""

    def __init__(self, session: Session, org_id: str) -> None:
        self._session = session
        self._org_id = org_id

    def facts(self, *, holder_id: str, viewer_id: str, rep_id: str | None = None) -> AccessFacts:
        """The viewer's access facts, and their view of `rep_id` if given; one statement."""
        return access_facts(
            self._session, org_id=self._org_id, holder_id=holder_id, viewer_id=viewer_id,
            rep_id=rep_id,
        )  # fmt: skip
