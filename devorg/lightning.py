"""Lightning-like host pages that frame the Quotaflow Canvas app with a real signed request.

- `GET /lightning/r/{Object}/{id}/view`: a record page (highlights panel and a Quotaflow card).
- `GET /lightning/page/home`: the Home page with the same card.
- `?user=<userId>` (or a username) picks who views the page (a test double for a login);
  without it the org's admin user (admin@quotaflow.devorg, else the integration user) views it.
- `?location=utility` shows the app in a 360 px utility-bar panel instead of the card.

These are pages, not API calls: no bearer token, not counted against the API limit.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, render_template, request

from devorg import auth, schema, soql
from devorg.canvas_request import Placement, build_envelope, sign
from devorg.config import API_VERSION
from devorg.rest import org
from devorg.state import Org
from devorg.store import id18, quote

bp = Blueprint("lightning", __name__, url_prefix="/lightning", template_folder="lightning_assets")
_ASSETS = Path(__file__).parent / "lightning_assets"
ADMIN_USERNAME = "admin@quotaflow.devorg"
# The no-JS fallback is the form's own "Open Quotaflow" button; this presses it and then
# hides it, as Salesforce shows only the framed app.
CANVAS_JS = """document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.submit();
    form.hidden = true;
  });
});
"""
# Record highlights: (label, SOQL field path, kind) per object.
HIGHLIGHTS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "Opportunity": (
        ("Amount", "Amount", "currency"),
        ("Close Date", "CloseDate", "date"),
        ("Stage", "StageName", "text"),
        ("Owner", "Owner.Name", "text"),
    ),
    "User": (
        ("Name", "Name", "text"),
        ("Email", "Email", "text"),
        ("Manager", "Manager.Name", "text"),
    ),
    "Account": (
        ("Type", "Type", "text"),
        ("Industry", "Industry", "text"),
        ("Owner", "Owner.Name", "text"),
    ),
}
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}
NONE = "'none'"


class PageNotFound(Exception):
    """A host page for a record or user that does not exist (rendered as an HTML 404)."""


@bp.get("/assets/<name>")
def asset(name: str) -> Response:
    """The page's stylesheet and its auto-submit script."""
    if name == "canvas.js":
        return Response(CANVAS_JS, content_type="text/javascript; charset=utf-8")
    if name == "lightning.css":
        css = (_ASSETS / name).read_text(encoding="utf-8")
        return Response(css, content_type="text/css; charset=utf-8")
    raise PageNotFound(f"No asset named {name}")


@bp.get("/page/home")
def home() -> Response:
    """The Home page with the Quotaflow card."""
    state = org()
    with state.db.read() as conn:
        user = _viewer(conn, state)
    utility = request.args.get("location") == "utility"
    placement = _placement("LightningComponent", "home", utility, record=None)
    page = {"title": "Home", "object_label": "Home", "object_plural": "Opportunities"}
    return _render(state, user, placement, page, highlights=[], home=True)


@bp.get("/r/<object_name>/<record_id>/view")
def record_page(object_name: str, record_id: str) -> Response:
    """A record page: highlights panel with key fields and the Quotaflow card."""
    state = org()
    obj = schema.get_object(object_name)
    if obj is None:
        raise PageNotFound(f"No object named {object_name} in this org")
    with state.db.read() as conn:
        user = _viewer(conn, state)
        record = _record(conn, obj, record_id)
    utility = request.args.get("location") == "utility"
    placement = _placement("PageLayout", "record", utility, record=(obj.name, record["Id"]))
    title = str(record.get("Name") or record["Id"]) if obj.field("Name") else record["Id"]
    page = {"title": title, "object_label": obj.label, "object_plural": obj.label_plural}
    highlights = [
        (label, _display(_path_value(record, path), kind, record.get("CurrencyIsoCode")))
        for label, path, kind in HIGHLIGHTS.get(obj.name, ())
    ]
    return _render(state, user, placement, page, highlights=highlights, home=False)


@bp.errorhandler(PageNotFound)
def _not_found(exc: PageNotFound) -> Response:
    body = render_template(
        "lightning_page.html",
        status=404,
        message=str(exc),
        title="Page not found",
        user=None,
        home=False,
        object_plural="",
        home_url=_home_url(),
    )
    return _with_headers(Response(body, status=404, content_type="text/html; charset=utf-8"), None)


