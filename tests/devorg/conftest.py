"""A devorg in its own process on a free port, shared by the tests of this folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce

from devorg.process import DevorgInfo, start_devorg

API = "/services/data/v62.0"


def http_session(info: DevorgInfo) -> requests.Session:
    """A requests session trusting the devorg's CA.

    trust_env is off: REQUESTS_CA_BUNDLE in the environment would otherwise replace
    `session.verify` on every request (a requests quirk).
    """
    session = requests.Session()
    session.verify = info.ca_cert
    session.trust_env = False
    return session


def password_token(info: DevorgInfo, session: requests.Session) -> str:
    """A fresh access token for the integration user (password grant)."""
    response = session.post(
        info.login_url + "/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": info.client_id,
            "client_secret": info.client_secret,
            "username": info.username,
            "password": info.password,
        },
        timeout=30,
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


class Api:
    """Raw HTTP access to one devorg with a bearer token."""

    def __init__(self, info: DevorgInfo) -> None:
        self.info = info
        self.session = http_session(info)
        self.token = password_token(info, self.session)

    def relogin(self) -> None:
        """Replace the token (after an injected session expiry)."""
        self.token = password_token(self.info, self.session)

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A request to `instance_url + path` with the bearer token (unless headers given)."""
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        url = path if path.startswith("https://") else self.info.instance_url + path
        return self.session.request(method, url, headers=headers, timeout=60, **kwargs)

    def control(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A `/__devorg` control-plane request (no token)."""
        return self.session.request(
            method, self.info.instance_url + "/__devorg" + path, timeout=60, **kwargs
        )

    def salesforce(self) -> Salesforce:
        """A simple-salesforce client on this devorg."""
        return Salesforce(
            instance_url=self.info.instance_url,
            session_id=self.token,
            session=self.session,
            version="62.0",
        )


@pytest.fixture(scope="session")
def devorg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevorgInfo]:
    """An empty devorg (integration user only) for this test session."""
    data_dir: Path = tmp_path_factory.mktemp("devorg")
    with start_devorg(data_dir, seed="empty", timeout=60) as info:
        yield info


@pytest.fixture(scope="session")
def api(devorg: DevorgInfo) -> Api:
    """Raw HTTP access with a token."""
    return Api(devorg)


@pytest.fixture(autouse=True)
def _no_faults_after(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests that touch the shared devorg leave no faults behind."""
    yield
    if "api" in request.fixturenames:
        api: Api = request.getfixturevalue("api")
        api.control("DELETE", "/faults").raise_for_status()
        api.control("POST", "/limits", json={"reset": True, "max": 100_000}).raise_for_status()


@pytest.fixture(scope="session")
def create_records(api: Api) -> Callable[[str, list[dict[str, Any]]], list[str]]:
    """A function creating records through sObject Collections (200 a call); returns ids."""
    return lambda object_name, rows: _create_records(api, object_name, rows)


def _create_records(api: Api, object_name: str, rows: list[dict[str, Any]]) -> list[str]:
    ids: list[str] = []
    for start in range(0, len(rows), 200):
        chunk = [{"attributes": {"type": object_name}, **r} for r in rows[start : start + 200]]
        response = api.call(
            "POST", f"{API}/composite/sobjects", json={"allOrNone": True, "records": chunk}
        )
        response.raise_for_status()
        results = response.json()
        assert all(r["success"] for r in results), results
        ids += [r["id"] for r in results]
    return ids
