"""The OAuth token exchange against SF_LOGIN_URL, done by the connector itself.

The devorg and a real org share this one code path: JWT bearer, username-password and
client credentials. A token is reused until Salesforce rejects it; `refresh()` gets a new one.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests

from connector.errors import ConfigError
from connector.salesforce.errors import AuthError, TransientFailure
from connector.salesforce.retry import RetryPolicy
from connector.settings import Settings

TOKEN_PATH = "/services/oauth2/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_LIFETIME_SECONDS = 180  # Salesforce accepts at most a few minutes; 3 is the usual choice

# Salesforce's error_description texts and what the operator should do about each.
_HINTS: tuple[tuple[str, str], ...] = (
    (
        "hasn't approved this consumer",
        "pre-authorize the connected app for the integration user (App Manager > Manage > "
        "Permitted Users: 'Admin approved users are pre-authorized', then add the user's "
        "profile or permission set), or approve it once as that user",
    ),
    (
        "audience is invalid",
        "SF_LOGIN_URL must be https://login.salesforce.com (production), "
        "https://test.salesforce.com (sandbox) or the org's My Domain login URL",
    ),
    (
        "authentication failure",
        "check SF_USERNAME and SF_PASSWORD (append the security token if the org requires it), "
        "and that the user is active, not locked out and allowed API access",
    ),
    (
        "client identifier invalid",
        "SF_CLIENT_ID must be the connected app's consumer key",
    ),
    (
        "invalid client credentials",
        "SF_CLIENT_SECRET must be the connected app's consumer secret",
    ),
    (
        "no client credentials user enabled",
        "enable the client credentials flow and set its Run As user on the connected app",
    ),
    (
        "expired",
        "the JWT was rejected as expired: check this machine's clock",
    ),
    (
        "invalid assertion",
        "the JWT signature did not verify: SF_PRIVATE_KEY_FILE must match the certificate "
        "uploaded to the connected app",
    ),
)


@dataclass(frozen=True, slots=True)
class Token:
    """An access token and what the token response says about the org and user."""

    access_token: str
    instance_url: str
    org_id: str
    user_id: str


def parse_identity_url(url: str) -> tuple[str, str]:
    """(org id, user id) from the token response's `id`: https://host/id/<orgId>/<userId>."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if len(parts) >= 3 and parts[-3] == "id":
        return parts[-2], parts[-1]
    raise AuthError(f"token response has an unexpected identity URL {url!r}")


def hint_for(description: str) -> str | None:
    """What to do about a Salesforce login error description, if we know."""
    lowered = description.lower()
    for needle, hint in _HINTS:
        if needle in lowered:
            return hint
    return None


def jwt_audience(login_url: str) -> str:
    """The `aud` claim: login or test for salesforce.com hosts, else the login URL's origin."""
    parts = urlsplit(login_url)
    host = (parts.hostname or "").lower()
    # My Domain hosts are not valid audiences; Salesforce wants the generic login host.
    if host == "test.salesforce.com" or host.endswith(".sandbox.my.salesforce.com"):
        return "https://test.salesforce.com"
    if host.endswith(".salesforce.com"):
        return "https://login.salesforce.com"
    return f"{parts.scheme}://{parts.netloc}"


