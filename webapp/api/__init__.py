"""The JSON API (docs/web/index.md, "Routes"): the same authorization as the HTML views.

Calls carry `Authorization: Bearer <token>` from POST /canvas. Each module adds its routes
to the one blueprint.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
