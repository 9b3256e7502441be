"""The org's own HTTPS origins: the only hosts a user's OAuth token is ever sent to."""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_ORIGIN = 255


def https_origin(url: object) -> str | None:
    """`https://host[:port]` (lowercase host, default port dropped) for a bare https URL, else
    None: no credentials, query, fragment or path beyond `/`."""
    if not isinstance(url, str) or len(url) > MAX_ORIGIN or not url.isascii():
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() != "https" or not host or parts.username or parts.password:
        return None
    if parts.query or parts.fragment or parts.path not in ("", "/"):
        return None
    if any(not (c.isalnum() or c in ".-") for c in host) or host.startswith((".", "-")):
        return None
    return f"https://{host}" if port in (None, 443) else f"https://{host}:{port}"
