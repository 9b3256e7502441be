"""Stored rep pages: each rep's page data, computed once per committed calculation.

A row holds the page of a rep's current period as JSON, stamped with what it was computed
from: the committed calc run, the active plan's checksum and the as-of day. One indexed
read (`stored_page`) returns the body only while all three are still current, so a new
calculation, another plan or a new day is never served an old page. When a calc run
commits, `carry_forward` re-stamps the pages whose inputs the run did not touch (nothing
recomputed for the rep, no deal the page shows or the rep owns changed), so a quiet
incremental run does not throw every page away.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import JSON, Date, Integer, Select, String, Text, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from connector.store.access_reads import AccessFacts, access_columns, access_params, facts_of
from connector.store.base import Base, UtcDateTime
from connector.store.canonical import (
    CanonicalDeal,
    CanonicalRep,
    CanonicalSplit,
    CanonicalTeamMember,
)
from connector.store.models import ORG_ID, SF_ID
from connector.store.repositories import chunks
from connector.store.result_reads import open_deal_filter, page_version_columns

PageVersion = tuple[int | None, str | None]  # (committed calc run id, active plan checksum)


class RepPage(Base):
    """One rep's page of the current period, and the inputs it was computed from."""

    __tablename__ = "rep_pages"

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    rep_id: Mapped[str] = mapped_column(SF_ID, primary_key=True)
    calc_run_id: Mapped[int] = mapped_column(Integer)
    plan_checksum: Mapped[str | None] = mapped_column(String(64))
    as_of: Mapped[date] = mapped_column(Date)
    # Every deal the page shows or the rep owns open: a change to one of them makes it stale.
    deal_ids: Mapped[list[str]] = mapped_column(JSON)
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


def stored_page(
    session: Session, *, org_id: str, rep_id: str, as_of: date
) -> tuple[str | None, PageVersion]:
    """(the rep's stored page body if it is current, else None; the page version), one query."""
    calc, plan = page_version_columns(org_id)
    row = session.execute(select(calc, plan, _current_body(org_id, rep_id, as_of))).one()
    return row[2], (row[0], row[1])


def stored_page_access(
    session: Session, *, org_id: str, rep_id: str, as_of: date, holder_id: str, viewer_id: str
) -> tuple[str | None, PageVersion, AccessFacts]:
    """`stored_page` and the viewer's access facts (their view of `rep_id` included), read in
    one statement: a warm rep page costs this one query."""
    values = {"org_id": org_id, "rep_id": rep_id, "as_of": as_of, "holder_id": holder_id,
              "viewer_id": viewer_id}  # fmt: skip
    statement = _page_access_statement(session.get_bind().dialect.name)
    row = tuple(session.execute(statement, values).one())
    facts = facts_of(row[3:], rep_id=rep_id, holder_id=holder_id)
    return row[2], (row[0], row[1]), facts


@cache
def _page_access_statement(dialect: str) -> Select[Any]:
    """The statement of `stored_page_access`, built once per dialect (bind parameters)."""
    p = access_params()
    org_id, rep_id = p["org_id"], p["rep_id"]
    calc, plan = page_version_columns(org_id)
    body = _current_body(org_id, rep_id, bindparam("as_of", type_=Date()))
    access = access_columns(
        dialect, org_id=org_id, holder_id=p["holder_id"], viewer_id=p["viewer_id"], rep_id=rep_id
    )
    return select(calc, plan, body, *access)


def _current_body(org_id: Any, rep_id: Any, as_of: Any) -> Any:
    """The stored body while the calc run, plan checksum and as-of day are current, else NULL."""
    calc, plan = page_version_columns(org_id)
    return (
        select(RepPage.body)
        .where(
            RepPage.org_id == org_id,
            RepPage.rep_id == rep_id,
            RepPage.as_of == as_of,
            RepPage.calc_run_id == calc,
            RepPage.plan_checksum.is_not_distinct_from(plan),
        )
        .scalar_subquery()
    )


