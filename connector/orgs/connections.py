"""Each registered org's own Salesforce connection, and the sync dependencies built on it.

An org connected at `/connect` logs in with its refresh token (decrypted only here, when the
gateway first needs a token), through the shared connected app, at the login host it was
connected through; that host must still satisfy the login host rule. The environment's org logs
in with the settings' flow (JWT, password or client credentials), as before.
"""

from __future__ import annotations

from connector.deps import PullOptions, SyncDeps, build_gateway, stored_mapping_source
from connector.errors import ConfigError
from connector.orgs.login_hosts import allowed_login_origin
from connector.orgs.registry import OrgLogin, OrgStateError, secret_box
from connector.salesforce.auth_refresh import RefreshTokenAuthenticator
from connector.salesforce.gateway import Gateway, GatewayOptions
from connector.salesforce.http import make_http_session
from connector.salesforce.retry import RetryPolicy
from connector.settings import Settings
from connector.store.repositories import DbEngine, SessionFactory


def org_gateway(
    settings: Settings,
    login: OrgLogin,
    *,
    options: GatewayOptions | None = None,
    retry: RetryPolicy | None = None,
) -> Gateway:
    """A gateway that logs in as the registered org (lazily, on its first call)."""
    if login.source == "environment":
        return build_gateway(settings, options=options, retry=retry)
    if login.sealed_refresh_token is None or login.login_url is None:
        raise OrgStateError(f"org {login.org_id} is disconnected; connect it again at /connect")
    if not allowed_login_origin(login.login_url, extra=settings.connect_login_urls):
        raise ConfigError(
            f"org {login.org_id}: its login host {login.login_url} is no longer allowed "
            "(QUOTAFLOW_CONNECT_LOGIN_URLS); reconnect it"
        )
    if not (settings.sf_client_id and settings.sf_client_secret):
        raise ConfigError("SF_CLIENT_ID and SF_CLIENT_SECRET (the connected app) are not set")
    session = make_http_session(settings.sf_ca_bundle)
    auth = RefreshTokenAuthenticator(
        settings,
        session=session,
        org_id=login.org_id,
        login_url=login.login_url,
        client=(settings.sf_client_id, settings.sf_client_secret),
        refresh_token=secret_box(settings).open(login.sealed_refresh_token),
        retry=retry,
    )
    return Gateway(
        auth, session=session, api_version=settings.sf_api_version, options=options, retry=retry
    )


def org_sync_deps(
    settings: Settings,
    login: OrgLogin,
    *,
    engine: DbEngine,
    sessions: SessionFactory,
    gateway_options: GatewayOptions | None = None,
    pull_options: PullOptions | None = None,
    retry: RetryPolicy | None = None,
) -> SyncDeps:
    """The sync dependencies of one org on a shared engine."""
    return SyncDeps(
        settings=settings,
        engine=engine,
        sessions=sessions,
        gateway=org_gateway(settings, login, options=gateway_options, retry=retry),
        mapping_source=stored_mapping_source(sessions),
        options=pull_options or PullOptions(),
    )
