"""The embedded session: a short-lived signed token instead of a cookie.

Browsers increasingly block third-party cookies, and inside Salesforce the app is always a
third party (an iframe on another site). So after /canvas the session lives in a signed
token that every page carries in its forms (a hidden field) and the JSON API in an
`Authorization: Bearer` header; never in a URL, so it cannot leak through history, logs or
the Referer header. Each page hands out a fresh token (sliding expiry) up to a hard cap
counted from when Salesforce opened the session.

Roles are not frozen into a session: the token carries what the org said about the user
(profile and permission sets, by id and name) and when roles were last resolved from it.
`webapp.auth.guard` resolves them again against the stored grants and the synced users on
every page (each page renews the token) and on any API call whose roles are older than
ROLES_MAX_AGE_SECONDS, so a removed grant or a deactivated user loses access within that bound.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from connector.store.roles import Holder

TOKEN_SECONDS = 30 * 60
MAX_SESSION_SECONDS = 8 * 60 * 60
ROLES_MAX_AGE_SECONDS = 5 * 60
ROLES = ("rep", "manager", "admin", "ops")
_SALT = "quotaflow.embedded-session"
EXPIRED = "your Quotaflow session expired: reload the Salesforce page"


class SessionRefused(Exception):
    """No valid session; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking: their Salesforce user, org and Quotaflow roles."""

    user_id: str
    org_id: str
    name: str
    roles: frozenset[str]
    session_id: str
    opened_at: int
    holder: Holder
    roles_at: int  # when `roles` were resolved from `holder`

    def has(self, *roles: str) -> bool:
        """Whether the viewer holds any of `roles`."""
        return any(role in self.roles for role in roles)

    def with_roles(self, roles: set[str], *, at: int) -> Viewer:
        """The same session with roles resolved again at `at`."""
        return replace(self, roles=frozenset(r for r in roles if r in ROLES), roles_at=at)


def new_viewer(
    *,
    user_id: str,
    org_id: str,
    name: str,
    roles: set[str],
    holder: Holder | None = None,
    now: float | None = None,
) -> Viewer:
    """A viewer for a session opened now (roles just resolved for `holder`)."""
    opened = int(time.time() if now is None else now)
    return Viewer(
        user_id=user_id,
        org_id=org_id,
        name=name,
        roles=frozenset(r for r in roles if r in ROLES),
        session_id=secrets.token_urlsafe(12),
        opened_at=opened,
        holder=holder or Holder(user_id=user_id),
        roles_at=opened,
    )


def _holder_data(holder: Holder) -> list[Any]:
    return [
        holder.user_id,
        holder.username,
        holder.profile_id,
        holder.profile_name,
        [list(pair) for pair in holder.permission_sets],
    ]


def _holder(data: Any) -> Holder:
    user_id, username, profile_id, profile_name, permission_sets = data
    return Holder(
        user_id=str(user_id),
        username=str(username),
        profile_id=None if profile_id is None else str(profile_id),
        profile_name=None if profile_name is None else str(profile_name),
        permission_sets=tuple((str(i), str(n)) for i, n in permission_sets),
    )


class SessionTokens:
    """Issues and verifies session tokens with the app's secret key."""

    def __init__(self, secret_key: str, *, clock: Callable[[], float] = time.time) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt=_SALT)
        self._csrf_key = hashlib.sha256(("csrf:" + secret_key).encode()).digest()
        self.clock = clock

    def issue(self, viewer: Viewer) -> str:
        """A token for `viewer`, valid for TOKEN_SECONDS."""
        return self._serializer.dumps(
            {
                "u": viewer.user_id,
                "o": viewer.org_id,
                "n": viewer.name,
                "r": sorted(viewer.roles),
                "s": viewer.session_id,
                "t": viewer.opened_at,
                "h": _holder_data(viewer.holder),
                "a": viewer.roles_at,
            }
        )

    def verify(self, token: str, *, now: float | None = None) -> Viewer:
        """The viewer a token stands for, or SessionRefused."""
        try:
            data = self._serializer.loads(token, max_age=TOKEN_SECONDS)
        except SignatureExpired:
            raise SessionRefused(EXPIRED) from None
        except BadSignature:
            raise SessionRefused("the Quotaflow session token is not valid") from None
        try:
            viewer = Viewer(
                user_id=str(data["u"]),
                org_id=str(data["o"]),
                name=str(data["n"]),
                roles=frozenset(str(r) for r in data["r"]),
                session_id=str(data["s"]),
                opened_at=int(data["t"]),
                holder=_holder(data["h"]),
                roles_at=int(data["a"]),
            )
        except (KeyError, TypeError, ValueError):
            raise SessionRefused("the Quotaflow session token is not valid") from None
        if (now if now is not None else self.clock()) - viewer.opened_at > MAX_SESSION_SECONDS:
            raise SessionRefused(EXPIRED)
        return viewer

    def csrf(self, viewer: Viewer) -> str:
        """The CSRF token of a session (state-changing forms carry it)."""
        return hmac.new(self._csrf_key, viewer.session_id.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, viewer: Viewer, value: str | None) -> bool:
        """Whether `value` is the session's CSRF token."""
        return bool(value) and hmac.compare_digest(self.csrf(viewer), value or "")
