"""The Flask app hosting Quotaflow's embedded views and JSON API."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from connector.settings import Settings

MAX_REQUEST_BYTES = 2 * 1024 * 1024  # a mapping or plan document is a few KB


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app for `settings` (read from the environment when not given)."""
    # Imported here, not with the package: every `quotaflow` command imports `webapp` (the
    # CLI lives in webapp.cli), and `quotaflow calc` needs neither Flask nor the database.
    from flask import Flask

    from connector.salesforce.identity import IdentityClient
    from connector.settings import load_settings
    from webapp.auth.identity import IdentityCache
    from webapp.auth.session import SessionTokens
    from webapp.db import init_db
    from webapp.errors import init_errors
    from webapp.params import init_params
    from webapp.render import init_render
    from webapp.security import init_security

    settings = settings if settings is not None else load_settings()
    app = Flask(__name__)
    app.config["SECRET_KEY"] = settings.require_secret_key()
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.extensions["quotaflow.settings"] = settings
    app.extensions["quotaflow.tokens"] = SessionTokens(app.config["SECRET_KEY"])
    app.extensions["quotaflow.identity"] = IdentityCache(
        IdentityClient(api_version=settings.sf_api_version, ca_bundle=settings.sf_ca_bundle)
    )
    init_db(app, settings)
    init_security(app, settings)
    init_errors(app)
    init_render(app)
    init_params(app)
    _register_blueprints(app, settings)
    return app


def _register_blueprints(app: Flask, settings: Settings) -> None:
    from webapp import admin, canvas, close, connect, disputes, health, manager, ops, ops_org, rep
    from webapp.api import bp as api_bp
    from webapp.api import close as api_close  # noqa: F401  (each adds routes)
    from webapp.api import disputes as api_disputes  # noqa: F401
    from webapp.api import earnings, mappings, openapi, org, sync  # noqa: F401
    from webapp.api import periods as api_periods  # noqa: F401

    for module in (health, canvas, connect, rep, manager, admin, ops, ops_org, disputes, close):
        app.register_blueprint(module.bp)
    app.register_blueprint(api_bp)
    if settings.demo_mode:
        from webapp import demo

        app.register_blueprint(demo.bp)
