"""`GET /healthz`: liveness and database reachability for load balancers and ops."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from webapp.db import database_ok

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """`{"status": "ok", "database": "ok"}`, or 503 naming what is down."""
    if database_ok():
        return jsonify(status="ok", database="ok"), 200
    return jsonify(status="error", database="unreachable"), 503
