"""The client side of Salesforce's OAuth 2.0 web-server flow with PKCE, and token revocation.

`authorize_url` sends the admin's browser to the chosen login host; `exchange_code` trades the
code (with the PKCE verifier) for tokens at that same host, then asks that host's userinfo
endpoint who the token belongs to: the org id it answers must equal, character for character,
the one in the token response's identity URL. No other host is ever called.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

from connector.errors import FatalError, RetriableError
from connector.orgs.login_hosts import instance_origin
from connector.salesforce.auth import hint_for, parse_identity_url
from connector.salesforce.errors import AuthError

AUTHORIZE_PATH = "/services/oauth2/authorize"
TOKEN_PATH = "/services/oauth2/token"
USERINFO_PATH = "/services/oauth2/userinfo"
REVOKE_PATH = "/services/oauth2/revoke"
TIMEOUT = (10, 30)


class ConnectRefused(FatalError):
    """The web-server flow did not end with a usable, verified connection."""


@dataclass(frozen=True, slots=True)
class Pkce:
    """A PKCE pair: the verifier kept on the server, its S256 challenge sent to the browser."""

    verifier: str
    challenge: str


def s256(verifier: str) -> str:
    """base64url(SHA-256(verifier)) without padding (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_pkce() -> Pkce:
    """A fresh verifier (86 url-safe characters, within RFC 7636's 43..128) and challenge."""
    verifier = secrets.token_urlsafe(64)
    return Pkce(verifier, s256(verifier))


def authorize_url(
    login_url: str, *, client_id: str, redirect_uri: str, state: str, challenge: str
) -> str:
    """Where the admin's browser goes to sign in and approve the connected app."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "scope": "api refresh_token",
            # Always the login form: an admin signed in to another org must choose.
            "prompt": "login consent",
        }
    )
    return f"{login_url}{AUTHORIZE_PATH}?{query}"


@dataclass(frozen=True, slots=True)
class Connection:
    """What a completed flow yields: the org, the admin, the instance and the tokens."""

    org_id: str
    user_id: str
    username: str
    instance_url: str
    access_token: str
    refresh_token: str


@dataclass(frozen=True, slots=True)
class CodeExchange:
    """The token request of a completed authorization."""

    login_url: str
    client_id: str
    client_secret: str
    redirect_uri: str
    code: str
    verifier: str


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _post(session: requests.Session, url: str, form: dict[str, str]) -> requests.Response:
    try:
        return session.post(url, data=form, timeout=TIMEOUT, allow_redirects=False)
    except requests.RequestException as exc:
        raise RetriableError(f"cannot reach {url}: {exc.__class__.__name__}") from exc


def exchange_code(
    session: requests.Session, exchange: CodeExchange, *, extra_origins: tuple[str, ...] = ()
) -> Connection:
    """Trade the code for tokens and verify whose they are; ConnectRefused on any doubt."""
    url = exchange.login_url + TOKEN_PATH
    response = _post(
        session,
        url,
        {
            "grant_type": "authorization_code",
            "code": exchange.code,
            "client_id": exchange.client_id,
            "client_secret": exchange.client_secret,
            "redirect_uri": exchange.redirect_uri,
            "code_verifier": exchange.verifier,
        },
    )
    body = _json(response)
    if response.status_code != 200 or not body.get("access_token"):
        description = str(body.get("error_description") or f"HTTP {response.status_code}")
        hint = hint_for(description)
        raise ConnectRefused(
            f"Salesforce refused the authorization code: {body.get('error', 'error')}: "
            f"{description}" + (f". Fix: {hint}" if hint else "")
        )
    if not body.get("refresh_token"):
        raise ConnectRefused(
            "Salesforce issued no refresh token: add the 'refresh_token, offline_access' scope "
            "to the connected app"
        )
    instance = instance_origin(body.get("instance_url"), extra=extra_origins)
    if instance is None:
        raise ConnectRefused("the token response names an unexpected instance URL")
    try:
        org_id, user_id = parse_identity_url(str(body.get("id", "")))
    except AuthError as exc:
        raise ConnectRefused(str(exc)) from None
    who = _userinfo(session, exchange.login_url, str(body["access_token"]))
    if who.get("organization_id") != org_id or who.get("user_id") != user_id:
        raise ConnectRefused(
            "the identity service names another org or user than the token response; "
            "the connection was not saved"
        )
    return Connection(
        org_id=org_id,
        user_id=user_id,
        username=str(who.get("preferred_username") or user_id),
        instance_url=instance,
        access_token=str(body["access_token"]),
        refresh_token=str(body["refresh_token"]),
    )


def _userinfo(session: requests.Session, login_url: str, access_token: str) -> dict[str, Any]:
    url = login_url + USERINFO_PATH
    try:
        response = session.get(
            url,
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise RetriableError(f"cannot reach {url}: {exc.__class__.__name__}") from exc
    if response.status_code != 200:
        raise ConnectRefused(
            f"the identity service refused the new token (HTTP {response.status_code})"
        )
    return _json(response)


def revoke_token(session: requests.Session, login_url: str, token: str) -> bool:
    """Revoke a refresh token (and its sessions) at the login host. True when revoked now,
    False when Salesforce no longer knows it (already revoked: HTTP 400); RetriableError when
    the host cannot be reached or fails."""
    url = login_url + REVOKE_PATH
    response = _post(session, url, {"token": token})
    if response.status_code == 200:
        return True
    # Salesforce answers 400 unsupported_token_type / invalid_token for a token it does not know.
    if response.status_code == 400:
        return False
    raise RetriableError(f"{url} answered HTTP {response.status_code}; the token is not revoked")
