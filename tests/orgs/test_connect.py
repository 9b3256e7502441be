"""`/connect`: the web-server flow registers the org with its refresh token encrypted; the
state is bound to the browser and good once; the login host comes from the fixed list."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from connector.orgs.registry import org_views, secret_box
from connector.salesforce.auth_refresh import RefreshTokenAuthenticator
from connector.salesforce.http import make_http_session
from connector.store.orgs import RegisteredOrg
from devorg.process import DevorgInfo
from tests.devorg.authorize_kit import sign_in_and_allow
from tests.devorg.conftest import http_session
from tests.orgs.connect_kit import CALLBACK, connect, open_connect, start


def test_connect_registers_the_org_with_an_encrypted_refresh_token(
    app_env: Any, devorg: DevorgInfo
) -> None:
    app, settings, sessions = app_env
    page = connect(app.test_client(), devorg)
    assert "Org connected" in page and devorg.org_id in page
    [org] = org_views(sessions)
    assert (org.org_id, org.status, org.source) == (devorg.org_id, "active", "oauth")
    assert org.instance_url == devorg.instance_url and org.login_url == devorg.login_url
    assert org.connected_by.startswith("ops@example.com as ")
    with sessions() as session:
        row = session.get(RegisteredOrg, devorg.org_id)
        assert row is not None and row.refresh_token is not None
        sealed = row.refresh_token
    assert "5Aep861" not in sealed  # stored encrypted
    # The stored token logs the org in (refresh-token grant), for this org only.
    auth = RefreshTokenAuthenticator(
        settings,
        session=make_http_session(settings.sf_ca_bundle),
        org_id=devorg.org_id,
        login_url=devorg.login_url,
        client=(devorg.client_id, devorg.client_secret),
        refresh_token=secret_box(settings).open(sealed),
    )
    assert auth.token().org_id == devorg.org_id


def test_state_is_bound_to_the_browser_and_good_once(app_env: Any, devorg: DevorgInfo) -> None:
    app, _, sessions = app_env
    admin = app.test_client()
    authorize = start(admin, devorg, open_connect(admin))
    final = sign_in_and_allow(
        http_session(devorg), authorize, username=devorg.username, password=devorg.password
    )
    parts = urlsplit(final.headers["Location"])
    callback = f"{parts.path}?{parts.query}"
    # Another browser (an attacker replaying the admin's callback, or login CSRF) is refused.
    other = app.test_client()
    open_connect(other, by="someone@else")
    refused = other.get(callback)
    assert refused.status_code == 400 and "another browser" in refused.text
    # The state was used up by that attempt: the admin must start again too.
    again = admin.get(callback)
    assert again.status_code == 400 and "start again" in again.text
    assert org_views(sessions) == []


def test_no_connect_without_a_ticket_or_with_a_forged_one(app_env: Any) -> None:
    app, _, _ = app_env
    client = app.test_client()
    assert client.get("/connect").status_code == 401
    assert client.get("/connect?ticket=forged.ticket.value").status_code == 403
    assert client.post("/connect/start", data={"login": "production"}).status_code == 401


def test_csrf_and_login_host_rules(app_env: Any, devorg: DevorgInfo) -> None:
    app, _, _ = app_env
    client = app.test_client()
    csrf = open_connect(client)
    assert client.post("/connect/start", data={"login": "production"}).status_code == 403
    for choice, my_domain in (
        ("https://evil.example", ""),
        ("mydomain", ""),
        ("mydomain", "https://evil.example"),
        ("mydomain", "acme.my.salesforce.com/evil"),
        ("mydomain", "https://acme.my.salesforce.com:8443"),
        ("mydomain", "https://user@acme.my.salesforce.com"),
    ):
        answer = client.post(
            "/connect/start", data={"csrf": csrf, "login": choice, "my_domain": my_domain}
        )
        assert answer.status_code == 400, (choice, my_domain)
    sandbox = client.post(
        "/connect/start", data={"csrf": csrf, "login": "mydomain", "my_domain": "acme--uat.sandbox"}
    )
    assert sandbox.headers["Location"].startswith(
        "https://acme--uat.sandbox.my.salesforce.com/services/oauth2/authorize?"
    )
    query = parse_qs(urlsplit(sandbox.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["redirect_uri"] == [CALLBACK]
    page = client.get("/connect")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_denied_consent_registers_nothing(app_env: Any, devorg: DevorgInfo) -> None:
    app, _, sessions = app_env
    client = app.test_client()
    authorize = start(client, devorg, open_connect(client))
    final = sign_in_and_allow(
        http_session(devorg),
        authorize,
        username=devorg.username,
        password=devorg.password,
        decision="deny",
    )
    parts = urlsplit(final.headers["Location"])
    answer = client.get(f"{parts.path}?{parts.query}")
    assert answer.status_code == 400 and "access_denied" in answer.text
    assert org_views(sessions) == []
