"""The org registry: every Salesforce org this Quotaflow serves, and the connect attempts.

An org is registered by the OAuth web-server flow (`source="oauth"`, with its refresh token
encrypted by `connector.orgs.crypto`) or is the one org configured through the environment
(`source="environment"`, no token stored: the settings' credentials log it in). The status says
whether its syncs run: `active`, `paused` (kept connected, no syncs) or `disconnected` (token
revoked and erased; its data stays until purged).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from connector.store.base import Base, UtcDateTime, import_store_modules
from connector.store.models import ORG_ID

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


def get_org(session: Session, org_id: str) -> RegisteredOrg | None:
    """The registered org with exactly this id."""
    return session.get(RegisteredOrg, org_id)


def list_orgs(session: Session, *, statuses: tuple[str, ...] = ORG_STATUSES) -> list[RegisteredOrg]:
    """Registered orgs with one of `statuses`, by org id."""
    return list(
        session.scalars(
            select(RegisteredOrg)
            .where(RegisteredOrg.status.in_(statuses))
            .order_by(RegisteredOrg.org_id)
        )
    )


def save_attempt(session: Session, attempt: ConnectAttempt, *, now: datetime) -> None:
    """Store a new attempt and drop expired ones; the caller commits."""
    session.execute(delete(ConnectAttempt).where(ConnectAttempt.expires_at <= now))
    session.add(attempt)


def take_attempt(session: Session, state: str) -> ConnectAttempt | None:
    """The attempt with this state, removed (a state is good once); the caller commits."""
    attempt = session.get(ConnectAttempt, state)
    if attempt is not None:
        session.delete(attempt)
    return attempt


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


def orgs_with_queued_runs(session: Session) -> list[str]:
    """Active orgs with a run request waiting (the web's Resync button, `quotaflow sync
    --queue`)."""
    from connector.store.models import SyncRun

    return list(
        session.scalars(
            select(SyncRun.org_id)
            .join(RegisteredOrg, RegisteredOrg.org_id == SyncRun.org_id)
            .where(SyncRun.status == "queued", RegisteredOrg.status == "active")
            .distinct()
            .order_by(SyncRun.org_id)
        )
    )


def requeue_interrupted(session: Session, org_id: str) -> list[int]:
    """Runs of the org left `running` by a process that died go back to `queued`, so the next
    run resumes them (same run id, from their committed pages); call under the org's lease.
    Their ids; the caller commits."""
    from sqlalchemy import update

    from connector.store.models import SyncRun

    ids = list(
        session.scalars(
            select(SyncRun.id).where(SyncRun.org_id == org_id, SyncRun.status == "running")
        )
    )
    if ids:
        session.execute(
            update(SyncRun).where(SyncRun.id.in_(ids)).values(status="queued", heartbeat_at=None)
        )
    return ids
