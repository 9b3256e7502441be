"""OAuth: the three grants succeed and fail like Salesforce; tokens expire and can be revoked."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from devorg.process import DevorgInfo

API = "/services/data/v62.0"

TOKEN_KEYS = {"access_token", "instance_url", "id", "token_type", "issued_at", "signature", "scope"}


def _token(api: Any, **form: str) -> Any:
    return api.session.post(api.info.login_url + "/services/oauth2/token", data=form, timeout=30)


def _assertion(info: DevorgInfo, *, key: Any = None, **claims: Any) -> str:
    body = {
        "iss": info.client_id,
        "sub": info.username,
        "aud": info.login_url,
        "exp": int(time.time()) + 180,
        **claims,
    }
    signing_key = key or Path(info.jwt_key_file).read_bytes()
    return jwt.encode(body, signing_key, algorithm="RS256")


def _jwt(api: Any, assertion: str) -> Any:
    return _token(
        api, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer", assertion=assertion
    )


def _works(api: Any, body: dict[str, Any]) -> None:
    assert body.keys() >= TOKEN_KEYS and body["token_type"] == "Bearer"
    assert body["instance_url"] == api.info.instance_url
    response = api.call(
        "GET", f"{API}/limits/", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert response.status_code == 200


def test_password_grant(api: Any) -> None:
    info = api.info
    good = dict(grant_type="password", client_id=info.client_id, username=info.username)
    response = _token(api, **good, client_secret=info.client_secret, password=info.password)
    assert response.status_code == 200
    _works(api, response.json())
    with_token = info.password + info.security_token
    assert _token(api, **good, client_secret=info.client_secret, password=with_token).ok
    bad = _token(api, **good, client_secret=info.client_secret, password="nope")
    assert bad.status_code == 400
    assert bad.json() == {"error": "invalid_grant", "error_description": "authentication failure"}
    wrong_secret = _token(api, **good, client_secret="x", password=info.password)
    assert wrong_secret.status_code == 400 and wrong_secret.json()["error"] == "invalid_client"


def test_client_credentials_grant(api: Any) -> None:
    info = api.info
    response = _token(
        api,
        grant_type="client_credentials",
        client_id=info.client_id,
        client_secret=info.client_secret,
    )
    assert response.status_code == 200
    _works(api, response.json())
    assert response.json()["id"].endswith(
        api.call("GET", "/services/oauth2/userinfo").json()["user_id"]
    )
    bad = _token(api, grant_type="client_credentials", client_id="nope", client_secret="x")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_client_id"


@pytest.mark.parametrize(
    "aud", ["login_url", "https://login.salesforce.com", "https://test.salesforce.com"]
)
def test_jwt_grant_accepts_known_audiences(api: Any, aud: str) -> None:
    audience = api.info.login_url if aud == "login_url" else aud
    response = _jwt(api, _assertion(api.info, aud=audience))
    assert response.status_code == 200, response.text
    _works(api, response.json())


def test_jwt_grant_accepts_string_exp_like_simple_salesforce(api: Any) -> None:
    response = _jwt(api, _assertion(api.info, exp=str(int(time.time()) + 180)))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("case", "error", "description"),
    [
        ("bad signature", "invalid_grant", "invalid assertion"),
        ("wrong aud", "invalid_grant", "audience is invalid"),
        ("expired", "invalid_grant", "expired authorization code"),
        ("exp too far ahead", "invalid_grant", "invalid assertion"),
        ("unknown user", "invalid_grant", "user hasn't approved this consumer"),
        ("wrong issuer", "invalid_client_id", "client identifier invalid"),
        ("garbage", "invalid_grant", "invalid assertion"),
    ],
)
def test_jwt_grant_failures(api: Any, case: str, error: str, description: str) -> None:
    info = api.info
    assertion = {
        "bad signature": lambda: _assertion(
            info,
            key=rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        ),
        "wrong aud": lambda: _assertion(info, aud="https://evil.example.com"),
        "expired": lambda: _assertion(info, exp=int(time.time()) - 60),
        "exp too far ahead": lambda: _assertion(info, exp=int(time.time()) + 3600),
        "unknown user": lambda: _assertion(info, sub="nobody@example.com"),
        "wrong issuer": lambda: _assertion(info, iss="3MVG9someoneelse"),
        "garbage": lambda: "not.a.jwt",
    }[case]()
    response = _jwt(api, assertion)
    assert response.status_code == 400
    assert response.json() == {"error": error, "error_description": description}


def test_unsupported_grant(api: Any) -> None:
    response = _token(api, grant_type="device_code", code="x")
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"


def test_revoked_token_is_rejected(api: Any) -> None:
    info = api.info
    token = _token(
        api,
        grant_type="password",
        client_id=info.client_id,
        client_secret=info.client_secret,
        username=info.username,
        password=info.password,
    ).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.call("GET", f"{API}/limits/", headers=bearer).status_code == 200
    revoke = api.session.post(
        info.login_url + "/services/oauth2/revoke", data={"token": token}, timeout=30
    )
    assert revoke.status_code == 200
    rejected = api.call("GET", f"{API}/limits/", headers=bearer)
    assert rejected.status_code == 401
    assert rejected.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_userinfo(api: Any) -> None:
    body = api.call("GET", "/services/oauth2/userinfo").json()
    assert body["preferred_username"] == api.info.username
    assert body["organization_id"] == api.info.org_id and body["active"] is True
    bad = api.call("GET", "/services/oauth2/userinfo", headers={"Authorization": "Bearer x"})
    assert bad.status_code == 403


def test_missing_or_bad_bearer_is_401(api: Any) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer nope"}):
        response = api.call("GET", f"{API}/sobjects/", headers=headers)
        assert response.status_code == 401
        assert response.json()[0]["errorCode"] == "INVALID_SESSION_ID"
        assert response.headers["Sforce-Limit-Info"].startswith("api-usage=")


def _refresh(api: Any, token: str, **form: str) -> Any:
    info = api.info
    return _token(
        api,
        **{
            "grant_type": "refresh_token",
            "refresh_token": token,
            "client_id": info.client_id,
            "client_secret": info.client_secret,
            **form,
        },
    )


def test_refresh_token_grant_issues_sessions_until_revoked(api: Any) -> None:
    info = api.info
    issued = api.control("POST", "/refresh-token", json={"username": info.username})
    assert issued.status_code == 200
    refresh = issued.json()["refresh_token"]

    response = _refresh(api, refresh)
    assert response.status_code == 200, response.text
    body = response.json()
    # Salesforce answers the refresh flow without a new refresh token (no rotation).
    assert set(body) == TOKEN_KEYS and body["instance_url"] == info.instance_url
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    me = api.call("GET", "/services/oauth2/userinfo", headers=bearer).json()
    assert me["preferred_username"] == info.username

    wrong_secret = _refresh(api, refresh, client_secret="0" * 64)
    assert wrong_secret.status_code == 400 and wrong_secret.json()["error"] == "invalid_client"
    unknown = _refresh(api, refresh + "x")
    assert unknown.status_code == 400
    assert unknown.json() == {
        "error": "invalid_grant",
        "error_description": "expired access/refresh token",
    }

    revoke = api.session.post(
        info.login_url + "/services/oauth2/revoke", data={"token": refresh}, timeout=30
    )
    assert revoke.status_code == 200
    assert _refresh(api, refresh).json()["error"] == "invalid_grant"
    # Revoking a refresh token revokes the access tokens it issued, not the user's others.
    assert api.call("GET", f"{API}/limits/", headers=bearer).status_code == 401
    assert api.call("GET", f"{API}/limits/").status_code == 200


def test_refresh_token_needs_an_active_user(api: Any) -> None:
    response = api.control("POST", "/refresh-token", json={"username": "nobody@example.com"})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALID_FIELD"
