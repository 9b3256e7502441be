"""Logging in a registered org with its stored refresh token (orgs connected at `/connect`).

The refresh-token grant goes to the login host the org was connected through; the answer must
name the same org id, character for character, or the token is not used.
"""

from __future__ import annotations

from typing import Any

import requests

from connector.orgs.login_hosts import instance_origin
from connector.salesforce.auth import Authenticator, Token, parse_identity_url
from connector.salesforce.errors import AuthError
from connector.salesforce.retry import RetryPolicy
from connector.settings import Settings


class RefreshTokenAuthenticator(Authenticator):
    """An Authenticator whose login is the refresh-token grant of one registered org."""

    def __init__(
        self,
        settings: Settings,
        *,
        session: requests.Session,
        org_id: str,
        login_url: str,
        client: tuple[str, str],
        refresh_token: str,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(
            settings.with_overrides(sf_login_url=login_url), session=session, retry=retry
        )
        self._org_id = org_id
        self._client_id, self._client_secret = client
        self._refresh_token = refresh_token
        self._extra = settings.connect_login_urls

    def _form(self) -> dict[str, str]:
        return {
            "grant_type": "refresh_token",
            "refresh_token": self._refresh_token,
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }

    def _token_from(self, response: requests.Response) -> Token:
        try:
            body: Any = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        if response.status_code != 200 or "access_token" not in body:
            error = body.get("error") or f"HTTP {response.status_code}"
            raise AuthError(
                f"Salesforce refused the refresh token of org {self._org_id}: {error}: "
                f"{body.get('error_description') or 'no description'}. Fix: reconnect the org "
                "at /connect (the token was revoked, the user deactivated, or the app's "
                "refresh token policy expired it)"
            )
        org_id, user_id = parse_identity_url(str(body.get("id", "")))
        if org_id != self._org_id:
            raise AuthError(
                f"the refresh token of org {self._org_id} logged in to org {org_id}; not used"
            )
        instance = instance_origin(body.get("instance_url"), extra=self._extra)
        if instance is None:
            raise AuthError(f"org {self._org_id}: the token response names an unexpected instance")
        return Token(str(body["access_token"]), instance, org_id, user_id)
