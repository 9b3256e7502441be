"""`/connect`: an admin connects a Salesforce org through the OAuth 2.0 web-server flow.

Who may: the holder of a connect link (`quotaflow orgs connect-link`, or the Connect button an
admin of a connected org sees on the Orgs page), valid for ten minutes. Opening it sets a
first-party cookie for `/connect` (these pages open in their own window, never in a frame:
Salesforce's login page refuses to be framed, and so do they). The cookie's random nonce binds
the OAuth state to this browser; the form carries a CSRF token derived from it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from connector.errors import ConfigError, ConnectorError
from connector.orgs.connect import begin, connect_app, finish
from connector.orgs.login_hosts import PRODUCTION, SANDBOX, LoginHostRefused
from connector.salesforce.http import make_http_session
from webapp.auth.guard import Refused

bp = Blueprint("connect", __name__)
COOKIE = "qf_connect"
TICKET_SECONDS = 600
COOKIE_SECONDS = 1800
# Only the connect pages themselves may submit their form, and only to Salesforce's login
# hosts (the form's answer redirects there); nothing may frame them.
CONNECT_CSP = (
    "default-src 'self'; style-src 'self'; img-src 'self' data:; script-src 'none'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self' {hosts}"
)


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def connect_ticket(secret_key: str, *, by: str) -> str:
    """A ten-minute ticket that lets its holder connect an org, naming who asked."""
    return URLSafeTimedSerializer(secret_key, salt="quotaflow-connect-ticket").dumps({"by": by})


def _settings() -> Any:
    return current_app.extensions["quotaflow.settings"]


def _now() -> datetime:
    return datetime.now(UTC)


def _visitor() -> dict[str, str]:
    """The connect cookie's {by, nonce}; 401 without a valid one."""
    raw = request.cookies.get(COOKIE, "")
    try:
        data = _serializer("quotaflow-connect-cookie").loads(raw, max_age=COOKIE_SECONDS)
    except BadSignature:
        raise Refused(
            401,
            "Open a connect link first: an admin gets one from the Orgs page, or an operator "
            "from `quotaflow orgs connect-link`.",
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("n"), str):
        raise Refused(401, "The connect cookie is not usable; open a new connect link.")
    return {"by": str(data.get("by", "")), "nonce": data["n"]}


def _csrf(nonce: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"connect-csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


def _page(template: str, status: int = 200, **context: Any) -> Response:
    settings = _settings()
    hosts = " ".join(
        (PRODUCTION, SANDBOX, "https://*.my.salesforce.com", *settings.connect_login_urls)
    )
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CONNECT_CSP.format(hosts=hosts)
    response.headers["X-Frame-Options"] = "DENY"
    return response


def _open_ticket(ticket: str) -> Response:
    try:
        data = _serializer("quotaflow-connect-ticket").loads(ticket, max_age=TICKET_SECONDS)
    except BadSignature:
        raise Refused(
            403, "This connect link is not valid or has expired; ask for a new one."
        ) from None
    by = str(data.get("by", "")) if isinstance(data, dict) else ""
    cookie = _serializer("quotaflow-connect-cookie").dumps(
        {"by": by, "n": secrets.token_urlsafe(32)}
    )
    response = redirect("/connect", code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=COOKIE_SECONDS,
        path="/connect",
        secure=(_settings().public_url or "").startswith("https://") or request.is_secure,
        httponly=True,
        # Lax: the callback is a top-level navigation from Salesforce back to us.
        samesite="Lax",
    )
    return response


@bp.get("/connect")
def connect_page() -> Response:
    """The login host form (after a connect link set the cookie)."""
    ticket = request.args.get("ticket")
    if ticket:
        return _open_ticket(ticket)
    visitor = _visitor()
    try:
        connect_app(_settings())
    except ConfigError as exc:
        raise Refused(503, f"Connecting orgs is not set up: {exc}.") from None
    return _page(
        "connect/connect.html",
        by=visitor["by"],
        csrf=_csrf(visitor["nonce"]),
        extra_hosts=_settings().connect_login_urls,
    )


@bp.post("/connect/start")
def connect_start() -> Response:
    """Store the attempt and send the browser to the chosen login host."""
    visitor = _visitor()
    if not hmac.compare_digest(request.form.get("csrf", ""), _csrf(visitor["nonce"])):
        raise Refused(403, "This form is out of date (CSRF check failed): reload, retry.")
    sessions = current_app.extensions["quotaflow.sessions"]
    try:
        url = begin(
            sessions,
            _settings(),
            choice=request.form.get("login", ""),
            my_domain=request.form.get("my_domain", ""),
            requested_by=visitor["by"],
            browser_nonce=visitor["nonce"],
            now=_now(),
        )
    except LoginHostRefused as exc:
        raise Refused(400, f"{exc}.") from None
    except ConfigError as exc:
        raise Refused(503, f"Connecting orgs is not set up: {exc}.") from None
    return redirect(url, code=303)


@bp.get("/connect/callback")
def connect_callback() -> Response:
    """Where Salesforce sends the browser back: exchange the code, register the org."""
    visitor = _visitor()
    error = request.args.get("error")
    if error:
        description = request.args.get("error_description", "")
        return _page(
            "connect/done.html",
            status=400,
            org=None,
            problem=f"Salesforce said: {error}. {description}",
        )
    settings = _settings()
    http = make_http_session(settings.sf_ca_bundle)
    try:
        org = finish(
            current_app.extensions["quotaflow.sessions"],
            settings,
            state=request.args.get("state", ""),
            code=request.args.get("code", ""),
            browser_nonce=visitor["nonce"],
            http=http,
            now=_now(),
        )
    except ConnectorError as exc:
        current_app.logger.warning("org connect refused: %s", exc)
        return _page("connect/done.html", status=400, org=None, problem=str(exc))
    finally:
        http.close()
    return _page("connect/done.html", org=org, problem=None)
