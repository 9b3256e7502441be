"""State lives in the data directory: a restarted devorg has the same data, keys and logins."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import requests

from devorg.process import DevorgInfo, DevorgStartError, start_devorg

API = "/services/data/v62.0"


def _session(info: DevorgInfo) -> requests.Session:
    session = requests.Session()
    session.verify = info.ca_cert
    session.trust_env = False
    return session


def _login(info: DevorgInfo, session: requests.Session) -> dict[str, str]:
    token = session.post(
        info.login_url + "/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": info.client_id,
            "client_secret": info.client_secret,
        },
        timeout=30,
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.slow
def test_write_stop_start_read_back(tmp_path: Path) -> None:
    with start_devorg(tmp_path, seed="empty", timeout=60) as first:
        session = _session(first)
        headers = _login(first, session)
        created = session.post(
            first.instance_url + f"{API}/sobjects/Opportunity/",
            json={
                "Name": "Survivor",
                "StageName": "Closed Won",
                "CloseDate": "2026-03-31",
                "Amount": 4200.5,
            },
            headers=headers,
            timeout=30,
        ).json()
        session.close()
    with start_devorg(tmp_path, seed="empty", timeout=60) as second:
        assert (second.client_id, second.password, second.ca_cert) == (
            first.client_id,
            first.password,
            first.ca_cert,
        )
        session = _session(second)  # the same CA file still verifies the server
        record = session.get(
            second.instance_url + f"{API}/sobjects/Opportunity/{created['id']}",
            headers=_login(second, session),
            timeout=30,
        ).json()
        assert (record["Name"], record["Amount"], record["IsWon"]) == ("Survivor", 4200.5, True)
        session.close()
    assert json.loads((tmp_path / "credentials.json").read_text())["client_id"] == first.client_id


def test_start_failure_surfaces_stderr(tmp_path: Path) -> None:
    try:
        with start_devorg(tmp_path, extra_args=["--faults", "not json"], timeout=60):
            raise AssertionError("should not start")
    except DevorgStartError as exc:
        assert "--faults" in str(exc) or "JSON" in str(exc) or "Expecting" in str(exc)
    else:
        raise AssertionError("no DevorgStartError")


@pytest.mark.slow
def test_half_seeded_directory_is_seeded_again(tmp_path: Path) -> None:
    with start_devorg(tmp_path, seed="empty", timeout=60):
        pass
    db = sqlite3.connect(tmp_path / "devorg.db")
    db.execute("DELETE FROM _devorg_meta")  # as if the seed had been interrupted
    db.execute('INSERT INTO "Profile" (Id, Name) VALUES (?, ?)', ("00e5g00000ZZZZZAAA", "Junk"))
    db.commit()
    db.close()
    with start_devorg(tmp_path, seed="empty", timeout=60) as info:
        session = _session(info)
        names = session.get(
            info.instance_url + f"{API}/query/",
            params={"q": "SELECT Name FROM Profile"},
            headers=_login(info, session),
            timeout=30,
        ).json()["records"]
        assert [r["Name"] for r in names] == ["Integration User"]
