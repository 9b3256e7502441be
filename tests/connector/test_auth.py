"""The OAuth token exchange, at the wire with `responses`."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs

import jwt
import pytest
import requests
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connector.errors import ConfigError
from connector.salesforce.auth import Authenticator, jwt_audience, parse_identity_url
from connector.salesforce.errors import AuthError
from connector.salesforce.retry import RetryPolicy
from connector.settings import Settings

LOGIN = "https://login.example.test"
TOKEN_URL = f"{LOGIN}/services/oauth2/token"
ORG = "00D000000000001AAA"
USER = "005000000000001AAA"
OK_BODY = {
    "access_token": "tok-1",
    "instance_url": "https://org.example.test",
    "id": f"{LOGIN}/id/{ORG}/{USER}",
    "token_type": "Bearer",
    "issued_at": "1",
    "signature": "x",
}
NO_WAIT = RetryPolicy(attempts=3, sleep=lambda _s: None)


def _settings(**overrides: object) -> Settings:
    base = Settings(
        sf_login_url=LOGIN,
        sf_auth="password",
        sf_client_id="cid",
        sf_client_secret="secret",
        sf_username="integration@example.test",
        sf_password="pw",
    )
    return base.with_overrides(**overrides)


def _auth(settings: Settings) -> Authenticator:
    return Authenticator(settings, session=requests.Session(), retry=NO_WAIT)


@responses.activate
def test_password_flow_reads_org_from_identity_url_and_reuses_the_token() -> None:
    responses.post(TOKEN_URL, json=OK_BODY)
    auth = _auth(_settings())
    first = auth.token()
    assert (first.org_id, first.user_id, first.access_token) == (ORG, USER, "tok-1")
    assert auth.token() is first
    assert len(responses.calls) == 1
    form = parse_qs(str(responses.calls[0].request.body))
    assert form["grant_type"] == ["password"]
    assert form["username"] == ["integration@example.test"]


@responses.activate
def test_refresh_replaces_only_the_stale_token() -> None:
    responses.post(TOKEN_URL, json=OK_BODY)
    responses.post(TOKEN_URL, json={**OK_BODY, "access_token": "tok-2"})
    auth = _auth(_settings())
    stale = auth.token()
    fresh = auth.refresh(stale)
    assert fresh.access_token == "tok-2"
    assert auth.refresh(stale) is fresh  # a second caller with the same stale token: no login
    assert len(responses.calls) == 2


@responses.activate
def test_client_credentials_flow_sends_no_username() -> None:
    responses.post(TOKEN_URL, json=OK_BODY)
    _auth(_settings(sf_auth="client_credentials")).token()
    form = parse_qs(str(responses.calls[0].request.body))
    assert form["grant_type"] == ["client_credentials"]
    assert "username" not in form


@responses.activate
def test_jwt_flow_signs_rs256_claims_the_public_key_verifies(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(pem)
    responses.post(TOKEN_URL, json=OK_BODY)
    _auth(_settings(sf_auth="jwt", sf_private_key_file=str(key_file))).token()
    form = parse_qs(str(responses.calls[0].request.body))
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    claims = jwt.decode(
        form["assertion"][0], key.public_key(), algorithms=["RS256"], audience=LOGIN
    )
    assert claims["iss"] == "cid"
    assert claims["sub"] == "integration@example.test"
    assert 0 < claims["exp"] - time.time() <= 180


@pytest.mark.parametrize(
    ("login_url", "audience"),
    [
        ("https://login.salesforce.com", "https://login.salesforce.com"),
        ("https://acme.my.salesforce.com", "https://login.salesforce.com"),
        ("https://test.salesforce.com", "https://test.salesforce.com"),
        ("https://acme--uat.sandbox.my.salesforce.com", "https://test.salesforce.com"),
        ("https://127.0.0.1:8443/", "https://127.0.0.1:8443"),
    ],
)
def test_jwt_audience(login_url: str, audience: str) -> None:
    assert jwt_audience(login_url) == audience


@responses.activate
def test_invalid_grant_surfaces_salesforce_description_and_a_hint() -> None:
    responses.post(
        TOKEN_URL,
        status=400,
        json={"error": "invalid_grant", "error_description": "user hasn't approved this consumer"},
    )
    with pytest.raises(AuthError) as caught:
        _auth(_settings()).token()
    message = str(caught.value)
    assert "invalid_grant: user hasn't approved this consumer" in message
    assert "pre-authorize the connected app" in message


@responses.activate
def test_bad_password_hint() -> None:
    responses.post(
        TOKEN_URL,
        status=400,
        json={"error": "invalid_grant", "error_description": "authentication failure"},
    )
    with pytest.raises(AuthError, match="security token"):
        _auth(_settings()).token()


@responses.activate
def test_login_5xx_is_retried() -> None:
    responses.post(TOKEN_URL, status=503, body="busy")
    responses.post(TOKEN_URL, json=OK_BODY)
    assert _auth(_settings()).token().org_id == ORG


def test_missing_setting_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="SF_PASSWORD"):
        _auth(_settings(sf_password=None)).token()
    with pytest.raises(ConfigError, match="SF_LOGIN_URL"):
        _auth(_settings(sf_login_url=None))


def test_identity_url_parsing() -> None:
    assert parse_identity_url(f"https://x/id/{ORG}/{USER}") == (ORG, USER)
    with pytest.raises(AuthError):
        parse_identity_url("https://x/services/oauth2/userinfo")
