"""singer's tap-salesforce (from PyPI, own virtualenv) against the devorg, REST mode.

The tap only logs in at https://login.salesforce.com (refresh-token grant); its standard
HTTPS_PROXY setting sends that name through `ConnectProxy` to the devorg, whose certificate
also names login.salesforce.com (`--tls-name`). Data calls then go to the `instance_url`
the token response names (the devorg's 127.0.0.1 address, NO_PROXY), as with a real org.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devorg.process import DevorgInfo
from tests.thirdparty.conftest import API, LOGIN_HOST, AdminApi, clean_env
from tests.thirdparty.connect_proxy import ConnectProxy
from tests.thirdparty.tools import Tools

pytestmark = [pytest.mark.thirdparty, pytest.mark.slow]

STREAMS = ("Opportunity", "User")


@dataclass
class TapRun:
    """One tap invocation: its messages (stdout) and log (stderr)."""

    messages: list[dict[str, Any]]
    log: str

    def records(self, stream: str) -> list[dict[str, Any]]:
        """The RECORD messages' records of one stream."""
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    def final_state(self) -> dict[str, Any]:
        """The value of the last STATE message."""
        states = [m["value"] for m in self.messages if m["type"] == "STATE"]
        assert states, self.log[-3000:]
        value: dict[str, Any] = states[-1]
        return value


class Tap:
    """Runs tap-salesforce with a config naming a refresh token the devorg issued."""

    def __init__(self, tools: Tools, info: DevorgInfo, proxy: ConnectProxy, work: Path) -> None:
        self.tools = tools
        self.work = work
        self.env = clean_env(
            HTTPS_PROXY=proxy.url,
            NO_PROXY="127.0.0.1,localhost",
            REQUESTS_CA_BUNDLE=info.ca_cert,
        )

    def run(self, *args: str) -> TapRun:
        """`tap-salesforce --config config.json ARGS...`; fails the test on a non-zero exit."""
        argv = [str(self.tools.tap), "--config", str(self.work / "config.json"), *args]
        done = subprocess.run(
            argv, capture_output=True, text=True, env=self.env, timeout=300, cwd=self.work
        )
        assert done.returncode == 0, done.stderr[-4000:]
        messages = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
        return TapRun(messages=messages, log=done.stderr)


@pytest.fixture(scope="module")
def proxy(judged_org: DevorgInfo) -> Iterator[ConnectProxy]:
    """login.salesforce.com:443 → the devorg; every other CONNECT target is refused."""
    port = int(judged_org.instance_url.rsplit(":", 1)[1])
    with ConnectProxy({f"{LOGIN_HOST}:443": ("127.0.0.1", port)}) as running:
        yield running


@pytest.fixture(scope="module")
def tap(
    tools: Tools,
    judged_org: DevorgInfo,
    admin: AdminApi,
    proxy: ConnectProxy,
    tmp_path_factory: pytest.TempPathFactory,
) -> Tap:
    """A configured tap: the refresh token is the integration user's."""
    work = tmp_path_factory.mktemp("tap")
    issued = admin.control("POST", "/refresh-token", json={"username": judged_org.username})
    issued.raise_for_status()
    config = {
        "refresh_token": issued.json()["refresh_token"],
        "client_id": judged_org.client_id,
        "client_secret": judged_org.client_secret,
        "start_date": "2000-01-01T00:00:00Z",
        "api_type": "REST",
        "select_fields_by_default": True,
    }
    (work / "config.json").write_text(json.dumps(config))
    return Tap(tools, judged_org, proxy, work)


@pytest.fixture(scope="module")
def catalog(tap: Tap) -> dict[str, Any]:
    """The discovered catalog."""
    found: dict[str, Any] = json.loads(
        subprocess.run(
            [str(tap.tools.tap), "--config", str(tap.work / "config.json"), "--discover"],
            capture_output=True,
            text=True,
            env=tap.env,
            timeout=300,
            cwd=tap.work,
            check=True,
        ).stdout
    )
    return found


