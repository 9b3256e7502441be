"""The HTTP session shared by the token exchange and the gateway."""

from __future__ import annotations

import ssl
from typing import Any

import requests
from requests.adapters import HTTPAdapter


class _TrustAdapter(HTTPAdapter):
    """Verifies TLS against one CA file, whatever the environment says, with one SSL context
    loaded once: urllib3 would read the CA file again for every new connection (a 200-CA file
    costs about 35 ms of CPU each time, and a server that closes connections makes every call
    a new one)."""

    def __init__(self, ca_bundle: str) -> None:
        self._context = ssl.create_default_context(cafile=ca_bundle)
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Every pool of this adapter uses the preloaded context."""
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        """Verify against the preloaded context only (requests would add certifi's file)."""
        conn.cert_reqs = "CERT_REQUIRED"
        conn.ca_certs = None
        conn.ca_cert_dir = None

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        """Send verifying against our context (REQUESTS_CA_BUNDLE would otherwise override)."""
        kwargs["verify"] = True
        return super().send(request, **kwargs)


def make_http_session(ca_bundle: str | None) -> requests.Session:
    """A session trusting `ca_bundle` (SF_CA_BUNDLE, e.g. the devorg's CA) or the system store."""
    session = requests.Session()
    if ca_bundle:
        session.mount("https://", _TrustAdapter(ca_bundle))
    return session
