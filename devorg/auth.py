"""OAuth 2.0 for the devorg: token (password, client_credentials, JWT bearer, refresh token,
authorization code), revoke, userinfo, and the bearer-token check every REST call goes through.
The authorize endpoint of the web-server flow is in `oauth_authorize.py`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import sqlite3
import time
from typing import Any

import jwt
from flask import Blueprint, Response, current_app, jsonify, request

from devorg.errors import session_invalid
from devorg.state import Org
from devorg.tls import jwt_public_key

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Salesforce wants exp within about three minutes; allow a little clock skew on top.
JWT_MAX_AHEAD_SECONDS = 300
PUBLIC_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")

bp = Blueprint("oauth", __name__)


class OAuthError(Exception):
    """An OAuth failure: HTTP 400 {"error", "error_description"}."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


def create_session_table(conn: sqlite3.Connection) -> None:
    """The table of issued access tokens (survives restarts, like real sessions)."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _devorg_session (token TEXT PRIMARY KEY, user_id TEXT "
        "NOT NULL, issued_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, "
        "revoked INTEGER NOT NULL DEFAULT 0)"
    )
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _devorg_refresh_token (token TEXT PRIMARY KEY, user_id TEXT "
        "NOT NULL, client_id TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0)"
    )
    # Which sessions a refresh token issued: revoking the refresh token revokes them too.
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _devorg_refresh_session (session_token TEXT PRIMARY KEY, "
        "refresh_token TEXT NOT NULL)"
    )


def _org() -> Org:
    org: Org = current_app.config["DEVORG"]
    return org


def authenticate(org: Org, authorization: str | None) -> str:
    """The user id behind `Authorization: Bearer <token>`, or 401 INVALID_SESSION_ID."""
    if not authorization or not authorization.startswith(("Bearer ", "OAuth ")):
        raise session_invalid()
    token = authorization.split(" ", 1)[1].strip()
    with org.db.read() as conn:
        row = conn.execute(
            "SELECT user_id, issued_ms, expires_ms, revoked FROM _devorg_session WHERE token = ?",
            (token,),
        ).fetchone()
    now = int(time.time() * 1000)
    if row is None or row[3] or row[2] <= now or row[1] < org.faults.sessions_valid_after_ms():
        raise session_invalid()
    return str(row[0])


def _user_by_name(org: Org, username: str) -> dict[str, Any] | None:
    with org.db.read() as conn:
        cur = conn.execute(
            'SELECT * FROM "User" WHERE lower(Username) = lower(?) AND IsActive = 1', (username,)
        )
        row = cur.fetchone()
        return None if row is None else dict(zip([d[0] for d in cur.description], row, strict=True))


def _check_client(org: Org, client_id: str | None, client_secret: str | None) -> None:
    if client_id != org.creds.client_id:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    if client_secret is None or not hmac.compare_digest(client_secret, org.creds.client_secret):
        raise OAuthError("invalid_client", "invalid client credentials")


def _password_grant(org: Org, form: Any) -> str:
    _check_client(org, form.get("client_id"), form.get("client_secret"))
    user = _user_by_name(org, form.get("username") or "")
    password = form.get("password") or ""
    # The security token may be appended to the password, as in real orgs.
    accepted = (org.creds.password, org.creds.password + org.creds.security_token)
    if user is None or password not in accepted:
        raise OAuthError("invalid_grant", "authentication failure")
    return str(user["Id"])


def _client_credentials_grant(org: Org, form: Any) -> str:
    client_id, secret = form.get("client_id"), form.get("client_secret")
    if client_id is None and request.authorization is not None:
        client_id, secret = request.authorization.username, request.authorization.password
    _check_client(org, client_id, secret)
    user = _user_by_name(org, org.creds.username)  # the connected app's "run as" user
    if user is None:
        raise OAuthError("invalid_grant", "no client credentials user enabled")
    return str(user["Id"])


def _jwt_grant(org: Org, form: Any) -> str:
    assertion = form.get("assertion") or ""
    local = org.base_url.replace("://127.0.0.1:", "://localhost:")
    audiences = [*PUBLIC_AUDIENCES, org.base_url, local]
    try:
        claims = jwt.decode(
            assertion,
            jwt_public_key(org.tls),
            algorithms=["RS256"],
            audience=audiences,
            options={"require": ["iss", "sub", "aud", "exp"], "verify_iss": False},
        )
    except jwt.InvalidAudienceError as exc:
        raise OAuthError("invalid_grant", "audience is invalid") from exc
    except jwt.ExpiredSignatureError as exc:
        raise OAuthError("invalid_grant", "expired authorization code") from exc
    except jwt.PyJWTError as exc:
        raise OAuthError("invalid_grant", "invalid assertion") from exc
    if int(claims["exp"]) > time.time() + JWT_MAX_AHEAD_SECONDS + 10:
        raise OAuthError("invalid_grant", "invalid assertion")
    if claims.get("iss") != org.creds.client_id:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    user = _user_by_name(org, str(claims.get("sub", "")))
    if user is None:
        raise OAuthError("invalid_grant", "user hasn't approved this consumer")
    return str(user["Id"])


def issue_refresh_token(org: Org, username: str) -> str:
    """A refresh token for an active user, as the web server flow hands out once the user
    approves the connected app in a browser (the control plane stands in for that step)."""
    user = _user_by_name(org, username)
    if user is None:
        raise OAuthError("invalid_grant", "no active user with that username")
    token = f"5Aep861{secrets.token_urlsafe(64)}"
    with org.db.write() as conn:
        conn.execute(
            "INSERT INTO _devorg_refresh_token (token, user_id, client_id) VALUES (?,?,?)",
            (token, str(user["Id"]), org.creds.client_id),
        )
    return token


def _refresh_token_grant(org: Org, form: Any) -> str:
    # A new connected app has "Require Secret for Refresh Token Flow" on: the secret is
    # checked like the consumer key. The token must belong to this connected app.
    _check_client(org, form.get("client_id"), form.get("client_secret"))
    with org.db.read() as conn:
        row = conn.execute(
            "SELECT user_id, client_id, revoked FROM _devorg_refresh_token WHERE token = ?",
            (form.get("refresh_token") or "",),
        ).fetchone()
        active = (
            row is not None
            and conn.execute(
                'SELECT 1 FROM "User" WHERE Id = ? AND IsActive = 1', (row[0],)
            ).fetchone()
        )
    if row is None or row[2] or row[1] != org.creds.client_id or not active:
        raise OAuthError("invalid_grant", "expired access/refresh token")
    return str(row[0])


def _code_grant(org: Org, form: Any) -> str:
    from devorg.oauth_authorize import GrantError, redeem_code

    _check_client(org, form.get("client_id"), form.get("client_secret"))
    try:
        return redeem_code(org, form)
    except GrantError as exc:
        raise OAuthError(exc.error, exc.description) from exc


def issue_token(org: Org, user_id: str) -> dict[str, str]:
    """Store a new session for the user; the Salesforce token response body."""
    now = int(time.time() * 1000)
    token = f"{org.creds.org_id}!{secrets.token_urlsafe(72)}"
    with org.db.write() as conn:
        conn.execute(
            "INSERT INTO _devorg_session (token, user_id, issued_ms, expires_ms) VALUES (?,?,?,?)",
            (token, user_id, now, now + org.config.token_ttl_seconds * 1000),
        )
    id_url = f"{org.base_url}/id/{org.creds.org_id}/{user_id}"
    digest = hmac.new(
        org.creds.client_secret.encode(), (id_url + str(now)).encode(), hashlib.sha256
    ).digest()
    return {
        "access_token": token,
        "instance_url": org.base_url,
        "id": id_url,
        "token_type": "Bearer",
        "issued_at": str(now),
        "signature": base64.b64encode(digest).decode(),
        "scope": "api",
    }


@bp.post("/services/oauth2/token")
def token() -> Response | tuple[Response, int]:
    """Exchange a grant for an access token."""
    org = _org()
    grants = {
        "password": _password_grant,
        "client_credentials": _client_credentials_grant,
        JWT_GRANT: _jwt_grant,
        "refresh_token": _refresh_token_grant,
        "authorization_code": _code_grant,
    }
    grant = grants.get(request.form.get("grant_type", ""))
    try:
        if grant is None:
            raise OAuthError("unsupported_grant_type", "grant type not supported")
        user_id = grant(org, request.form)
    except OAuthError as exc:
        return jsonify(error=exc.error, error_description=exc.description), 400
    body = issue_token(org, user_id)
    refresh = request.form.get("refresh_token") if grant is _refresh_token_grant else None
    if grant is _code_grant:
        from devorg.oauth_authorize import new_refresh_token

        # The web-server flow hands out a refresh token beside the access token.
        refresh = body["refresh_token"] = new_refresh_token(org, user_id)
        body["scope"] = "refresh_token api"
    if refresh is not None:
        with org.db.write() as conn:
            conn.execute(
                "INSERT INTO _devorg_refresh_session (session_token, refresh_token) VALUES (?,?)",
                (body["access_token"], refresh),
            )
    return jsonify(body)


@bp.route("/services/oauth2/revoke", methods=["GET", "POST"])
def revoke() -> Response | tuple[Response, int]:
    """Revoke an access token, or a refresh token with the sessions it issued."""
    value = request.values.get("token", "")
    with _org().db.write() as conn:
        changed = conn.execute(
            "UPDATE _devorg_session SET revoked = 1 WHERE token = ?", (value,)
        ).rowcount
        refreshed = conn.execute(
            "UPDATE _devorg_refresh_token SET revoked = 1 WHERE token = ? AND revoked = 0",
            (value,),
        ).rowcount
        if refreshed:
            conn.execute(
                "UPDATE _devorg_session SET revoked = 1 WHERE token IN (SELECT session_token "
                "FROM _devorg_refresh_session WHERE refresh_token = ?)",
                (value,),
            )
        changed += refreshed
    if not changed:
        return jsonify(error="unsupported_token_type", error_description="invalid token"), 400
    return Response(status=200)


@bp.route("/services/oauth2/userinfo", methods=["GET", "POST"])
def userinfo() -> Response | tuple[str, int]:
    """The user a token belongs to (OpenID Connect userinfo)."""
    org = _org()
    try:
        user_id = authenticate(org, request.headers.get("Authorization"))
    except Exception:
        # Salesforce answers a bad token here with a bare 403, not the REST error array.
        return "Bad_OAuth_Token", 403
    with org.db.read() as conn:
        cur = conn.execute('SELECT * FROM "User" WHERE Id = ?', (user_id,))
        row = dict(zip([d[0] for d in cur.description], cur.fetchone() or (), strict=False))
    return jsonify(
        sub=f"{org.base_url}/id/{org.creds.org_id}/{user_id}",
        user_id=user_id,
        organization_id=org.creds.org_id,
        preferred_username=row.get("Username"),
        name=row.get("Name"),
        given_name=row.get("FirstName"),
        family_name=row.get("LastName"),
        email=row.get("Email"),
        zoneinfo=row.get("TimeZoneSidKey"),
        locale="en_US",
        active=bool(row.get("IsActive")),
        user_type="STANDARD",
    )
