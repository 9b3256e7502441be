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
from connector.store.orgs import OrgNotRegistered, OrgRecord, OrgRegistry
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
    def of(cls, row: OrgRecord) -> OrgView:
        """The view of one record."""
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


def _require(sessions: SessionFactory, org_id: str) -> OrgRecord:
    try:
        return OrgRegistry(sessions).require(org_id)
    except OrgNotRegistered as exc:
        raise OrgNotFound(str(exc)) from None


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
    registry = OrgRegistry(sessions)
    known = registry.get(connection.org_id)
    if known is not None and known.source == "environment":
        raise OrgStateError(
            f"org {connection.org_id} is the org configured through the environment "
            "(SF_LOGIN_URL); it cannot be connected a second time"
        )
    record = OrgRecord(
        org_id=connection.org_id,
        status="active",
        source="oauth",
        login_url=login_url,
        instance_url=connection.instance_url,
        refresh_token=box.seal(connection.refresh_token),
        canvas_secret=known.canvas_secret if known else None,
        connected_by=f"{connected_by} as {connection.username}"[:255],
        connected_user_id=connection.user_id,
        connected_at=now,
        disconnected_at=None,
    )
    return OrgView.of(registry.add(record, now=now))


def ensure_environment_org(
    sessions: SessionFactory, *, org_id: str, instance_url: str, login_url: str, now: datetime
) -> OrgView:
    """Register the environment's org (once; its status is then the admin's to change)."""
    registry = OrgRegistry(sessions)
    known = registry.get(org_id)
    if known is None:
        record = OrgRecord(
            org_id, "active", "environment", login_url, instance_url, None, None,
            "environment (SF_LOGIN_URL)", None, now, None,
        )  # fmt: skip
        return OrgView.of(registry.add(record, now=now))
    if known.source == "environment" and known.instance_url != instance_url:
        known = registry.change(org_id, now=now, instance_url=instance_url)
    return OrgView.of(known)


def org_views(sessions: SessionFactory) -> list[OrgView]:
    """Every registered org, by id."""
    return [OrgView.of(r) for r in OrgRegistry(sessions).records()]


def find_org(sessions: SessionFactory, org_id: str) -> OrgView:
    """One registered org; OrgNotFound naming the id otherwise."""
    return OrgView.of(_require(sessions, org_id))


def set_paused(sessions: SessionFactory, org_id: str, *, paused: bool, now: datetime) -> OrgView:
    """Pause (no syncs start) or resume an org; a disconnected org cannot be resumed."""
    if _require(sessions, org_id).status == "disconnected":
        raise OrgStateError(f"org {org_id} is disconnected; connect it again at /connect")
    status = "paused" if paused else "active"
    return OrgView.of(OrgRegistry(sessions).change(org_id, now=now, status=status))


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
    row = _require(sessions, org_id)
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
    OrgRegistry(sessions).change(
        org_id, now=now, status="disconnected", refresh_token=None, disconnected_at=now
    )
    return revoked


def purge(sessions: SessionFactory, org_id: str) -> dict[str, int]:
    """Delete every stored row of a disconnected org, the registry entry last; rows by table."""
    row = _require(sessions, org_id)
    if row.status != "disconnected":
        raise OrgStateError(f"org {org_id} is {row.status}; disconnect it before purging")
    return OrgRegistry(sessions).purge(org_id)


def rotate_keys(sessions: SessionFactory, box: SecretBox) -> int:
    """Re-encrypt every stored secret with the first key; how many were re-encrypted."""
    return OrgRegistry(sessions).reseal_all(box.reseal)


def set_canvas_secret(
    sessions: SessionFactory, org_id: str, secret: str | None, *, box: SecretBox, now: datetime
) -> OrgView:
    """Give the org a Canvas app of its own (its consumer secret, encrypted), or with None
    return it to the shared one of SF_CANVAS_SECRET."""
    _require(sessions, org_id)
    sealed = None if secret is None else box.seal(secret)
    return OrgView.of(OrgRegistry(sessions).change(org_id, now=now, canvas_secret=sealed))


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
    row = _require(sessions, org_id)
    return OrgLogin(row.org_id, row.status, row.source, row.login_url, row.refresh_token)


def canvas_secrets(sessions: SessionFactory, org_id: str, *, box: SecretBox | None) -> str | None:
    """The org's own Canvas consumer secret, if it has one (None: use the shared one)."""
    row = OrgRegistry(sessions).get(org_id)
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
    rows = OrgRegistry(sessions).records()
    serving = {r.org_id for r in rows if r.status != "disconnected"}
    return serving, {r.org_id for r in rows if r.status == "disconnected"}


def active_org_ids(sessions: SessionFactory) -> list[str]:
    """The orgs whose syncs run now."""
    return [r.org_id for r in OrgRegistry(sessions).records(("active",))]
