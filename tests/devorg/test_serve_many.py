"""`python -m devorg serve-many`: several orgs in one process, each with its own port, org id,
certificate, data and counters (what the 200-org bench runs on)."""

from __future__ import annotations

from pathlib import Path

import requests

from devorg.process import DevorgInfo, start_devorgs


def _session(info: DevorgInfo) -> requests.Session:
    session = requests.Session()
    session.verify = info.ca_cert
    session.trust_env = False
    return session


def _token(info: DevorgInfo) -> str:
    answer = _session(info).post(
        f"{info.login_url}/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": info.client_id,
            "client_secret": info.client_secret,
            "username": info.username,
            "password": info.password,
        },
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def test_orgs_in_one_process_are_separate(tmp_path: Path) -> None:
    with start_devorgs(tmp_path, count=3, reps=2, deals=3, timeout=120) as orgs:
        assert [Path(o.data_dir).name for o in orgs] == ["org0", "org1", "org2"]
        assert len({o.org_id for o in orgs}) == 3
        assert len({o.instance_url for o in orgs}) == 3
        assert len({o.ca_cert for o in orgs}) == 3
        first, second, _third = orgs
        query = "/services/data/v62.0/query/"
        answer = _session(first).get(
            first.instance_url + query,
            params={"q": "SELECT Id FROM Opportunity"},
            headers={"Authorization": f"Bearer {_token(first)}"},
            timeout=30,
        )
        assert answer.status_code == 200 and answer.json()["totalSize"] == 3
        # The first org's token means nothing to the second.
        refused = _session(second).get(
            second.instance_url + query,
            params={"q": "SELECT Id FROM Opportunity"},
            headers={"Authorization": f"Bearer {_token(first)}"},
            timeout=30,
        )
        assert refused.status_code == 401
        stats = [
            _session(o).get(f"{o.instance_url}/__devorg/stats", timeout=30).json() for o in orgs
        ]
        assert [s["by_kind"].get("query", 0) for s in stats] == [1, 0, 0]
