"""The per-org run lease: at most one sync per org at a time, across processes and machines.

A lease row per org names its holder and an expiry. Taking it is one conditional UPDATE
(free, expired, or already ours), so two clocks racing on PostgreSQL or SQLite cannot both
win: the database serialises the UPDATE and the loser sees zero rows changed. A holder that
dies (SIGKILL, lost machine) stops renewing, and the lease expires after its time to live.

Holders are named `host:pid:suffix`. When the holder is a process of this very host that no
longer exists, waiting out the TTL would only delay the next sync (a clock restarted after a
crash would sit idle for a minute), so the lease is taken over at once — with the dead
holder's name in the WHERE clause, so two processes noticing the same death cannot both win.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import String, delete, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column

from connector.errors import RetriableError
from connector.store.base import Base, UtcDateTime
from connector.store.models import ORG_ID


class LeaseBusy(RetriableError):
    """The lease could not be renewed just now: the database stayed busy past its timeout."""


class SyncLease(Base):
    """Who may run a sync for an org, and until when."""

    __tablename__ = "sync_leases"

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


def holder_is_dead_here(holder: str) -> bool:
    """True when `holder` names a process of this host that no longer runs."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname()[:60] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, owned by another user
        return False
    return False


def _take_over_dead(
    session: Session, lease: SyncLease, *, holder: str, now: datetime, ttl: timedelta
) -> bool:
    result = session.execute(
        update(SyncLease)
        .where(SyncLease.org_id == lease.org_id, SyncLease.holder == lease.holder)
        .values(holder=holder, acquired_at=now, expires_at=now + ttl)
    )
    session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def try_acquire(
    session: Session, *, org_id: str, holder: str, now: datetime, ttl: timedelta
) -> bool:
    """Take the org's lease if it is free, expired or already ours; True when we hold it.

    The lease commits its own short transaction: other processes must see it at once."""
    taken = session.execute(
        update(SyncLease)
        .where(
            SyncLease.org_id == org_id,
            (SyncLease.expires_at <= now) | (SyncLease.holder == holder),
        )
        .values(holder=holder, acquired_at=now, expires_at=now + ttl)
    )
    if taken.rowcount == 1:  # type: ignore[attr-defined]
        session.commit()
        return True
    current = session.get(SyncLease, org_id)
    if current is not None:
        if holder_is_dead_here(current.holder):
            return _take_over_dead(session, current, holder=holder, now=now, ttl=ttl)
        session.rollback()
        return False
    session.add(SyncLease(org_id=org_id, holder=holder, acquired_at=now, expires_at=now + ttl))
    try:
        session.commit()
    except IntegrityError:  # another process inserted the first lease row a moment earlier
        session.rollback()
        return False
    return True


def renew(session: Session, *, org_id: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Extend our lease (committed); False means we lost it (it expired and someone took it).

    LeaseBusy when SQLite's busy timeout ran out: SQLite has one writer at a time, and the
    writer is usually this very run's store stage (minutes long at a million deals). The run
    confirms its lease before it writes anything else (`Lease.confirm`), so a renewal missed
    here is tried again later, not a lost lease.
    """
    try:
        result = session.execute(
            update(SyncLease)
            .where(SyncLease.org_id == org_id, SyncLease.holder == holder)
            .values(expires_at=now + ttl)
        )
        session.commit()
    except OperationalError as exc:
        session.rollback()
        if "database is locked" in str(exc.orig):
            raise LeaseBusy(f"the database stayed busy: {exc.orig}") from None
        raise
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def release(session: Session, *, org_id: str, holder: str) -> None:
    """Give the lease up (only if we still hold it); committed."""
    session.execute(delete(SyncLease).where(SyncLease.org_id == org_id, SyncLease.holder == holder))
    session.commit()
