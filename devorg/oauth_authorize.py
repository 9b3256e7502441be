"""The OAuth 2.0 web-server flow of the devorg: the authorize endpoint (login form and consent)
and the authorization_code grant, with PKCE, as Salesforce answers them.

Salesforce's rules kept here: the client_id must be the connected app's consumer key and the
redirect_uri must equal one of its callback URLs exactly, or the browser sees an error page and
is never redirected; any other problem is redirected back with `error` and `state`. A code is
good once, for 15 minutes, for the same redirect_uri; a code issued with a `code_challenge` is
exchanged only with the `code_verifier` whose base64url SHA-256 equals it (`invalid_grant` when
the verifier is missing, `invalid_request` when it does not match).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import sqlite3
import time
from html import escape
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, current_app, request

from devorg.state import Org

CODE_TTL_MS = 15 * 60 * 1000
PENDING_TTL_MS = 10 * 60 * 1000
PARAMS = ("response_type", "client_id", "redirect_uri", "state", "code_challenge", "scope")

bp = Blueprint("oauth_authorize", __name__)


class GrantError(Exception):
    """A refused code exchange: HTTP 400 {"error", "error_description"}."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


def create_tables(conn: sqlite3.Connection) -> None:
    """Callback URLs of the connected app, consents waiting for Allow, and issued codes."""
    conn.execute("CREATE TABLE IF NOT EXISTS _devorg_callback_url (url TEXT PRIMARY KEY)")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _devorg_authorize_pending (id TEXT PRIMARY KEY, user_id TEXT "
        "NOT NULL, redirect_uri TEXT NOT NULL, state TEXT, code_challenge TEXT, "
        "expires_ms INTEGER NOT NULL)"
    )
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _devorg_auth_code (code TEXT PRIMARY KEY, user_id TEXT NOT "
        "NULL, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL, code_challenge TEXT, "
        "expires_ms INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0)"
    )


def set_callback_urls(org: Org, urls: list[str]) -> list[str]:
    """Replace the connected app's callback URLs (absolute http(s) URLs); the list kept."""
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
            raise ValueError(f"callback URL must be an absolute http(s) URL, got {url!r}")
    with org.db.write() as conn:
        conn.execute("DELETE FROM _devorg_callback_url")
        conn.executemany("INSERT INTO _devorg_callback_url VALUES (?)", [(u,) for u in urls])
    return callback_urls(org)


def callback_urls(org: Org) -> list[str]:
    """The connected app's callback URLs."""
    with org.db.read() as conn:
        return [r[0] for r in conn.execute("SELECT url FROM _devorg_callback_url ORDER BY url")]


def _org() -> Org:
    org: Org = current_app.config["DEVORG"]
    return org


def _now_ms() -> int:
    return int(time.time() * 1000)


def _page(title: str, body: str, status: int = 200) -> Response:
    html = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"</head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    # Like Salesforce's login pages: never framed, never cached.
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    return response


def _error_page(error: str, description: str) -> Response:
    return _page(
        "Authorization error", f"<p>error={escape(error)}</p><p>{escape(description)}</p>", 400
    )


def _redirect(redirect_uri: str, params: dict[str, str | None]) -> Response:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    joiner = "&" if urlsplit(redirect_uri).query else "?"
    response = Response(status=302)
    response.headers["Location"] = f"{redirect_uri}{joiner}{query}"
    response.headers["Cache-Control"] = "no-store"
    return response


def _hidden(values: dict[str, str]) -> str:
    return "".join(
        f"<input type='hidden' name='{escape(k)}' value='{escape(v)}'>" for k, v in values.items()
    )


def _checked_request(org: Org, values: Any) -> dict[str, str] | Response:
    """The authorize parameters, or the page/redirect that refuses them."""
    params = {name: str(values.get(name) or "") for name in PARAMS}
    if params["client_id"] != org.creds.client_id:
        return _error_page("invalid_client_id", "client identifier invalid")
    if params["redirect_uri"] not in callback_urls(org):
        return _error_page("redirect_uri_mismatch", "redirect_uri must match configuration")
    state = params["state"] or None
    if params["response_type"] != "code":
        return _redirect(
            params["redirect_uri"],
            {
                "error": "unsupported_response_type",
                "error_description": "response type not supported",
                "state": state,
            },
        )
    method = str(values.get("code_challenge_method") or "S256")
    if params["code_challenge"] and method != "S256":
        return _redirect(
            params["redirect_uri"],
            {
                "error": "invalid_request",
                "error_description": "invalid code_challenge_method",
                "state": state,
            },
        )
    return params


def _login_form(params: dict[str, str], message: str = "") -> Response:
    note = f"<p role='alert'>{escape(message)}</p>" if message else ""
    form = (
        f"{note}<form method='post' action='/services/oauth2/authorize'>"
        f"{_hidden(params)}<input type='hidden' name='step' value='login'>"
        "<label>Username <input name='username' autocomplete='username'></label>"
        "<label>Password <input type='password' name='pw' autocomplete='current-password'>"
        "</label><button type='submit'>Log In</button></form>"
    )
    return _page("Login | Salesforce", form)


