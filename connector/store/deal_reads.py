"""Deals for the web views: one deal's record and everyone it involves."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.store.canonical import CanonicalDeal, CanonicalSplit, CanonicalTeamMember
from connector.store.results import StoredCredit


def deal_payload(session: Session, *, org_id: str, deal_id: str) -> dict[str, Any] | None:
    """A live deal's canonical payload, or None."""
    row = session.get(CanonicalDeal, (org_id, deal_id))
    if row is None or row.deleted:
        return None
    return dict(row.payload)


def deal_people(session: Session, *, org_id: str, deal_id: str) -> set[str]:
    """The deal's owner, split and team members, and every rep it credits (rollup included)."""
    found: set[str] = set()
    deal = session.get(CanonicalDeal, (org_id, deal_id))
    if deal is not None and deal.owner_id:
        found.add(deal.owner_id)
    for model in (CanonicalSplit, CanonicalTeamMember):
        found.update(
            rep
            for rep in session.scalars(
                select(model.rep_id).where(
                    model.org_id == org_id, model.deal_id == deal_id, model.deleted.is_(False)
                )
            )
            if rep
        )
    found.update(
        session.scalars(
            select(StoredCredit.rep_id).where(
                StoredCredit.org_id == org_id, StoredCredit.deal_id == deal_id
            )
        )
    )
    return found


def sample_deals(session: Session, *, org_id: str, owner_ids: list[str]) -> dict[str, str]:
    """One live deal per owner among `owner_ids` (the demo chooser links to it)."""
    found: dict[str, str] = {}
    wanted = set(owner_ids)
    rows = session.execute(
        select(CanonicalDeal.owner_id, CanonicalDeal.id)
        .where(CanonicalDeal.org_id == org_id, CanonicalDeal.deleted.is_(False))
        .order_by(CanonicalDeal.owner_id, CanonicalDeal.close_date.desc(), CanonicalDeal.id)
    )
    for owner, deal_id in rows:
        if owner in wanted and owner not in found:
            found[owner] = deal_id
    return found