def save_page(
    session: Session,
    *,
    org_id: str,
    rep_id: str,
    version: PageVersion,
    as_of: date,
    body: str,
    deal_ids: Sequence[str],
    now: datetime,
) -> None:
    """Store the rep's page computed at `version` (replacing any older one)."""
    calc_run_id, checksum = version
    if calc_run_id is None:
        return  # nothing committed yet: nothing to key the page by
    values = {
        "org_id": org_id,
        "rep_id": rep_id,
        "calc_run_id": calc_run_id,
        "plan_checksum": checksum,
        "as_of": as_of,
        "deal_ids": sorted(set(deal_ids)),
        "body": body,
        "updated_at": now,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(RepPage).values(values)
    # Two processes may compute the same page at once: the later write wins, same content.
    stmt = stmt.on_conflict_do_update(
        index_elements=["org_id", "rep_id"],
        set_={k: stmt.excluded[k] for k in values if k not in ("org_id", "rep_id")},
    )
    session.execute(stmt)


def changed_since(
    session: Session, *, org_id: str, run_ids: Collection[int]
) -> tuple[set[str], set[str]]:
    """(reps, deals) whose canonical records changed in these sync runs: changed reps and the
    owners of changed deals; changed deals and the deals of changed splits and team members."""
    reps: set[str] = set()
    deals: set[str] = set()
    if not run_ids:
        return reps, deals
    ids = sorted(run_ids)
    reps.update(
        session.scalars(
            select(CanonicalRep.id).where(
                CanonicalRep.org_id == org_id, CanonicalRep.changed_run_id.in_(ids)
            )
        )
    )
    for deal_id, owner in session.execute(
        select(CanonicalDeal.id, CanonicalDeal.owner_id).where(
            CanonicalDeal.org_id == org_id, CanonicalDeal.changed_run_id.in_(ids)
        )
    ):
        deals.add(deal_id)
        if owner:
            reps.add(owner)
    for model in (CanonicalSplit, CanonicalTeamMember):
        for related_deal, related_rep in session.execute(
            select(model.deal_id, model.rep_id).where(
                model.org_id == org_id, model.changed_run_id.in_(ids)
            )
        ):
            if related_deal:
                deals.add(related_deal)
            if related_rep:
                reps.add(related_rep)
    return reps, deals


def carry_forward(
    session: Session,
    *,
    org_id: str,
    from_run: int,
    to_run: int,
    stale_reps: Collection[str],
    stale_deals: Collection[str],
) -> int:
    """Re-stamp the pages of `from_run` to `to_run`, except those of `stale_reps` or showing
    a deal of `stale_deals` (those are deleted); how many pages were carried."""
    reps, deals = set(stale_reps), set(stale_deals)
    rows = session.execute(
        select(RepPage.rep_id, RepPage.deal_ids).where(
            RepPage.org_id == org_id, RepPage.calc_run_id == from_run
        )
    ).all()
    stale = [rep for rep, shown in rows if rep in reps or not deals.isdisjoint(shown or ())]
    for chunk in chunks(stale):
        session.execute(delete(RepPage).where(RepPage.org_id == org_id, RepPage.rep_id.in_(chunk)))
    session.execute(
        update(RepPage)
        .where(RepPage.org_id == org_id, RepPage.calc_run_id == from_run)
        .values(calc_run_id=to_run)
    )
    return len(rows) - len(stale)


def open_deal_ids(session: Session, *, org_id: str, owner_id: str) -> list[str]:
    """Ids of the live deals a rep owns that are not closed (what their page's estimator and
    SPIFF progress read)."""
    stmt = select(CanonicalDeal.id).where(*open_deal_filter(org_id, owner_id))
    return list(session.scalars(stmt))


class RepPageRepository:
    """The stored rep pages of one org (`unit.rep_pages`)."""

    def __init__(self, session: Session, org_id: str) -> None:
        self._session = session
        self._org_id = org_id

    def stored_page(self, *, rep_id: str, as_of: date) -> tuple[str | None, PageVersion]:
        """The rep's stored page body if current (else None) and the page version."""
        return stored_page(self._session, org_id=self._org_id, rep_id=rep_id, as_of=as_of)

    def stored_page_access(
        self, *, rep_id: str, as_of: date, holder_id: str, viewer_id: str
    ) -> tuple[str | None, PageVersion, AccessFacts]:
        """The stored page (if current), its version and the viewer's access facts; one query."""
        return stored_page_access(
            self._session, org_id=self._org_id, rep_id=rep_id, as_of=as_of, holder_id=holder_id,
            viewer_id=viewer_id,
        )  # fmt: skip

    def save_page(
        self,
        *,
        rep_id: str,
        version: PageVersion,
        as_of: date,
        body: str,
        deal_ids: Sequence[str],
        now: datetime,
    ) -> None:
        """Store the rep's page computed at `version`."""
        save_page(
            self._session, org_id=self._org_id, rep_id=rep_id, version=version, as_of=as_of,
            body=body, deal_ids=deal_ids, now=now,
        )  # fmt: skip

    def changed_since(self, *, run_ids: Collection[int]) -> tuple[set[str], set[str]]:
        """(reps, deals) whose canonical records changed in these sync runs."""
        return changed_since(self._session, org_id=self._org_id, run_ids=run_ids)

    def carry_forward(
        self,
        *,
        from_run: int,
        to_run: int,
        stale_reps: Collection[str],
        stale_deals: Collection[str],
    ) -> int:
        """Re-stamp the untouched pages of `from_run` to `to_run`; drop the stale ones."""
        return carry_forward(
            self._session, org_id=self._org_id, from_run=from_run, to_run=to_run,
            stale_reps=stale_reps, stale_deals=stale_deals,
        )  # fmt: skip

    def open_deal_ids(self, *, owner_id: str) -> list[str]:
        """Ids of the rep's live open deals."""
        return open_deal_ids(self._session, org_id=self._org_id, owner_id=owner_id)