@bp.get("/services/oauth2/authorize")
def authorize() -> Response:
    """The login page of the web-server flow."""
    checked = _checked_request(_org(), request.args)
    if isinstance(checked, Response):
        return checked
    return _login_form(checked)


def _user_id(org: Org, username: str, password: str) -> str | None:
    with org.db.read() as conn:
        row = conn.execute(
            'SELECT Id FROM "User" WHERE lower(Username) = lower(?) AND IsActive = 1', (username,)
        ).fetchone()
    ok = hmac.compare_digest(password.encode(), org.creds.password.encode())
    return str(row[0]) if row is not None and ok else None


def _consent(org: Org, params: dict[str, str]) -> Response:
    user_id = _user_id(org, request.form.get("username", ""), request.form.get("pw", ""))
    if user_id is None:
        return _login_form(params, "Please check your username and password.")
    pending = secrets.token_urlsafe(24)
    with org.db.write() as conn:
        conn.execute(
            "INSERT INTO _devorg_authorize_pending VALUES (?,?,?,?,?,?)",
            (
                pending,
                user_id,
                params["redirect_uri"],
                params["state"] or None,
                params["code_challenge"] or None,
                _now_ms() + PENDING_TTL_MS,
            ),
        )
    form = (
        "<p>Quotaflow is requesting access to your data (api, refresh_token).</p>"
        "<form method='post' action='/services/oauth2/authorize'>"
        f"{_hidden({'client_id': params['client_id'], 'pending': pending, 'step': 'consent'})}"
        "<button type='submit' name='decision' value='allow'>Allow</button>"
        "<button type='submit' name='decision' value='deny'>Deny</button></form>"
    )
    return _page("Allow Access?", form)


def _decide(org: Org) -> Response:
    pending = request.form.get("pending", "")
    with org.db.write() as conn:
        row = conn.execute(
            "SELECT user_id, redirect_uri, state, code_challenge, expires_ms FROM "
            "_devorg_authorize_pending WHERE id = ?",
            (pending,),
        ).fetchone()
        conn.execute("DELETE FROM _devorg_authorize_pending WHERE id = ?", (pending,))
        if row is None or row[4] <= _now_ms():
            return _error_page("invalid_request", "the approval page has expired; start again")
        user_id, redirect_uri, state, challenge = row[0], row[1], row[2], row[3]
        if request.form.get("decision") != "allow":
            return _redirect(
                redirect_uri,
                {
                    "error": "access_denied",
                    "error_description": "end-user denied authorization",
                    "state": state,
                },
            )
        code = "aPrx" + secrets.token_urlsafe(48)
        conn.execute(
            "INSERT INTO _devorg_auth_code (code, user_id, client_id, redirect_uri, "
            "code_challenge, expires_ms) VALUES (?,?,?,?,?,?)",
            (code, user_id, org.creds.client_id, redirect_uri, challenge, _now_ms() + CODE_TTL_MS),
        )
    return _redirect(redirect_uri, {"code": code, "state": state})


@bp.post("/services/oauth2/authorize")
def authorize_post() -> Response:
    """The login form's and the consent page's answers."""
    org = _org()
    if request.form.get("step") == "consent":
        if request.form.get("client_id") != org.creds.client_id:
            return _error_page("invalid_client_id", "client identifier invalid")
        return _decide(org)
    checked = _checked_request(org, request.form)
    if isinstance(checked, Response):
        return checked
    return _consent(org, checked)


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier: base64url(SHA-256), without padding."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def redeem_code(org: Org, form: Any) -> str:
    """The user id behind an authorization code (used up by this call); GrantError if refused.
    The caller has checked the client id and secret."""
    code, verifier = form.get("code") or "", form.get("code_verifier")
    with org.db.write() as conn:
        row = conn.execute(
            "SELECT user_id, client_id, redirect_uri, code_challenge, expires_ms, used FROM "
            "_devorg_auth_code WHERE code = ?",
            (code,),
        ).fetchone()
        if row is None or row[5] or row[1] != org.creds.client_id:
            raise GrantError("invalid_grant", "invalid authorization code")
        # A code is single use even when the exchange below fails.
        conn.execute("UPDATE _devorg_auth_code SET used = 1 WHERE code = ?", (code,))
    if row[4] <= _now_ms():
        raise GrantError("invalid_grant", "expired authorization code")
    if form.get("redirect_uri") != row[2]:
        raise GrantError("invalid_grant", "redirect_uri must match configuration")
    if row[3] is not None:
        if not verifier:
            raise GrantError("invalid_grant", "invalid code verifier")
        if not hmac.compare_digest(s256(verifier), row[3]):
            raise GrantError("invalid_request", "invalid code verifier")
    return str(row[0])


def new_refresh_token(org: Org, user_id: str) -> str:
    """A refresh token for the user, bound to the connected app."""
    token = f"5Aep861{secrets.token_urlsafe(64)}"
    with org.db.write() as conn:
        conn.execute(
            "INSERT INTO _devorg_refresh_token (token, user_id, client_id) VALUES (?,?,?)",
            (token, user_id, org.creds.client_id),
        )
    return token
