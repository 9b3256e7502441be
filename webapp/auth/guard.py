"""Access control for views and API: who is asking (from the session token) and may they.

Views call `require(...)` as a decorator; resource lookups go through the get-or-404 helpers
in `webapp.access`, which also check that the viewer may see the resource.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, request

from connector.store.access_reads import AccessFacts, roles_of
from webapp.auth.session import ROLES_MAX_AGE_SECONDS, SessionRefused, SessionTokens, Viewer
from webapp.db import org_unit

TOKEN_FIELD = "qf_token"
CSRF_FIELD = "qf_csrf"
BEARER, FORM = "bearer", "form"
F = TypeVar("F", bound=Callable[..., Any])


class Refused(Exception):
    """A request we turn away with a status and a plain message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def tokens() -> SessionTokens:
    """The app's session token issuer."""
    found: SessionTokens = current_app.extensions["quotaflow.tokens"]
    return found


def _raw_token() -> tuple[str, str] | None:
    """The session token and where it came from (`bearer` or `form`)."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), BEARER
    if request.method == "POST":
        value = request.form.get(TOKEN_FIELD, "")
        return (value, FORM) if value else None
    return None


NO_ACCESS = (
    "Your Salesforce user has no Quotaflow access: you are not a mapped rep and hold no admin or "
    "ops grant. Ask your Quotaflow admin."
)


def current_viewer() -> Viewer:
    """The viewer of this request (set by `require` or by /canvas), with current roles."""
    viewer: Viewer | None = g.get("viewer")
    if viewer is None:
        viewer, now, stale = session_viewer()
        if stale:
            viewer = refreshed(viewer, now=now)
        g.viewer = viewer
    return viewer


def session_viewer() -> tuple[Viewer, float, bool]:
    """The viewer the request's session token stands for, with the roles the token carries;
    the time; whether those roles must be resolved again before use (`adopt`). 401 without
    a valid token."""
    found = _raw_token()
    if found is None:
        raise Refused(401, "Open Quotaflow from Salesforce: this page needs a session.")
    raw, source = found
    issuer = tokens()
    now = issuer.clock()
    try:
        viewer = issuer.verify(raw, now=now)
    except SessionRefused as exc:
        raise Refused(401, str(exc)) from None
    g.session_source = source
    # A page renews the session token, so its roles are resolved again; an API call's
    # roles are at most ROLES_MAX_AGE_SECONDS old.
    renews = not request.path.startswith("/api/")
    return viewer, now, renews or now - viewer.roles_at >= ROLES_MAX_AGE_SECONDS


def refreshed(viewer: Viewer, *, now: float) -> Viewer:
    """The viewer with roles resolved again from the stored grants and synced users; a viewer
    left with no role at all is refused."""
    with org_unit(viewer.org_id) as unit:
        facts = unit.access.facts(holder_id=viewer.holder.user_id, viewer_id=viewer.user_id)
    return adopt(viewer, facts, now=now)


def adopt(viewer: Viewer, facts: AccessFacts, *, now: float) -> Viewer:
    """The viewer with the roles `facts` give them (read in this request); a viewer left with
    no role at all is refused."""
    _, roles = roles_of(facts, viewer.holder)
    if not roles:
        raise Refused(403, NO_ACCESS)
    return viewer.with_roles(roles, at=int(now))


def check_roles(viewer: Viewer, roles: tuple[str, ...]) -> None:
    """403 unless the viewer holds one of `roles` (any viewer if none)."""
    if roles and not viewer.has(*roles):
        raise Refused(403, "Your Quotaflow roles do not include this page.")


def require(*roles: str, csrf: bool = False) -> Callable[[F], F]:
    """Allow only viewers holding one of `roles` (any viewer if none); check CSRF if asked."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            viewer = current_viewer()
            check_roles(viewer, roles)
            if csrf and not g.get("canvas") and not _csrf_ok(viewer):
                raise Refused(403, "This form is out of date (CSRF check failed): reload, retry.")
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def _csrf_ok(viewer: Viewer) -> bool:
    # A request whose session came from its own Bearer header cannot be forged cross-site
    # (a browser never adds that header by itself); any other session, including a form
    # token sent beside an empty or invalid `Authorization: Bearer` header, needs the
    # session's CSRF token.
    if g.get("session_source") == BEARER:
        return True
    return tokens().csrf_ok(viewer, request.form.get(CSRF_FIELD))


def not_found(what: str) -> Refused:
    """The refusal for a resource that does not exist or that the viewer may not see."""
    return Refused(404, f"{what} was not found, or you may not see it.")


def bad_request(message: str) -> Refused:
    """The refusal for input we cannot use."""
    return Refused(400, message)
