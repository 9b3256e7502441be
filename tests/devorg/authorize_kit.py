"""A browser stand-in for the devorg's login and consent pages (forms parsed, posted back)."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urljoin

import requests

_INPUT = re.compile(r"<input type='hidden' name='([^']*)' value='([^']*)'>")


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a devorg page."""
    return {unescape(k): unescape(v) for k, v in _INPUT.findall(html)}


def sign_in_and_allow(
    browser: requests.Session,
    authorize_url: str,
    *,
    username: str,
    password: str,
    decision: str = "allow",
) -> requests.Response:
    """Open the authorize URL, log in, answer the consent page; the final redirect (302)."""
    page = browser.get(authorize_url, timeout=30, allow_redirects=False)
    assert page.status_code == 200, page.text
    form = hidden_fields(page.text) | {"username": username, "pw": password}
    action = urljoin(authorize_url, "/services/oauth2/authorize")
    consent = browser.post(action, data=form, timeout=30, allow_redirects=False)
    assert consent.status_code == 200 and "Allow Access?" in consent.text, consent.text
    answer = hidden_fields(consent.text) | {"decision": decision}
    return browser.post(action, data=answer, timeout=30, allow_redirects=False)
