"""Issue 13 item 2: the identity check calls only the org's own hosts, and every refusal of
it looks the same.

Replays the attack as filed: a signed request (the attacker holds the consumer secret) whose
`client.instanceUrl` names the attacker's server. Before the fix Quotaflow sent the token
there and believed the answer ("I am the admin"); differing errors per host made /canvas a
port-scan oracle. Now no request leaves for a host that is not the org's, and the answer is
one 403, byte for byte the same as for a bad token or an org that does not answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from flask import Flask

from connector.errors import ConfigError
from connector.salesforce.identity import HostRefused, IdentityClient
from connector.settings import Settings, load_settings
from connector.store.engine import make_engine, make_session_factory
from connector.store.migrate import upgrade
from connector.store.roles import add_grant
from tests.store_kit import committed
from tests.webapp.canvas_kit import sign
from webapp import create_app

ORG = "00D5g000000AbCdEAK"
USER = "0055g000000000DAAQ"
LOOK_ALIKE = "0055g000000000dAAA"
ORG_HOST = "https://acme.my.salesforce.com"
EVIL = "https://evil.example"
SECRET = "canvas-consumer-secret"
JSON = {"Accept": "application/json"}


def _envelope(*, host: str = ORG_HOST, user: str = USER, token: str = "00Dtok!en") -> Any:
    return {
        "algorithm": "HMACSHA256",
        "userId": user,
        "client": {"oauthToken": token, "instanceUrl": host},
        "context": {
            "user": {"userId": user, "userName": "dana@acme.example", "fullName": "Dana"},
            "organization": {"organizationId": ORG},
        },
    }


def _app(tmp_path: Path, **overrides: Any) -> Flask:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'qf.db'}",
        secret_key="s" * 40,
        sf_canvas_secret=SECRET,
    ).with_overrides(**overrides)
    engine = make_engine(settings)
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions() as session:
        add_grant(
            session,
            org_id=ORG,
            role="ops",
            principal_kind="user",
            principal=USER,
            created_by="test",
            now=datetime.now(UTC),
        )
        session.commit()
    engine.dispose()
    return create_app(settings)


def _org_answers(
    wire: responses.RequestsMock,
    host: str = ORG_HOST,
    *,
    user: str = USER,
    profile: str | None = "00e5g000000AbcdAAC",
) -> None:
    """The org at `host`: userinfo for `user` (401 for the token `revoked`), a profile, no
    permission sets."""

    def userinfo(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        if request.headers.get("Authorization") == "Bearer revoked":
            return 401, {}, json.dumps([{"errorCode": "INVALID_SESSION_ID"}])
        info = {
            "user_id": user,
            "organization_id": ORG,
            "name": "Dana",
            "preferred_username": "dana@acme.example",
            "active": True,
        }
        return 200, {}, json.dumps(info)

    wire.add_callback(responses.GET, f"{host}/services/oauth2/userinfo", callback=userinfo)

    def query(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        soql = parse_qs(urlsplit(request.url or "").query)["q"][0]
        if "FROM User" in soql and profile:
            rows = [{"Id": user, "ProfileId": profile, "Profile": {"Name": "Std"}}]
        else:
            rows = []
        return 200, {}, json.dumps({"totalSize": len(rows), "done": True, "records": rows})

    wire.add_callback(responses.GET, f"{host}/services/data/v62.0/query/", callback=query)


def _post(app: Flask, doc: Any, *, as_json: bool = True) -> Any:
    return app.test_client().post(
        "/canvas", data={"signed_request": sign(doc, SECRET)}, headers=JSON if as_json else {}
    )


@pytest.fixture
def wire() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_the_orgs_own_host_opens_a_session(tmp_path: Path, wire: Any) -> None:
    app = _app(tmp_path, sf_org_hosts=(ORG_HOST,))
    _org_answers(wire)
    response = _post(app, _envelope())
    assert response.status_code == 200, response.data
    assert response.get_json()["user"]["roles"] == ["ops"]
    assert {urlsplit(c.request.url).hostname for c in wire.calls} == {"acme.my.salesforce.com"}


@pytest.mark.parametrize(
    "host",
    [
        EVIL,
        "https://acme.my.salesforce.com.evil.example",
        "https://acme.my.salesforce.com@evil.example",
        "https://evil.example#@acme.my.salesforce.com",
        "https://evil.example/?x=https://acme.my.salesforce.com",
        "http://acme.my.salesforce.com",
        "https://acme.my.salesforce.com:8443",
        "https://acme.my.salesforce.com/services/data",
        "https://127.0.0.1:22",
        "https://[::1]:6379",
        "https://acme.my.salesforce.com\\@evil.example",
    ],
)
def test_a_foreign_host_is_refused_before_any_request(tmp_path: Path, wire: Any, host: str) -> None:
    app = _app(tmp_path, sf_org_hosts=(ORG_HOST,))
    _org_answers(wire)
    _org_answers(wire, EVIL)  # the attacker's server would say whatever it is asked to
    response = _post(app, _envelope(host=host))
    assert response.status_code == 403
    assert "could not be verified" in response.get_json()["error"]
    assert len(wire.calls) == 0


def test_the_host_learned_from_the_integration_login_is_trusted(tmp_path: Path, wire: Any) -> None:
    app = _app(tmp_path)
    _org_answers(wire)
    assert _post(app, _envelope()).status_code == 403  # nothing learned, nothing configured
    assert len(wire.calls) == 0
    sessions = make_session_factory(make_engine(app.extensions["quotaflow.settings"]))
    committed(sessions, ORG).hosts.remember_host(url=ORG_HOST + "/", now=datetime.now(UTC))
    assert _post(app, _envelope()).status_code == 200
    # Hosts are case-insensitive; the path-free origin is what is compared.
    assert _post(app, _envelope(host="https://ACME.my.salesforce.com")).status_code == 200
    # The next login reports another instance: the old host is trusted no longer.
    committed(sessions, ORG).hosts.remember_host(
        url="https://acme2.my.salesforce.com", now=datetime.now(UTC)
    )
    calls = len(wire.calls)
    assert _post(app, _envelope()).status_code == 403
    assert len(wire.calls) == calls


def test_every_refusal_of_the_identity_check_looks_the_same(tmp_path: Path, wire: Any) -> None:
    app = _app(tmp_path, sf_org_hosts=(ORG_HOST, "https://down.example", "https://moved.example"))
    bad_token = _envelope(token="revoked")
    _org_answers(wire)
    wire.get(
        "https://moved.example/services/oauth2/userinfo",
        status=302,
        headers={"Location": EVIL + "/services/oauth2/userinfo"},
    )
    wire.get("https://down.example/services/oauth2/userinfo", body=requests.ConnectionError("down"))
    someone_else = _envelope()
    someone_else["userId"] = someone_else["context"]["user"]["userId"] = LOOK_ALIKE
    other_org = _envelope()
    other_org["context"]["organization"]["organizationId"] = "00D5g000000ZZZZEAA"
    cases = {
        "foreign host": _envelope(host=EVIL),
        "port scan": _envelope(host="https://127.0.0.1:5432"),
        "bad token": bad_token,
        "another user's token": someone_else,
        "another org": other_org,
        "network error": _envelope(host="https://down.example"),
        "redirect": _envelope(host="https://moved.example"),
    }
    for as_json in (True, False):
        answers = {}
        for name, doc in cases.items():
            response = _post(app, doc, as_json=as_json)
            answers[name] = (response.status_code, response.headers["Content-Type"], response.data)
        assert len(set(answers.values())) == 1, {k: v[:2] for k, v in answers.items()}
        assert next(iter(answers.values()))[0] == 403
    hosts = {urlsplit(c.request.url).hostname for c in wire.calls}
    assert "evil.example" not in hosts and "127.0.0.1" not in hosts


def test_a_look_alike_user_gets_no_role_through_canvas(tmp_path: Path, wire: Any) -> None:
    # Item 1 end to end: the grant names USER; the org vouches for LOOK_ALIKE.
    app = _app(tmp_path, sf_org_hosts=(ORG_HOST,))
    _org_answers(wire, user=LOOK_ALIKE)
    response = _post(app, _envelope(user=LOOK_ALIKE))
    assert response.status_code == 403
    assert "no Quotaflow access" in response.get_json()["error"]


def test_the_identity_client_itself_refuses_a_foreign_host(wire: Any) -> None:
    client = IdentityClient(api_version="62.0", ca_bundle=None)
    _org_answers(wire, EVIL)
    with pytest.raises(HostRefused):
        client.identify(
            instance_url=EVIL,
            allowed_origins={ORG_HOST},
            token="t",
            user_id=USER,
            org_id=ORG,
        )
    assert len(wire.calls) == 0


def test_sf_org_hosts_takes_https_origins_only() -> None:
    env = {"SF_ORG_HOSTS": " https://Acme.my.salesforce.com/ , https://acme--c.vf.force.com:443"}
    assert load_settings(env).sf_org_hosts == (
        "https://acme.my.salesforce.com",
        "https://acme--c.vf.force.com",
    )
    assert load_settings({}).sf_org_hosts == ()
    for bad in ("http://acme.my.salesforce.com", "acme.my.salesforce.com", "https://a/x"):
        with pytest.raises(ConfigError, match=r"^SF_ORG_HOSTS: "):
            load_settings({"SF_ORG_HOSTS": f"{ORG_HOST},{bad}"})


def test_the_envelopes_profile_id_is_not_believed(tmp_path: Path, wire: Any) -> None:
    # Whoever holds the consumer secret can write any profileId into the envelope; only the
    # org's own answer decides profile grants, also when the org's answer names no profile.
    admin_profile = "00e5g000000AdMnAAK"
    app = _app(tmp_path, sf_org_hosts=(ORG_HOST,))
    sessions = make_session_factory(make_engine(app.extensions["quotaflow.settings"]))
    with sessions() as session:
        add_grant(
            session,
            org_id=ORG,
            role="admin",
            principal_kind="profile",
            principal=admin_profile,
            created_by="test",
            now=datetime.now(UTC),
        )
        session.commit()
    doc = _envelope()
    doc["context"]["user"]["profileId"] = admin_profile
    _org_answers(wire, profile=None)
    response = _post(app, doc)
    assert response.status_code == 200
    assert response.get_json()["user"]["roles"] == ["ops"]
