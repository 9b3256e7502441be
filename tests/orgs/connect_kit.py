"""Connecting a devorg through `/connect` as an admin's browser would: the app through Flask's
test client, the devorg's login and consent pages over HTTPS."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from flask.testing import FlaskClient

from connector.settings import Settings
from devorg.process import DevorgInfo
from tests.devorg.authorize_kit import sign_in_and_allow
from tests.devorg.conftest import http_session
from webapp.connect import connect_ticket

PUBLIC_URL = "https://quotaflow.test"
CALLBACK = PUBLIC_URL + "/connect/callback"
SECRET = "test-key-0123456789abcdef0123456789abcdef"


def connect_settings(
    db_file: Path, devorgs: list[DevorgInfo], *, keys: tuple[str, ...] = ()
) -> Settings:
    """Settings for an app whose /connect may send admins to these devorgs (one shared app:
    the first devorg's consumer key; tests give every devorg the same one)."""
    first = devorgs[0]
    return Settings(
        database_url=f"sqlite:///{db_file}",
        secret_key=SECRET,
        sf_client_id=first.client_id,
        sf_client_secret=first.client_secret,
        sf_ca_bundle=first.ca_cert,
        public_url=PUBLIC_URL,
        encryption_keys=keys or (Fernet.generate_key().decode(),),
        connect_login_urls=tuple(d.login_url for d in devorgs),
    )


def open_connect(client: FlaskClient, *, by: str = "ops@example.com") -> str:
    """Open a connect link; the CSRF token of the connect form."""
    ticket = connect_ticket(SECRET, by=by)
    landing = client.get(f"/connect?ticket={ticket}")
    assert landing.status_code == 303, landing.text
    page = client.get("/connect")
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert found
    return found.group(1)


def start(client: FlaskClient, info: DevorgInfo, csrf: str) -> str:
    """Submit the form for the devorg's login host; the authorize URL we are sent to."""
    started = client.post("/connect/start", data={"csrf": csrf, "login": info.login_url})
    assert started.status_code == 303, started.text
    return str(started.headers["Location"])


def connect(client: FlaskClient, info: DevorgInfo, *, username: str | None = None) -> str:
    """The whole flow for one devorg; the HTML of the page the callback renders."""
    csrf = open_connect(client)
    authorize = start(client, info, csrf)
    final = sign_in_and_allow(
        http_session(info), authorize, username=username or info.username, password=info.password
    )
    location = final.headers["Location"]
    assert location.startswith(CALLBACK + "?"), location
    parts = urlsplit(location)
    return client.get(f"{parts.path}?{parts.query}").text


def share_connected_app(data_dir: Path, like: DevorgInfo) -> None:
    """Give a devorg that has not started yet the connected app of `like` (a connected app is
    global: one consumer key works in every org), with an org id of its own."""
    import json
    import secrets
    import string
    from dataclasses import asdict

    from devorg.credentials import Credentials
    from devorg.schema import id_suffix

    alphabet = string.ascii_uppercase + string.digits
    org15 = "00D" + "".join(secrets.choice(alphabet) for _ in range(12))
    creds = Credentials(
        org_id=org15 + id_suffix(org15),
        client_id=like.client_id,
        client_secret=like.client_secret,
        username=like.username,
        password="Qf-" + secrets.token_hex(8),
        security_token=secrets.token_hex(12),
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "credentials.json").write_text(json.dumps(asdict(creds)))
