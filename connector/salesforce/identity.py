"""Who an OAuth token belongs to: the check behind every embedded session.

A Canvas signed request proves that Salesforce signed it, not that it is fresh: Salesforce
documents `issuedAt` as internal use only (it may be null), so a captured request could be
replayed forever. What bounds it is the access token inside (`client.oauthToken`): we ask
the org who it belongs to (OpenID Connect userinfo) and refuse a revoked or expired token,
or one issued to another user or org than the request claims. With the same token we read
the user's profile and permission sets, from which admins grant Quotaflow's admin and ops
roles.

The token is only ever sent to one of the org's own origins (the instance its integration
login reported, or SF_ORG_HOSTS), never to the host the envelope names: with the consumer
secret anyone could otherwise name their own server and answer "admin". A foreign host is
refused before any network call, and redirects are not followed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import requests
from simple_salesforce.format import format_soql

from connector.errors import FatalError, RetriableError
from connector.salesforce.http import make_http_session
from connector.salesforce.ids import same_id
from connector.salesforce.origins import https_origin

USERINFO_PATH = "/services/oauth2/userinfo"
TIMEOUT_SECONDS = 10


class TokenRefused(FatalError):
    """The org does not accept the token for this user (revoked, expired, or someone else's)."""


class HostRefused(TokenRefused):
    """The envelope names a host that is not one of the org's own; nothing was sent to it."""


class IdentityUnavailable(RetriableError):
    """The org did not answer the identity check; the user may try again."""


@dataclass(frozen=True, slots=True)
class OrgIdentity:
    """The user a token belongs to, as the org reports it."""

    user_id: str
    org_id: str
    name: str
    username: str
    profile_id: str | None
    profile_name: str | None
    permission_sets: tuple[tuple[str, str], ...]  # (id, API name)


def trusted_origin(instance_url: str, allowed: Collection[str]) -> str:
    """The org origin `instance_url` names, if it is one of `allowed`; else HostRefused."""
    origin = https_origin(instance_url)
    if origin is None or origin not in allowed:
        raise HostRefused("the signed request's instanceUrl is not one of the org's hosts")
    return origin


class IdentityClient:
    """Checks tokens against one org over HTTPS (the CA file for the devorg, else the system)."""

    def __init__(self, *, api_version: str, ca_bundle: str | None) -> None:
        self._api_version = api_version
        self._http = make_http_session(ca_bundle)

    def _get(self, url: str, token: str, params: dict[str, str] | None = None) -> Any:
        try:
            response = self._http.get(
                url,
                params=params,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                timeout=TIMEOUT_SECONDS,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise IdentityUnavailable(f"Salesforce did not answer: {type(exc).__name__}") from None
        if response.status_code in (401, 403):
            raise TokenRefused("Salesforce no longer accepts this session's token")
        if response.status_code >= 300:
            raise IdentityUnavailable(f"Salesforce answered HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise IdentityUnavailable("Salesforce did not answer with JSON") from None

    def _query(self, instance_url: str, token: str, soql: str) -> list[dict[str, Any]]:
        url = f"{instance_url}/services/data/v{self._api_version}/query/"
        body = self._get(url, token, {"q": soql})
        records = body.get("records") if isinstance(body, dict) else None
        return [r for r in records or [] if isinstance(r, dict)]

    def identify(
        self,
        *,
        instance_url: str,
        allowed_origins: Collection[str],
        token: str,
        user_id: str,
        org_id: str,
    ) -> OrgIdentity:
        """The identity behind `token`, refused unless it is `user_id` of `org_id`; only an
        origin in `allowed_origins` is ever called (HostRefused otherwise, before any call)."""
        base = trusted_origin(instance_url, allowed_origins)
        if not token.isascii() or not token.isprintable():
            raise TokenRefused("the signed request's oauthToken is not a token")
        info = self._get(base + USERINFO_PATH, token)
        if not isinstance(info, dict):
            raise IdentityUnavailable("Salesforce's userinfo answer is not an object")
        if not same_id(str(info.get("user_id") or ""), user_id):
            raise TokenRefused("the token belongs to another user than the signed request names")
        if not same_id(str(info.get("organization_id") or ""), org_id):
            raise TokenRefused("the token belongs to another org than the signed request names")
        if info.get("active") is False:
            raise TokenRefused("the Salesforce user is inactive")
        # From here on, the org's own spelling of the id (18 characters).
        user_id = str(info["user_id"])
        users = self._query(
            base,
            token,
            format_soql("SELECT Id, ProfileId, Profile.Name FROM User WHERE Id = {}", user_id),
        )
        profile = users[0] if users else {}
        assignments = self._query(
            base,
            token,
            format_soql(
                "SELECT PermissionSetId, PermissionSet.Name FROM PermissionSetAssignment "
                "WHERE AssigneeId = {}",
                user_id,
            ),
        )
        return OrgIdentity(
            user_id=user_id,
            org_id=str(info["organization_id"]),
            name=str(info.get("name") or ""),
            username=str(info.get("preferred_username") or ""),
            profile_id=profile.get("ProfileId"),
            profile_name=(profile.get("Profile") or {}).get("Name"),
            permission_sets=_permission_sets(assignments),
        )


def _permission_sets(assignments: list[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    found: set[tuple[str, str]] = set()
    for assignment in assignments:
        ps_id = assignment.get("PermissionSetId")
        name = (assignment.get("PermissionSet") or {}).get("Name")
        if isinstance(ps_id, str) and ps_id:
            found.add((ps_id, name if isinstance(name, str) else ""))
    return tuple(sorted(found))