def _selected(catalog: dict[str, Any]) -> dict[str, Any]:
    """Opportunity and User selected, incremental on their replication key (what a user
    ticks in a singer UI)."""
    streams = []
    for stream in catalog["streams"]:
        if stream["tap_stream_id"] not in STREAMS:
            continue
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                meta = entry["metadata"]
                meta["selected"] = True
                meta["replication-method"] = "INCREMENTAL"
                meta["replication-key"] = meta["valid-replication-keys"][0]
        streams.append(stream)
    return {"streams": streams}


def test_discovery_describes_opportunity_and_user(
    catalog: dict[str, Any], admin: AdminApi, proxy: ConnectProxy
) -> None:
    streams = {s["tap_stream_id"]: s for s in catalog["streams"]}
    assert set(STREAMS) <= set(streams)
    for name in STREAMS:
        root = next(m["metadata"] for m in streams[name]["metadata"] if m["breadcrumb"] == [])
        assert root["valid-replication-keys"] == ["SystemModstamp"]
        assert root["table-key-properties"] == ["Id"]
        described = {
            f["name"] for f in admin.call("GET", f"{API}/sobjects/{name}/describe").json()["fields"]
        }
        properties = set(streams[name]["schema"]["properties"])
        assert properties and properties <= described
    assert "Amount" in streams["Opportunity"]["schema"]["properties"]
    assert "Quota__c" in streams["User"]["schema"]["properties"]
    # The tap's login went through the proxy, to the one name it maps.
    assert f"{LOGIN_HOST}:443" in proxy.tunnels and proxy.refused == []


def _ids(rows: list[dict[str, Any]]) -> Counter[str]:
    return Counter(r["Id"] for r in rows)


def test_full_then_incremental_sync(tap: Tap, catalog: dict[str, Any], admin: AdminApi) -> None:
    properties = tap.work / "properties.json"
    properties.write_text(json.dumps(_selected(catalog)))

    first = tap.run("--properties", str(properties))

    for name in STREAMS:
        # REST mode reads queryAll: records in the recycle bin come too.
        expected = admin.query(f"SELECT Id FROM {name}", all_rows=True)
        assert _ids(first.records(name)) == _ids(expected), name
    state = first.final_state()
    bookmarks = {name: state["bookmarks"][name]["SystemModstamp"] for name in STREAMS}
    latest = admin.query(
        "SELECT SystemModstamp FROM Opportunity ORDER BY SystemModstamp DESC LIMIT 1",
        all_rows=True,
    )[0]["SystemModstamp"]
    # The tap keeps microseconds: 2026-12-02T17:15:43.496000Z for Salesforce's .496+0000.
    assert bookmarks["Opportunity"][:23] == latest[:23]

    opportunity = admin.query("SELECT Id FROM Opportunity ORDER BY Id LIMIT 1")[0]["Id"]
    user = admin.query("SELECT Id FROM User WHERE Quota__c != null ORDER BY Id LIMIT 1")[0]["Id"]
    changed_opp = admin.call(
        "PATCH", f"{API}/sobjects/Opportunity/{opportunity}", json={"Description": "tap run 2"}
    )
    changed_user = admin.call("PATCH", f"{API}/sobjects/User/{user}", json={"Title": "Tap Judge"})
    assert changed_opp.status_code == changed_user.status_code == 204
    state_file = tap.work / "state.json"
    state_file.write_text(json.dumps(state))

    second = tap.run("--properties", str(properties), "--state", str(state_file))

    for name in STREAMS:
        # The incremental query sends the bookmark with six fractional digits.
        assert f"FROM {name} WHERE SystemModstamp >= {bookmarks[name]} " in second.log
        expected = admin.query(
            f"SELECT Id FROM {name} WHERE SystemModstamp >= {bookmarks[name]}", all_rows=True
        )
        assert _ids(second.records(name)) == _ids(expected), name
        assert len(second.records(name)) < len(first.records(name))
    opps = {r["Id"]: r for r in second.records("Opportunity")}
    users = {r["Id"]: r for r in second.records("User")}
    assert opps[opportunity]["Description"] == "tap run 2"
    assert users[user]["Title"] == "Tap Judge"
    after = second.final_state()["bookmarks"]
    assert after["Opportunity"]["SystemModstamp"] > bookmarks["Opportunity"]
    assert after["User"]["SystemModstamp"] > bookmarks["User"]
