"""What the per-org operations view reads: the registry entry, the last run, the last
successful run (for the lag), the org's API usage and its queued and running runs; and the
orgs an admin connected from an org's own page (`connected_from_label`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from connector.store.models import SyncRun
from connector.store.orgs import RegisteredOrg


@dataclass(frozen=True, slots=True)
class OrgFacts:
    """One org's state for the operations view (None where nothing is known yet)."""

    org_id: str
    status: str | None  # None: an org synced before it was registered
    source: str | None
    instance_url: str | None
    connected_by: str | None
    last_run_id: int | None
    last_run_status: str | None
    last_run_finished_at: datetime | None
    last_success_at: datetime | None
    api_usage: int | None
    api_limit: int | None
    queued: int
    running: int


def _latest(session: Session, org_id: str, *statuses: str) -> SyncRun | None:
    return session.scalars(
        select(SyncRun)
        .where(SyncRun.org_id == org_id, SyncRun.status.in_(statuses))
        .order_by(SyncRun.finished_at.desc(), SyncRun.id.desc())
        .limit(1)
    ).first()


def _count(session: Session, org_id: str, status: str) -> int:
    found = session.scalar(
        select(func.count()).where(SyncRun.org_id == org_id, SyncRun.status == status)
    )
    return int(found or 0)


def org_facts(session: Session, org_id: str) -> OrgFacts:
    """The facts of one org (registered or not)."""
    row = session.get(RegisteredOrg, org_id)
    last = _latest(session, org_id, "succeeded", "partial", "failed")
    success = _latest(session, org_id, "succeeded", "partial")
    usage = session.scalars(
        select(SyncRun)
        .where(SyncRun.org_id == org_id, SyncRun.api_limit.is_not(None))
        .order_by(SyncRun.id.desc())
        .limit(1)
    ).first()
    return OrgFacts(
        org_id=org_id,
        status=row.status if row else None,
        source=row.source if row else None,
        instance_url=row.instance_url if row else None,
        connected_by=row.connected_by if row else None,
        last_run_id=last.id if last else None,
        last_run_status=last.status if last else None,
        last_run_finished_at=last.finished_at if last else None,
        last_success_at=success.finished_at if success else None,
        api_usage=usage.api_usage if usage else None,
        api_limit=usage.api_limit if usage else None,
        queued=_count(session, org_id, "queued"),
        running=_count(session, org_id, "running"),
    )


def connected_from_label(name: str, org_id: str) -> str:
    """Who connected an org from the Org page of `org_id`, as the connect link names them (the
    registry's `connected_by` then adds " as <the Salesforce user who allowed access>"). The
    "(from org ...)" part lists the new org on that page (an org id never holds `%` or `_`)."""
    return f"{name} (from org {org_id})"


def connected_from(session: Session, org_id: str) -> list[str]:
    """Ids of the orgs connected from the Org page of `org_id` (itself excluded), by id."""
    label = "%" + connected_from_label("", org_id) + "%"
    return list(
        session.scalars(
            select(RegisteredOrg.org_id)
            .where(RegisteredOrg.connected_by.like(label), RegisteredOrg.org_id != org_id)
            .order_by(RegisteredOrg.org_id)
        )
    )


class OrgFactsReader:
    """The operations facts of orgs (one org for its console; every org for the operator)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def of(self, org_id: str) -> OrgFacts:
        """The facts of one org."""
        with self._sessions() as session:
            return org_facts(session, org_id)

    def connected_from(self, org_id: str) -> list[OrgFacts]:
        """The facts of the orgs an admin connected from the Org page of `org_id`."""
        with self._sessions() as session:
            return [org_facts(session, other) for other in connected_from(session, org_id)]

    def every(self) -> list[OrgFacts]:
        """The facts of every registered org, by id."""
        with self._sessions() as session:
            ids = session.scalars(select(RegisteredOrg.org_id).order_by(RegisteredOrg.org_id))
            return [org_facts(session, org_id) for org_id in list(ids)]
