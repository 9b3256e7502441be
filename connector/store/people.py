"""Who is who, for the web views: reps by id and the ManagerId hierarchy below a manager."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.store.canonical import CanonicalRep
from connector.store.repositories import chunks

MAX_DEPTH = 50  # a ManagerId chain deeper than this is a cycle in the org's data


@dataclass(frozen=True, slots=True)
class Person:
    """A mapped rep: id, name, manager and plan."""

    id: str
    name: str
    manager_id: str | None
    plan_id: str | None
    is_active: bool


def _person(row: CanonicalRep) -> Person:
    return person_of(row.id, row.manager_id, row.payload)


def person_of(rep_id: str, manager_id: str | None, payload: Mapping[str, Any]) -> Person:
    """The person a canonical rep row stands for (its id, manager column and payload)."""
    return Person(
        id=rep_id,
        name=str(payload.get("name") or rep_id),
        manager_id=manager_id,
        plan_id=payload.get("plan_id"),
        is_active=bool(payload.get("is_active", True)),
    )


def people(session: Session, *, org_id: str, ids: Iterable[str]) -> dict[str, Person]:
    """The live reps among `ids`, by id."""
    wanted = sorted(set(ids))
    found: dict[str, Person] = {}
    for chunk in chunks(wanted):
        rows = session.scalars(
            select(CanonicalRep).where(
                CanonicalRep.org_id == org_id,
                CanonicalRep.id.in_(chunk),
                CanonicalRep.deleted.is_(False),
            )
        )
        found.update((row.id, _person(row)) for row in rows)
    return found


def person(session: Session, *, org_id: str, rep_id: str) -> Person | None:
    """One live rep, or None."""
    return people(session, org_id=org_id, ids=[rep_id]).get(rep_id)


def direct_reports(session: Session, *, org_id: str, manager_ids: Iterable[str]) -> list[Person]:
    """The live reps whose manager is one of `manager_ids`."""
    wanted = sorted(set(manager_ids))
    found: list[Person] = []
    for chunk in chunks(wanted):
        rows = session.scalars(
            select(CanonicalRep).where(
                CanonicalRep.org_id == org_id,
                CanonicalRep.manager_id.in_(chunk),
                CanonicalRep.deleted.is_(False),
            )
        )
        found.extend(_person(row) for row in rows)
    return found


def team_below(session: Session, *, org_id: str, manager_id: str) -> dict[str, Person]:
    """Everyone below `manager_id` in the hierarchy, at any depth (not the manager)."""
    below: dict[str, Person] = {}
    level = [manager_id]
    for _ in range(MAX_DEPTH):
        nxt = [
            p
            for p in direct_reports(session, org_id=org_id, manager_ids=level)
            if p.id not in below and p.id != manager_id
        ]
        if not nxt:
            break
        below.update((p.id, p) for p in nxt)
        level = [p.id for p in nxt]
    return below


def manages_anyone(session: Session, *, org_id: str, rep_id: str) -> bool:
    """Whether anyone live reports to `rep_id`."""
    row = session.scalars(
        select(CanonicalRep.id)
        .where(
            CanonicalRep.org_id == org_id,
            CanonicalRep.manager_id == rep_id,
            CanonicalRep.deleted.is_(False),
        )
        .limit(1)
    ).first()
    return row is not None


def all_people(session: Session, *, org_id: str) -> list[Person]:
    """Every live rep of the org, by name."""
    rows = session.scalars(
        select(CanonicalRep).where(CanonicalRep.org_id == org_id, CanonicalRep.deleted.is_(False))
    )
    return sorted((_person(r) for r in rows), key=lambda p: (p.name.lower(), p.id))