class Authenticator:
    """Gets and caches an access token for the flow chosen in settings."""

    def __init__(
        self, settings: Settings, *, session: requests.Session, retry: RetryPolicy | None = None
    ) -> None:
        if not settings.sf_login_url:
            raise ConfigError("SF_LOGIN_URL is not set; it is the org's login host")
        self._settings = settings
        self._session = session
        self._retry = retry or RetryPolicy()
        self._token: Token | None = None
        self._lock = threading.Lock()
        self.logins = 0

    def token(self) -> Token:
        """The cached token, logging in first if there is none."""
        with self._lock:
            if self._token is None:
                self._token = self._login()
            return self._token

    def refresh(self, stale: Token | None = None) -> Token:
        """A new token (unless another caller already replaced `stale`)."""
        with self._lock:
            if self._token is None or self._token is stale or stale is None:
                self._token = self._login()
            return self._token

    def _login(self) -> Token:
        url = self._settings.sf_login_url.rstrip("/") + TOKEN_PATH  # type: ignore[union-attr]
        form = self._form()
        for attempt in range(1, self._retry.attempts + 1):
            try:
                response = self._session.post(url, data=form, timeout=(10, 60))
            except requests.exceptions.SSLError as exc:
                raise ConfigError(untrusted(url, exc)) from exc
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt == self._retry.attempts:
                    raise TransientFailure(f"cannot reach {url}: {exc}") from exc
                self._retry.wait(attempt)
                continue
            if response.status_code >= 500 and attempt < self._retry.attempts:
                self._retry.wait(attempt)
                continue
            self.logins += 1
            return self._token_from(response)
        raise TransientFailure(f"{url} kept failing")  # pragma: no cover - loop always returns

    def _form(self) -> dict[str, str]:
        s = self._settings
        if s.sf_auth == "jwt":
            need(s.sf_client_id, "SF_CLIENT_ID")
            return {"grant_type": JWT_GRANT, "assertion": self._assertion()}
        if s.sf_auth == "password":
            return {
                "grant_type": "password",
                "client_id": need(s.sf_client_id, "SF_CLIENT_ID"),
                "client_secret": need(s.sf_client_secret, "SF_CLIENT_SECRET"),
                "username": need(s.sf_username, "SF_USERNAME"),
                "password": need(s.sf_password, "SF_PASSWORD"),
            }
        return {
            "grant_type": "client_credentials",
            "client_id": need(s.sf_client_id, "SF_CLIENT_ID"),
            "client_secret": need(s.sf_client_secret, "SF_CLIENT_SECRET"),
        }

    def _assertion(self) -> str:
        s = self._settings
        key_file = need(s.sf_private_key_file, "SF_PRIVATE_KEY_FILE")
        try:
            key = Path(key_file).read_text()
        except OSError as exc:
            raise ConfigError(f"SF_PRIVATE_KEY_FILE: cannot read {key_file}: {exc}") from exc
        claims = {
            "iss": need(s.sf_client_id, "SF_CLIENT_ID"),
            "sub": need(s.sf_username, "SF_USERNAME"),
            "aud": jwt_audience(s.sf_login_url or ""),
            "exp": int(time.time()) + JWT_LIFETIME_SECONDS,
        }
        try:
            return jwt.encode(claims, key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise ConfigError(f"SF_PRIVATE_KEY_FILE: not a usable RSA private key ({exc})") from exc

    def _token_from(self, response: requests.Response) -> Token:
        body = _json(response)
        if response.status_code != 200 or "access_token" not in body:
            raise AuthError(_login_failure(self._settings.sf_auth, response.status_code, body))
        org_id, user_id = parse_identity_url(str(body.get("id", "")))
        return Token(
            access_token=str(body["access_token"]),
            instance_url=str(body["instance_url"]).rstrip("/"),
            org_id=org_id,
            user_id=user_id,
        )


def untrusted(url: str, exc: Exception) -> str:
    """The message for a TLS failure: retrying cannot fix it, configuration can."""
    return (
        f"TLS verification of {url} failed ({exc.__class__.__name__}); set SF_CA_BUNDLE to "
        "the CA file that signed its certificate (the devorg prints it as ca_cert)"
    )


def need(value: str | None, name: str) -> str:
    """The setting's value, or a ConfigError naming the variable."""
    if not value:
        raise ConfigError(f"{name} is not set; the chosen SF_AUTH flow needs it")
    return value


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"error": f"HTTP {response.status_code}", "error_description": response.text[:200]}
    return body if isinstance(body, dict) else {}


def _login_failure(flow: str, status: int, body: dict[str, Any]) -> str:
    error = str(body.get("error") or f"HTTP {status}")
    description = str(body.get("error_description") or "no description")
    message = f"Salesforce refused the {flow} login: {error}: {description}"
    hint = hint_for(description)
    return f"{message}. Fix: {hint}" if hint else message
