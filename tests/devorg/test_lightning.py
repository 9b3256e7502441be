"""Lightning-like host pages: a real Canvas signed request framed into the app, and the
permission-set data Quotaflow's Canvas login reads."""

from __future__ import annotations

import argparse
import base64
import dataclasses
import hashlib
import hmac
import json
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from devorg.config import DevorgConfig, add_serve_arguments, canvas_url_from, config_from_args
from devorg.process import DevorgInfo
from devorg.runtime import open_org
from devorg.schema import new_id
from devorg.server import create_app
from devorg.state import Org

from .conftest import API, Api, http_session

CANVAS_URL = "https://quotaflow.test:8443/canvas"
BASE = "https://devorg.test:9443"
ADMIN, INTEGRATION, OPS = (new_id("User", n) for n in (1, 2, 3))
OPPORTUNITY = new_id("Opportunity", 1)


class _Page(HTMLParser):
    """The forms, inputs and iframes of a host page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[dict[str, str | None]] = []
        self.inputs: list[dict[str, str | None]] = []
        self.iframes: list[dict[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {"form": self.forms, "input": self.inputs, "iframe": self.iframes}.get(tag)
        if found is not None:
            found.append(dict(attrs))


def _signed_request(html: str) -> str:
    page = _Page(html)
    [form] = page.forms
    assert (form["method"], form["action"], form["target"]) == ("post", CANVAS_URL, "quotaflow")
    [iframe] = page.iframes
    assert (iframe["name"], iframe["title"]) == ("quotaflow", "Quotaflow")
    [field] = [i for i in page.inputs if i["name"] == "signed_request"]
    assert field["type"] == "hidden" and field["value"]
    return field["value"]


def _verify(signed: str, secret: str) -> dict[str, Any]:
    """Check the signature as a Canvas app does and return the envelope."""
    signature, encoded = signed.split(".", 1)
    expected = hmac.new(secret.encode(), encoded.encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(base64.b64decode(signature), expected)
    envelope: dict[str, Any] = json.loads(base64.b64decode(encoded))
    return envelope


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    """A small seeded org (admin, integration, ops users first) served in-process."""
    data_dir: Path = tmp_path_factory.mktemp("lightning")
    config = DevorgConfig(data_dir=data_dir, reps=5, deals=20, canvas_url=CANVAS_URL)
    state = open_org(config)
    state.base_url = BASE
    yield state
    state.locators.close()
    state.db.close()


@pytest.fixture
def client(seeded: Org) -> Iterator[FlaskClient]:
    """A test client; the canvas URL is back to CANVAS_URL after each test."""
    yield create_app(seeded).test_client()
    seeded.config = dataclasses.replace(seeded.config, canvas_url=CANVAS_URL)


def _envelope(client: FlaskClient, org: Org, path: str) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return _verify(_signed_request(response.text), org.creds.client_secret)


def test_record_page_posts_a_verifiable_signed_request(client: FlaskClient, seeded: Org) -> None:
    path = f"/lightning/r/Opportunity/{OPPORTUNITY}/view?user={OPS}"
    envelope = _envelope(client, seeded, path)
    assert envelope["algorithm"] == "HMACSHA256" and envelope["userId"] == OPS
    assert envelope["client"]["instanceUrl"] == envelope["client"]["targetOrigin"] == BASE
    context = envelope["context"]
    assert context["organization"]["organizationId"] == seeded.creds.org_id
    assert context["user"]["userName"] == "ops@quotaflow.devorg"
    env = context["environment"]
    assert env["record"]["Id"] == env["parameters"]["recordId"] == OPPORTUNITY
    assert env["record"]["attributes"]["type"] == "Opportunity"
    assert env["displayLocation"] == "PageLayout" and env["locationUrl"] == BASE + path
    assert context["links"]["restUrl"] == "/services/data/v62.0/"


def test_record_page_shows_the_highlights(client: FlaskClient) -> None:
    html = client.get(f"/lightning/r/Opportunity/{OPPORTUNITY[:15]}/view").text
    for label in ("Amount", "Close Date", "Stage", "Owner", "Open Quotaflow"):
        assert label in html
    assert "$" in html and "Viewing as Ada Admin" in html
    user_page = client.get(f"/lightning/r/User/{OPS}/view").text
    assert "Otto Ops" in user_page and "ops@quotaflow.devorg" in user_page


def test_the_token_is_a_real_session_of_that_user(client: FlaskClient, seeded: Org) -> None:
    tokens = {}
    for user in (ADMIN, OPS):
        envelope = _envelope(client, seeded, f"/lightning/page/home?user={user}")
        token = envelope["client"]["oauthToken"]
        info = client.get("/services/oauth2/userinfo", headers={"Authorization": f"Bearer {token}"})
        assert info.json is not None and info.json["user_id"] == user
        tokens[user] = token
    assert tokens[ADMIN] != tokens[OPS]


def test_permission_sets_are_queryable(client: FlaskClient, seeded: Org) -> None:
    token = _envelope(client, seeded, "/lightning/page/home")["client"]["oauthToken"]
    expected = {
        ADMIN: "Quotaflow_Admin",
        INTEGRATION: "Quotaflow_Integration",
        OPS: "Quotaflow_Ops",
    }
    for user, name in expected.items():
        soql = (
            "SELECT PermissionSetId, PermissionSet.Name FROM PermissionSetAssignment "
            f"WHERE AssigneeId = '{user}'"
        )
        body = _query(client, token, soql)
        assert [r["PermissionSet"]["Name"] for r in body["records"]] == [name]
    profile = "SELECT Id, Name, ProfileId, Profile.Name FROM User WHERE Id = '{}'"
    [admin] = _query(client, token, profile.format(ADMIN))["records"]
    assert admin["Profile"]["Name"] == "System Administrator"
    labels = _query(client, token, "SELECT Label, IsOwnedByProfile FROM PermissionSet")["records"]
    assert {r["Label"] for r in labels} >= {"Quotaflow Admin", "Quotaflow Ops"}
    assert not any(r["IsOwnedByProfile"] for r in labels)


def _query(client: FlaskClient, token: str, soql: str) -> dict[str, Any]:
    response = client.get(
        f"{API}/query/", query_string={"q": soql}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json or {}
    return body


def test_home_and_utility_locations(client: FlaskClient, seeded: Org) -> None:
    home = _envelope(client, seeded, "/lightning/page/home")
    assert home["userId"] == ADMIN  # no ?user: the org's admin user
    assert home["context"]["environment"]["displayLocation"] == "LightningComponent"
    assert "record" not in home["context"]["environment"]
    path = f"/lightning/r/Opportunity/{OPPORTUNITY}/view?location=utility"
    utility = _envelope(client, seeded, path)
    assert utility["context"]["environment"]["displayLocation"] == "UtilityBar"
    assert utility["client"]["instanceId"].endswith(":utility")
    assert 'class="utility-panel"' in client.get(path).text


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/lightning/page/home?user=005000000000000AAA", "No user with id 005000000000000AAA"),
        (f"/lightning/r/Opportunity/{new_id('Opportunity', 999)}/view", "does not exist"),
        (f"/lightning/r/Opportunity/{ADMIN}/view", "No Opportunity with id"),
        ("/lightning/r/Widget__c/a005g0000000001AAA/view", "No object named Widget__c"),
    ],
)
def test_missing_things_are_html_404s(client: FlaskClient, path: str, message: str) -> None:
    response = client.get(path)
    assert response.status_code == 404 and response.content_type.startswith("text/html")
    assert message in response.text and "<iframe" not in response.text


def test_inactive_user_is_refused(client: FlaskClient, seeded: Org) -> None:
    with seeded.db.write() as conn:
        conn.execute('UPDATE "User" SET IsActive = 0 WHERE Id = ?', (new_id("User", 4),))
    response = client.get(f"/lightning/page/home?user={new_id('User', 4)}")
    assert response.status_code == 404 and "is inactive" in response.text


def test_canvas_url_can_change_at_runtime(client: FlaskClient) -> None:
    assert client.get("/__devorg/canvas").json == {"url": CANVAS_URL}
    assert client.post("/__devorg/canvas", json={"url": None}).json == {"url": None}
    html = client.get("/lightning/page/home").text
    assert "No Canvas app URL configured: start the devorg with --canvas-url or POST " in html
    assert "<iframe" not in html and "signed_request" not in html
    other = "http://127.0.0.1:5001/canvas"
    assert client.post("/__devorg/canvas", json={"url": other}).json == {"url": other}
    assert _Page(client.get("/lightning/page/home").text).forms[0]["action"] == other
    assert client.post("/__devorg/canvas", json={"url": "ftp://x"}).status_code == 400


def test_pages_are_not_api_calls_and_set_a_csp(client: FlaskClient) -> None:
    before = (client.get("/__devorg/stats").json or {})["api_calls"]
    response = client.get("/lightning/page/home")
    assert (client.get("/__devorg/stats").json or {})["api_calls"] == before
    csp = response.headers["Content-Security-Policy"]
    for part in ("frame-ancestors 'self'", "script-src 'self'", "frame-src https://quotaflow.test:8443",
                 "form-action 'self' https://quotaflow.test:8443"):  # fmt: skip
        assert part in csp
    script = client.get("/lightning/assets/canvas.js")
    assert script.status_code == 200 and "submit()" in script.text
    assert client.get("/lightning/assets/lightning.css").status_code == 200


def test_canvas_url_flag_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    monkeypatch.setenv("QUOTAFLOW_CANVAS_URL", "https://env.test/canvas")
    assert config_from_args(parser.parse_args([])).canvas_url == "https://env.test/canvas"
    flagged = parser.parse_args(["--canvas-url", "https://flag.test/c"])
    assert config_from_args(flagged).canvas_url == "https://flag.test/c"
    assert canvas_url_from(None, {}) is None
    with pytest.raises(ValueError):
        canvas_url_from("not a url", {})


def test_over_https_with_the_announced_canvas_secret(devorg: DevorgInfo, api: Api) -> None:
    session = http_session(devorg)
    api.control("POST", "/canvas", json={"url": CANVAS_URL}).raise_for_status()
    try:
        response = session.get(devorg.instance_url + "/lightning/page/home", timeout=30)
    finally:
        api.control("POST", "/canvas", json={"url": None}).raise_for_status()
    envelope = _verify(_signed_request(response.text), devorg.canvas_secret)
    assert envelope["client"]["instanceUrl"] == devorg.instance_url
    token = envelope["client"]["oauthToken"]
    info = session.get(
        devorg.instance_url + "/services/oauth2/userinfo",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).json()
    # The empty org has no admin@ user: the page acts as the integration user.
    assert info["user_id"] == envelope["userId"]
    assert info["preferred_username"] == devorg.username
