"""The HTTP session shared by the token exchange and the gateway."""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter


class _TrustAdapter(HTTPAdapter):
    """Verifies TLS against one CA file, whatever the environment says."""

    def __init__(self, ca_bundle: str) -> None:
        super().__init__()
        self._ca_bundle = ca_bundle

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        """Send with our CA file (REQUESTS_CA_BUNDLE would otherwise override session.verify)."""
        kwargs["verify"] = self._ca_bundle
        return super().send(request, **kwargs)


def make_http_session(ca_bundle: str | None) -> requests.Session:
    """A session trusting `ca_bundle` (SF_CA_BUNDLE, e.g. the devorg's CA) or the system store."""
    session = requests.Session()
    if ca_bundle:
        session.mount("https://", _TrustAdapter(ca_bundle))
    return session
