"""Getting real signed requests from the devorg's Lightning pages, and forging bad ones."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
from typing import Any

import requests

from devorg.process import DevorgInfo

_FIELD = re.compile(r'name="signed_request"\s+value="([^"]*)"')


def http(info: DevorgInfo) -> requests.Session:
    """A session trusting the devorg's CA (and nothing from the environment)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = info.ca_cert
    return session


def set_canvas_url(info: DevorgInfo, url: str) -> None:
    """Point the devorg's Lightning pages at `url`."""
    response = http(info).post(f"{info.instance_url}/__devorg/canvas", json={"url": url})
    assert response.status_code < 300, response.text


def signed_request(info: DevorgInfo, user: str, *, record: str | None = None) -> str:
    """The signed request the devorg's page for `user` carries (a fresh token each time)."""
    path = f"/lightning/r/Opportunity/{record}/view" if record else "/lightning/page/home"
    page = http(info).get(f"{info.instance_url}{path}", params={"user": user})
    assert page.status_code == 200, page.text[:300]
    found = _FIELD.search(page.text)
    assert found, "no signed_request field on the devorg page"
    return html.unescape(found.group(1))


def envelope(signed: str) -> dict[str, Any]:
    """The decoded envelope of a signed request."""
    encoded = signed.split(".", 1)[1]
    decoded: dict[str, Any] = json.loads(base64.b64decode(encoded + "=" * (-len(encoded) % 4)))
    return decoded


def sign(doc: Any, secret: str) -> str:
    """Sign an envelope as Salesforce does."""
    encoded = base64.b64encode(json.dumps(doc).encode()).decode()
    digest = hmac.new(secret.encode(), encoded.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode() + "." + encoded


def revoke(info: DevorgInfo, token: str) -> None:
    """Revoke an OAuth token in the devorg."""
    response = http(info).post(f"{info.instance_url}/services/oauth2/revoke", data={"token": token})
    assert response.status_code == 200, response.text
