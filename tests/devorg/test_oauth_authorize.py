"""The web-server flow: authorize (login, consent), code exchange with PKCE, refresh, revoke."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from devorg.oauth_authorize import s256
from tests.devorg.authorize_kit import hidden_fields, sign_in_and_allow
from tests.devorg.conftest import http_session

API = "/services/data/v62.0"
CALLBACK = "https://quotaflow.example/connect/callback"


@pytest.fixture
def app_callbacks(api: Any) -> Any:
    api.control("POST", "/callback-urls", json={"urls": [CALLBACK]}).raise_for_status()
    yield
    api.control("POST", "/callback-urls", json={"urls": []}).raise_for_status()


def _authorize_url(api: Any, verifier: str, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": api.info.client_id,
        "redirect_uri": CALLBACK,
        "state": "st-1",
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
        **extra,
    }
    return f"{api.info.login_url}/services/oauth2/authorize?{urlencode(params)}"


def _code(api: Any, verifier: str, **extra: str) -> str:
    final = sign_in_and_allow(
        http_session(api.info),
        _authorize_url(api, verifier, **extra),
        username=api.info.username,
        password=api.info.password,
    )
    assert final.status_code == 302
    location = final.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["st-1"]
    return query["code"][0]


def _exchange(api: Any, code: str, verifier: str | None, **extra: str) -> Any:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": api.info.client_id,
        "client_secret": api.info.client_secret,
        "redirect_uri": CALLBACK,
        **extra,
    }
    if verifier is not None:
        form["code_verifier"] = verifier
    return api.session.post(api.info.login_url + "/services/oauth2/token", data=form, timeout=30)


def test_code_with_pkce_gives_tokens_that_refresh_and_revoke(api: Any, app_callbacks: Any) -> None:
    verifier = secrets.token_urlsafe(48)
    response = _exchange(api, _code(api, verifier), verifier)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["refresh_token"] and body["instance_url"] == api.info.instance_url
    assert body["id"].endswith(f"/id/{api.info.org_id}/" + body["id"].rsplit("/", 1)[1])
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    assert api.call("GET", f"{API}/limits/", headers=bearer).status_code == 200
    refresh_form = {
        "grant_type": "refresh_token",
        "refresh_token": body["refresh_token"],
        "client_id": api.info.client_id,
        "client_secret": api.info.client_secret,
    }
    url = api.info.login_url + "/services/oauth2/token"
    refreshed = api.session.post(url, data=refresh_form, timeout=30)
    assert refreshed.status_code == 200 and "refresh_token" not in refreshed.json()
    revoke = api.session.post(
        api.info.login_url + "/services/oauth2/revoke",
        data={"token": body["refresh_token"]},
        timeout=30,
    )
    assert revoke.status_code == 200
    # The refresh token and every session it issued are dead.
    again = api.session.post(url, data=refresh_form, timeout=30)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    after = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    assert api.call("GET", f"{API}/limits/", headers=after).status_code == 401


def test_code_is_single_use_and_bound_to_verifier_and_redirect(
    api: Any, app_callbacks: Any
) -> None:
    verifier = secrets.token_urlsafe(48)
    wrong = _exchange(api, _code(api, verifier), "x" * 50)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_request"
    code = _code(api, verifier)
    missing = _exchange(api, code, None)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_grant"
    # Used once (even in a failed exchange), never again.
    assert _exchange(api, code, verifier).json()["error"] == "invalid_grant"
    other = _exchange(api, _code(api, verifier), verifier, redirect_uri=CALLBACK + "x")
    assert other.status_code == 400 and other.json()["error"] == "invalid_grant"
    bad_secret = _exchange(api, _code(api, verifier), verifier, client_secret="nope")
    assert bad_secret.json()["error"] == "invalid_client"


def test_unregistered_redirect_uri_is_an_error_page_not_a_redirect(
    api: Any, app_callbacks: Any
) -> None:
    url = _authorize_url(api, "v" * 43, redirect_uri="https://evil.example/cb")
    page = http_session(api.info).get(url, timeout=30, allow_redirects=False)
    assert page.status_code == 400 and "redirect_uri_mismatch" in page.text
    assert "Location" not in page.headers
    bad_client = _authorize_url(api, "v" * 43, client_id="3MVG9nope")
    page = http_session(api.info).get(bad_client, timeout=30, allow_redirects=False)
    assert page.status_code == 400 and "invalid_client_id" in page.text


def test_wrong_password_and_denial(api: Any, app_callbacks: Any) -> None:
    browser = http_session(api.info)
    url = _authorize_url(api, "v" * 43)
    page = browser.get(url, timeout=30)
    form = hidden_fields(page.text) | {"username": api.info.username, "pw": "wrong"}
    again = browser.post(api.info.login_url + "/services/oauth2/authorize", data=form, timeout=30)
    assert "check your username and password" in again.text
    denied = sign_in_and_allow(
        browser, url, username=api.info.username, password=api.info.password, decision="deny"
    )
    query = parse_qs(urlsplit(denied.headers["Location"]).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["st-1"]
    assert "code" not in query
