"""Registering, pausing, disconnecting and purging orgs; rotating the encryption keys.

Status changes are one UPDATE each. Disconnecting revokes the refresh token at the org's login
host first: only a revoked (or already unknown) token is erased, so a disconnect that could not
reach Salesforce leaves the org as it was and says so, unless forced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import requests

from connector.errors import ConfigError, ConnectorError, RetriableError
from connector.orgs.crypto import SecretBox
from connector.salesforce.webflow import Connection, revoke_token
from connector.settings import Settings
from connector.store.orgs import RegisteredOrg, get_org, list_orgs, purge_org_rows
from connector.store.results import SessionFactory


class OrgNotFound(ConnectorError):
    """No registered org has this id."""


class OrgStateError(ConnectorError):
    """The org's status does not allow this (purging a connected org, resuming a
    disconnected one)."""


@dataclass(frozen=True, slots=True)
class OrgView:
    """What the CLI and the console show of a registered org (never its secrets)."""

    org_id: str
    status: str
    source: str
    instance_url: str | None
    login_url: str | None
    connected_by: str | None
    connected_at: datetime
    own_canvas_secret: bool

    @classmethod
    def of(cls, row: RegisteredOrg) -> OrgView:
        """The view of one row."""
        return cls(
            row.org_id,
            row.status,
            row.source,
            row.instance_url,
            row.login_url,
            row.connected_by,
            row.connected_at,
            row.canvas_secret is not None,
        )


def secret_box(settings: Settings) -> SecretBox:
    """The box for the configured keys (ConfigError naming the variable when none)."""
    return SecretBox(settings.encryption_keys)


def register_connection(
    sessions: SessionFactory,
    connection: Connection,
    *,
    login_url: str,
    connected_by: str,
    box: SecretBox,
    now: datetime,
) -> OrgView:
    """Store (or reconnect) the org of a completed web-server flow, active."""
    with sessions() as session:
        row = get_org(session, connection.org_id)
        if row is None:
            row = RegisteredOrg(org_id=connection.org_id, connected_at=now)
            session.add(row)
        elif row.source == "environment":
            raise OrgStateError(
                f"org {connection.org_id} is the org configured through the environment "
                "(SF_LOGIN_URL); it cannot be connected a second time"
            )
        row.status = "active"
        row.source = "oauth"
        row.login_url = login_url
        row.instance_url = connection.instance_url
        row.refresh_token = box.seal(connection.refresh_token)
        row.connected_by = f"{connected_by} as {connection.username}"[:255]
        row.connected_user_id = connection.user_id
        row.connected_at = now
        row.updated_at = now
        row.disconnected_at = None
        session.commit()
        return OrgView.of(row)


def ensure_environment_org(
    sessions: SessionFactory, *, org_id: str, instance_url: str, login_url: str, now: datetime
) -> OrgView:
    """Register the environment's org (once; its status is then the admin's to change)."""
    with sessions() as session:
        row = get_org(session, org_id)
        if row is None:
            row = RegisteredOrg(
                org_id=org_id,
                status="active",
                source="environment",
                login_url=login_url,
                instance_url=instance_url,
                connected_by="environment (SF_LOGIN_URL)",
                connected_at=now,
                updated_at=now,
            )
            session.add(row)
            session.commit()
        elif row.source == "environment" and row.instance_url != instance_url:
            row.instance_url = instance_url
            row.updated_at = now
            session.commit()
        return OrgView.of(row)


def org_views(sessions: SessionFactory) -> list[OrgView]:
    """Every registered org, by id."""
    with sessions() as session:
        return [OrgView.of(row) for row in list_orgs(session)]


def find_org(sessions: SessionFactory, org_id: str) -> OrgView:
    """One registered org; OrgNotFound naming the id otherwise."""
    with sessions() as session:
        row = get_org(session, org_id)
        if row is None:
            raise OrgNotFound(f"no registered org has the id {org_id!r}")
        return OrgView.of(row)


def set_paused(sessions: SessionFactory, org_id: str, *, paused: bool, now: datetime) -> OrgView:
    """Pause (no syncs start) or resume an org; a disconnected org cannot be resumed."""
    with sessions() as session:
        row = get_org(session, org_id)
        if row is None:
            raise OrgNotFound(f"no registered org has the id {org_id!r}")
        if row.status == "disconnected":
            raise OrgStateError(f"org {org_id} is disconnected; connect it again at /connect")
        row.status = "paused" if paused else "active"
        row.updated_at = now
        session.commit()
        return OrgView.of(row)


def disconnect(
    sessions: SessionFactory,
    org_id: str,
    *,
    http: requests.Session,
    box: SecretBox | None,
    now: datetime,
    force: bool = False,
) -> bool:
    """Revoke the org's refresh token and mark it disconnected (its data stays). True when
    Salesforce revoked the token now; `force` disconnects even when revocation failed."""
    with sessions() as session:
        row = get_org(session, org_id)
        if row is None:
            raise OrgNotFound(f"no registered org has the id {org_id!r}")
        revoked = False
        if row.refresh_token is not None and row.login_url:
            try:
                if box is None:
                    raise ConfigError("QUOTAFLOW_ENCRYPTION_KEY is not set")
                revoked = revoke_token(http, row.login_url, box.open(row.refresh_token))
            except (RetriableError, ConfigError) as exc:
                if not force:
                    raise RetriableError(
                        f"org {org_id}: the refresh token could not be revoked ({exc}); the org "
                        "stays connected. Retry, or force it and revoke the token in Salesforce "
                        "Setup (Connected Apps OAuth Usage)"
                    ) from exc
        row.status = "disconnected"
        row.refresh_token = None
        row.disconnected_at = now
        row.updated_at = now
        session.commit()
        return revoked


def purge(sessions: SessionFactory, org_id: str) -> dict[str, int]:
    """Delete every stored row of a disconnected org, the registry entry last; rows by table."""
    with sessions() as session:
        row = get_org(session, org_id)
        if row is None:
            raise OrgNotFound(f"no registered org has the id {org_id!r}")
        if row.status != "disconnected":
            raise OrgStateError(f"org {org_id} is {row.status}; disconnect it before purging")
        counts = purge_org_rows(session, org_id)
        session.commit()
        return counts


def rotate_keys(sessions: SessionFactory, box: SecretBox) -> int:
    """Re-encrypt every stored secret with the first key; how many were re-encrypted."""
    done = 0
    with sessions() as session:
        for row in list_orgs(session):
            if row.refresh_token is not None:
                row.refresh_token = box.reseal(row.refresh_token)
                done += 1
            if row.canvas_secret is not None:
                row.canvas_secret = box.reseal(row.canvas_secret)
                done += 1
        session.commit()
    return done


def set_canvas_secret(
    sessions: SessionFactory, org_id: str, secret: str | None, *, box: SecretBox, now: datetime
) -> OrgView:
    """Give the org a Canvas app of its own (its consumer secret, encrypted), or with None
    return it to the shared one of SF_CANVAS_SECRET."""
    with sessions() as session:
        row = get_org(session, org_id)
        if row is None:
            raise OrgNotFound(f"no registered org has the id {org_id!r}")
        row.canvas_secret = None if secret is None else box.seal(secret)
        row.updated_at = now
        session.commit()
        return OrgView.of(row)


@dataclass(frozen=True, slots=True)
class OrgLogin:
    """How to log an org in: its registry row's connection fields (the token still sealed)."""

    org_id: str
    status: str
    source: str
    login_url: str | None
    sealed_refresh_token: str | None


