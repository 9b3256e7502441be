"""Admin views: field mappings, plans and period locks, and who holds admin and ops."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Each module adds its routes to `bp` (defined first, above).
from webapp.admin import mappings, plans, roles, writeback_fields  # noqa: E402, F401