def _viewer(conn: sqlite3.Connection, state: Org) -> dict[str, Any]:
    """The User row the page acts as: `?user=`, else the admin (or integration) user."""
    wanted = request.args.get("user", "").strip()
    if not wanted:
        for username in (ADMIN_USERNAME, state.creds.username):
            row = _user_row(conn, "lower(Username) = lower(?)", username)
            if row is not None:
                return row
        raise PageNotFound("This org has no admin user to act as: pass ?user=<userId>")
    user_id = id18(wanted)
    row = _user_row(conn, "Id = ?", user_id) if user_id else None
    if row is None and "@" in wanted:  # a username is handier in demo links than an id
        row = _user_row(conn, "lower(Username) = lower(?)", wanted)
    if row is None:
        raise PageNotFound(f"No user with id {wanted} in this org")
    if not row["IsActive"]:
        raise PageNotFound(f"User {wanted} ({row['Username']}) is inactive and cannot log in")
    return row


def _user_row(conn: sqlite3.Connection, where: str, value: Any) -> dict[str, Any] | None:
    cur = conn.execute(f'SELECT * FROM "User" WHERE {where}', (value,))
    row = cur.fetchone()
    return None if row is None else dict(zip([d[0] for d in cur.description], row, strict=True))


def _record(conn: sqlite3.Connection, obj: schema.ObjectSpec, raw_id: str) -> dict[str, Any]:
    """The record's Id, Name and highlight fields (parent names by SOQL), or PageNotFound."""
    record_id = id18(raw_id)
    if record_id is None or schema.object_for_id(record_id) is not obj:
        raise PageNotFound(f"No {obj.label} with id {raw_id}")
    paths = ["Id"] + (["Name"] if obj.field("Name") else [])
    paths += ["CurrencyIsoCode"] if obj.field("CurrencyIsoCode") else []
    paths += [path for _, path, _ in HIGHLIGHTS.get(obj.name, ()) if path not in paths]
    text = f"SELECT {', '.join(paths)} FROM {obj.name} WHERE Id = '{record_id}'"
    compiled = soql.compile_query(text, include_deleted=False)
    row = conn.execute(compiled.sql, compiled.params).fetchone()
    if row is None:
        found = conn.execute(f"SELECT 1 FROM {quote(obj.name)} WHERE Id = ?", (record_id,))
        gone = found.fetchone() is not None
        raise PageNotFound(f"{obj.label} {raw_id} " + ("is deleted" if gone else "does not exist"))
    return compiled.shape(row, base_url_prefix=f"/services/data/v{API_VERSION}")


def _path_value(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _display(value: Any, kind: str, currency: str | None) -> str:
    """A field value as Lightning shows it to an en_US user."""
    if value is None or value == "":
        return ""
    if kind == "currency":
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
        iso = currency or "USD"
        return f"{_SYMBOLS.get(iso, iso + ' ')}{amount:,.2f}"
    if kind == "date":
        day = dt.date.fromisoformat(str(value))
        return f"{day.month}/{day.day}/{day.year}"
    return str(value)


def _base_url() -> str:
    return org().base_url or request.host_url.rstrip("/")


def _home_url() -> str:
    user = request.args.get("user")
    return "/lightning/page/home" + (f"?{urlencode({'user': user})}" if user else "")


def _placement(
    display: str, instance: str, utility: bool, *, record: tuple[str, str] | None
) -> Placement:
    page_url = _base_url() + request.full_path.rstrip("?")
    if utility:
        display, instance = "UtilityBar", "utility"
    return Placement(display, instance, page_url, record)


def _render(
    state: Org,
    user: dict[str, Any],
    placement: Placement,
    page: dict[str, str],
    *,
    highlights: list[tuple[str, str]],
    home: bool,
) -> Response:
    canvas_url = state.config.canvas_url
    signed = None
    if canvas_url:
        # A real session of this user, so the app can call userinfo and the REST API with it.
        token = auth.issue_token(state, str(user["Id"]))["access_token"]
        envelope = build_envelope(
            org_id=state.creds.org_id,
            base_url=_base_url(),
            user=user,
            token=token,
            placement=placement,
        )
        signed = sign(envelope, state.creds.client_secret)
    body = render_template(
        "lightning_page.html",
        status=200,
        user=user,
        home=home,
        home_url=_home_url(),
        utility=placement.display_location == "UtilityBar",
        highlights=highlights,
        canvas_url=canvas_url,
        signed_request=signed,
        **page,
    )
    return _with_headers(Response(body, content_type="text/html; charset=utf-8"), canvas_url)


def _with_headers(response: Response, canvas_url: str | None) -> Response:
    """CSP: framable only by the devorg itself; frames and form posts only to the app."""
    app_origin = _origin(canvas_url) if canvas_url else None
    policy = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        f"frame-src {app_origin or NONE}",
        "form-action 'self'" + (f" {app_origin}" if app_origin else ""),
        "frame-ancestors 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
    response.headers["Content-Security-Policy"] = "; ".join(policy)
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "no-store"  # the page carries a live session token
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