def org_login(sessions: SessionFactory, org_id: str) -> OrgLogin:
    """The login fields of a registered org; OrgNotFound otherwise."""
    with sessions() as session:
        row = get_org(session, org_id)
        if row is None:
            raise OrgNotFound(f"no registered org has the id {org_id!r}")
        return OrgLogin(row.org_id, row.status, row.source, row.login_url, row.refresh_token)


def canvas_secrets(sessions: SessionFactory, org_id: str, *, box: SecretBox | None) -> str | None:
    """The org's own Canvas consumer secret, if it has one (None: use the shared one)."""
    with sessions() as session:
        row = get_org(session, org_id)
        sealed = row.canvas_secret if row is not None else None
    if sealed is None:
        return None
    if box is None:
        raise ConfigError(
            f"org {org_id} has a Canvas secret of its own, but QUOTAFLOW_ENCRYPTION_KEY is not set"
        )
    return box.open(sealed)


def serving_org_ids(sessions: SessionFactory) -> tuple[set[str], set[str]]:
    """(orgs whose users may sign in: active or paused, orgs disconnected)."""
    with sessions() as session:
        rows = list_orgs(session)
    serving = {r.org_id for r in rows if r.status != "disconnected"}
    return serving, {r.org_id for r in rows if r.status == "disconnected"}
