"""`/healthz` answers the contract shape and carries the security headers."""

from __future__ import annotations

from connector.settings import Settings
from webapp import create_app


def test_healthz_ok(sqlite_settings: Settings) -> None:
    client = create_app(sqlite_settings).test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database() -> None:
    # Port 1 on loopback refuses connections at once.
    settings = Settings(
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none",
        secret_key="k-0123456789abcdef0123456789abcdef",
    )
    response = create_app(settings).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unreachable"}


def test_security_headers(sqlite_settings: Settings) -> None:
    settings = sqlite_settings.with_overrides(frame_ancestors=("https://acme.lightning.force.com",))
    response = create_app(settings).test_client().get("/healthz")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors https://acme.lightning.force.com" in csp
    assert "script-src 'self'" in csp
    assert "X-Frame-Options" not in response.headers
