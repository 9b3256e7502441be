"""Canvas signed requests: the CanvasRequest envelope Salesforce POSTs to a Canvas app, and its
signature (`base64(HMAC-SHA256(consumer secret, encodedEnvelope)) + "." + encodedEnvelope`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from devorg.config import API_VERSION
from devorg.schema import id_suffix

ORG_NAME = "Quotaflow Devorg"
# The Canvas app's id in this org (a connected app id, prefix 0H4), used in `instanceId`.
_APP_ID15 = "0H45g0000000001"
CANVAS_APP_ID = _APP_ID15 + id_suffix(_APP_ID15)
# Winter '25 is API 62.0.
_SEASON = "WINTER"
DIMENSIONS = {
    "width": "100%",
    "height": "900px",
    "maxWidth": "infinite",
    "maxHeight": "2000px",
    "clientWidth": "1200px",
    "clientHeight": "900px",
}


@dataclass(frozen=True)
class Placement:
    """Where the app is shown: Canvas display location, instance name, host page, record."""

    display_location: str  # PageLayout, LightningComponent or UtilityBar
    instance: str  # the part of `client.instanceId` after the app id
    page_url: str
    record: tuple[str, str] | None = None  # (object name, 18-char id)


def sign(envelope: Mapping[str, Any], secret: str) -> str:
    """The `signed_request` value of an envelope, signed with the canvas (consumer) secret."""
    encoded = base64.b64encode(json.dumps(envelope, separators=(",", ":")).encode()).decode()
    # Salesforce signs the still-encoded envelope, not the JSON.
    digest = hmac.new(secret.encode(), encoded.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode() + "." + encoded


def build_envelope(
    *, org_id: str, base_url: str, user: Mapping[str, Any], token: str, placement: Placement
) -> dict[str, Any]:
    """The CanvasRequest JSON for `user` (a User row) seeing the app at `placement`."""
    return {
        "algorithm": "HMACSHA256",
        # Salesforce sends a random number here, not a time: apps must not read it as one.
        "issuedAt": secrets.randbelow(2**31),
        "userId": user["Id"],
        "client": {
            "instanceId": f"{CANVAS_APP_ID}:{placement.instance}",
            "targetOrigin": base_url,
            "instanceUrl": base_url,
            "oauthToken": token,
            "refreshToken": None,
        },
        "context": {
            "user": _user_context(user),
            "organization": {
                "organizationId": org_id,
                "name": ORG_NAME,
                "multicurrencyEnabled": False,
                "namespacePrefix": None,
                "currencyIsoCode": "USD",
            },
            "environment": _environment(placement),
            "links": _links(org_id, base_url, str(user["Id"])),
        },
    }


def _user_context(user: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "userId": user["Id"],
        "userName": user["Username"],
        "firstName": user.get("FirstName"),
        "lastName": user["LastName"],
        "email": user["Email"],
        "fullName": user.get("Name"),
        "locale": "en_US",
        "language": "en_US",
        "timeZone": user.get("TimeZoneSidKey"),
        "profileId": user.get("ProfileId"),
        "roleId": None,
        "userType": "STANDARD",
        "currencyISOCode": user.get("CurrencyIsoCode") or "USD",
        "accessibilityModeEnabled": False,
    }


def _environment(placement: Placement) -> dict[str, Any]:
    env: dict[str, Any] = {
        "referer": None,
        "locationUrl": placement.page_url,
        "displayLocation": placement.display_location,
        "sublocation": None,
        "uiTheme": "Theme4d",
        "dimensions": dict(DIMENSIONS),
        "parameters": {},
        "version": {"season": _SEASON, "api": API_VERSION},
    }
    if placement.record is not None:
        name, record_id = placement.record
        env["parameters"] = {"recordId": record_id}
        url = f"/services/data/v{API_VERSION}/sobjects/{name}/{record_id}"
        env["record"] = {"attributes": {"type": name, "url": url}, "Id": record_id}
    return env


def _links(org_id: str, base_url: str, user_id: str) -> dict[str, str]:
    data = f"/services/data/v{API_VERSION}"
    soap = f"/services/Soap/{{}}/{API_VERSION}/{org_id[:15]}"
    return {
        "loginUrl": base_url,
        "enterpriseUrl": soap.format("c"),
        "metadataUrl": soap.format("m"),
        "partnerUrl": soap.format("u"),
        "restUrl": f"{data}/",
        "sobjectUrl": f"{data}/sobjects/",
        "searchUrl": f"{data}/search/",
        "queryUrl": f"{data}/query/",
        "recentItemsUrl": f"{data}/recent/",
        "chatterFeedsUrl": f"{data}/chatter/feeds",
        "chatterGroupsUrl": f"{data}/chatter/groups",
        "chatterUsersUrl": f"{data}/chatter/users",
        "chatterFeedItemsUrl": f"{data}/chatter/feed-items",
        "userUrl": f"/{user_id}",
    }
