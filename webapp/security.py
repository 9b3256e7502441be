"""Security headers: a strict CSP whose frame-ancestors allow only the org's hosts; no-store."""

from __future__ import annotations

from flask import Flask, Response, request

from connector.settings import Settings

# Salesforce frames the app from Lightning, My Domain and Visualforce hosts; when the
# deployment does not name them we allow Salesforce's own domains (never `*`).
DEFAULT_FRAME_ANCESTORS = (
    "'self'",
    "https://*.lightning.force.com",
    "https://*.my.salesforce.com",
    "https://*.vf.force.com",
)


def content_security_policy(settings: Settings) -> str:
    """The CSP header value for `settings`."""
    ancestors = settings.frame_ancestors or DEFAULT_FRAME_ANCESTORS
    return "; ".join(
        (
            "default-src 'self'",
            "img-src 'self' data:",
            "style-src 'self'",
            "script-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors " + " ".join(ancestors),
        )
    )


def init_security(app: Flask, settings: Settings) -> None:
    """Add the security headers to every response (no X-Frame-Options: we are framed)."""
    csp = content_security_policy(settings)

    @app.after_request
    def _headers(response: Response) -> Response:
        if request.endpoint != "static":
            # Pages and API answers carry pay data, session tokens (in forms, or the JSON of
            # /canvas) and CSRF tokens; no browser, proxy or back-forward cache may keep them.
            response.headers["Cache-Control"] = "no-store"
        # A page with a policy of its own (/connect, never framed) keeps it.
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response
