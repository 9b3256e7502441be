"""The org's own HTTPS hosts, as the integration login learned them.

Salesforce's token response names the org's instance (its My Domain host since My Domain
became mandatory). That host, and the ones an operator lists in SF_ORG_HOSTS, are the only
places the web app sends a user's OAuth token to ask who it belongs to; a Canvas envelope
naming any other host is refused without a network call.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from connector.salesforce.ids import ORG_PREFIX, InvalidId, normalize_id, same_id
from connector.salesforce.origins import MAX_ORIGIN, https_origin
from connector.store.base import Base, UtcDateTime
from connector.store.models import ORG_ID


class OrgHost(Base):
    """One origin (`https://host[:port]`) that belongs to an org."""

    __tablename__ = "org_hosts"
    __table_args__ = (Index(None, "org_id", "origin", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ORG_ID)
    origin: Mapped[str] = mapped_column(String(MAX_ORIGIN))
    learned_at: Mapped[datetime] = mapped_column(UtcDateTime())


def remember_host(session: Session, *, org_id: str, url: str, now: datetime) -> None:
    """Record the org's instance URL from an integration login, replacing the one learned
    before (a host the org has left is no longer trusted). Call it in a unit of its own:
    losing a race to another process rolls the unit back."""
    origin = https_origin(url)
    if origin is None:
        return
    session.execute(delete(OrgHost).where(OrgHost.org_id == org_id, OrgHost.origin != origin))
    found = session.scalars(
        select(OrgHost).where(OrgHost.org_id == org_id, OrgHost.origin == origin)
    ).first()
    if found is None:
        session.add(OrgHost(org_id=org_id, origin=origin, learned_at=now))
    else:
        found.learned_at = now
    try:
        session.flush()
    except IntegrityError:
        # Another process recorded the same origin first.
        session.rollback()


def org_hosts(session: Session, *, org_id: str) -> set[str]:
    """The origins learned for the org (15- and 18-character forms of its id alike)."""
    forms = {org_id}
    try:
        canonical = normalize_id(org_id, prefix=ORG_PREFIX)
        forms |= {canonical, canonical[:15]}
    except InvalidId:
        pass
    rows = session.execute(
        select(OrgHost.org_id, OrgHost.origin).where(OrgHost.org_id.in_(sorted(forms)))
    ).all()
    return {origin for stored, origin in rows if same_id(stored, org_id)}
