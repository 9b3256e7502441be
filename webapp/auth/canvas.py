"""Verifying a Canvas signed request: the only way a user's identity enters Quotaflow.

Salesforce POSTs `signed_request = <signature>.<envelope>` where the envelope is the base64
of the CanvasRequest JSON and the signature is the base64 HMAC-SHA256 of the *still-encoded*
envelope under the connected app's consumer secret. We split on the first `.`, compare in
constant time and only then decode the JSON; the envelope names its `algorithm`, which must
be the one we verify with.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

from connector.salesforce.ids import same_id

ALGORITHM = "HMACSHA256"
_HEADER_SAFE = re.compile(r"[\x21-\x7e]{1,4096}")
MAX_SIGNED_REQUEST = 64 * 1024  # real ones are a few KB; refuse anything absurd before work


class CanvasRefused(Exception):
    """A signed request we do not accept; the message is safe to show the user."""


@dataclass(frozen=True, slots=True)
class CanvasRequest:
    """The parts of a verified signed request that Quotaflow uses."""

    user_id: str
    org_id: str
    oauth_token: str
    instance_url: str
    user_name: str
    full_name: str
    profile_id: str | None
    record_type: str | None
    record_id: str | None
    display_location: str | None


def _b64decode(text: str, what: str) -> bytes:
    # Salesforce's SDKs emit standard base64; accept the URL-safe alphabet and missing padding.
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise CanvasRefused(f"the signed request's {what} is not valid base64") from None


def _field(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _text(envelope: Any, *path: str, required: bool = True) -> str | None:
    value = _field(envelope, *path)
    if isinstance(value, str) and value.strip():
        return value
    if required:
        raise CanvasRefused(f"the signed request has no {'.'.join(path)}")
    return None


def _envelope(raw: str, secret: str) -> Any:
    if not raw or len(raw) > MAX_SIGNED_REQUEST:
        raise CanvasRefused("the signed request is missing or too long")
    signature, dot, encoded = raw.partition(".")
    if not dot or not signature or not encoded:
        raise CanvasRefused("the signed request is not <signature>.<envelope>")
    expected = hmac.new(secret.encode(), encoded.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(_b64decode(signature, "signature"), expected):
        raise CanvasRefused("the signed request's signature does not match the consumer secret")
    try:
        return json.loads(_b64decode(encoded, "envelope").decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CanvasRefused("the signed request's envelope is not JSON") from None
    except RecursionError:
        raise CanvasRefused("the signed request's envelope is nested too deeply") from None


def verify_signed_request(raw: str, *, secret: str) -> CanvasRequest:
    """The verified request, or CanvasRefused saying what is wrong (never another error)."""
    envelope = _envelope(raw, secret)
    if not isinstance(envelope, dict):
        raise CanvasRefused("the signed request's envelope is not an object")
    algorithm = envelope.get("algorithm")
    # Exactly Salesforce's spelling: a lenient comparison invites look-alike values.
    if algorithm != ALGORITHM:
        raise CanvasRefused(f"the signed request's algorithm must be {ALGORITHM}")
    user_id = _text(envelope, "userId") or ""
    context_user = _text(envelope, "context", "user", "userId") or ""
    if not same_id(context_user, user_id):
        raise CanvasRefused("the signed request names two different users")
    oauth_token = _text(envelope, "client", "oauthToken") or ""
    if _HEADER_SAFE.fullmatch(oauth_token) is None:
        # It goes into an Authorization header to Salesforce: printable ASCII only, or the
        # HTTP client fails (non-Latin-1) or a CR/LF would smuggle a header of its own.
        raise CanvasRefused("the signed request's client.oauthToken is not a Salesforce token")
    record = _field(envelope, "context", "environment", "record")
    record_id = _text(envelope, "context", "environment", "record", "Id", required=False)
    record_id = record_id or _text(
        envelope, "context", "environment", "parameters", "recordId", required=False
    )
    return CanvasRequest(
        user_id=user_id,
        org_id=_text(envelope, "context", "organization", "organizationId") or "",
        oauth_token=oauth_token,
        instance_url=_text(envelope, "client", "instanceUrl") or "",
        user_name=_text(envelope, "context", "user", "userName", required=False) or "",
        full_name=_text(envelope, "context", "user", "fullName", required=False) or "",
        profile_id=_text(envelope, "context", "user", "profileId", required=False),
        record_type=_text(record, "attributes", "type", required=False),
        record_id=record_id,
        display_location=_text(
            envelope, "context", "environment", "displayLocation", required=False
        ),
    )


def claimed_org_id(raw: str) -> str | None:
    """The organizationId a signed request claims, read WITHOUT verifying it: only to choose
    which org's consumer secret to verify it with (the verified envelope is the same one)."""
    if not raw or len(raw) > MAX_SIGNED_REQUEST:
        return None
    _, dot, encoded = raw.partition(".")
    try:
        envelope = json.loads(_b64decode(encoded, "envelope").decode("utf-8")) if dot else None
    except (CanvasRefused, UnicodeDecodeError, ValueError, RecursionError):
        return None
    return _text(envelope, "context", "organization", "organizationId", required=False)
