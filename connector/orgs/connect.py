"""The two halves of connecting an org: `begin` (state, PKCE, login host) and `finish` (the
callback: the state taken once, bound to the browser that began, the code exchanged).

The state is 43 random url-safe characters stored with the PKCE verifier, the chosen login host
and a hash of the browser's connect cookie; the callback must present the same cookie, within
ten minutes, once. The login host the code is exchanged at is the stored one, never one the
callback names.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests

from connector.errors import ConfigError
from connector.orgs.login_hosts import login_origin
from connector.orgs.registry import OrgView, register_connection, secret_box
from connector.salesforce.webflow import (
    CodeExchange,
    ConnectRefused,
    authorize_url,
    exchange_code,
    new_pkce,
)
from connector.settings import Settings
from connector.store.orgs import Attempt, OrgRegistry
from connector.store.results import SessionFactory

ATTEMPT_TTL = timedelta(minutes=10)
CALLBACK_PATH = "/connect/callback"


@dataclass(frozen=True, slots=True)
class ConnectApp:
    """The shared connected app and where Salesforce sends the browser back."""

    client_id: str
    client_secret: str
    redirect_uri: str


def connect_app(settings: Settings) -> ConnectApp:
    """The connected app of the settings; ConfigError naming what is missing."""
    missing = [
        name
        for name, value in (
            ("SF_CLIENT_ID", settings.sf_client_id),
            ("SF_CLIENT_SECRET", settings.sf_client_secret),
            ("QUOTAFLOW_PUBLIC_URL", settings.public_url),
        )
        if not value
    ]
    if missing:
        raise ConfigError(f"connecting orgs needs {', '.join(missing)}")
    secret_box(settings)  # the key must be there before any token arrives
    return ConnectApp(
        settings.sf_client_id or "",
        settings.sf_client_secret or "",
        f"{settings.public_url}{CALLBACK_PATH}",
    )


def browser_hash(nonce: str) -> str:
    """What is stored of the browser's connect-cookie nonce."""
    return hashlib.sha256(nonce.encode()).hexdigest()


def begin(
    sessions: SessionFactory,
    settings: Settings,
    *,
    choice: str,
    my_domain: str,
    requested_by: str,
    browser_nonce: str,
    now: datetime,
) -> str:
    """Store a new attempt; the authorize URL to send the browser to."""
    app = connect_app(settings)
    login_url = login_origin(choice, my_domain=my_domain, extra=settings.connect_login_urls)
    pkce = new_pkce()
    state = secrets.token_urlsafe(32)
    OrgRegistry(sessions).save_attempt(
        Attempt(
            state=state,
            browser=browser_hash(browser_nonce),
            code_verifier=pkce.verifier,
            login_url=login_url,
            requested_by=requested_by[:255],
            expires_at=now + ATTEMPT_TTL,
        ),
        now=now,
    )
    return authorize_url(
        login_url,
        client_id=app.client_id,
        redirect_uri=app.redirect_uri,
        state=state,
        challenge=pkce.challenge,
    )


def finish(
    sessions: SessionFactory,
    settings: Settings,
    *,
    state: str,
    code: str,
    browser_nonce: str,
    http: requests.Session,
    now: datetime,
) -> OrgView:
    """Check the callback against its attempt, exchange the code, register the org."""
    app = connect_app(settings)
    attempt = OrgRegistry(sessions).take_attempt(state)
    if attempt is None or attempt.expires_at <= now:
        raise ConnectRefused("this sign-in is unknown or has expired; start again at /connect")
    if not hmac.compare_digest(attempt.browser, browser_hash(browser_nonce)):
        raise ConnectRefused("this sign-in was started in another browser; start again")
    connection = exchange_code(
        http,
        CodeExchange(
            attempt.login_url,
            app.client_id,
            app.client_secret,
            app.redirect_uri,
            code,
            attempt.code_verifier,
        ),
        extra_origins=settings.connect_login_urls,
    )
    return register_connection(
        sessions,
        connection,
        login_url=attempt.login_url,
        connected_by=attempt.requested_by,
        box=secret_box(settings),
        now=now,
    )
