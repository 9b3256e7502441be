"""Security tests run against the same synced demo org as the web tests."""

from __future__ import annotations

from tests.webapp.conftest import web

__all__ = ["web"]
