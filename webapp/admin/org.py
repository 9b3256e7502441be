"""The org behind the admin views: one lazily built gateway per app, for live describes.

The gateway keeps its own describe cache (GatewayOptions.describe_ttl_seconds), so the
mapping editor asks Salesforce at most once per object per TTL, not once per keystroke.
"""

from __future__ import annotations

import threading

from flask import current_app

from connector.deps import build_gateway
from connector.reports.admin_mappings import Describer, describer
from connector.salesforce.gateway import Gateway, GatewayOptions
from connector.salesforce.retry import RetryPolicy
from connector.settings import Settings

_KEY = "quotaflow.admin.gateway"
_LOCK = threading.Lock()
# A page waits for the org, so fail fast: two tries, short timeouts.
WEB_OPTIONS = GatewayOptions(timeout=(5.0, 20.0))
WEB_RETRY = RetryPolicy(attempts=2, base_seconds=0.2, cap_seconds=1.0)


def org_gateway() -> Gateway | None:
    """The app's gateway to its org, built on first use; None when no org is configured."""
    extensions = current_app.extensions
    if _KEY not in extensions:
        with _LOCK:
            if _KEY not in extensions:
                settings: Settings = extensions["quotaflow.settings"]
                configured = bool(settings.sf_login_url and settings.sf_client_id)
                extensions[_KEY] = (
                    build_gateway(settings, options=WEB_OPTIONS, retry=WEB_RETRY)
                    if configured
                    else None
                )
    found: Gateway | None = extensions[_KEY]
    return found


def org_describer() -> Describer | None:
    """Describe lookups against the org, or None when no org is configured."""
    gateway = org_gateway()
    return describer(gateway) if gateway is not None else None
