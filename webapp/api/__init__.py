"""The JSON API (docs/web/index.md, "Routes"): the same authorization as the HTML views.

Calls carry `Authorization: Bearer <token>` from POST /canvas. Each module adds its routes
to the one blueprint.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from webapp.auth.guard import bad_request

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def json_object_body() -> dict[str, Any]:
    """The request's JSON object body ({} when empty); 400 when it is anything else."""
    try:
        body = request.get_json(silent=True) if request.data else {}
    except RecursionError:
        raise bad_request("the body is nested too deeply to read") from None
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    return body
