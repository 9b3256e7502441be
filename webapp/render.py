"""What every page gets: the viewer, a fresh session token and CSRF token, the tabs, filters."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask, current_app, g

from webapp.auth.guard import CSRF_FIELD, TOKEN_FIELD, tokens
from webapp.auth.session import Viewer

# The tabs, in order: (endpoint, label, roles that see it).
TABS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("rep.home", "My earnings", ("rep",)),
    ("manager.team", "Teams", ("manager", "admin")),
    ("disputes.index", "Disputes", ("rep", "manager", "admin")),
    ("close.my_plan", "My plan", ("rep",)),
    ("ops.runs", "Sync", ("ops", "admin")),
    ("ops_org.org", "Org", ("ops", "admin")),
    ("admin.mappings", "Mappings", ("admin",)),
    ("admin.plans", "Plans & periods", ("admin",)),
    ("admin.roles", "Access", ("admin",)),
    ("close.acceptance", "Acceptance", ("admin",)),
    ("close.statements", "Close", ("manager", "admin")),
)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def money(value: Any, currency: str = "USD") -> str:
    """`$12,345.67` (negative as `-$12.00`); blank for nothing."""
    amount = _decimal(value)
    if amount is None:
        return "—"
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency, currency + " ")
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,.2f}"


def percent(value: Any, places: int = 1) -> str:
    """A fraction as a percentage: 1.3 -> `130.0%`."""
    amount = _decimal(value)
    if amount is None:
        return "—"
    return f"{amount * 100:,.{places}f}%"


def tabs_for(viewer: Viewer) -> list[tuple[str, str]]:
    """The tabs a viewer sees."""
    views = current_app.view_functions
    return [(e, label) for e, label, roles in TABS if viewer.has(*roles) and e in views]


def fresh_token(viewer: Viewer) -> str:
    """The renewed session token this request's page carries (issued once per request)."""
    if "fresh_token" not in g:
        g.fresh_token = tokens().issue(viewer)
    token: str = g.fresh_token
    return token


def init_render(app: Flask) -> None:
    """Register the context processor and filters."""
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["percent"] = percent

    @app.context_processor
    def _page_context() -> dict[str, Any]:
        viewer: Viewer | None = g.get("viewer")
        if viewer is None:
            return {"viewer": None, "tabs": [], "token_field": TOKEN_FIELD}
        return {
            "viewer": viewer,
            "qf_token": fresh_token(viewer),
            "qf_csrf": tokens().csrf(viewer),
            "token_field": TOKEN_FIELD,
            "csrf_field": CSRF_FIELD,
            "tabs": tabs_for(viewer),
            "demo_mode": app.extensions["quotaflow.settings"].demo_mode,
        }
