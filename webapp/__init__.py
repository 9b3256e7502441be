"""The Flask app hosting Quotaflow's embedded views and JSON API."""

from __future__ import annotations

from flask import Flask

from connector.settings import Settings, load_settings
from webapp.db import init_db
from webapp.security import init_security


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app for `settings` (read from the environment when not given)."""
    settings = settings if settings is not None else load_settings()
    app = Flask(__name__)
    app.config["SECRET_KEY"] = settings.require_secret_key()
    app.extensions["quotaflow.settings"] = settings
    init_db(app, settings)
    init_security(app, settings)

    from webapp.health import bp as health_bp

    app.register_blueprint(health_bp)
    return app
