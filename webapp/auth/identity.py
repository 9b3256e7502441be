"""Opening a session from a verified signed request: check the token with the org, then roles.

The org's answer is cached briefly (keyed by a hash of the token, never the token) so a
page that opens several Canvas frames costs one check; a revoked token is refused once the
cached answer ages out (IDENTITY_CACHE_SECONDS). Refusals are not cached.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Collection

from connector.salesforce.identity import IdentityClient, OrgIdentity, trusted_origin
from webapp.auth.canvas import CanvasRequest

IDENTITY_CACHE_SECONDS = 60
_MAX_ENTRIES = 10_000


class IdentityCache:
    """Asks the org who a Canvas token belongs to, remembering answers for a minute."""

    def __init__(
        self,
        client: IdentityClient,
        *,
        ttl: float = IDENTITY_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._answers: dict[str, tuple[float, OrgIdentity]] = {}

    def identify(self, request: CanvasRequest, *, allowed_origins: Collection[str]) -> OrgIdentity:
        """The org's identity for the request's token (TokenRefused if it is not accepted;
        HostRefused, before anything else, if the request names a host not in the org's)."""
        origin = trusted_origin(request.instance_url, allowed_origins)
        key = hashlib.sha256(
            f"{request.org_id}\0{request.user_id}\0{origin}\0{request.oauth_token}".encode(
                "utf-8", "surrogatepass"
            )
        ).hexdigest()
        now = self._clock()
        with self._lock:
            hit = self._answers.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
        identity = self._client.identify(
            instance_url=origin,
            allowed_origins=allowed_origins,
            token=request.oauth_token,
            user_id=request.user_id,
            org_id=request.org_id,
        )
        with self._lock:
            if len(self._answers) >= _MAX_ENTRIES:
                self._answers = {k: v for k, v in self._answers.items() if v[0] > now}
            self._answers[key] = (now + self._ttl, identity)
        return identity
