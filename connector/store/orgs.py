"""The org registry: every Salesforce org this Quotaflow serves, and the connect attempts.

An org is registered by the OAuth web-server flow (`source="oauth"`, with its refresh token
encrypted by `connector.orgs.crypto`) or is the one org configured through the environment
(`source="environment"`, no token stored: the settings' credentials log it in). The status says
whether its syncs run: `active`, `paused` (kept connected, no syncs) or `disconnected` (token
revoked and erased; its data stays until purged).

Code outside the store reaches it through `OrgRegistry(sessions)`: the registry spans orgs by
nature (which orgs exist, which wait), so its cross-org reads are listed in the tenancy test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, Text, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from connector.store.base import Base, UtcDateTime, import_store_modules
from connector.store.models import ORG_ID, SyncRun

ORG_STATUSES = ("active", "paused", "disconnected")
ORG_SOURCES = ("oauth", "environment")
URL = String(255)


class RegisteredOrg(Base):
    """One org of the registry."""

    __tablename__ = "orgs"

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    login_url: Mapped[str | None] = mapped_column(URL)
    instance_url: Mapped[str | None] = mapped_column(URL)
    # Fernet tokens (connector/orgs/crypto.py); None for the environment's org.
    refresh_token: Mapped[str | None] = mapped_column(Text)
    # The consumer secret of the Canvas app installed in this org, encrypted (None: the one
    # shared Canvas app of SF_CANVAS_SECRET signs this org's requests).
    canvas_secret: Mapped[str | None] = mapped_column(Text)
    connected_by: Mapped[str | None] = mapped_column(String(255))
    connected_user_id: Mapped[str | None] = mapped_column(ORG_ID)
    connected_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    disconnected_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ConnectAttempt(Base):
    """A web-server flow in progress: its state, PKCE verifier and the browser it belongs to."""

    __tablename__ = "org_connect_attempts"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    # SHA-256 of the browser's connect cookie: the callback must come from the same browser.
    browser: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    login_url: Mapped[str] = mapped_column(URL)
    requested_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


@dataclass(frozen=True, slots=True)
class OrgRecord:
    """A registry row as plain values (secrets still sealed)."""

    org_id: str
    status: str
    source: str
    login_url: str | None
    instance_url: str | None
    refresh_token: str | None
    canvas_secret: str | None
    connected_by: str | None
    connected_user_id: str | None
    connected_at: datetime
    disconnected_at: datetime | None


@dataclass(frozen=True, slots=True)
class Attempt:
    """A connect attempt as plain values."""

    state: str
    browser: str
    code_verifier: str
    login_url: str
    requested_by: str
    expires_at: datetime


def _record(row: RegisteredOrg) -> OrgRecord:
    return OrgRecord(
        row.org_id,
        row.status,
        row.source,
        row.login_url,
        row.instance_url,
        row.refresh_token,
        row.canvas_secret,
        row.connected_by,
        row.connected_user_id,
        row.connected_at,
        row.disconnected_at,
    )


class OrgNotRegistered(LookupError):
    """No registered org has this id."""


def purge_org_rows(session: Session, org_id: str) -> dict[str, int]:
    """Delete the org's rows from every table with an `org_id` (children first); the caller
    commits. Rows deleted, by table."""
    import_store_modules()
    counts: dict[str, int] = {}
    for table in reversed(Base.metadata.sorted_tables):
        column = table.c.get("org_id")
        if column is None:
            continue
        result = session.execute(delete(table).where(column == org_id))
        counts[table.name] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    return {name: n for name, n in counts.items() if n}


class OrgRegistry:
    """The registry's reads and writes; each call is one transaction."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def get(self, org_id: str) -> OrgRecord | None:
        """The registered org with exactly this id."""
        with self._sessions() as session:
            row = session.get(RegisteredOrg, org_id)
            return _record(row) if row is not None else None

    def require(self, org_id: str) -> OrgRecord:
        """The registered org; OrgNotRegistered naming the id otherwise."""
        found = self.get(org_id)
        if found is None:
            raise OrgNotRegistered(f"no registered org has the id {org_id!r}")
        return found

    def records(self, statuses: tuple[str, ...] = ORG_STATUSES) -> list[OrgRecord]:
        """Registered orgs with one of `statuses`, by org id."""
        with self._sessions() as session:
            rows = session.scalars(
                select(RegisteredOrg)
                .where(RegisteredOrg.status.in_(statuses))
                .order_by(RegisteredOrg.org_id)
            )
            return [_record(r) for r in rows]

    def change(self, org_id: str, *, now: datetime, **values: object) -> OrgRecord:
        """Set fields of a registered org (OrgNotRegistered otherwise); the new record."""
        with self._sessions() as session:
            row = session.get(RegisteredOrg, org_id)
            if row is None:
                raise OrgNotRegistered(f"no registered org has the id {org_id!r}")
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = now
            session.commit()
            return _record(row)

    def add(self, record: OrgRecord, *, now: datetime) -> OrgRecord:
        """Register a new org, or replace every field of the one with its id."""
        with self._sessions() as session:
            row = session.get(RegisteredOrg, record.org_id) or RegisteredOrg(org_id=record.org_id)
            for name in OrgRecord.__slots__:
                setattr(row, name, getattr(record, name))
            row.updated_at = now
            session.add(row)
            session.commit()
            return _record(row)

    def purge(self, org_id: str) -> dict[str, int]:
        """Delete every stored row of the org, the registry entry included; counts by table."""
        with self._sessions() as session:
            counts = purge_org_rows(session, org_id)
            session.commit()
            return counts

    def reseal_all(self, reseal: Callable[[str], str]) -> int:
        """Re-encrypt every stored secret with `reseal`; how many."""
        done = 0
        with self._sessions() as session:
            for row in session.scalars(select(RegisteredOrg)):
                for name in ("refresh_token", "canvas_secret"):
                    sealed = getattr(row, name)
                    if sealed is not None:
                        setattr(row, name, reseal(sealed))
                        done += 1
            session.commit()
        return done

    def save_attempt(self, attempt: Attempt, *, now: datetime) -> None:
        """Store a new connect attempt and drop expired ones."""
        with self._sessions() as session:
            session.execute(delete(ConnectAttempt).where(ConnectAttempt.expires_at <= now))
            session.add(ConnectAttempt(created_at=now, **_attempt_fields(attempt)))
            session.commit()

    def take_attempt(self, state: str) -> Attempt | None:
        """The attempt with this state, removed (a state is good once)."""
        with self._sessions() as session:
            row = session.get(ConnectAttempt, state)
            if row is None:
                return None
            session.delete(row)
            session.commit()
            return Attempt(
                row.state,
                row.browser,
                row.code_verifier,
                row.login_url,
                row.requested_by,
                row.expires_at,
            )

    def orgs_with_queued_runs(self) -> list[str]:
        """Active orgs with a run request waiting (the web's Resync, `sync --queue`)."""
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(SyncRun.org_id)
                    .join(RegisteredOrg, RegisteredOrg.org_id == SyncRun.org_id)
                    .where(SyncRun.status == "queued", RegisteredOrg.status == "active")
                    .distinct()
                    .order_by(SyncRun.org_id)
                )
            )

    def requeue_interrupted(self, org_id: str) -> list[int]:
        """Runs of the org left `running` by a process that died go back to `queued`, so the
        next run resumes them (same id, from their committed pages); call under the lease."""
        with self._sessions() as session:
            ids = list(
                session.scalars(
                    select(SyncRun.id).where(SyncRun.org_id == org_id, SyncRun.status == "running")
                )
            )
            if ids:
                session.execute(
                    update(SyncRun)
                    .where(SyncRun.org_id == org_id, SyncRun.id.in_(ids))
                    .values(status="queued", heartbeat_at=None)
                )
                session.commit()
            return ids


def _attempt_fields(attempt: Attempt) -> dict[str, object]:
    return {name: getattr(attempt, name) for name in Attempt.__slots__}
